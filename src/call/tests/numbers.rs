//! Integrated numbers in the call room (fake clock): the number dialled decides where the call
//! starts — straight to its queue after its notice, a menu branch after its notice, or the
//! entry menu (12345) — and the live call, the record and the KPI events carry it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::agents::register_agent;
use super::*;
use crate::config::{number_specs, Config, ConfigSource};
use crate::ivr::load::{load, LoadOptions};
use crate::ivr::testutil::{catalog, SHIPPED};

const NUMBERS: &str = "[sip]\nservice_numbers = [\"12345\", \"12315\", \"12333\"]\n\
[numbers.12315]\nname = \"12315 市场监管\"\nqueue = \"market\"\nnotice = { file = \"info.wav\", purpose = \"information\" }\n\
[numbers.12333]\nmenu = \"special\"\nnotice = { file = \"info.wav\", purpose = \"information\" }\n";

/// A simulator whose engine answers the three numbers of `NUMBERS`.
fn sim() -> Sim {
    let parsed = Config::parse(NUMBERS, Path::new("h.toml")).expect("numbers config");
    let source = ConfigSource {
        path: PathBuf::from("h.toml"),
        text: NUMBERS.into(),
    };
    let opts = LoadOptions {
        numbers: number_specs(&parsed.numbers, &source),
        queues: acd_config().queue_names().into_iter().collect(),
        ..LoadOptions::default()
    };
    let files = [(PathBuf::from("menus.toml"), SHIPPED.to_string())];
    let tree = match load(&files, &catalog(), &opts) {
        Ok(l) => Arc::new(l.tree),
        Err(e) => panic!("{e:#?}"),
    };
    let mut sim = Sim::new();
    let mut cfg = config(Duration::ZERO);
    cfg.service_numbers = parsed.sip.service_numbers.clone();
    let wall = chrono::Utc
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .unwrap();
    sim.engine = CallEngine::new(
        cfg,
        tree,
        registrar(sim.now),
        &acd_config(),
        sim.now,
        wall,
        7,
    );
    sim
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_call_to_12315_hears_its_notice_and_waits_in_the_market_queue_without_a_menu() {
    let mut sim = sim();
    let phone = register_agent(&mut sim); // 1001 holds high_frequency:market
    sim.invite("12315", Some(SDP));
    sim.ack();
    assert_eq!(
        sim.plays()[0],
        (
            strings(&["info.wav", "transfer.wav", "hold-music.ogg"]),
            true
        ),
        "the notice, then the transfer prompt and hold music: no menu"
    );
    let live = sim.engine.live_calls();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].called, "12315");
    assert_eq!(live[0].called_name.as_deref(), Some("12315 市场监管"));
    assert_eq!(live[0].queue.as_deref(), Some("market"));
    assert!(live[0].menu_path.is_empty());
    // The caller asked for a person by dialling: t0 of the 15-second clock is the answer,
    // so the notice plays inside the 15 seconds.
    assert!(live[0].answered_at.is_some());
    assert_eq!(live[0].queued_at, live[0].answered_at);
    // t0 of the 15-second clock is the answer: the market agent is rung at once.
    let invite = super::agents::last_request_to(&sim, phone, "INVITE");
    assert_eq!(invite.method.as_str(), "INVITE");
    // The caller hangs up while it rings: an abandon of 12315's, in the market queue.
    sim.in_dialog("BYE", 2, "bye1", "", "");
    sim.drain();
    let record = sim.records.last().expect("a record");
    assert_eq!(record.call.called, "12315");
    assert_eq!(record.call.called_name.as_deref(), Some("12315 市场监管"));
    let kpi = sim.kpis.last().expect("a KPI event");
    assert_eq!(kpi.number.as_deref(), Some("12315"));
    assert_eq!(kpi.queue.as_deref(), Some("market"));
}

#[test]
fn a_call_to_12333_starts_in_its_branch_after_its_notice_and_back_leads_to_main() {
    let mut sim = sim();
    sim.invite("12333", Some(SDP));
    sim.ack();
    assert_eq!(sim.plays()[0].0, strings(&["info.wav", "special-menu.wav"]));
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Ivr);
    // `*` is the branch's "back": the entry menu, read from its menu prompt.
    let id = sim.call_id();
    sim.engine.handle_digit(id, '*', sim.now);
    sim.drain();
    assert_eq!(sim.plays().last().unwrap().0, strings(&["main-menu.wav"]));
    sim.engine.handle_digit(id, '1', sim.now);
    sim.drain();
    let live = sim.engine.live_calls();
    assert_eq!(live[0].queue.as_deref(), Some("enterprise"));
    assert_eq!(live[0].menu_path, strings(&["special:*", "main:1"]));
}

#[test]
fn a_call_to_12345_still_walks_the_entry_menu() {
    let mut sim = sim();
    sim.invite("12345", Some(SDP));
    sim.ack();
    assert_eq!(
        sim.plays()[0].0,
        strings(&["greeting.wav", "main-menu.wav"])
    );
    let live = sim.engine.live_calls();
    assert_eq!(live[0].called, "12345");
    assert_eq!(live[0].called_name, None);
}

#[test]
fn a_number_not_answered_is_refused() {
    let mut sim = sim();
    sim.invite("12366", Some(SDP));
    assert_eq!(sim.statuses(), vec![404]);
}
