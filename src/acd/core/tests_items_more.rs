//! Web work items: withdrawal, the 3-minute clock after a restart, the alarm, queue
//! priority, refusals and reconfiguration.

use super::tests_items::{items, key, offers, pair, ready, s, setup, AGENTS};
use super::*;

#[test]
fn withdrawn_items_leave_from_any_state() {
    let (mut acd, t0) = setup(AGENTS);
    // Waiting: gone, nothing offered later.
    acd.handle_item_queued(key("W"), "web", t0, t0).unwrap();
    acd.handle_item_withdrawn("W", t0 + s(1)).unwrap();
    assert_eq!(acd.item_queue("W"), None);
    ready(&mut acd, "1002", t0 + s(2));
    assert!(offers(&items(&mut acd)).is_empty());
    // Offered: the offer is cancelled, the agent gets the next waiting item.
    acd.handle_item_queued(key("O"), "web", t0 + s(3), t0 + s(3))
        .unwrap();
    acd.handle_item_queued(key("N"), "web", t0 + s(4), t0 + s(4))
        .unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("O", "1002")]);
    acd.handle_item_withdrawn("O", t0 + s(5)).unwrap();
    let out = items(&mut acd);
    assert!(
        matches!(&out[0], ItemOutput::CancelItemOffer { item, reason: ItemCancelReason::Withdrawn, .. } if &**item == "O"),
        "{out:?}"
    );
    assert_eq!(offers(&out), [pair("N", "1002")]);
    // Accepted: counts as done.
    acd.handle_item_accepted("N", "1002", t0 + s(6)).unwrap();
    assert_eq!(acd.item_agent("N").map(AgentId::as_str), Some("1002"));
    acd.handle_item_withdrawn("N", t0 + s(7)).unwrap();
    let snap = acd.snapshot(t0 + s(7));
    let a = snap
        .agents
        .iter()
        .find(|a| a.id.as_str() == "1002")
        .unwrap();
    assert_eq!(a.web_items, 0);
    assert!(matches!(
        acd.handle_item_withdrawn("N", t0 + s(8)),
        Err(AcdError::UnknownItem(_))
    ));
    assert_eq!(acd.poll_timeout(), None, "no timer left behind");
}

#[test]
fn a_standby_lets_waiting_and_offered_items_go_and_keeps_an_accepted_one() {
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1002", t0);
    for (i, k) in ["A", "O", "W"].into_iter().enumerate() {
        let at = t0 + s(i as u64 + 1);
        acd.handle_item_queued(key(k), "web", at, at).unwrap();
    }
    assert_eq!(offers(&items(&mut acd)), [pair("A", "1002")]);
    acd.handle_item_accepted("A", "1002", t0 + s(4)).unwrap();
    // "O" may be offered to 1002 beside the accepted one; "W" waits.
    let _ = items(&mut acd);
    assert_eq!(acd.handle_standby(t0 + s(6)), 2);
    assert_eq!(acd.item_queue("O"), None);
    assert_eq!(acd.item_queue("W"), None);
    assert_eq!(acd.item_agent("A").map(AgentId::as_str), Some("1002"));
    // Read back on promotion like after a restart: the same ids are welcome again.
    acd.handle_item_queued(key("W"), "web", t0 + s(3), t0 + s(7))
        .unwrap();
    assert_eq!(acd.item_queue("W"), Some("web"));
}

#[test]
fn after_a_restart_the_clock_counts_from_the_receipt() {
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1006", t0);
    // Received 170 s before the engine (re)started: past the alarm and the last step.
    let now = t0 + s(200);
    acd.handle_item_queued(key("R"), "web", t0 + s(30), now)
        .unwrap();
    let out = items(&mut acd);
    assert!(
        matches!(&out[0], ItemOutput::ItemWaitExceeded { waited, .. } if *waited == s(170)),
        "{out:?}"
    );
    assert_eq!(offers(&out), [pair("R", "1006")], "everyone, at once");
    acd.handle_item_accepted("R", "1006", now + s(1)).unwrap();
    let out = items(&mut acd);
    assert!(
        matches!(&out[0], ItemOutput::ItemAccepted { wait, .. } if *wait == s(171)),
        "{out:?}"
    );
}

#[test]
fn the_alarm_fires_once_at_alarm_after_and_not_after_acceptance() {
    let (mut acd, t0) = setup(AGENTS);
    acd.handle_item_queued(key("A"), "web", t0, t0).unwrap();
    acd.handle_item_queued(key("B"), "web", t0, t0).unwrap();
    let mut alarms = Vec::new();
    let mut at = t0;
    while let Some(due) = acd.poll_timeout() {
        if due > t0 + s(600) {
            break;
        }
        at = due;
        acd.handle_timeout(due);
        for o in items(&mut acd) {
            if let ItemOutput::ItemWaitExceeded { item, waited, .. } = o {
                alarms.push((item.to_string(), waited));
            }
        }
        if due == t0 + s(60) {
            // B is accepted before its alarm: it never rings.
            ready(&mut acd, "1002", due);
            assert_eq!(offers(&items(&mut acd)), [pair("A", "1002")]);
            acd.handle_item_accepted("A", "1002", due).unwrap();
            assert_eq!(offers(&items(&mut acd)), [pair("B", "1002")]);
            acd.handle_item_accepted("B", "1002", due).unwrap();
        }
    }
    assert!(at <= t0 + s(600));
    assert!(
        alarms.is_empty(),
        "A and B were accepted in time: {alarms:?}"
    );

    let (mut acd, t0) = setup(AGENTS);
    acd.handle_item_queued(key("C"), "web", t0, t0).unwrap();
    acd.handle_timeout(t0 + s(149));
    assert!(items(&mut acd)
        .iter()
        .all(|o| !matches!(o, ItemOutput::ItemWaitExceeded { .. })));
    acd.handle_timeout(t0 + s(150));
    let out = items(&mut acd);
    assert!(
        matches!(out.as_slice(), [ItemOutput::ItemWaitExceeded { waited, .. }] if *waited == s(150)),
        "{out:?}"
    );
    acd.handle_timeout(t0 + s(3600));
    assert!(items(&mut acd)
        .iter()
        .all(|o| !matches!(o, ItemOutput::ItemWaitExceeded { .. })));
    assert_eq!(acd.poll_timeout(), None);
}

#[test]
fn queue_priority_then_receipt_orders_items_across_queues() {
    let (mut acd, t0) = setup(AGENTS);
    acd.handle_item_queued(key("old"), "web", t0, t0).unwrap();
    acd.handle_item_queued(key("biz"), "web_enterprise", t0 + s(5), t0 + s(5))
        .unwrap();
    acd.handle_item_queued(key("new"), "web", t0 + s(6), t0 + s(6))
        .unwrap();
    // 1001 may serve both: the enterprise queue's priority 5 goes first.
    ready(&mut acd, "1001", t0 + s(7));
    assert_eq!(offers(&items(&mut acd)), [pair("biz", "1001")]);
    acd.handle_item_accepted("biz", "1001", t0 + s(8)).unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("old", "1001")]);
}

#[test]
fn items_and_calls_keep_to_their_own_queues() {
    let (mut acd, t0) = setup(AGENTS);
    assert!(acd.has_voice_queue("general") && !acd.has_voice_queue("web"));
    assert!(acd.has_web_queue("web") && !acd.has_web_queue("general"));
    // The IVR's and transfers' question: never a web queue.
    assert!(acd.has_queue("general") && !acd.has_queue("web"));
    assert_eq!(
        acd.handle_call_queued(1, "web", t0, 0, t0),
        Err(AcdError::NotAVoiceQueue("web".into()))
    );
    assert_eq!(
        acd.handle_item_queued(key("A"), "general", t0, t0),
        Err(AcdError::NotAWebQueue("general".into()))
    );
    assert_eq!(
        acd.handle_item_queued(key("A"), "nope", t0, t0),
        Err(AcdError::UnknownQueue("nope".into()))
    );
    acd.handle_item_queued(key("A"), "web", t0, t0).unwrap();
    assert_eq!(
        acd.handle_item_queued(key("A"), "web", t0, t0),
        Err(AcdError::ItemAlreadyKnown("A".into()))
    );
    assert!(matches!(
        acd.handle_item_done("A", t0),
        Err(AcdError::ItemNotAccepted {
            status: "waiting",
            ..
        })
    ));
    assert!(matches!(
        acd.handle_item_accepted("A", "1002", t0),
        Err(AcdError::ItemNotOffered { .. })
    ));
    assert!(matches!(
        acd.handle_item_declined("A", "9999", t0),
        Err(AcdError::UnknownAgent(_))
    ));
    // The calls' wallboard list is unchanged; web queues have their own.
    let snap = acd.snapshot(t0 + s(2));
    assert_eq!(snap.queues.len(), 8);
    assert!(snap.queues.iter().all(|q| !q.name.starts_with("web")));
    let names: Vec<&str> = snap.web_queues.iter().map(|q| &*q.name).collect();
    assert_eq!(names, ["web", "web_enterprise"]);
    assert_eq!(snap.web_queues[0].waiting, 1);
    assert_eq!(snap.web_queues[0].longest_wait, Some(s(2)));
    acd.check_invariants().unwrap();
}

#[test]
fn reconfigure_carries_waiting_offered_and_accepted_items_over() {
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1002", t0);
    ready(&mut acd, "1001", t0);
    acd.handle_item_queued(key("acc"), "web", t0, t0).unwrap();
    acd.handle_item_accepted("acc", "1002", t0 + s(1)).unwrap();
    acd.handle_item_queued(key("off"), "web", t0 + s(2), t0 + s(2))
        .unwrap();
    acd.handle_item_queued(key("biz"), "web_enterprise", t0 + s(3), t0 + s(3))
        .unwrap();
    acd.handle_item_queued(key("wait"), "web", t0 + s(4), t0 + s(4))
        .unwrap();
    assert_eq!(
        offers(&items(&mut acd)),
        [
            pair("acc", "1002"),
            pair("off", "1002"),
            pair("biz", "1001")
        ]
    );
    // Same config: nothing moves, nothing is said.
    let cfg = super::tests_items::config_with(AGENTS);
    let r = acd.reconfigure(&cfg, t0 + s(5));
    assert!(r.items_dropped.is_empty());
    assert!(items(&mut acd).is_empty());
    assert_eq!(acd.item_agent("acc").map(AgentId::as_str), Some("1002"));
    assert_eq!(acd.item_agent("off").map(AgentId::as_str), Some("1002"));
    assert_eq!(acd.item_agent("wait"), None);
    // The offer's timer survived: it still times out at 2 + 30 s (and, 1001 holding biz's
    // offer, comes back to 1002).
    acd.handle_timeout(t0 + s(32));
    let out = items(&mut acd);
    assert!(
        matches!(&out[0], ItemOutput::CancelItemOffer { item, reason: ItemCancelReason::Timeout, .. } if &**item == "off"),
        "{out:?}"
    );

    // web_enterprise removed and 1002 (holding acc) removed: biz moves to `web` (its offer
    // to 1001 stays: 1001 serves `web` too); acc leaves the ACD.
    let queues = include_str!("../../../config/queues.toml");
    let cut = queues
        .find("[[queue]]\nname = \"web_enterprise\"")
        .expect("shipped web_enterprise");
    let queues = queues[..cut].replace(
        "[[web.route]]\nkeywords = [\"企业\", \"营业执照\", \"公司\", \"个体工商户\"]\nqueue = \"web_enterprise\"\n",
        "",
    );
    let start = AGENTS.find("[[agent]]\nid = \"1002\"").unwrap();
    let end = AGENTS.find("[[agent]]\nid = \"1003\"").unwrap();
    let agents = format!("{}{}", &AGENTS[..start], &AGENTS[end..]);
    let cfg = AcdConfig::parse(
        &agents,
        std::path::Path::new("agents.toml"),
        &queues,
        std::path::Path::new("queues.toml"),
    )
    .unwrap();
    let r = acd.reconfigure(&cfg, t0 + s(32));
    assert_eq!(r.items_dropped, [key("acc")]);
    assert_eq!(acd.item_queue("biz"), Some("web"));
    assert_eq!(acd.item_agent("biz").map(AgentId::as_str), Some("1001"));
    acd.check_invariants().unwrap();
    // Waiting items keep their receipt order and their alarm.
    acd.handle_item_accepted("biz", "1001", t0 + s(32)).unwrap();
    let out = items(&mut acd);
    assert!(
        out.iter().any(|o| matches!(o, ItemOutput::CancelItemOffer { item, agent, reason: ItemCancelReason::Reconfigured } if &**item == "off" && agent.as_str() == "1002")),
        "the removed agent's offer is taken off the desk: {out:?}"
    );
    assert_eq!(offers(&out), [pair("off", "1001")], "{out:?}");
    acd.handle_timeout(t0 + s(154));
    let alarms: Vec<String> = items(&mut acd)
        .into_iter()
        .filter_map(|o| match o {
            ItemOutput::ItemWaitExceeded { item, .. } => Some(item.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(alarms, ["off", "wait"]);
}
