//! "Call me back" and surge mode in the call room (issue 15, C8), with a fake clock: when the
//! offer is made and when not, the caller who takes it is let go with the place kept, and the
//! surge notice goes before the greeting only while surge mode is on.

use std::time::Duration;

use super::*;
use crate::call::record::CallOutcome;
use crate::stats::kpi::Outcome as Kpi;

/// A simulator whose engine may call back (a trunk, the offer on) — nobody is at work, so a
/// queued call's wait has no end in sight.
fn offering() -> Sim {
    let mut sim = Sim::new();
    sim.engine.cfg.trunk = Some("127.0.0.1:5099".parse().expect("addr"));
    sim.engine.cfg.call_me_back.enabled = true;
    sim
}

/// The caller asks for a person (0) and is queued in `general`.
fn queued(sim: &mut Sim) -> crate::call::session::CallId {
    sim.answered();
    let call = sim.call_id();
    sim.engine.handle_digit(call, '0', sim.now);
    sim.drain();
    call
}

/// The caller's phone answers the BYE we sent it.
fn answer_our_bye(sim: &mut Sim) {
    let bye = sim
        .sent
        .iter()
        .rev()
        .find_map(|m| match m {
            Message::Request(r) if r.method == crate::sip::message::Method::Bye => Some(r.clone()),
            _ => None,
        })
        .expect("a BYE");
    let ok = Response::for_request(&bye, 200, "OK");
    sim.send(&String::from_utf8_lossy(&ok.to_bytes()));
}

fn last_prompts(sim: &Sim) -> Vec<String> {
    sim.plays().last().map(|p| p.0.clone()).unwrap_or_default()
}

#[test]
fn a_caller_who_takes_the_offer_is_let_go_with_the_place_kept() {
    let mut sim = offering();
    let call = queued(&mut sim);
    assert_eq!(
        last_prompts(&sim),
        ["callback-offer.wav"],
        "the offer plays at once"
    );
    assert!(sim
        .kpis
        .iter()
        .any(|e| e.outcome == Kpi::CallbackOffered && e.queue.as_deref() == Some("general")));
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    let confirm = last_prompts(&sim);
    assert_eq!(
        confirm.first().map(String::as_str),
        Some("callback-confirm-prefix.wav")
    );
    assert_eq!(
        confirm.len(),
        13,
        "the caller's own 11 digits read back: {confirm:?}"
    );
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    assert_eq!(last_prompts(&sim), ["callback-accepted.wav"]);
    assert!(
        sim.records.is_empty(),
        "the farewell plays before we let go"
    );
    sim.advance(Duration::from_secs(5));
    let token = sim.last_play_token();
    sim.engine.handle_play_finished(call, token, sim.now);
    sim.drain();
    assert!(
        sim.sent.iter().any(
            |m| matches!(m, Message::Request(r) if r.method == crate::sip::message::Method::Bye)
        ),
        "we hang up after the farewell"
    );
    assert!(sim.engine.acd.is_kept(&call), "the place stays in the line");
    assert_eq!(sim.engine.kept.len(), 1);
    assert!(sim
        .kpis
        .iter()
        .any(|e| matches!(e.outcome, Kpi::CallbackKept { .. })));
    // The BYE's answer ends the call: its record says the callback was requested.
    answer_our_bye(&mut sim);
    let record = sim.records.last().expect("a record");
    assert_eq!(record.outcome, CallOutcome::CallbackRequested);
    assert!(record.call.callback_offered);
    assert!(sim.engine.acd.is_kept(&call), "still kept after the record");
    assert!(
        sim.kpis
            .iter()
            .all(|e| !matches!(e.outcome, Kpi::Abandoned { .. })),
        "not an abandon"
    );
}

#[test]
fn star_declines_and_the_caller_keeps_waiting_with_hold_music() {
    let mut sim = offering();
    let call = queued(&mut sim);
    sim.engine.handle_digit(call, '*', sim.now);
    sim.drain();
    assert_eq!(last_prompts(&sim), ["hold-music.ogg"]);
    assert!(!sim.engine.acd.is_kept(&call));
    // Never asked again, however long the wait.
    let offers = |sim: &Sim| {
        sim.plays()
            .iter()
            .filter(|p| p.0 == ["callback-offer.wav"])
            .count()
    };
    sim.advance(Duration::from_secs(95));
    assert_eq!(offers(&sim), 1);
}

#[test]
fn no_offer_to_a_do_not_call_number_outside_the_window_or_without_a_trunk() {
    let mut sim = offering();
    sim.engine
        .cfg
        .call_me_back
        .rules
        .do_not_call
        .insert("13812345678".into());
    queued(&mut sim);
    assert_ne!(last_prompts(&sim), ["callback-offer.wav"], "do-not-call");

    let mut sim = offering();
    // The simulator's clock reads 18:00 China time: a window closing at 12:00 is shut.
    sim.engine.cfg.call_me_back.rules.window_end =
        chrono::NaiveTime::from_hms_opt(12, 0, 0).expect("time");
    queued(&mut sim);
    assert_ne!(
        last_prompts(&sim),
        ["callback-offer.wav"],
        "outside the window"
    );

    let mut sim = offering();
    sim.engine.cfg.trunk = None;
    queued(&mut sim);
    assert_ne!(last_prompts(&sim), ["callback-offer.wav"], "no trunk");
}

#[test]
fn surge_mode_puts_its_notice_before_the_greeting_only_while_on() {
    let mut sim = offering();
    sim.engine.set_surge(true, "supervisor-1", sim.now);
    assert_eq!(
        sim.engine.surge().map(|s| s.by.as_str()),
        Some("supervisor-1")
    );
    sim.answered();
    let first = sim.plays().first().map(|p| p.0.clone()).unwrap_or_default();
    assert_eq!(first.first().map(String::as_str), Some("surge-notice.wav"));
    assert_eq!(first.get(1).map(String::as_str), Some("greeting.wav"));
    // "Repeat" replays the menu without the greeting, and without the notice.
    let call = sim.call_id();
    sim.engine.handle_digit(call, '9', sim.now);
    sim.drain();
    assert!(!last_prompts(&sim).contains(&"surge-notice.wav".to_string()));
    let view = sim.engine.surge_view();
    assert!(view.callback_offer && view.surge.is_some());
    sim.engine.set_surge(false, "supervisor-1", sim.now);
    assert!(sim.engine.surge().is_none());
}

#[test]
fn surge_mode_turns_itself_on_when_a_forecast_passes_its_threshold() {
    let mut sim = offering();
    sim.engine.cfg.call_me_back.surge_above = Duration::from_secs(600);
    assert!(sim.engine.surge().is_none());
    // Nobody at work: the forecast has no end, past any threshold.
    queued(&mut sim);
    assert_eq!(sim.engine.surge().map(|s| s.by.as_str()), Some("forecast"));
}

/// The caller takes the offer and is let go (the BYE answered): returns the kept call.
fn kept_place(sim: &mut Sim) -> crate::call::session::CallId {
    let call = queued(sim);
    sim.engine.handle_digit(call, '1', sim.now);
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    let token = sim.last_play_token();
    sim.engine.handle_play_finished(call, token, sim.now);
    sim.drain();
    call
}

#[test]
fn a_kept_place_survives_a_restart_in_its_order() {
    let mut sim = offering();
    let call = kept_place(&mut sim);
    sim.advance(Duration::from_secs(30));
    assert!(sim.engine.take_saved_state_dirty(), "a kept place is saved");
    let saved = sim.engine.saved_state(sim.now);
    assert_eq!(saved.callbacks.len(), 1);
    let c = &saved.callbacks[0];
    assert_eq!(
        (c.call, c.number.as_str(), c.queue.as_str()),
        (call.0, "13812345678", "general")
    );
    assert_eq!(c.tries, 0);
    // Through the file's JSON, and a file written before callbacks were saved still reads.
    let text = serde_json::to_string(&saved).expect("json");
    let back: crate::call::persist::SavedState = serde_json::from_str(&text).expect("reads");
    assert_eq!(back, saved);
    let old = text.replace(
        &format!(
            ",\"callbacks\":{}",
            serde_json::to_string(&saved.callbacks).expect("json")
        ),
        "",
    );
    assert!(
        serde_json::from_str::<crate::call::persist::SavedState>(&old).is_ok(),
        "{old}"
    );

    // A new engine on the same data: the place goes back into the line a moment after start.
    let mut fresh = offering();
    let done = fresh.engine.restore(&back, fresh.now);
    fresh.drain();
    assert_eq!(done.callbacks, 1);
    assert!(
        !fresh.engine.acd.is_kept(&call),
        "not before the engine task runs"
    );
    fresh.advance(Duration::from_secs(2));
    assert!(fresh.engine.acd.is_kept(&call), "back in the line, kept");
    assert_eq!(fresh.engine.kept.len(), 1);
    let waited = fresh
        .engine
        .acd
        .snapshot(fresh.now)
        .queues
        .iter()
        .find(|q| &*q.name == "general")
        .map(|q| q.kept);
    assert_eq!(waited, Some(1));
}

#[test]
fn a_caller_who_presses_1_and_hangs_up_keeps_the_place_for_their_own_number() {
    let mut sim = offering();
    let call = queued(&mut sim);
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    sim.in_dialog("BYE", 2, "bye1", "", "");
    assert!(sim.statuses().contains(&200), "the BYE is answered");
    let record = sim.records.last().expect("a record");
    assert_eq!(record.outcome, CallOutcome::CallbackRequested);
    assert!(sim.engine.acd.is_kept(&call));
    assert_eq!(
        sim.engine
            .kept
            .by_call
            .get(&call)
            .map(|k| k.number.as_str()),
        Some("13812345678")
    );
    assert!(
        sim.kpis
            .iter()
            .all(|e| !matches!(e.outcome, Kpi::Abandoned { .. })),
        "not an abandon"
    );

    // Hanging up at the offer itself (before 1) is an ordinary abandon.
    let mut sim = offering();
    let call = queued(&mut sim);
    sim.in_dialog("BYE", 2, "bye1", "", "");
    assert_eq!(
        sim.records.last().map(|r| r.outcome),
        Some(CallOutcome::AbandonedInQueue)
    );
    assert!(!sim.engine.acd.is_kept(&call));
}

#[test]
fn a_full_trunk_puts_the_callback_off_and_keeps_the_agent_ready() {
    let mut sim = offering();
    sim.engine.cfg.call_me_back.rules.max_concurrent = 0;
    let call = kept_place(&mut sim);
    answer_our_bye(&mut sim);
    // Nobody at work: the place waits. An agent's turn with a full trunk skips the agent.
    let offered = sim
        .engine
        .kept_turn(call, crate::acd::model::AgentId::from("1001"), sim.now);
    assert!(offered, "a kept place");
    assert!(
        !sim.engine.calls.contains_key(&call),
        "no call is made while the trunk is full"
    );
    assert_eq!(sim.engine.counters.callbacks_trunk_full, 1);
    assert_eq!(sim.engine.kept.len(), 1, "the place is kept");
}
