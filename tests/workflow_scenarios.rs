//! Runs `tests/scenarios/workflow/*.txt` through the pure workflow core.
//!
//! A file: `# comments`, input lines, a `----` line, then the expected output (one line per
//! input line). Input lines:
//!   `<RFC 3339 time> <actor> create {intake json}`       → `#n <id> <events> -> <state>`
//!   `<RFC 3339 time> <actor> draft {call draft json}`    → the same, for an answered call
//!   `<RFC 3339 time> <actor> #n <action> [{fields json}]` → `#n <events> -> <state>` or `#n refused <code>`
//!   `<RFC 3339 time> <actor> #n available`               → `#n available: <action names>`
//!   `<RFC 3339 time> sweep`                               → `sweep <#n: events>…` or `sweep nothing`
//! Areas come from `config/areas.toml` (dispatch by area), beside `config/dispatch.toml`.
//! Actors: `agent`, `reviewer`, `supervisor`, `system`, `unit:<id>`. Times may omit the
//! offset (`2026-09-30T17:50`), read as +08:00. `UPDATE_SCENARIOS=1` rewrites the expected part.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use hotline::workflow::areas::AreaTree;
use hotline::workflow::calendar::Due;
use hotline::workflow::event::EventKind;
use hotline::workflow::memory::MemoryStore;
use hotline::workflow::model::{china, Actor, CallDraft, Role, UnitId};
use hotline::workflow::{
    Action, DispatchCatalogue, Intake, TicketId, WorkCalendar, Workflow, WorkflowError,
    YearCalendar,
};

fn workflow() -> Workflow {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let year = std::fs::read_to_string(root.join("config/calendar/2026.toml")).expect("calendar");
    let cat = std::fs::read_to_string(root.join("config/dispatch.toml")).expect("catalogue");
    let areas = std::fs::read_to_string(root.join("config/areas.toml")).expect("area tree");
    Workflow {
        policy: Default::default(),
        calendar: WorkCalendar::new([YearCalendar::from_toml_str(&year).expect("2026 parses")]),
        catalogue: DispatchCatalogue::from_toml_str(&cat)
            .expect("catalogue parses")
            .with_areas(AreaTree::from_toml_str(&areas).expect("area tree parses"))
            .expect("every category resolves in every area"),
    }
}

fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|_| {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .unwrap_or_else(|e| panic!("bad time {s}: {e}"));
        china()
            .from_local_datetime(&naive)
            .single()
            .expect("fixed offset")
    })
}

fn actor(s: &str) -> Actor {
    let role = match s {
        "agent" => Role::Agent,
        "reviewer" => Role::Reviewer,
        "supervisor" => Role::Supervisor,
        "system" => Role::System,
        u => Role::Unit(UnitId::new(
            u.strip_prefix("unit:")
                .unwrap_or_else(|| panic!("bad actor {u}")),
        )),
    };
    Actor::new(s, role)
}

fn due(d: &Due) -> String {
    let s = d.at.format("%Y-%m-%dT%H:%M").to_string();
    if d.warning.is_some() {
        format!("{s}[weekends-only]")
    } else {
        s
    }
}

fn describe(e: &EventKind, refs: &BTreeMap<TicketId, usize>) -> String {
    let r = |id: &TicketId| {
        refs.get(id)
            .map(|n| format!("#{n}"))
            .unwrap_or_else(|| id.0.clone())
    };
    let j = |v: serde_json::Value| v.as_str().unwrap_or("?").to_string();
    match e {
        EventKind::Created { dispatch_due, .. } => {
            format!("created dispatch_due={}", due(dispatch_due))
        }
        EventKind::RepeatSuspected {
            earlier,
            score,
            final_answer,
        } => {
            let fin = if *final_answer { " final_answer" } else { "" };
            format!("repeat_suspected({} {score:.2}{fin})", r(earlier))
        }
        EventKind::Returned { decision_due, .. } => match decision_due {
            Some(d) => format!("returned decision_due={}", due(d)),
            None => "returned".into(),
        },
        EventKind::ReturnRejected { feedback_due, .. } => match feedback_due {
            Some(d) => format!("return_rejected feedback_due={}", due(d)),
            None => "return_rejected".into(),
        },
        EventKind::ReviewPassed { callback_due, .. } => match callback_due {
            Some(d) => format!("review_passed callback_due={}", due(d)),
            None => "review_passed".into(),
        },
        EventKind::LinkedEmergency {
            service,
            marked_urgent,
            after_secs,
            ..
        } => format!(
            "linked_emergency({}{}{})",
            j(serde_json::json!(service)),
            if *marked_urgent { " urgent" } else { "" },
            after_secs
                .map(|s| format!(" after {s}s"))
                .unwrap_or_default()
        ),
        EventKind::SupervisionClosed { reason, .. } => {
            format!("supervision_closed({})", j(serde_json::json!(reason)))
        }
        EventKind::Drafted { dispatch_due, .. } => {
            format!("drafted dispatch_due={}", due(dispatch_due))
        }
        EventKind::Completed { dispatch_due, .. } => {
            format!("completed dispatch_due={}", due(dispatch_due))
        }
        EventKind::Classified { dispatch_due, .. } => {
            format!("classified dispatch_due={}", due(dispatch_due))
        }
        EventKind::LinkedAsRepeat { earlier, .. } => format!("linked_as_repeat({})", r(earlier)),
        EventKind::Dispatched {
            lead,
            assisting,
            sign_due,
            return_due,
            feedback_due,
            ..
        } => {
            let mut s = format!("dispatched({lead}");
            for a in assisting {
                s.push_str(&format!("+{a}"));
            }
            s.push_str(&format!(
                ") sign_due={} return_due={}",
                due(sign_due),
                due(return_due)
            ));
            if let Some(f) = feedback_due {
                s.push_str(&format!(" feedback_due={}", due(f)));
            }
            s
        }
        EventKind::HandedToUtility {
            unit,
            number,
            after_secs,
        } => format!(
            "handed_to_utility({unit} {} after {}s)",
            number.as_deref().unwrap_or("-"),
            after_secs.unwrap_or(0)
        ),
        EventKind::HandedOn {
            from, to, sign_due, ..
        } => format!("handed_on({from}->{to}) sign_due={}", due(sign_due)),
        EventKind::ReturnAccepted { dispatch_due, .. } => {
            format!("return_accepted dispatch_due={}", due(dispatch_due))
        }
        EventKind::ExtensionApproved { days, feedback_due } => format!(
            "extension_approved({days}) feedback_due={}",
            due(feedback_due)
        ),
        EventKind::CallbackMade {
            consent,
            rating_due,
            ..
        } => match (consent, rating_due) {
            (false, _) => "callback_made(no consent)".into(),
            (true, Some(d)) => format!("callback_made rating_due={}", due(d)),
            (true, None) => "callback_made".into(),
        },
        EventKind::Refused { reason, .. } => {
            format!("request_refused({})", j(serde_json::json!(reason)))
        }
        EventKind::Rated { rating, .. } => format!("rated({})", j(serde_json::json!(rating))),
        EventKind::UnsatisfiedChecked {
            confirmed,
            feedback_due,
            ..
        } => match feedback_due {
            Some(d) => format!("unsatisfied_checked({confirmed}) feedback_due={}", due(d)),
            None => format!("unsatisfied_checked({confirmed})"),
        },
        EventKind::Reminded {
            deadline: Some(k), ..
        } => format!("reminded({})", j(serde_json::json!(k))),
        EventKind::Overdue { deadline, .. } => {
            format!("overdue({})", j(serde_json::json!(deadline)))
        }
        EventKind::SupervisionOpened { reason, unit, .. } => match unit {
            Some(u) => format!("supervision({} unit={u})", j(serde_json::json!(reason))),
            None => format!("supervision({})", j(serde_json::json!(reason))),
        },
        other => other.name(),
    }
}

fn run(text: &str) -> Vec<String> {
    let wf = workflow();
    let mut store = MemoryStore::new();
    let mut tickets: Vec<TicketId> = Vec::new();
    let mut refs: BTreeMap<TicketId, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.splitn(3, ' ');
        let at = time(parts.next().unwrap_or_default());
        let who = parts.next().unwrap_or_default();
        let rest = parts.next().unwrap_or_default();
        if who == "sweep" {
            let o = wf.sweep(&mut store, at, 1000).expect("sweep");
            if o.events.is_empty() {
                out.push("sweep nothing".into());
            } else {
                // Re-describe from the stored logs for the details (due times).
                let mut s = String::from("sweep");
                let mut last: Option<TicketId> = None;
                for (id, _) in &o.events {
                    if last.as_ref() == Some(id) {
                        continue;
                    }
                    last = Some(id.clone());
                    let t = wf.load(&mut store, id).expect("load");
                    let new: Vec<String> = t
                        .history
                        .iter()
                        .rev()
                        .take_while(|e| e.at == at && e.actor.user == "sweep")
                        .map(|e| describe(&e.kind, &refs))
                        .collect();
                    s.push_str(&format!(
                        " {}: {} -> {};",
                        r(&refs, id),
                        new.into_iter().rev().collect::<Vec<_>>().join(" "),
                        t.state.name()
                    ));
                }
                out.push(s.trim_end_matches(';').to_string());
            }
            continue;
        }
        let a = actor(who);
        if rest.starts_with("create ") || rest.starts_with("draft ") {
            let intake = rest.strip_prefix("create ").map(|json| {
                let mut v: serde_json::Value =
                    serde_json::from_str(json).unwrap_or_else(|e| panic!("{line}: {e}"));
                if v.get("received_at").is_none() {
                    v["received_at"] = serde_json::json!(at.to_rfc3339());
                }
                serde_json::from_value::<Intake>(v).unwrap_or_else(|e| panic!("{line}: {e}"))
            });
            let created = match rest.split_once(' ') {
                Some(("draft", json)) => {
                    let call: CallDraft =
                        serde_json::from_str(json).unwrap_or_else(|e| panic!("{line}: {e}"));
                    wf.open_draft(&mut store, &call, &a, at)
                }
                _ => wf.create(&mut store, intake.expect("create"), &a, at),
            };
            match created {
                Ok(t) if refs.contains_key(&t.id) => out.push(format!(
                    "#{} {} again -> {}",
                    refs[&t.id],
                    t.id,
                    t.state.name()
                )),
                Ok(t) => {
                    tickets.push(t.id.clone());
                    refs.insert(t.id.clone(), tickets.len());
                    let ev: Vec<String> =
                        t.history.iter().map(|e| describe(&e.kind, &refs)).collect();
                    out.push(format!(
                        "#{} {} {} -> {}",
                        tickets.len(),
                        t.id,
                        ev.join(" "),
                        t.state.name()
                    ));
                }
                Err(WorkflowError::Refused(r)) => out.push(format!("create refused {}", r.code())),
                Err(e) => panic!("{line}: {e}"),
            }
            continue;
        }
        let (tref, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let n: usize = tref
            .trim_start_matches('#')
            .parse()
            .unwrap_or_else(|_| panic!("{line}: bad ticket ref"));
        let id = tickets
            .get(n - 1)
            .unwrap_or_else(|| panic!("{line}: no ticket #{n}"))
            .clone();
        let (name, fields) = rest.split_once(' ').unwrap_or((rest, "{}"));
        if name == "available" {
            let t = wf.load(&mut store, &id).expect("load");
            let names = wf.rules().available_actions(&t, &a, at);
            let names = if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(" ")
            };
            out.push(format!("#{n} available: {names}"));
            continue;
        }
        let mut v: serde_json::Value =
            serde_json::from_str(fields).unwrap_or_else(|e| panic!("{line}: {e}"));
        if let (Some(earlier), Some(obj)) = (
            v.get("earlier")
                .and_then(|e| e.as_str())
                .map(str::to_string),
            v.as_object_mut(),
        ) {
            if let Some(k) = earlier
                .strip_prefix('#')
                .and_then(|k| k.parse::<usize>().ok())
            {
                obj.insert("earlier".into(), serde_json::json!(tickets[k - 1].0));
            }
        }
        v["action"] = serde_json::json!(name);
        let action: Action = serde_json::from_value(v).unwrap_or_else(|e| panic!("{line}: {e}"));
        let before = wf.load(&mut store, &id).expect("load").history.len();
        match wf.act(&mut store, &id, None, &a, &action, at) {
            Ok(t) => {
                // Everything this action wrote, the engine's late marks included (`[late]`).
                let ev: Vec<String> = t.history[before..]
                    .iter()
                    .map(|e| {
                        let d = describe(&e.kind, &refs);
                        if e.actor == a {
                            d
                        } else {
                            format!("[late]{d}")
                        }
                    })
                    .collect();
                out.push(format!("#{n} {} -> {}", ev.join(" "), t.state.name()));
            }
            Err(WorkflowError::Refused(r)) => out.push(format!("#{n} refused {}", r.code())),
            Err(e) => panic!("{line}: {e}"),
        }
    }
    out
}

fn r(refs: &BTreeMap<TicketId, usize>, id: &TicketId) -> String {
    refs.get(id)
        .map(|n| format!("#{n}"))
        .unwrap_or_else(|| id.0.clone())
}

#[test]
fn workflow_scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/workflow");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenario dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let update = std::env::var_os("UPDATE_SCENARIOS").is_some();
    let mut failures = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("scenario readable");
        let (input, expected) = text.split_once("\n----\n").unwrap_or((&text, ""));
        let got = run(input);
        let expected: Vec<&str> = expected
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if update {
            std::fs::write(
                &f,
                format!("{}\n----\n{}\n", input.trim_end(), got.join("\n")),
            )
            .expect("write");
            continue;
        }
        if got != expected {
            failures.push(format!(
                "{}:\n  expected:\n    {}\n  got:\n    {}",
                f.display(),
                expected.join("\n    "),
                got.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
