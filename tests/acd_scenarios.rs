//! Runs the ACD scenario scripts in `tests/scenarios/acd/*.txt` against the shipped
//! `config/agents.toml` and `config/queues.toml`, with a fake clock.
//!
//! A script is input lines, a `----` line, then the expected output lines. Inputs carry
//! explicit times from a fixed origin (`t=5.0s ready 1001`); before each input every timer
//! due by then fires, and its outputs are stamped with the timer's own time. Lines starting
//! with `#` are comments. `ignore <kind>` hides a kind of output (alarm, state, expand,
//! exceeded, offer, cancel, answered, abandoned) so a script shows only what it is about.
//!
//! Inputs: `register A`, `unregister A`, `online A` (register + ready), `ready A`,
//! `not_ready A [reason]`, `logout A`, `wrapup_done A`, `phone_busy A`, `phone_free A`,
//! `call C QUEUE [priority=N] [t0=T]`, `answer C`, `busy C`, `decline C`, `unreachable C`,
//! `hangup C`, `withdraw C`, `end C`, `show QUEUE`, `tick`.
//!
//! A second agent on a call: `assist C A` (a named agent), `assist_queue C QUEUE` (the
//! queue's best ready agent), `assist_end A answered|unanswered`, `take_over C A`; their
//! outputs are the agents' state changes.
//!
//! Web items: `item I QUEUE [t0=T]`, `accept I A`, `decline I A`, `done I`,
//! `withdraw_item I`, `show_web QUEUE`; their outputs are the kinds `item_offer`,
//! `item_cancel`, `item_accepted`, `item_exceeded`, `item_expand`.
//!
//! `ACD_BLESS=1 cargo test --test acd_scenarios` rewrites the expected sections (review
//! the diff before committing it).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hotline::acd::config::AcdConfig;
use hotline::acd::model::{AgentState, NotReadyReason, StateRequest};
use hotline::acd::{Acd, Alarm, AssistTarget, ItemOutput, Output, RingFailure};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn config() -> AcdConfig {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).expect("shipped config readable");
    AcdConfig::parse(
        &read("config/agents.toml"),
        Path::new("config/agents.toml"),
        &read("config/queues.toml"),
        Path::new("config/queues.toml"),
    )
    .expect("shipped ACD config is valid")
}

/// `5`, `5s`, `5.0s`, `0.25s` → milliseconds.
fn parse_ms(s: &str) -> Result<u64, String> {
    let s = s.strip_suffix('s').unwrap_or(s);
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 {
        return Err(format!("{s}: at most millisecond precision"));
    }
    let whole: u64 = whole.parse().map_err(|_| format!("bad time {s:?}"))?;
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}")
            .parse()
            .map_err(|_| format!("bad time {s:?}"))?
    };
    Ok(whole * 1000 + frac)
}

fn fmt_ms(ms: u128) -> String {
    if ms % 100 == 0 {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

fn fmt_d(d: Duration) -> String {
    fmt_ms(d.as_millis())
}

struct Run {
    acd: Acd<String>,
    origin: Instant,
    ignore: HashSet<String>,
    out: Vec<String>,
}

impl Run {
    fn at(&self, ms: u64) -> Instant {
        self.origin + Duration::from_millis(ms)
    }

    fn stamp(&self, now: Instant) -> String {
        fmt_d(now - self.origin)
    }

    fn drain(&mut self, now: Instant) {
        while let Some(o) = self.acd.poll_output() {
            let (kind, text) = describe(&o, self.origin);
            if !self.ignore.contains(kind) {
                let line = format!("t={} {text}", self.stamp(now));
                self.out.push(line);
            }
        }
        while let Some(o) = self.acd.poll_item_output() {
            let (kind, text) = describe_item(&o, self.origin);
            if !self.ignore.contains(kind) {
                let line = format!("t={} {text}", self.stamp(now));
                self.out.push(line);
            }
        }
    }

    fn advance(&mut self, ms: u64) {
        let until = self.at(ms);
        while let Some(due) = self.acd.poll_timeout() {
            if due > until {
                break;
            }
            self.acd.handle_timeout(due);
            self.drain(due);
        }
    }

    fn input(&mut self, ms: u64, words: &[&str]) -> Result<(), String> {
        let now = self.at(ms);
        let arg = |i: usize| -> Result<&str, String> {
            words
                .get(i)
                .copied()
                .ok_or(format!("{}: missing argument {i}", words[0]))
        };
        let acd = &mut self.acd;
        let r = match words[0] {
            "register" => acd.handle_registration(arg(1)?, true, now),
            "unregister" => acd.handle_registration(arg(1)?, false, now),
            "online" => acd.handle_registration(arg(1)?, true, now).and_then(|()| {
                acd.handle_agent_state(arg(1).unwrap_or(""), StateRequest::Ready, now)
            }),
            "ready" => acd.handle_agent_state(arg(1)?, StateRequest::Ready, now),
            "not_ready" => {
                let reason = match words.get(2) {
                    Some(r) => NotReadyReason::parse(r).ok_or(format!("unknown reason {r}"))?,
                    None => NotReadyReason::Unspecified,
                };
                acd.handle_agent_state(arg(1)?, StateRequest::NotReady(reason), now)
            }
            "logout" => acd.handle_agent_state(arg(1)?, StateRequest::LoggedOut, now),
            "wrapup_done" => acd.handle_wrap_up_done(arg(1)?, now),
            "phone_busy" => acd.handle_agent_phone_busy(arg(1)?, true, now),
            "phone_free" => acd.handle_agent_phone_busy(arg(1)?, false, now),
            "call" => {
                let (mut prio, mut t0) = (0u8, now);
                for w in &words[3.min(words.len())..] {
                    if let Some(p) = w.strip_prefix("priority=") {
                        prio = p.parse().map_err(|_| format!("bad priority {p}"))?;
                    } else if let Some(t) = w.strip_prefix("t0=") {
                        t0 = self.origin + Duration::from_millis(parse_ms(t)?);
                    } else {
                        return Err(format!("unknown call option {w}"));
                    }
                }
                acd.handle_call_queued(arg(1)?.to_string(), arg(2)?, t0, prio, now)
            }
            "answer" => acd.handle_ring_answered(&arg(1)?.to_string(), now),
            "busy" => acd.handle_ring_failed(&arg(1)?.to_string(), RingFailure::Busy, now),
            "decline" if words.len() == 2 => {
                acd.handle_ring_failed(&arg(1)?.to_string(), RingFailure::Declined, now)
            }
            "unreachable" => {
                acd.handle_ring_failed(&arg(1)?.to_string(), RingFailure::Unreachable, now)
            }
            "hangup" => acd.handle_caller_hung_up(&arg(1)?.to_string(), now),
            "withdraw" => acd.handle_call_withdrawn(&arg(1)?.to_string(), now),
            "end" => acd.handle_call_ended(&arg(1)?.to_string(), now),
            "assist" => acd
                .handle_assist_requested(&arg(1)?.to_string(), AssistTarget::Agent(arg(2)?), now)
                .map(|_| ()),
            "assist_queue" => acd
                .handle_assist_requested(&arg(1)?.to_string(), AssistTarget::Queue(arg(2)?), now)
                .map(|_| ()),
            "assist_end" => {
                let answered = match arg(2)? {
                    "answered" => true,
                    "unanswered" => false,
                    other => {
                        return Err(format!("assist_end: answered or unanswered, not {other}"))
                    }
                };
                acd.handle_assist_ended(arg(1)?, answered, now)
            }
            "take_over" => acd.handle_call_taken_over(&arg(1)?.to_string(), arg(2)?, now),
            "show" => {
                let line = show(acd, arg(1)?, now)?;
                self.out
                    .push(format!("t={} {line}", fmt_ms(u128::from(ms))));
                Ok(())
            }
            "item" => {
                let mut t0 = now;
                for w in &words[3.min(words.len())..] {
                    match w.strip_prefix("t0=") {
                        Some(t) => t0 = self.origin + Duration::from_millis(parse_ms(t)?),
                        None => return Err(format!("unknown item option {w}")),
                    }
                }
                acd.handle_item_queued(arg(1)?.into(), arg(2)?, t0, now)
            }
            "accept" => acd.handle_item_accepted(arg(1)?, arg(2)?, now),
            "decline" if words.len() > 2 => acd.handle_item_declined(arg(1)?, arg(2)?, now),
            "done" => acd.handle_item_done(arg(1)?, now),
            "withdraw_item" => acd.handle_item_withdrawn(arg(1)?, now),
            "show_web" => {
                let line = show_web(acd, arg(1)?, now)?;
                self.out
                    .push(format!("t={} {line}", fmt_ms(u128::from(ms))));
                Ok(())
            }
            "tick" => Ok(()),
            other => return Err(format!("unknown input {other:?}")),
        };
        if let Err(e) = r {
            self.out
                .push(format!("t={} error {e}", fmt_ms(u128::from(ms))));
        }
        self.drain(now);
        Ok(())
    }
}

fn show(acd: &Acd<String>, queue: &str, now: Instant) -> Result<String, String> {
    let snap = acd.snapshot(now);
    let q = snap
        .queues
        .iter()
        .find(|q| &*q.name == queue)
        .ok_or(format!("no queue {queue}"))?;
    let waiting: Vec<String> = q
        .waiting
        .iter()
        .map(|(c, w)| format!("{c}:{}", fmt_d(*w)))
        .collect();
    let a = q.agents;
    // Ready agents without a registered phone are shown apart (they cannot be reached).
    let ready = if a.ready_no_phone > 0 {
        format!("{} ready_no_phone={}", a.ready, a.ready_no_phone)
    } else {
        a.ready.to_string()
    };
    // Agents assisting on a colleague's call are shown only when there are some.
    let talking = if a.assisting > 0 {
        format!("{} assisting={}", a.talking, a.assisting)
    } else {
        a.talking.to_string()
    };
    Ok(format!(
        "queue {queue} waiting=[{}] ringing={} longest={} ready={} not_ready={} reserved={} talking={} wrap_up={} logged_out={} unstaffed={}",
        waiting.join(","),
        q.ringing,
        q.longest_wait.map_or("-".into(), fmt_d),
        ready,
        a.not_ready,
        a.reserved,
        talking,
        a.wrap_up,
        a.logged_out,
        q.unstaffed
    ))
}

fn show_web(acd: &Acd<String>, queue: &str, now: Instant) -> Result<String, String> {
    let snap = acd.snapshot(now);
    let q = snap
        .web_queues
        .iter()
        .find(|q| &*q.name == queue)
        .ok_or(format!("no web queue {queue}"))?;
    let held: Vec<String> = snap
        .agents
        .iter()
        .filter(|a| a.web_items > 0 || a.web_offer.is_some())
        .map(|a| {
            let offer = a
                .web_offer
                .as_deref()
                .map_or(String::new(), |i| format!("+{i}"));
            format!("{}:{}{offer}", a.id, a.web_items)
        })
        .collect();
    Ok(format!(
        "web {queue} waiting={} offered={} accepted={} longest={} agents=[{}] unstaffed={}",
        q.waiting,
        q.offered,
        q.accepted,
        q.longest_wait.map_or("-".into(), fmt_d),
        held.join(","),
        q.unstaffed
    ))
}

fn describe_item(o: &ItemOutput, origin: Instant) -> (&'static str, String) {
    match o {
        ItemOutput::OfferItem {
            item,
            agent,
            queue,
            until,
        } => (
            "item_offer",
            format!(
                "offer item {item} -> {agent} queue={queue} until={}",
                fmt_d(*until - origin)
            ),
        ),
        ItemOutput::CancelItemOffer {
            item,
            agent,
            reason,
        } => (
            "item_cancel",
            format!("cancel item {item} -> {agent} {}", reason.as_str()),
        ),
        ItemOutput::ItemAccepted {
            item,
            agent,
            queue,
            wait,
        } => (
            "item_accepted",
            format!(
                "accepted item {item} by {agent} queue={queue} wait={}",
                fmt_d(*wait)
            ),
        ),
        ItemOutput::ItemWaitExceeded {
            item,
            queue,
            waited,
        } => (
            "item_exceeded",
            format!(
                "exceeded item {item} queue={queue} waited={}",
                fmt_d(*waited)
            ),
        ),
        ItemOutput::ItemExpanded { item, queue, step } => (
            "item_expand",
            format!("expand item {item} queue={queue} step={step}"),
        ),
    }
}

fn state_text(s: &AgentState<String>, origin: Instant) -> String {
    match s {
        AgentState::LoggedOut => "logged_out".into(),
        AgentState::Ready => "ready".into(),
        AgentState::NotReady { reason } => format!("not_ready({reason})"),
        AgentState::Reserved { call } => format!("reserved({call})"),
        AgentState::Talking { call } => format!("talking({call})"),
        AgentState::Assisting { call } => format!("assisting({call})"),
        AgentState::WrapUp { call, until } => {
            format!("wrap_up({call} until={})", fmt_d(*until - origin))
        }
    }
}

fn describe(o: &Output<String>, origin: Instant) -> (&'static str, String) {
    match o {
        Output::Offer {
            call,
            agent,
            queue,
            ring_timeout,
        } => (
            "offer",
            format!(
                "offer {call} -> {agent} queue={queue} ring={}",
                fmt_d(*ring_timeout)
            ),
        ),
        Output::CancelOffer {
            call,
            agent,
            reason,
        } => (
            "cancel",
            format!("cancel {call} -> {agent} {}", reason.as_str()),
        ),
        Output::CallAnswered {
            call,
            agent,
            queue,
            wait,
        } => (
            "answered",
            format!(
                "answered {call} by {agent} queue={queue} wait={}",
                fmt_d(*wait)
            ),
        ),
        Output::CallAbandoned { call, queue, wait } => (
            "abandoned",
            format!("abandoned {call} queue={queue} wait={}", fmt_d(*wait)),
        ),
        Output::CallWaitExceeded {
            call,
            queue,
            waited,
        } => (
            "exceeded",
            format!("exceeded {call} queue={queue} waited={}", fmt_d(*waited)),
        ),
        Output::CallExpanded { call, queue, step } => {
            ("expand", format!("expand {call} queue={queue} step={step}"))
        }
        Output::AgentStateChanged { agent, state, .. } => (
            "state",
            format!("state {agent} {}", state_text(state, origin)),
        ),
        Output::AlarmRaised(Alarm::QueueUnstaffed { queue }) => {
            ("alarm", format!("alarm raised unstaffed {queue}"))
        }
        Output::AlarmCleared(Alarm::QueueUnstaffed { queue }) => {
            ("alarm", format!("alarm cleared unstaffed {queue}"))
        }
    }
}

fn meaningful(l: &&str) -> bool {
    let t = l.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// Runs one script; returns the actual output lines.
fn run(text: &str, origin: Instant) -> Result<(Vec<String>, Vec<String>), String> {
    let (inputs, expected) = text
        .split_once("\n----\n")
        .ok_or("no `----` line between inputs and expected output")?;
    let mut run = Run {
        acd: Acd::new(&config(), origin),
        origin,
        ignore: HashSet::new(),
        out: Vec::new(),
    };
    let mut last = 0;
    let mut started = false;
    for (n, line) in inputs.lines().enumerate() {
        let words: Vec<&str> = line
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let Some(first) = words.first() else { continue };
        let here = |e: String| format!("line {}: {e}", n + 1);
        if *first == "ignore" {
            run.ignore.extend(words[1..].iter().map(|w| w.to_string()));
            if words.len() == 1 {
                return Err(here("ignore what?".into()));
            }
            // Outputs of construction (the start-up alarms) come out before the first input.
            continue;
        }
        let t = first
            .strip_prefix("t=")
            .ok_or_else(|| here("an input starts with t=<seconds>".into()))?;
        let ms = parse_ms(t).map_err(here)?;
        if ms < last {
            return Err(here("time goes backwards".into()));
        }
        if !started {
            started = true;
            run.drain(origin);
        }
        last = ms;
        run.advance(ms);
        run.input(ms, &words[1..]).map_err(here)?;
        run.acd.check_invariants().map_err(here)?;
    }
    let expected = expected
        .lines()
        .filter(meaningful)
        .map(|l| l.trim().to_string())
        .collect();
    Ok((run.out, expected))
}

#[test]
fn acd_scenarios() {
    let dir = root().join("tests/scenarios/acd");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/scenarios/acd exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 9,
        "expected the scenario set, found {}",
        files.len()
    );
    let origin = hotline::shell::clock::now();
    let bless = std::env::var_os("ACD_BLESS").is_some();
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("scenario readable");
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        match run(&text, origin) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok((actual, expected)) if actual != expected => {
                if bless {
                    let head = text.split("\n----\n").next().unwrap_or("");
                    let body = format!("{head}\n----\n{}\n", actual.join("\n"));
                    std::fs::write(f, body).expect("scenario writable");
                }
                failures.push(format!(
                    "{name}: output differs\n--- expected\n{}\n--- actual\n{}",
                    expected.join("\n"),
                    actual.join("\n")
                ));
            }
            Ok(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
