//! The robot navigator on a fake clock over the shipped script (fake prompt lengths: identify
//! 7 s, consent 5 s, contacted 6 s, solved 6 s, rating 8 s, reason 5 s, thanks 6 s, goodbye
//! 5 s, error prompts 2 s; timeout 6 s, 2 tries; reason ≤ 60 s, 4 s of silence ends it).

use proptest::prelude::*;

use super::*;
use crate::ivr::testutil::{secs, shipped_robot, t0};

/// One answered callback.
struct Cb {
    nav: RobotNavigator,
    t0: Instant,
    play: Option<PlayId>,
}

impl Cb {
    fn start() -> (Cb, Vec<RobotOutput>) {
        let t0 = t0();
        let mut cb = Cb {
            nav: RobotNavigator::new(&shipped_robot()),
            t0,
            play: None,
        };
        cb.nav.start(t0);
        let out = cb.drain();
        (cb, out)
    }

    fn at(&self, s: u64) -> Instant {
        self.t0 + secs(s)
    }

    fn drain(&mut self) -> Vec<RobotOutput> {
        let mut out = Vec::new();
        while let Some(o) = self.nav.poll_output() {
            if let RobotOutput::Play { id, .. } = &o {
                self.play = Some(*id);
            }
            out.push(o);
        }
        out
    }

    fn digit(&mut self, c: char, s: u64) -> Vec<RobotOutput> {
        self.nav.handle_digit(c, self.at(s));
        self.drain()
    }

    /// The current play list ended at `s`.
    fn done(&mut self, s: u64) -> Vec<RobotOutput> {
        let id = self.play.unwrap_or_else(|| panic!("nothing is playing"));
        self.nav.handle_play_done(id, self.at(s));
        self.drain()
    }

    fn timeout(&mut self, s: u64) -> Vec<RobotOutput> {
        self.nav.handle_timeout(self.at(s));
        self.drain()
    }

    fn recorded(&mut self, kept: u64, s: u64) -> Vec<RobotOutput> {
        self.nav.handle_recording_done(secs(kept), self.at(s));
        self.drain()
    }

    fn hangup(&mut self, s: u64) -> Vec<RobotOutput> {
        self.nav.handle_hangup(self.at(s));
        self.drain()
    }

    /// Answers consent, contacted and solved with `1`, `1`, `solved`, each right after its
    /// prompt; returns the time the rating prompt ended (35 s).
    fn answer_up_to_rating(&mut self, solved: char) -> u64 {
        self.done(12);
        assert_eq!(files(&self.digit('1', 13)), [["robot-contacted.wav"]]);
        self.done(19);
        assert_eq!(files(&self.digit('1', 20)), [["robot-solved.wav"]]);
        self.done(26);
        assert_eq!(files(&self.digit(solved, 27)), [["robot-rating.wav"]]);
        assert!(self.done(35).is_empty());
        35
    }
}

/// The play lists among `out`, as file names.
fn files(out: &[RobotOutput]) -> Vec<Vec<String>> {
    out.iter()
        .filter_map(|o| match o {
            RobotOutput::Play { prompts, .. } => {
                Some(prompts.iter().map(|p| p.to_string()).collect())
            }
            _ => None,
        })
        .collect()
}

fn finished(out: &[RobotOutput]) -> RobotResult {
    match out.last() {
        Some(RobotOutput::Finished(r)) => r.clone(),
        other => panic!("expected Finished last, got {other:?} in {out:?}"),
    }
}

fn to_person() -> RobotOutput {
    RobotOutput::ToPerson {
        queue: "general".to_string(),
    }
}

#[test]
fn basically_satisfied_in_order() {
    let (mut cb, out) = Cb::start();
    assert_eq!(files(&out), [["robot-identify.wav", "robot-consent.wav"]]);
    assert_eq!(cb.nav.current_step(), Some(StepKind::Consent));
    // While the prompts play, the robot waits for their end (with a grace period).
    assert_eq!(cb.nav.poll_timeout(), Some(cb.at(12) + MEDIA_GRACE));
    assert!(cb.done(12).is_empty());
    assert_eq!(cb.nav.poll_timeout(), Some(cb.at(18)));
    let t = cb.answer_up_to_rating('2');
    assert_eq!(cb.nav.poll_timeout(), Some(cb.at(t + 6)));
    assert_eq!(files(&cb.digit('2', 36)), [["robot-thanks.wav"]]);
    assert!(cb.done(42).is_empty());
    // `0` is still taken for 6 s after the thanks; then the callback ends.
    assert!(cb.timeout(47).is_empty());
    let out = cb.timeout(48);
    assert_eq!(out.len(), 1, "{out:?}");
    let r = finished(&out);
    assert_eq!(
        r,
        RobotResult {
            consent: Some(true),
            contacted: Some(true),
            solved: Some(false),
            rating: Some(Rating::BasicallySatisfied),
            reason_recorded: false,
            answered_steps: vec![
                StepKind::Consent,
                StepKind::Contacted,
                StepKind::Solved,
                StepKind::Rating
            ],
            ended: Ended::Completed,
        }
    );
    assert_eq!(r.rating.map(Rating::as_str), Some("basically_satisfied"));
    assert!(cb.nav.is_finished());
    assert_eq!(cb.nav.poll_timeout(), None);
    // Nothing follows the end.
    assert!(cb.digit('0', 49).is_empty());
    assert!(cb.hangup(50).is_empty());
}

#[test]
fn unsatisfied_records_the_reason() {
    let (mut cb, _) = Cb::start();
    cb.answer_up_to_rating('2');
    assert_eq!(files(&cb.digit('3', 36)), [["robot-reason.wav"]]);
    assert_eq!(cb.nav.current_step(), Some(StepKind::Reason));
    let out = cb.done(41);
    assert_eq!(
        out,
        [RobotOutput::StartRecording {
            max: secs(60),
            silence: secs(4)
        }]
    );
    assert_eq!(cb.nav.poll_timeout(), Some(cb.at(101) + MEDIA_GRACE));
    // Keys other than # and 0 are part of what the citizen says.
    assert!(cb.digit('5', 50).is_empty());
    // Ended by silence after 20 s of speech.
    assert_eq!(files(&cb.recorded(20, 65)), [["robot-thanks.wav"]]);
    cb.done(71);
    let r = finished(&cb.timeout(77));
    assert_eq!(r.rating, Some(Rating::Unsatisfied));
    assert!(r.reason_recorded);
    assert_eq!(
        r.answered_steps,
        [
            StepKind::Consent,
            StepKind::Contacted,
            StepKind::Solved,
            StepKind::Rating,
            StepKind::Reason
        ]
    );
    assert_eq!(r.ended, Ended::Completed);
}

#[test]
fn hash_ends_the_reason_and_a_hang_up_keeps_it() {
    let (mut cb, _) = Cb::start();
    cb.answer_up_to_rating('2');
    cb.digit('3', 36);
    cb.done(41);
    assert_eq!(cb.digit('#', 50), [RobotOutput::StopRecording]);
    // The thanks wait for the recorder's report, so the reason is known to be kept.
    assert_eq!(files(&cb.recorded(9, 50)), [["robot-thanks.wav"]]);
    assert!(cb.nav.result().reason_recorded);

    // The citizen says why and hangs up: the recording is stopped and kept.
    let (mut cb, _) = Cb::start();
    cb.answer_up_to_rating('2');
    cb.digit('3', 36);
    cb.done(41);
    assert_eq!(cb.hangup(55), [RobotOutput::StopRecording]);
    let r = finished(&cb.recorded(14, 55));
    assert_eq!(r.ended, Ended::HungUp);
    assert!(r.reason_recorded);
    assert_eq!(r.rating, Some(Rating::Unsatisfied));

    // `#` during the reason question: no reason, straight to the thanks.
    let (mut cb, _) = Cb::start();
    cb.answer_up_to_rating('2');
    cb.digit('3', 36);
    assert_eq!(files(&cb.digit('#', 38)), [["robot-thanks.wav"]]);
    cb.done(44);
    let r = finished(&cb.timeout(50));
    assert!(!r.reason_recorded);
    assert_eq!(r.ended, Ended::Completed);
}

#[test]
fn a_silent_reason_is_asked_again_then_skipped() {
    let (mut cb, _) = Cb::start();
    cb.answer_up_to_rating('1');
    cb.digit('3', 36);
    cb.done(41);
    // Silence from the start: nothing kept.
    assert_eq!(
        files(&cb.recorded(0, 45)),
        [["no-input.wav", "robot-reason.wav"]]
    );
    assert!(matches!(
        cb.done(52).as_slice(),
        [RobotOutput::StartRecording { .. }]
    ));
    // Again nothing: the rating stands, the callback thanks and completes without a reason.
    assert_eq!(files(&cb.recorded(0, 56)), [["robot-thanks.wav"]]);
    cb.done(62);
    let r = finished(&cb.timeout(68));
    assert_eq!(r.rating, Some(Rating::Unsatisfied));
    assert!(!r.reason_recorded);
    assert_eq!(r.ended, Ended::Completed);
}

#[test]
fn no_input_repeats_the_step_then_ends_as_no_answer() {
    let (mut cb, _) = Cb::start();
    cb.done(12);
    // Asked again from the question: the introduction is not repeated.
    assert_eq!(
        files(&cb.timeout(18)),
        [["no-input.wav", "robot-consent.wav"]]
    );
    cb.done(25);
    assert_eq!(files(&cb.timeout(31)), [["robot-goodbye.wav"]]);
    assert_eq!(cb.nav.current_step(), Some(StepKind::Goodbye));
    cb.done(36);
    let r = finished(&cb.timeout(42));
    assert_eq!(r.ended, Ended::NoInput);
    assert_eq!(r.consent, None);
    assert!(r.answered_steps.is_empty());

    // Wrong keys use the tries too, with their own prompt; a later step ends the same way
    // and keeps what was answered.
    let (mut cb, _) = Cb::start();
    cb.done(12);
    cb.digit('1', 13);
    cb.done(19);
    assert_eq!(
        files(&cb.digit('7', 20)),
        [["invalid-key.wav", "robot-contacted.wav"]]
    );
    cb.done(28);
    assert_eq!(files(&cb.timeout(34)), [["robot-goodbye.wav"]]);
    cb.done(39);
    let r = finished(&cb.timeout(45));
    assert_eq!(r.ended, Ended::NoInput);
    assert_eq!(r.consent, Some(true));
    assert_eq!(r.contacted, None);
    assert_eq!(r.answered_steps, [StepKind::Consent]);
}

#[test]
fn zero_at_any_step_goes_to_a_person() {
    // (keys before 0, whether 0 comes while recording)
    let paths: [(&str, StepKind); 6] = [
        ("", StepKind::Consent),
        ("1", StepKind::Contacted),
        ("11", StepKind::Solved),
        ("111", StepKind::Rating),
        ("1113", StepKind::Reason),
        ("1111", StepKind::Thanks),
    ];
    for (keys, step) in paths {
        let (mut cb, _) = Cb::start();
        for (i, k) in keys.chars().enumerate() {
            cb.digit(k, i as u64 + 1);
        }
        assert_eq!(cb.nav.current_step(), Some(step), "{keys}");
        let out = cb.digit('0', 10);
        assert_eq!(out.len(), 2, "{keys}: {out:?}");
        assert_eq!(out[0], to_person(), "{keys}");
        let r = finished(&out);
        assert_eq!(r.ended, Ended::ToPerson, "{keys}");
        assert_eq!(r.answered_steps.len(), keys.len(), "{keys}");
    }

    // In the goodbye too.
    let (mut cb, _) = Cb::start();
    cb.digit('2', 1);
    assert_eq!(cb.nav.current_step(), Some(StepKind::Goodbye));
    let out = cb.digit('0', 2);
    assert_eq!(out[0], to_person());
    assert_eq!(finished(&out).ended, Ended::ToPerson);

    // While the reason is recorded: stop it, keep it, then the person.
    let (mut cb, _) = Cb::start();
    for (i, k) in "1113".chars().enumerate() {
        cb.digit(k, i as u64 + 1);
    }
    cb.done(10);
    assert_eq!(cb.digit('0', 20), [RobotOutput::StopRecording]);
    let out = cb.recorded(10, 20);
    assert_eq!(out[0], to_person());
    let r = finished(&out);
    assert_eq!(r.ended, Ended::ToPerson);
    assert!(r.reason_recorded);

    // After a wrong key, while the step is asked again.
    let (mut cb, _) = Cb::start();
    cb.digit('9', 1);
    let out = cb.digit('0', 2);
    assert_eq!(out[0], to_person());
}

#[test]
fn a_refused_consent_ends_politely() {
    let (mut cb, _) = Cb::start();
    cb.done(12);
    assert_eq!(files(&cb.digit('2', 14)), [["robot-goodbye.wav"]]);
    cb.done(19);
    let r = finished(&cb.timeout(25));
    assert_eq!(r.ended, Ended::Refused);
    assert_eq!(r.consent, Some(false));
    assert_eq!(r.answered_steps, [StepKind::Consent]);
    assert_eq!(r.contacted, None);

    // Hanging up during the goodbye does not change how it ended.
    let (mut cb, _) = Cb::start();
    cb.digit('2', 3);
    assert_eq!(finished(&cb.hangup(5)).ended, Ended::Refused);
}

#[test]
fn keys_pressed_during_a_prompt_are_taken() {
    let (mut cb, _) = Cb::start();
    let first = cb.play;
    // During the introduction.
    assert_eq!(files(&cb.digit('1', 3)), [["robot-contacted.wav"]]);
    // The end of the interrupted list is ignored: no input timer starts from it.
    if let Some(first) = first {
        cb.nav.handle_play_done(first, cb.at(4));
    }
    assert!(cb.drain().is_empty());
    assert_eq!(cb.nav.poll_timeout(), Some(cb.at(3 + 6) + MEDIA_GRACE));
    assert_eq!(files(&cb.digit('1', 5)), [["robot-solved.wav"]]);
    assert_eq!(files(&cb.digit('1', 6)), [["robot-rating.wav"]]);
    assert_eq!(files(&cb.digit('1', 7)), [["robot-thanks.wav"]]);
    let r = cb.nav.result().clone();
    assert_eq!(r.rating, Some(Rating::Satisfied));
    assert_eq!(r.solved, Some(true));
    // During the thanks, only 0 counts.
    assert!(cb.digit('1', 8).is_empty());
    cb.done(13);
    assert_eq!(finished(&cb.timeout(19)).ended, Ended::Completed);
}

#[test]
fn a_hang_up_mid_question_ends_with_what_was_answered() {
    let (mut cb, _) = Cb::start();
    cb.digit('1', 2);
    cb.digit('2', 3);
    let r = finished(&cb.hangup(4));
    assert_eq!(r.ended, Ended::HungUp);
    assert_eq!(r.consent, Some(true));
    assert_eq!(r.contacted, Some(false));
    assert_eq!(r.solved, None);
    assert!(cb.timeout(100).is_empty());
    assert!(cb.recorded(5, 100).is_empty());
}

#[test]
fn silent_media_does_not_hold_the_robot() {
    // No "prompt finished" ever arrives: the robot goes on after the prompts' length + grace.
    let (mut cb, _) = Cb::start();
    assert!(cb.timeout(16).is_empty());
    assert!(cb.timeout(17).is_empty());
    assert_eq!(cb.nav.poll_timeout(), Some(cb.at(17) + secs(6)));
    // No "recording finished" either: stopped at max + grace, counted as no reason.
    let (mut cb, _) = Cb::start();
    cb.answer_up_to_rating('1');
    cb.digit('3', 36);
    cb.done(41);
    let out = cb.timeout(41 + 60 + 5);
    assert_eq!(out[0], RobotOutput::StopRecording);
    assert_eq!(files(&out), [["robot-thanks.wav"]]);
    assert!(!cb.nav.result().reason_recorded);
}

/// One input the media layer or the citizen may give, in any order.
#[derive(Debug, Clone)]
enum Input {
    Digit(char),
    PlayDone,
    StalePlayDone,
    Recorded(u64),
    Timeout,
    Wait(u64),
    HangUp,
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => prop::sample::select(vec!['0', '1', '2', '3', '4', '9', '#', '*', 'A'])
            .prop_map(Input::Digit),
        3 => Just(Input::PlayDone),
        1 => Just(Input::StalePlayDone),
        1 => (0u64..30).prop_map(Input::Recorded),
        2 => Just(Input::Timeout),
        2 => (0u64..20).prop_map(Input::Wait),
        1 => Just(Input::HangUp),
    ]
}

proptest! {
    /// Whatever happens in whatever order, the callback ends with exactly one `Finished`, a
    /// `ToPerson` only right before it and only when it ends so, and a reason only after 不满意.
    #[test]
    fn every_callback_ends_once(inputs in prop::collection::vec(input(), 0..60)) {
        let (mut cb, mut out) = Cb::start();
        let mut now = cb.t0;
        let stale = cb.play;
        for i in inputs {
            match i {
                Input::Digit(c) => cb.nav.handle_digit(c, now),
                Input::PlayDone => {
                    if let Some(p) = cb.play { cb.nav.handle_play_done(p, now) }
                }
                Input::StalePlayDone => {
                    if let Some(p) = stale { cb.nav.handle_play_done(p, now) }
                }
                Input::Recorded(s) => cb.nav.handle_recording_done(secs(s), now),
                Input::Timeout => {
                    if let Some(t) = cb.nav.poll_timeout() { now = now.max(t); cb.nav.handle_timeout(now) }
                }
                Input::Wait(s) => now += secs(s),
                Input::HangUp => cb.nav.handle_hangup(now),
            }
            out.extend(cb.drain());
        }
        // Then only time passes (the media layer reports nothing more).
        for _ in 0..100 {
            let Some(t) = cb.nav.poll_timeout() else { break };
            now = now.max(t);
            cb.nav.handle_timeout(now);
            out.extend(cb.drain());
        }
        prop_assert!(cb.nav.is_finished());
        let ends: Vec<usize> = out.iter().enumerate()
            .filter(|(_, o)| matches!(o, RobotOutput::Finished(_)))
            .map(|(i, _)| i)
            .collect();
        prop_assert_eq!(ends.len(), 1);
        prop_assert_eq!(ends[0], out.len() - 1);
        let r = finished(&out);
        let person = out.iter().position(|o| matches!(o, RobotOutput::ToPerson { .. }));
        prop_assert_eq!(person.is_some(), r.ended == Ended::ToPerson);
        if let Some(p) = person {
            prop_assert_eq!(p, out.len() - 2);
        }
        prop_assert!(r.answered_steps.len() <= 5);
        prop_assert_eq!(r.reason_recorded, r.answered_steps.contains(&StepKind::Reason));
        if r.reason_recorded {
            prop_assert_eq!(r.rating, Some(Rating::Unsatisfied));
        }
    }
}
