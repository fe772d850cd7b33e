//! The "call me back" dialog over the shipped menus' prompts, with a fake clock.

use std::time::{Duration, Instant};

use super::*;
use crate::ivr::testutil::shipped_tree;

fn start(number: &str) -> (CallbackOffer, Instant) {
    let tree = shipped_tree();
    let offer = CallbackOffer::start(tree.queue_audio(), number).expect("shipped prompts");
    (offer, crate::shell::clock::now())
}

fn actions(o: &mut CallbackOffer) -> Vec<OfferAction> {
    std::iter::from_fn(|| o.poll_action()).collect()
}

/// The names of the last play list.
fn last_play(acts: &[OfferAction]) -> (u64, Vec<String>) {
    acts.iter()
        .rev()
        .find_map(|a| match a {
            OfferAction::Play { play, prompts } => Some((
                *play,
                prompts.iter().map(|p| p.as_str().to_string()).collect(),
            )),
            _ => None,
        })
        .expect("a play")
}

#[test]
fn one_then_one_accepts_the_callers_own_number_with_a_farewell() {
    let (mut o, t) = start("13812345678");
    let (play, names) = last_play(&actions(&mut o));
    assert_eq!(names, ["callback-offer.wav"]);
    o.handle_digit('1', t);
    let (play2, names) = last_play(&actions(&mut o));
    assert_ne!(play, play2);
    assert_eq!(
        names.first().map(String::as_str),
        Some("callback-confirm-prefix.wav")
    );
    assert_eq!(
        names.last().map(String::as_str),
        Some("callback-confirm-suffix.wav")
    );
    let read: Vec<&str> = names[1..names.len() - 1]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(read.len(), 11, "every digit read back: {read:?}");
    assert_eq!(read[0], "digit-1.wav");
    assert_eq!(read[10], "digit-8.wav");
    // A late "finished" of the offer's play list changes nothing.
    o.handle_prompt_finished(play, t);
    assert_eq!(o.poll_timeout(), None);
    o.handle_digit('1', t);
    let acts = actions(&mut o);
    assert_eq!(last_play(&acts).1, ["callback-accepted.wav"]);
    assert!(acts.contains(&OfferAction::Accepted {
        number: "13812345678".into()
    }));
    assert!(o.is_active(), "the farewell still plays");
    o.handle_prompt_finished(last_play(&acts).0, t + Duration::from_secs(7));
    assert!(!o.is_active());
}

#[test]
fn another_number_is_keyed_in_confirmed_and_taken() {
    let (mut o, t) = start("13812345678");
    actions(&mut o);
    o.handle_digit('1', t);
    o.handle_digit('2', t);
    assert_eq!(last_play(&actions(&mut o)).1, ["callback-enter.wav"]);
    for d in "02087654321".chars() {
        o.handle_digit(d, t);
    }
    o.handle_digit('#', t);
    let names = last_play(&actions(&mut o)).1;
    assert_eq!(names.len(), 13, "prefix, 11 digits, suffix: {names:?}");
    assert_eq!(names[1], "digit-0.wav");
    o.handle_digit('1', t);
    assert!(actions(&mut o).contains(&OfferAction::Accepted {
        number: "02087654321".into()
    }));
}

#[test]
fn a_number_typed_without_hash_is_taken_when_the_caller_stops() {
    let (mut o, t) = start("13812345678");
    actions(&mut o);
    o.handle_digit('1', t);
    o.handle_digit('2', t);
    actions(&mut o);
    for d in "13900001111".chars() {
        o.handle_digit(d, t);
    }
    o.handle_timeout(t + KEY_TIMEOUT);
    assert_eq!(o.number(), "13900001111");
    assert_eq!(
        last_play(&actions(&mut o)).1.first().map(String::as_str),
        Some("callback-confirm-prefix.wav")
    );
}

#[test]
fn a_hang_up_after_1_takes_the_own_number_but_never_an_unconfirmed_typed_one() {
    let (mut o, t) = start("13812345678");
    actions(&mut o);
    assert_eq!(o.taken_on_hang_up(), None, "the offer alone is not a yes");
    o.handle_digit('1', t);
    assert_eq!(o.taken_on_hang_up(), Some("13812345678"));
    o.handle_digit('2', t);
    assert_eq!(o.taken_on_hang_up(), None, "keying in another number");
    for d in "02087654321#".chars() {
        o.handle_digit(d, t);
    }
    assert_eq!(
        o.taken_on_hang_up(),
        None,
        "a typed number not confirmed yet"
    );
    o.handle_digit('1', t);
    assert_eq!(
        o.taken_on_hang_up(),
        Some("02087654321"),
        "confirmed: the farewell plays"
    );
}

#[test]
fn a_short_number_is_asked_again_then_the_caller_keeps_waiting() {
    let (mut o, t) = start("13812345678");
    actions(&mut o);
    o.handle_digit('1', t);
    o.handle_digit('2', t);
    actions(&mut o);
    for d in "123#".chars() {
        o.handle_digit(d, t);
    }
    assert_eq!(
        last_play(&actions(&mut o)).1,
        ["callback-enter.wav"],
        "asked again"
    );
    for d in "45#".chars() {
        o.handle_digit(d, t);
    }
    assert_eq!(actions(&mut o), [OfferAction::Declined]);
    assert!(!o.is_active());
    assert_eq!(o.number(), "13812345678", "the bad entries changed nothing");
}

#[test]
fn silence_after_the_offer_declines_and_star_declines_at_any_step() {
    let (mut o, t) = start("13812345678");
    let (play, _) = last_play(&actions(&mut o));
    o.handle_timeout(t + Duration::from_secs(60));
    assert!(
        actions(&mut o).is_empty(),
        "no timer runs while the offer plays"
    );
    o.handle_prompt_finished(play, t + Duration::from_secs(7));
    assert_eq!(
        o.poll_timeout(),
        Some(t + Duration::from_secs(7) + KEY_TIMEOUT)
    );
    o.handle_timeout(t + Duration::from_secs(7) + KEY_TIMEOUT);
    assert_eq!(actions(&mut o), [OfferAction::Declined]);
    o.handle_digit('1', t + Duration::from_secs(20));
    assert!(
        actions(&mut o).is_empty(),
        "over: keys are the queue's again"
    );

    let (mut o, t) = start("13812345678");
    actions(&mut o);
    o.handle_digit('1', t);
    actions(&mut o);
    o.handle_digit('*', t);
    assert_eq!(actions(&mut o), [OfferAction::Declined]);
}

#[test]
fn an_unanswered_confirmation_is_read_twice_then_the_caller_keeps_waiting() {
    let (mut o, t) = start("13812345678");
    actions(&mut o);
    o.handle_digit('1', t);
    let mut now = t;
    for round in 0..2 {
        let (play, names) = last_play(&actions(&mut o));
        assert_eq!(names[0], "callback-confirm-prefix.wav", "round {round}");
        now += Duration::from_secs(10);
        o.handle_prompt_finished(play, now);
        now += KEY_TIMEOUT;
        o.handle_timeout(now);
    }
    assert_eq!(actions(&mut o), [OfferAction::Declined]);
}

#[test]
fn menus_without_the_callback_prompts_make_no_offer() {
    let cut: String = crate::ivr::testutil::SHIPPED
        .lines()
        .filter(|l| !l.starts_with("callback_"))
        .collect::<Vec<_>>()
        .join("\n");
    let files = [(std::path::PathBuf::from("menus.toml"), cut)];
    let loaded = crate::ivr::load(
        &files,
        &crate::ivr::testutil::catalog(),
        &crate::ivr::LoadOptions::default(),
    )
    .expect("loads");
    assert!(CallbackOffer::start(loaded.tree.queue_audio(), "13812345678").is_none());
}

#[test]
fn three_of_the_five_callback_prompts_is_an_error_naming_the_missing_two() {
    let cut: String = crate::ivr::testutil::SHIPPED
        .lines()
        .filter(|l| !l.starts_with("callback_enter") && !l.starts_with("callback_accepted"))
        .collect::<Vec<_>>()
        .join("\n");
    let files = [(std::path::PathBuf::from("m.toml"), cut)];
    let errs = crate::ivr::load(
        &files,
        &crate::ivr::testutil::catalog(),
        &crate::ivr::LoadOptions::default(),
    )
    .expect_err("incomplete");
    let text = errs[0].to_string();
    assert!(
        text.starts_with("m.toml:") && text.contains("missing: callback_enter, callback_accepted"),
        "{text}"
    );
}
