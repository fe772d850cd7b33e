//! Web work items against the shipped config with a fake clock: who is offered an item,
//! one at a time, capacity, timeouts, declines, and the voice side left alone.
//!
//! Shipped `web` queue: general ≥ 3, after 60 s general ≥ 1, after 2 m everyone. Agents:
//! 1001 enterprise 5 / general 4; 1002 general 5; 1003 general 3; 1004 general 3;
//! 1005 general 2; 1006 no general. Everyone's web capacity is 2.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::acd::model::StateRequest;

pub(super) fn config_with(agents: &str) -> AcdConfig {
    AcdConfig::parse(
        agents,
        Path::new("agents.toml"),
        include_str!("../../../config/queues.toml"),
        Path::new("queues.toml"),
    )
    .expect("shipped config")
}

pub(super) const AGENTS: &str = include_str!("../../../config/agents.toml");

pub(super) fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A core and its origin; start-up outputs drained.
pub(super) fn setup(agents: &str) -> (Acd<u32>, Instant) {
    let t0 = crate::shell::clock::now();
    let mut acd = Acd::new(&config_with(agents), t0);
    while acd.poll_output().is_some() {}
    (acd, t0)
}

/// Logs an agent in as ready, on the desk only (no phone: web items need none).
pub(super) fn ready(acd: &mut Acd<u32>, id: &str, at: Instant) {
    acd.handle_agent_state(id, StateRequest::Ready, at).unwrap();
    acd.check_invariants().unwrap();
}

pub(super) fn items(acd: &mut Acd<u32>) -> Vec<ItemOutput> {
    acd.check_invariants().unwrap();
    std::iter::from_fn(|| acd.poll_item_output()).collect()
}

pub(super) fn key(s: &str) -> ItemKey {
    ItemKey::from(s)
}

/// The (item, agent) of every offer in `out`.
pub(super) fn offers(out: &[ItemOutput]) -> Vec<(String, String)> {
    out.iter()
        .filter_map(|o| match o {
            ItemOutput::OfferItem { item, agent, .. } => {
                Some((item.to_string(), agent.to_string()))
            }
            _ => None,
        })
        .collect()
}

pub(super) fn pair(item: &str, agent: &str) -> (String, String) {
    (item.to_string(), agent.to_string())
}

#[test]
fn highest_level_first_then_fewest_items_then_longest_idle() {
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1003", t0 + s(1));
    ready(&mut acd, "1001", t0 + s(2));
    ready(&mut acd, "1002", t0 + s(3));
    acd.handle_item_queued(key("A"), "web", t0 + s(4), t0 + s(4))
        .unwrap();
    let out = items(&mut acd);
    assert_eq!(offers(&out), [pair("A", "1002")], "level 5 first: {out:?}");
    assert!(
        matches!(&out[0], ItemOutput::OfferItem { until, queue, .. } if *until == t0 + s(34) && &**queue == "web")
    );
    acd.handle_item_accepted("A", "1002", t0 + s(5)).unwrap();
    let out = items(&mut acd);
    assert!(
        matches!(&out[0], ItemOutput::ItemAccepted { wait, .. } if *wait == s(1)),
        "{out:?}"
    );
    // Level before load: 1002 still has room for one more.
    acd.handle_item_queued(key("B"), "web", t0 + s(6), t0 + s(6))
        .unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("B", "1002")]);
    acd.handle_item_accepted("B", "1002", t0 + s(7)).unwrap();
    // 1002 is full (2): the next level.
    acd.handle_item_queued(key("C"), "web", t0 + s(8), t0 + s(8))
        .unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("C", "1001")]);

    // Same level (1003, 1004 both 3): fewest items in hand, then longest idle.
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1003", t0 + s(1));
    ready(&mut acd, "1004", t0 + s(2));
    acd.handle_item_queued(key("A"), "web", t0 + s(3), t0 + s(3))
        .unwrap();
    assert_eq!(
        offers(&items(&mut acd)),
        [pair("A", "1003")],
        "idle longest"
    );
    acd.handle_item_accepted("A", "1003", t0 + s(4)).unwrap();
    acd.handle_item_queued(key("B"), "web", t0 + s(5), t0 + s(5))
        .unwrap();
    assert_eq!(
        offers(&items(&mut acd)),
        [pair("B", "1004")],
        "fewest items"
    );
    acd.handle_item_accepted("B", "1004", t0 + s(6)).unwrap();
    // 1003 finishes its item later than 1004 began idling: 1004 has been idle longer.
    acd.handle_item_done("A", t0 + s(7)).unwrap();
    acd.handle_item_done("B", t0 + s(8)).unwrap();
    acd.handle_item_queued(key("C"), "web", t0 + s(9), t0 + s(9))
        .unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("C", "1003")]);
}

#[test]
fn skills_levels_and_expansion_decide_who_may_take_an_item() {
    let (mut acd, t0) = setup(AGENTS);
    // 1005 holds general at level 2: not before the 60 s step; 1006 only at 2 m (everyone).
    ready(&mut acd, "1006", t0);
    ready(&mut acd, "1005", t0 + s(1));
    acd.handle_item_queued(key("A"), "web", t0, t0).unwrap();
    acd.handle_item_queued(key("B"), "web", t0 + s(1), t0 + s(1))
        .unwrap();
    assert!(offers(&items(&mut acd)).is_empty());
    assert_eq!(acd.poll_timeout(), Some(t0 + s(60)));
    acd.handle_timeout(t0 + s(60));
    let out = items(&mut acd);
    assert!(
        matches!(&out[0], ItemOutput::ItemExpanded { item, step: 1, .. } if &**item == "A"),
        "{out:?}"
    );
    assert_eq!(offers(&out), [pair("A", "1005")]);
    acd.handle_timeout(t0 + s(61));
    let out = items(&mut acd);
    assert!(
        offers(&out).is_empty(),
        "1005 has an offer pending: {out:?}"
    );
    // Its offer times out; nobody else may take it yet: back to 1005.
    acd.handle_timeout(t0 + s(90));
    assert_eq!(offers(&items(&mut acd)), [pair("A", "1005")]);
    // At 2 m everyone may: the untried 1006 gets A, and 1005 (free again) gets B.
    acd.handle_timeout(t0 + s(120));
    assert_eq!(
        offers(&items(&mut acd)),
        [pair("A", "1006"), pair("B", "1005")]
    );
    // The enterprise web queue: 1001 (enterprise 5) before 1002 (general 5, only after 90 s).
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1002", t0);
    ready(&mut acd, "1001", t0 + s(1));
    acd.handle_item_queued(key("E"), "web_enterprise", t0 + s(2), t0 + s(2))
        .unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("E", "1001")]);
}

#[test]
fn capacity_counts_accepted_and_offered_items_and_zero_means_never() {
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1002", t0);
    for (i, k) in ["A", "B", "C"].into_iter().enumerate() {
        acd.handle_item_queued(key(k), "web", t0 + s(i as u64), t0 + s(i as u64))
            .unwrap();
    }
    // One offer at a time, even with room for two.
    assert_eq!(offers(&items(&mut acd)), [pair("A", "1002")]);
    acd.handle_item_accepted("A", "1002", t0 + s(5)).unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("B", "1002")]);
    acd.handle_item_accepted("B", "1002", t0 + s(6)).unwrap();
    assert!(offers(&items(&mut acd)).is_empty(), "full at 2");
    let snap = acd.snapshot(t0 + s(7));
    let web = &snap.web_queues[0];
    assert_eq!((web.waiting, web.offered, web.accepted), (1, 0, 2));
    assert_eq!(web.oldest_t0, Some(t0 + s(2)));
    assert_eq!(web.longest_wait, Some(s(5)));
    // Done frees capacity: the waiting item is offered at once.
    acd.handle_item_done("A", t0 + s(8)).unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("C", "1002")]);

    let zero = AGENTS.replace("web_capacity = 2", "web_capacity = 0");
    let (mut acd, t0) = setup(&zero);
    ready(&mut acd, "1002", t0);
    acd.handle_item_queued(key("A"), "web", t0, t0).unwrap();
    acd.handle_timeout(t0 + s(170));
    let out = items(&mut acd);
    assert!(offers(&out).is_empty(), "{out:?}");
    assert!(out
        .iter()
        .any(|o| matches!(o, ItemOutput::ItemWaitExceeded { .. })));
    // And a queue nobody with a web capacity can staff is unstaffed.
    assert!(acd.snapshot(t0).web_queues[0].unstaffed);
}

#[test]
fn a_timed_out_or_declined_offer_goes_to_the_next_agent_without_a_state_change() {
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1002", t0);
    ready(&mut acd, "1001", t0);
    while acd.poll_output().is_some() {}
    acd.handle_item_queued(key("A"), "web", t0, t0).unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("A", "1002")]);
    assert_eq!(acd.poll_timeout(), Some(t0 + s(30)), "the offer timeout");
    acd.handle_timeout(t0 + s(30));
    let out = items(&mut acd);
    assert!(
        matches!(&out[0], ItemOutput::CancelItemOffer { agent, reason: ItemCancelReason::Timeout, .. } if agent.as_str() == "1002"),
        "{out:?}"
    );
    assert_eq!(offers(&out), [pair("A", "1001")], "not back to 1002");
    assert_eq!(acd.agent_state("1002"), Some(&AgentState::Ready));
    assert_eq!(acd.poll_output(), None, "no agent state changed");
    // 1001 declines; both have been tried once: the better level again.
    acd.handle_item_declined("A", "1001", t0 + s(31)).unwrap();
    let out = items(&mut acd);
    assert!(matches!(
        &out[0],
        ItemOutput::CancelItemOffer {
            reason: ItemCancelReason::Declined,
            ..
        }
    ));
    assert_eq!(offers(&out), [pair("A", "1002")]);
    // 1002 declines too: 1001 has fewer tries now.
    acd.handle_item_declined("A", "1002", t0 + s(32)).unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("A", "1001")]);
    // A late accept by the agent it moved away from is refused.
    assert!(matches!(
        acd.handle_item_accepted("A", "1002", t0 + s(33)),
        Err(AcdError::ItemNotOffered { .. })
    ));
    // Alone, an agent gets an item back after declining it.
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1003", t0);
    acd.handle_item_queued(key("A"), "web", t0, t0).unwrap();
    items(&mut acd);
    acd.handle_item_declined("A", "1003", t0 + s(1)).unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("A", "1003")]);
}

#[test]
fn a_talking_agent_is_offered_items_but_never_a_second_call() {
    let (mut acd, t0) = setup(AGENTS);
    acd.handle_registration("1002", true, t0).unwrap();
    ready(&mut acd, "1002", t0);
    acd.handle_call_queued(1, "general", t0, 0, t0).unwrap();
    acd.handle_ring_answered(&1, t0 + s(2)).unwrap();
    while acd.poll_output().is_some() {}
    acd.handle_item_queued(key("A"), "web", t0 + s(3), t0 + s(3))
        .unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("A", "1002")]);
    acd.handle_item_accepted("A", "1002", t0 + s(4)).unwrap();
    acd.handle_call_queued(2, "general", t0 + s(5), 0, t0 + s(5))
        .unwrap();
    let out: Vec<_> = std::iter::from_fn(|| acd.poll_output()).collect();
    assert!(
        !out.iter().any(|o| matches!(o, Output::Offer { .. })),
        "{out:?}"
    );
    assert_eq!(acd.position(&2), Some(1));
    // An item accepted while talking does not keep the agent from the next call.
    acd.handle_call_ended(&1, t0 + s(10)).unwrap();
    acd.handle_wrap_up_done("1002", t0 + s(11)).unwrap();
    let out: Vec<_> = std::iter::from_fn(|| acd.poll_output()).collect();
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Offer { call: 2, agent, .. } if agent.as_str() == "1002")),
        "{out:?}"
    );
    acd.check_invariants().unwrap();
}

#[test]
fn logout_and_not_ready_withdraw_an_offer_but_keep_accepted_items() {
    let (mut acd, t0) = setup(AGENTS);
    ready(&mut acd, "1002", t0);
    ready(&mut acd, "1001", t0);
    acd.handle_item_queued(key("A"), "web", t0, t0).unwrap();
    acd.handle_item_accepted("A", "1002", t0 + s(1)).unwrap();
    items(&mut acd);
    acd.handle_item_queued(key("B"), "web", t0 + s(2), t0 + s(2))
        .unwrap();
    assert_eq!(offers(&items(&mut acd)), [pair("B", "1002")]);
    acd.handle_agent_state("1002", StateRequest::LoggedOut, t0 + s(3))
        .unwrap();
    let out = items(&mut acd);
    assert!(
        matches!(&out[0], ItemOutput::CancelItemOffer { agent, reason: ItemCancelReason::AgentLoggedOut, .. } if agent.as_str() == "1002"),
        "{out:?}"
    );
    assert_eq!(offers(&out), [pair("B", "1001")]);
    let snap = acd.snapshot(t0 + s(3));
    let a = snap
        .agents
        .iter()
        .find(|a| a.id.as_str() == "1002")
        .unwrap();
    assert_eq!((a.web_items, a.web_offer.as_deref()), (1, None));
    let b = snap
        .agents
        .iter()
        .find(|a| a.id.as_str() == "1001")
        .unwrap();
    assert_eq!((b.web_items, b.web_offer.as_deref()), (0, Some("B")));
    // Not-ready withdraws too; the item waits (nobody else may take it yet).
    acd.handle_agent_state(
        "1001",
        StateRequest::NotReady(NotReadyReason::Break),
        t0 + s(4),
    )
    .unwrap();
    let out = items(&mut acd);
    assert!(matches!(
        &out[0],
        ItemOutput::CancelItemOffer {
            reason: ItemCancelReason::AgentNotReady,
            ..
        }
    ));
    assert!(offers(&out).is_empty());
    // The logged-out agent still holds A; finishing it works, and back at the desk they
    // are offered the waiting item.
    acd.handle_item_done("A", t0 + s(5)).unwrap();
    ready(&mut acd, "1002", t0 + s(6));
    assert_eq!(offers(&items(&mut acd)), [pair("B", "1002")]);
}
