//! Carries internet requests into the engine as web work items. At start-up the waiting ones
//! are read back from the ticket store (the store is the record: a restart loses no request,
//! and each keeps the wait it had); afterwards every newly committed request the public
//! routes announce is handed on, waiting for room in the engine's queue rather than dropping.

use tokio::sync::mpsc;

use crate::cti::public::NewWebRequest;
use crate::cti::tickets::TicketApi;
use crate::shell::engine::{EngineHandle, WebItemCommand};
use crate::shell::ticket_store::wire;
use crate::workflow::model::Channel;
use crate::workflow::store::{ListQuery, TicketStore};

/// Most waiting requests read back at start-up (a backlog larger than this is an incident the
/// wallboard already shows; the rest stay in the store and on the ticket page).
pub const MAX_RESTORED: usize = 20_000;

/// The channels whose requests are web items.
const CHANNELS: [Channel; 5] = [
    Channel::Web,
    Channel::App,
    Channel::MiniProgram,
    Channel::PublicAccount,
    Channel::Mailbox,
];

/// How many announced requests may wait for the engine.
pub const QUEUE: usize = 4096;

/// The announce channel for [`TicketApi::with_web_items`].
pub fn channel() -> (mpsc::Sender<NewWebRequest>, mpsc::Receiver<NewWebRequest>) {
    mpsc::channel(QUEUE)
}

fn queued(r: NewWebRequest) -> WebItemCommand {
    WebItemCommand::Queued {
        id: r.id.0,
        request_type: wire(&r.request_type),
        content: r.content,
        received_at: r.received_at,
    }
}

/// Reads back the requests still waiting for a first response, oldest first per channel.
async fn restore(tickets: &TicketApi, engine: &EngineHandle) -> usize {
    let mut n = 0;
    for channel in CHANNELS {
        let mut after = None;
        loop {
            let q = ListQuery {
                state: Some("received".into()),
                channel: Some(channel),
                after: after.clone(),
                limit: 500,
                ..Default::default()
            };
            let page = match tickets.worker().call(move |s, _| Ok(s.list(&q)?)).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read waiting web requests back");
                    return n;
                }
            };
            for row in page.items {
                if n >= MAX_RESTORED {
                    tracing::warn!(
                        max = MAX_RESTORED,
                        "more waiting web requests than are read back at start-up"
                    );
                    return n;
                }
                let waiting = NewWebRequest {
                    id: row.id,
                    channel: row.channel,
                    request_type: row.request_type,
                    content: row.content,
                    received_at: row.received_at,
                };
                if engine.web_item_wait(queued(waiting)).await.is_err() {
                    return n;
                }
                n += 1;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    n
}

/// Restores the waiting requests, then forwards announced ones until the engine stops. On
/// the standby of two engines (`duty` off) it does neither: the requests are in the shared
/// store, and they are read back when this engine becomes active (the engine let go of its
/// own when it became the standby).
pub fn spawn(
    mut rx: mpsc::Receiver<NewWebRequest>,
    tickets: TicketApi,
    engine: EngineHandle,
    mut duty: crate::shell::leadership::Duty,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut on = duty.on();
        if on {
            read_back(&tickets, &engine).await;
        }
        loop {
            tokio::select! {
                r = rx.recv() => {
                    let Some(r) = r else { break };
                    if duty.on() && engine.web_item_wait(queued(r)).await.is_err() {
                        break;
                    }
                }
                () = duty.changed() => {
                    let now_on = duty.on();
                    if now_on && !on {
                        read_back(&tickets, &engine).await;
                    }
                    on = now_on;
                }
            }
        }
    })
}

async fn read_back(tickets: &TicketApi, engine: &EngineHandle) {
    let n = restore(tickets, engine).await;
    if n > 0 {
        tracing::info!(requests = n, "waiting web requests read back into the ACD");
    }
}
