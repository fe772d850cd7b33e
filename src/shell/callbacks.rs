//! The engine's callbacks (W13, issue 15), wired: every `callback.scan_every` the ticket store
//! is asked for tickets awaiting their callback (the citizen did not decline at intake, a
//! phone number is known), each with who was chosen to make it (`CallbackSettings::route`:
//! the ticket's `callback_by` before `[callback] by`); the dialler (`outbound::dialler`) calls them within the operator's
//! rules through the call engine; each try's outcome goes back to the dialler; what the
//! callback found (`outbound::result`) goes onto the ticket as `callback` or
//! `callback_missed`, once the call's record (with its recording's hash) is written.
//!
//! The store work runs on the ticket thread; this only keeps the jobs and the timers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::call::engine::CallEngine;
use crate::call::outbound::OutboundCall;
use crate::call::record::{CallOutcome, CallRecord};
use crate::cti::tickets::TicketApi;
use crate::ivr::script::RobotScript;
use crate::outbound::dialler::{AttemptId, CallRequest, Dialler, DiallerOutput, Purpose};
use crate::outbound::result::{answered_action, missed_action, try_of};
use crate::outbound::rules::{OutboundRules, Outcome};
use crate::outbound::settings::{CallbackBy, CallbackSettings};
use crate::workflow::action::{Action, CallbackMethod, CallbackTry};
use crate::workflow::callback_by::CallbackMaker;
use crate::workflow::model::{china, Actor, Recording, TicketId};
use crate::workflow::store::{ListQuery, TicketStore};
use crate::workflow::ticket::TicketState;

/// The most tickets one scan hands the dialler (the rest wait for the next scan).
pub const SCAN_LIMIT: usize = 2000;

/// A settled ticket is not dialled again for this long (its `callback` event may still be
/// on its way to the store when the next scan reads it).
const SETTLED_FOR: Duration = Duration::from_secs(600);

/// A ticket to call back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub ticket: String,
    pub number: String,
    /// Who the ticket says makes the callback (`None`: the configuration decides).
    pub chosen: Option<CallbackMaker>,
}

/// What a finished store job tells the coordinator.
enum Done {
    Scanned(Vec<Due>),
    ScanFailed,
    /// The ticket's callback result was written (or refused: `ok` false).
    Acted {
        ticket: String,
        ok: bool,
    },
}

/// See the module doc.
pub struct Callbacks {
    settings: CallbackSettings,
    dialler: Dialler,
    robot: Option<Arc<RobotScript>>,
    api: TicketApi,
    /// Tickets being called back (`None`) or settled at that instant: not scanned again.
    busy: HashMap<String, Option<Instant>>,
    /// The tries of jobs that reached the citizen, by ticket, until their call's record.
    reached: HashMap<String, Vec<CallbackTry>>,
    next_scan: Instant,
    scanning: bool,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
}

impl Callbacks {
    /// `None` when the engine calls nobody back (`callback.by = "off"`, or no `[trunk]`).
    pub fn new(
        settings: CallbackSettings,
        rules: OutboundRules,
        robot: Option<Arc<RobotScript>>,
        api: TicketApi,
        now: Instant,
    ) -> Option<Callbacks> {
        if settings.by == CallbackBy::Off {
            return None;
        }
        if robot.is_none() {
            tracing::error!(robot = %settings.robot, queue = %settings.agent_queue, "no such robot script in ivr-menus/: robot callbacks are put through to the agent queue instead");
        }
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Some(Callbacks {
            settings,
            dialler: Dialler::new(rules),
            robot,
            api,
            busy: HashMap::new(),
            reached: HashMap::new(),
            // The first look a few seconds after start, once the engine is up.
            next_scan: now + Duration::from_secs(2),
            scanning: false,
            done_tx,
            done_rx,
        })
    }

    /// New rules after a reload.
    pub fn set_rules(&mut self, rules: OutboundRules) {
        self.dialler.set_rules(rules);
    }

    /// When `tick` is next needed (the next scan, or the dialler's next dial).
    pub fn poll_timeout(&self, now: Instant, wall: DateTime<Utc>) -> Instant {
        let dial = self.dialler.poll_timeout().map(|due| {
            now + (due - wall)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(self.settings.scan_every)
        });
        dial.map_or(self.next_scan, |d| d.min(self.next_scan))
    }

    /// A store job finished (for the engine task's `select!`).
    pub async fn next_done(&mut self) -> Option<DoneEvent> {
        self.done_rx.recv().await.map(DoneEvent)
    }

    /// Scans when due and dials what is due.
    pub fn tick(&mut self, core: &mut CallEngine, now: Instant, wall: DateTime<Utc>) {
        if core.is_standby() {
            // The active engine of two calls citizens back (the engine task does not wake a
            // standby for it; this guards any other wake-up).
            return;
        }
        if now >= self.next_scan && !self.scanning {
            self.next_scan = now + self.settings.scan_every;
            self.busy
                .retain(|_, settled| settled.is_none_or(|t| now.duration_since(t) < SETTLED_FOR));
            self.scan();
        }
        self.dialler.handle_timeout(wall);
        self.drain(core, now, wall);
    }

    /// What a store job reported.
    pub fn handle_done(
        &mut self,
        done: DoneEvent,
        core: &mut CallEngine,
        now: Instant,
        wall: DateTime<Utc>,
    ) {
        match done.0 {
            Done::Scanned(due) => {
                self.scanning = false;
                for d in due {
                    if self.busy.contains_key(&d.ticket) {
                        continue;
                    }
                    let Some(route) = self.settings.route(d.chosen, self.robot.is_some()) else {
                        continue;
                    };
                    if route.robot_missing {
                        tracing::warn!(ticket = %d.ticket, robot = %self.settings.robot, "the robot is to call back but its script is not in ivr-menus/: an agent callback instead");
                    }
                    let request = CallRequest {
                        reference: d.ticket.clone(),
                        number: d.number,
                        purpose: route.purpose,
                    };
                    match self.dialler.submit(request, wall) {
                        Ok(_) => {
                            self.busy.insert(d.ticket, None);
                        }
                        Err(e) => {
                            tracing::warn!(ticket = %d.ticket, error = %e, "callback not queued")
                        }
                    }
                }
                self.drain(core, now, wall);
            }
            Done::ScanFailed => self.scanning = false,
            Done::Acted { ticket, ok } => {
                if ok {
                    self.busy.insert(ticket, Some(now));
                } else {
                    // Tried again at the next scan.
                    self.busy.remove(&ticket);
                }
            }
        }
    }

    /// How a try went (`Output::Outbound`).
    pub fn handle_outcome(
        &mut self,
        attempt: u64,
        outcome: Outcome,
        core: &mut CallEngine,
        now: Instant,
        wall: DateTime<Utc>,
    ) {
        if let Err(e) = self
            .dialler
            .handle_outcome(AttemptId(attempt), outcome, wall)
        {
            tracing::debug!(attempt, error = %e, "outcome of a try the dialler does not know");
        }
        self.drain(core, now, wall);
    }

    /// An outbound call ended: its line is free for the next dial.
    pub fn handle_call_ended(
        &mut self,
        attempt: u64,
        core: &mut CallEngine,
        now: Instant,
        wall: DateTime<Utc>,
    ) {
        self.dialler.handle_call_ended(AttemptId(attempt), wall);
        self.drain(core, now, wall);
    }

    /// A call's record was written: an answered robot callback's result goes onto its ticket.
    pub fn handle_record(&mut self, record: &CallRecord) {
        let Some(info) = record.call.outbound.as_ref() else {
            return;
        };
        if info.purpose != Purpose::RobotCallback || info.outcome != Some(Outcome::Answered) {
            return;
        }
        let Some(tries) = self.reached.remove(&info.reference) else {
            return; // not this process's job (a restart in between)
        };
        let recording = match (&record.call.recording, &record.recording_sha256) {
            (Some(path), Some(sha256)) if record.outcome != CallOutcome::NotReached => {
                Some(Recording {
                    path: path.clone(),
                    sha256: sha256.clone(),
                })
            }
            _ => None,
        };
        let action = answered_action(
            info.robot.as_ref(),
            info.reason.as_ref(),
            &record.call.id,
            recording,
            tries,
        );
        self.act(info.reference.clone(), action);
    }

    /// Places the calls the dialler asks for and settles the jobs it ended.
    fn drain(&mut self, core: &mut CallEngine, now: Instant, wall: DateTime<Utc>) {
        // A call that cannot be placed is a failed try: the dialler may retry it.
        let mut failed = Vec::new();
        while let Some(out) = self.dialler.poll_output() {
            match out {
                DiallerOutput::Dial {
                    attempt,
                    request,
                    try_no,
                    ..
                } => {
                    let call = OutboundCall {
                        attempt: attempt.0,
                        try_no,
                        number: request.number,
                        purpose: request.purpose,
                        reference: request.reference.clone(),
                        queue: match request.purpose {
                            Purpose::RobotCallback => self
                                .robot
                                .as_ref()
                                .map_or("general".to_string(), |r| r.person_queue().to_string()),
                            _ => self.settings.agent_queue.clone(),
                        },
                        robot: match request.purpose {
                            Purpose::RobotCallback => self.robot.clone(),
                            _ => None,
                        },
                    };
                    if let Err(e) = core.place_outbound(call, now) {
                        tracing::warn!(ticket = %request.reference, error = %e, "callback not placed");
                        failed.push(attempt);
                    }
                }
                DiallerOutput::Finished {
                    request,
                    result,
                    attempts,
                    ..
                } => {
                    let tries: Vec<CallbackTry> =
                        attempts.iter().map(|a| try_of(a.at, a.outcome)).collect();
                    let method = match request.purpose {
                        Purpose::RobotCallback => CallbackMethod::Robot,
                        _ => CallbackMethod::Phone,
                    };
                    tracing::info!(ticket = %request.reference, purpose = ?request.purpose, ?result, tries = tries.len(), "callback job over");
                    match missed_action(result, method, tries.clone()) {
                        Some(action) => self.act(request.reference, action),
                        None if request.purpose == Purpose::RobotCallback => {
                            self.reached.insert(request.reference, tries);
                        }
                        // An agent's callback: the agent records it on the desk.
                        None => {
                            self.busy.insert(request.reference, Some(now));
                        }
                    }
                }
            }
        }
        let again = !failed.is_empty();
        for attempt in failed {
            let _ =
                self.dialler
                    .handle_outcome(attempt, Outcome::Unreachable { status: None }, wall);
        }
        if again {
            self.drain(core, now, wall);
        }
    }

    /// Asks the store for the tickets awaiting their callback.
    fn scan(&mut self) {
        self.scanning = true;
        let job = self.api.worker().submit(|s, wf| {
            let mut due = Vec::new();
            let mut after = None;
            loop {
                let page = s.list(&ListQuery {
                    state: Some("awaiting_callback".into()),
                    after: after.clone(),
                    limit: 200,
                    ..ListQuery::default()
                })?;
                for row in &page.items {
                    let t = wf.load(s, &row.id)?;
                    if !matches!(t.state, TicketState::AwaitingCallback { .. }) {
                        continue;
                    }
                    // W13: a citizen who declined at intake is not called.
                    if t.intake.callback_consent == Some(false) {
                        continue;
                    }
                    let Some(number) = t.intake.caller.phone.clone() else {
                        continue;
                    };
                    due.push(Due {
                        ticket: t.id.0.clone(),
                        number,
                        chosen: t.callback_by(),
                    });
                }
                match page.next {
                    Some(next) if due.len() < SCAN_LIMIT => after = Some(next),
                    _ => break,
                }
            }
            Ok(due)
        });
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let done = match job.await {
                Ok(due) => Done::Scanned(due),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot look for tickets awaiting their callback");
                    Done::ScanFailed
                }
            };
            let _ = tx.send(done);
        });
    }

    /// Writes a callback's result onto its ticket (as the engine).
    fn act(&mut self, ticket: String, action: Action) {
        self.busy.insert(ticket.clone(), None);
        let at = crate::shell::clock::wall_now().with_timezone(&china());
        let id = TicketId(ticket.clone());
        let name = action.name();
        let job = self
            .api
            .worker()
            .submit(move |s, wf| wf.act(s, &id, None, &Actor::system(), &action, at));
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            let ok = match job.await {
                Ok(_) => {
                    tracing::info!(%ticket, action = name, "callback result on the ticket");
                    true
                }
                Err(e) => {
                    tracing::warn!(%ticket, action = name, error = %e, "callback result refused");
                    false
                }
            };
            let _ = tx.send(Done::Acted { ticket, ok });
        });
    }
}

/// A finished store job, handed back to [`Callbacks::handle_done`].
pub struct DoneEvent(Done);
