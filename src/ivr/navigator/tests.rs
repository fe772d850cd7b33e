use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::ivr::testutil::{secs, shipped_tree, t0};

/// One call over the shipped menu (greeting 6 s, main menu 8 s, special menu 7 s, error
/// prompts 2 s, timeout 5 s, 2 tries; worst case 34 s).
struct Call {
    nav: Navigator,
    t0: Instant,
    play: Option<PlayId>,
}

impl Call {
    fn new() -> (Call, Vec<NavAction>) {
        let t0 = t0();
        let nav = Navigator::new(&shipped_tree(), t0);
        let mut call = Call {
            nav,
            t0,
            play: None,
        };
        let out = call.drain();
        (call, out)
    }

    fn at(&self, s: u64) -> Instant {
        self.t0 + secs(s)
    }

    fn drain(&mut self) -> Vec<NavAction> {
        let mut out = Vec::new();
        while let Some(a) = self.nav.poll_action() {
            if let NavAction::Play { id, .. } = &a {
                self.play = Some(*id);
            }
            out.push(a);
        }
        out
    }

    fn digit(&mut self, c: char, s: u64) -> Vec<NavAction> {
        self.nav.handle_digit(c, self.at(s));
        self.drain()
    }

    fn finished(&mut self, s: u64) -> Vec<NavAction> {
        let id = self.play.unwrap_or_else(|| panic!("nothing is playing"));
        self.nav.handle_prompt_finished(id, self.at(s));
        self.drain()
    }

    fn timeout(&mut self, s: u64) -> Vec<NavAction> {
        self.nav.handle_timeout(self.at(s));
        self.drain()
    }
}

fn play(files: &[&str]) -> Vec<String> {
    files.iter().map(|f| f.to_string()).collect()
}

/// The files of the single `Play` in `out`, checking barge-in is on.
fn played(out: &[NavAction]) -> Vec<String> {
    let plays: Vec<Vec<String>> = out
        .iter()
        .filter_map(|a| match a {
            NavAction::Play {
                prompts, barge_in, ..
            } => {
                assert!(barge_in, "every menu prompt can be interrupted");
                Some(prompts.iter().map(|p| p.to_string()).collect())
            }
            _ => None,
        })
        .collect();
    assert_eq!(plays.len(), 1, "{out:?}");
    plays.into_iter().next().unwrap_or_default()
}

fn routed(out: &[NavAction]) -> (String, Vec<String>, RouteReason) {
    match out.last() {
        Some(NavAction::RouteToQueue {
            queue,
            path,
            reason,
        }) => (queue.clone(), path.clone(), *reason),
        other => panic!("expected a route, got {other:?} in {out:?}"),
    }
}

fn route(queue: &str, path: &[&str], reason: RouteReason) -> (String, Vec<String>, RouteReason) {
    (queue.to_string(), play(path), reason)
}

#[test]
fn a_call_starts_with_greeting_and_main_menu() {
    let (call, out) = Call::new();
    assert_eq!(played(&out), play(&["greeting.wav", "main-menu.wav"]));
    assert_eq!(call.nav.current_menu().map(|m| m.id()), Some("main"));
    // While prompts play only the IVR's time limit is pending.
    assert_eq!(call.nav.poll_timeout(), Some(call.at(34)));
}

#[test]
fn every_main_menu_key_after_the_prompt() {
    for (key, queue) in [('1', "enterprise"), ('0', "general")] {
        let (mut call, _) = Call::new();
        assert!(call.finished(14).is_empty());
        let out = call.digit(key, 15);
        assert_eq!(out.len(), 1, "nothing playing, nothing to stop: {out:?}");
        let path = format!("main:{key}");
        assert_eq!(routed(&out), route(queue, &[&path], RouteReason::Key));
        assert!(call.nav.is_routed());
        assert_eq!(call.nav.poll_timeout(), None);
    }
    let (mut call, _) = Call::new();
    call.finished(14);
    assert_eq!(played(&call.digit('2', 15)), play(&["special-menu.wav"]));
    assert_eq!(call.nav.current_menu().map(|m| m.level()), Some(2));

    let (mut call, _) = Call::new();
    call.finished(14);
    // Repeat reads the menu again, without the greeting.
    assert_eq!(played(&call.digit('9', 15)), play(&["main-menu.wav"]));
    assert_eq!(call.nav.poll_timeout(), Some(call.at(34)));
    call.finished(23);
    assert_eq!(call.nav.poll_timeout(), Some(call.at(28)));
}

#[test]
fn every_special_menu_key() {
    for (key, queue) in [
        ('1', "dialect"),
        ('2', "foreign"),
        ('3', "sign"),
        ('0', "general"),
    ] {
        let (mut call, _) = Call::new();
        call.finished(14);
        call.digit('2', 15);
        call.finished(22);
        let path = format!("special:{key}");
        assert_eq!(
            routed(&call.digit(key, 23)),
            route(queue, &["main:2", &path], RouteReason::Key)
        );
    }
    let (mut call, _) = Call::new();
    call.finished(14);
    call.digit('2', 15);
    call.finished(22);
    assert_eq!(played(&call.digit('*', 23)), play(&["main-menu.wav"]));
    assert_eq!(call.nav.current_menu().map(|m| m.id()), Some("main"));
    call.finished(31);
    assert_eq!(
        routed(&call.digit('1', 32)),
        route(
            "enterprise",
            &["main:2", "special:*", "main:1"],
            RouteReason::Key
        )
    );
}

#[test]
fn barge_in_during_the_greeting_stops_it_at_once() {
    let (mut call, _) = Call::new();
    let out = call.digit('1', 2);
    assert_eq!(out[0], NavAction::StopPlayback);
    assert_eq!(
        routed(&out),
        route("enterprise", &["main:1"], RouteReason::Key)
    );

    let (mut call, _) = Call::new();
    let out = call.digit('2', 3);
    assert_eq!(out[0], NavAction::StopPlayback);
    assert_eq!(played(&out), play(&["special-menu.wav"]));
    // And during the special menu's prompt.
    let out = call.digit('3', 4);
    assert_eq!(out[0], NavAction::StopPlayback);
    assert_eq!(
        routed(&out),
        route("sign", &["main:2", "special:3"], RouteReason::Key)
    );
}

#[test]
fn typing_ahead_during_the_greeting_works() {
    let (mut call, _) = Call::new();
    call.digit('2', 1);
    let out = call.digit('1', 1);
    assert_eq!(
        routed(&out),
        route("dialect", &["main:2", "special:1"], RouteReason::Key)
    );
}

#[test]
fn no_input_twice_goes_to_general() {
    let (mut call, _) = Call::new();
    assert!(call.finished(14).is_empty());
    assert_eq!(call.nav.poll_timeout(), Some(call.at(19)));
    assert!(
        call.timeout(18).is_empty(),
        "an early wake-up changes nothing"
    );
    assert_eq!(
        played(&call.timeout(19)),
        play(&["no-input.wav", "main-menu.wav"])
    );
    call.finished(29);
    assert_eq!(call.nav.poll_timeout(), Some(call.at(34)));
    let out = call.timeout(34);
    assert_eq!(
        routed(&out),
        route(
            "general",
            &["main:timeout", "main:timeout"],
            RouteReason::NoInput
        )
    );
    assert_eq!(call.t0 + call.nav.tree.worst_case_to_person(), call.at(34));
}

#[test]
fn invalid_keys_use_tries() {
    let (mut call, _) = Call::new();
    call.finished(14);
    assert_eq!(
        played(&call.digit('7', 15)),
        play(&["invalid-key.wav", "main-menu.wav"])
    );
    // During the error prompt a second wrong key barges in and ends the tries.
    let out = call.digit('#', 16);
    assert_eq!(out[0], NavAction::StopPlayback);
    assert_eq!(
        routed(&out),
        route("general", &["main:7", "main:#"], RouteReason::InvalidKeys)
    );

    let (mut call, _) = Call::new();
    call.finished(14);
    call.digit('A', 15);
    call.finished(25);
    let out = call.timeout(30);
    assert_eq!(
        routed(&out),
        route("general", &["main:A", "main:timeout"], RouteReason::NoInput)
    );
}

#[test]
fn a_valid_key_after_a_failed_try_still_counts() {
    let (mut call, _) = Call::new();
    call.finished(14);
    call.timeout(19);
    assert_eq!(
        routed(&call.digit('0', 20)),
        route("general", &["main:timeout", "main:0"], RouteReason::Key)
    );
}

#[test]
fn each_menu_counts_its_own_tries() {
    let (mut call, _) = Call::new();
    call.digit('2', 1);
    call.finished(8);
    assert_eq!(
        played(&call.timeout(13)),
        play(&["no-input.wav", "special-menu.wav"])
    );
    call.digit('*', 14);
    // Back in main with fresh tries: one timeout is not the end.
    call.finished(22);
    assert_eq!(
        played(&call.timeout(27)),
        play(&["no-input.wav", "main-menu.wav"])
    );
    call.finished(33);
    // The IVR's time limit (34 s) comes before main's second timeout (38 s).
    assert_eq!(call.nav.poll_timeout(), Some(call.at(34)));
    assert_eq!(
        routed(&call.timeout(34)),
        route(
            "general",
            &[
                "main:2",
                "special:timeout",
                "special:*",
                "main:timeout",
                "main:time_limit"
            ],
            RouteReason::TimeLimit
        )
    );
}

#[test]
fn repeating_forever_is_cut_by_the_time_limit() {
    let (mut call, _) = Call::new();
    for s in 1..34 {
        assert!(!call.nav.is_routed());
        call.digit('9', s);
    }
    let out = call.timeout(34);
    assert_eq!(
        out[0],
        NavAction::StopPlayback,
        "the repeat was still playing"
    );
    let (queue, path, reason) = routed(&out);
    assert_eq!(
        (queue.as_str(), reason),
        ("general", RouteReason::TimeLimit)
    );
    assert_eq!(path.len(), 34);
    // A digit at the limit also routes rather than navigate.
    let (mut call, _) = Call::new();
    let out = call.digit('2', 34);
    assert_eq!(routed(&out).2, RouteReason::TimeLimit);
}

#[test]
fn a_stale_finished_report_is_ignored() {
    let (mut call, _) = Call::new();
    let greeting = call.play.unwrap_or_else(|| unreachable!());
    call.digit('2', 1);
    call.nav.handle_prompt_finished(greeting, call.at(2));
    assert!(call.drain().is_empty());
    assert_eq!(
        call.nav.poll_timeout(),
        Some(call.at(34)),
        "no input timer yet"
    );
    call.finished(8);
    assert_eq!(call.nav.poll_timeout(), Some(call.at(13)));
}

#[test]
fn inputs_after_routing_are_ignored() {
    let (mut call, _) = Call::new();
    call.digit('0', 1);
    assert!(call.digit('1', 2).is_empty());
    assert!(call.timeout(40).is_empty());
    let id = call.play.unwrap_or_else(|| unreachable!());
    call.nav.handle_prompt_finished(id, call.at(41));
    assert!(call.drain().is_empty());
    assert_eq!(call.nav.poll_timeout(), None);
    assert_eq!(call.nav.current_menu().map(|m| m.id()), None);
    assert_eq!(call.nav.path(), ["main:0"]);
}

/// What a random caller and player may do.
#[derive(Debug, Clone)]
enum Op {
    Digit(char),
    Finish,
    FinishStale,
    Wait(u64),
    EarlyTimeout,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::sample::select(vec!['0', '1', '2', '3', '4', '7', '9', '*', '#', 'A']).prop_map(Op::Digit),
        3 => Just(Op::Finish),
        1 => Just(Op::FinishStale),
        3 => (0u64..8000).prop_map(Op::Wait),
        1 => Just(Op::EarlyTimeout),
    ]
}

proptest! {
    /// Whatever the caller presses and whenever the player reports, the call reaches a queue,
    /// exactly once, no later than the worst case for a silent caller, and once the caller falls
    /// silent within a handful of steps.
    #[test]
    fn every_sequence_ends_in_a_queue_in_bounded_time(ops in prop::collection::vec(op(), 0..60)) {
        let tree = shipped_tree();
        let t0 = t0();
        let limit = t0 + tree.worst_case_to_person();
        let mut nav = Navigator::new(&tree, t0);
        let mut now = t0;
        let mut current: Option<PlayId> = None;
        let mut stale: Option<PlayId> = None;
        let mut route: Option<(Instant, String)> = None;
        let mut drain = |nav: &mut Navigator, now: Instant, current: &mut Option<PlayId>, stale: &mut Option<PlayId>| {
            while let Some(a) = nav.poll_action() {
                match a {
                    NavAction::Play { id, prompts, .. } => {
                        assert!(route.is_none(), "played after routing");
                        assert!(!prompts.is_empty());
                        *stale = current.replace(id).or(*stale);
                    }
                    NavAction::StopPlayback => *stale = current.take().or(*stale),
                    NavAction::RouteToQueue { queue, path, .. } => {
                        assert!(route.is_none(), "routed twice");
                        assert!(tree.menus().any(|(_, m)| m.keys().values().any(|a| *a == Action::Queue(queue.clone())) || m.no_input_queue() == queue));
                        assert!(path.len() <= 200);
                        route = Some((now, queue));
                    }
                }
            }
        };
        drain(&mut nav, now, &mut current, &mut stale);
        for op in ops {
            match op {
                Op::Digit(c) => nav.handle_digit(c, now),
                Op::Finish => if let Some(id) = current { nav.handle_prompt_finished(id, now) },
                Op::FinishStale => if let Some(id) = stale { nav.handle_prompt_finished(id, now) },
                Op::EarlyTimeout => nav.handle_timeout(now),
                Op::Wait(ms) => {
                    let target = now + Duration::from_millis(ms);
                    while let Some(t) = nav.poll_timeout() {
                        if t > target {
                            break;
                        }
                        now = now.max(t);
                        nav.handle_timeout(now);
                        drain(&mut nav, now, &mut current, &mut stale);
                    }
                    now = target;
                }
            }
            drain(&mut nav, now, &mut current, &mut stale);
        }
        // The caller falls silent; the player finishes each list at once.
        let mut steps = 0;
        while !nav.is_routed() {
            steps += 1;
            prop_assert!(steps <= 8, "no route after {steps} silent steps");
            if let Some(id) = current {
                nav.handle_prompt_finished(id, now);
                drain(&mut nav, now, &mut current, &mut stale);
            }
            if let Some(t) = nav.poll_timeout() {
                now = now.max(t);
                nav.handle_timeout(now);
                drain(&mut nav, now, &mut current, &mut stale);
            }
        }
        let (at, _) = route.clone().unwrap_or_else(|| unreachable!());
        prop_assert!(at <= limit, "reached a queue after {:?}", at - t0);
        prop_assert_eq!(nav.poll_timeout(), None);
    }
}
