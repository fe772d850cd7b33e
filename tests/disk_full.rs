//! A full disk (issue 12 item 8): the ticket store answers `storage_full` (HTTP 507), raises
//! the alarm while writes fail and clears it when one commits; a call answered meanwhile gets
//! its draft, and then its recording, once there is room. The store's size is capped with
//! `PRAGMA max_page_count` (no mount needed); `crash_records.rs`-style tests against a real
//! full tmpfs are in `a_full_data_folder_…` below (skipped when it cannot be mounted).

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
use std::time::Duration;

use chrono::TimeZone;
use hotline::call::record::{CallState, ConnectedCall, LiveCall};
use hotline::cti::tickets::{TicketApi, TicketApiConfig};
use hotline::shell::call_tickets::CallTickets;
use hotline::workflow::model::{china, Actor, CallDraft, Recording};
use hotline::workflow::store::{ListQuery, StoreError, TicketStore};
use hotline::workflow::WorkflowError;

fn api(data: &Path) -> TicketApi {
    TicketApi::open(&TicketApiConfig::new(data, &common::root().join("config"))).expect("api")
}

fn live(id: &str) -> LiveCall {
    let at = chrono::Utc
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("time");
    LiveCall {
        id: id.into(),
        caller: "138******78".into(),
        called: "12345".into(),
        state: CallState::Talking,
        menu_path: vec!["main:1".into()],
        queue: Some("enterprise".into()),
        started_at: at,
        answered_at: Some(at),
        queued_at: Some(at),
        offered_to: None,
        agent: Some("1001".into()),
        connected_at: Some(at),
        wait_s: Some(3.0),
        recording: Some(format!("recordings/2026/11/22/{id}.wav")),
        transfers: Vec::new(),
        ticket: None,
        answered_queue: Some("enterprise".into()),
    }
}

/// Drafts for other calls until the capped store refuses one for lack of room.
async fn fill(api: &TicketApi) -> usize {
    api.worker()
        .call(|s, _| Ok(s.cap_pages(0)?))
        .await
        .expect("cap");
    for i in 0..5000 {
        let draft = CallDraft {
            call_id: format!("filler-{i}"),
            received_at: china().with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap(),
            caller_phone: Some(format!("139{i:08}")),
            queue: None,
            menu_path: Vec::new(),
        };
        let at = draft.received_at;
        let r = api
            .worker()
            .call(move |s, wf| wf.open_draft(s, &draft, &Actor::system(), at))
            .await;
        match r {
            Ok(_) => {}
            Err(WorkflowError::Store(StoreError::Full)) => return i,
            Err(e) => panic!("expected storage_full, got {e}"),
        }
    }
    panic!("the capped store never filled up");
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `limit`.
async fn wait_for_async<T, F: std::future::Future<Output = Option<T>>>(
    limit: Duration,
    mut f: impl FnMut() -> F,
) -> Option<T> {
    for _ in 0..(limit.as_millis() / 100).max(1) {
        if let Some(v) = f().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

async fn tickets_of(api: &TicketApi, call: &str) -> Vec<hotline::workflow::Ticket> {
    let call = call.to_string();
    api.worker()
        .call(move |s, wf| {
            let page = s.list(&ListQuery {
                call_id: Some(call),
                limit: 10,
                ..ListQuery::default()
            })?;
            page.items.iter().map(|r| wf.load(s, &r.id)).collect()
        })
        .await
        .expect("list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_answered_while_the_store_is_full_gets_its_draft_and_recording_once_there_is_room() {
    let dir = tempfile::tempdir().expect("tmp");
    let api = api(dir.path());
    let storage = api.worker().metrics().storage.clone();
    let filled = fill(&api).await;
    assert!(filled > 0, "some drafts fit before the cap");
    assert!(storage.is_full(), "the alarm is raised");
    // The API's answer: 507 storage_full, not 500 internal.
    let e = hotline::cti::ApiError::from(WorkflowError::Store(StoreError::Full));
    assert_eq!((e.status.as_u16(), e.code.as_str()), (507, "storage_full"));

    // An agent answers a call now, and the call ends with its recording, before any room.
    let mut tickets = CallTickets::new(api.clone());
    let call = "20261122100000-full";
    tickets.call_answered(ConnectedCall {
        live: live(call),
        caller_number: "13812345678".into(),
    });
    let recording = Recording {
        path: format!("recordings/2026/11/22/{call}.wav"),
        sha256: "ab".repeat(32),
    };
    tickets.call_recorded(call.into(), recording.clone());
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        tickets_of(&api, call).await.is_empty(),
        "no room: no draft yet"
    );
    assert!(storage.is_full());
    let refused = api.worker().metrics().refusals.snapshot();
    assert!(
        refused.iter().any(|(c, n)| *c == "storage_full" && *n >= 2),
        "retried: {refused:?}"
    );

    // The operator frees space: the draft commits, then the recording is attached.
    api.worker()
        .call(|s, _| Ok(s.cap_pages(1 << 30)?))
        .await
        .expect("uncap");
    let link = tokio::time::timeout(Duration::from_secs(10), tickets.next_link())
        .await
        .expect("the draft opens within the retry backoff")
        .expect("a link");
    assert_eq!(link.call, call);
    let attached = wait_for_async(Duration::from_secs(10), || async {
        let t = tickets_of(&api, call).await;
        (t.len() == 1 && t[0].intake.recording.as_ref() == Some(&recording)).then_some(t)
    })
    .await
    .expect("the recording reaches the draft");
    assert_eq!(attached[0].id, link.ticket);
    assert_eq!(
        attached[0].intake.caller.phone.as_deref(),
        Some("13812345678")
    );
    assert!(!storage.is_full(), "a committed write clears the alarm");
    assert_eq!(
        storage.episodes.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    tickets.finish(Duration::from_secs(3)).await;
}
