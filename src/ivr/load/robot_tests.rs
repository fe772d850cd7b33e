//! The robot script's rules: the shipped script loads; each broken variant is refused at its
//! line with a message that says how to fix it.

use super::*;
use crate::ivr::model::{Key, Purpose};
use crate::ivr::script::{Answer, StepKind};
use crate::ivr::testutil::{catalog, secs, ROBOT, SHIPPED};

fn load_robot(text: &str) -> Result<Loaded, Vec<MenuError>> {
    load(
        &[
            (PathBuf::from("menus.toml"), SHIPPED.to_string()),
            (PathBuf::from("robot.toml"), text.to_string()),
        ],
        &catalog(),
        &LoadOptions::default(),
    )
}

/// The shipped script with the first `replace` after the header comment replaced.
fn with(replace: &str, by: &str) -> String {
    let at = body_start(ROBOT);
    let (head, body) = ROBOT.split_at(at);
    assert!(
        body.contains(replace),
        "`{replace}` not in the shipped robot"
    );
    format!("{head}{}", body.replacen(replace, by, 1))
}

fn body_start(text: &str) -> usize {
    text.find("\n[robot.").unwrap_or(0)
}

/// The 1-based line of the first `needle` after the header comment.
fn line(text: &str, needle: &str) -> usize {
    let body = body_start(text);
    let at = text[body..]
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    line_of(text, body + at)
}

/// Asserts exactly one error, in robot.toml at the line of `needle`, and returns it.
fn one_error(text: &str, needle: &str) -> MenuError {
    let errs = match load_robot(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    };
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = errs.into_iter().next().unwrap_or_else(|| unreachable!());
    let want = format!("robot.toml:{}: ", line(text, needle));
    assert!(e.to_string().starts_with(&want), "{e} (want {want})");
    e
}

#[test]
fn the_shipped_script_loads_beside_the_menus() {
    let loaded = load_robot(ROBOT).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(loaded.tree.menus().count(), 2);
    assert_eq!(loaded.robots.keys().collect::<Vec<_>>(), ["callback"]);
    let r = &loaded.robots["callback"];
    assert_eq!(r.id(), "callback");
    assert_eq!(r.timeout(), secs(6));
    assert_eq!(r.tries(), 2);
    assert_eq!(r.person_queue(), "general");
    assert_eq!(r.reason_max(), secs(60));
    assert_eq!(r.reason_silence(), secs(4));
    assert_eq!(
        r.no_input_prompt().map(|p| p.file().as_str()),
        Some("no-input.wav")
    );
    for kind in StepKind::ALL {
        let step = r.step(kind);
        assert_eq!(step.kind(), kind);
        assert_eq!(step.answer(Key::Digit(0)), Some(Answer::Person), "{kind}");
    }
    let consent = r.step(StepKind::Consent);
    assert_eq!(consent.prompts()[0].purpose(), Purpose::Information);
    // Asked again, the consent step skips the introduction.
    let retry: Vec<&str> = consent
        .retry_prompts()
        .iter()
        .map(|p| p.file().as_str())
        .collect();
    assert_eq!(retry, ["robot-consent.wav"]);
    assert_eq!(consent.answer(Key::Digit(1)), Some(Answer::Yes));
    assert_eq!(consent.answer(Key::Digit(2)), Some(Answer::No));
    let rating = r.step(StepKind::Rating);
    assert_eq!(rating.answer(Key::Digit(1)), Some(Answer::Satisfied));
    assert_eq!(
        rating.answer(Key::Digit(2)),
        Some(Answer::BasicallySatisfied)
    );
    assert_eq!(rating.answer(Key::Digit(3)), Some(Answer::Unsatisfied));
    assert_eq!(
        r.step(StepKind::Reason).answer(Key::Hash),
        Some(Answer::Done)
    );
    assert_eq!(
        r.step(StepKind::Thanks).prompts()[0].purpose(),
        Purpose::Thanks
    );
    // consent 7+5+6 + (2+5+6); contacted 6+6 + (2+6+6); solved the same; rating 8+6 + (2+8+6);
    // reason 5+60 twice; thanks 6+6.
    assert_eq!(r.worst_case(), secs(31 + 26 + 26 + 30 + 130 + 12));
}

#[test]
fn a_step_without_zero_for_a_person_is_refused() {
    let text = with(
        "keys = { \"1\" = \"yes\", \"2\" = \"no\", \"0\" = \"person\" }\n\n[robot.callback.solved]",
        "keys = { \"1\" = \"yes\", \"2\" = \"no\" }\n\n[robot.callback.solved]",
    );
    let e = one_error(&text, "[robot.callback.contacted]");
    assert!(
        matches!(e.kind, MenuErrorKind::RobotNoPerson { ref step, .. } if step == "contacted"),
        "{e}"
    );
    assert!(e.to_string().contains("rule C5"), "{e}");

    // 0 bound to something else is no better, and is pointed at.
    let text = with(
        "[robot.callback.thanks]\nprompts = [{ file = \"robot-thanks.wav\", purpose = \"thanks\" }]\nkeys = { \"0\" = \"person\" }",
        "[robot.callback.thanks]\nprompts = [{ file = \"robot-thanks.wav\", purpose = \"thanks\" }]\n[robot.callback.thanks.keys]\n\"9\" = \"person\"\n\"0\" = \"person\"",
    )
    .replace(
        "keys = { \"1\" = \"satisfied\", \"2\" = \"basically_satisfied\", \"3\" = \"unsatisfied\", \"0\" = \"person\" }",
        "[robot.callback.rating.keys]\n\"1\" = \"satisfied\"\n\"2\" = \"basically_satisfied\"\n\"3\" = \"unsatisfied\"\n\"0\" = \"satisfied\"",
    );
    let e = one_error(&text, "\"0\" = \"satisfied\"");
    assert!(
        matches!(e.kind, MenuErrorKind::RobotNoPerson { ref step, .. } if step == "rating"),
        "{e}"
    );
}

#[test]
fn advertising_and_menu_purposes_are_refused_in_a_robot() {
    for purpose in ["advertising", "promotion", "greeting", "menu"] {
        let text = with(
            "{ file = \"robot-solved.wav\", purpose = \"question\" }",
            &format!("{{ file = \"robot-solved.wav\", purpose = \"question\" }},\n    {{ file = \"info.wav\", purpose = \"{purpose}\" }}"),
        );
        let e = one_error(&text, &format!("purpose = \"{purpose}\""));
        assert!(
            matches!(e.kind, MenuErrorKind::BadPurpose { ref allowed, .. } if allowed == "information, question, thanks, error"),
            "{e}"
        );
        assert!(e.to_string().contains("no advertising"), "{e}");
    }
}

#[test]
fn robot_purposes_are_refused_in_a_menu() {
    let menus = SHIPPED.replace(
        "{ file = \"special-menu.wav\", purpose = \"menu\" },",
        "{ file = \"special-menu.wav\", purpose = \"menu\" },\n    { file = \"info.wav\", purpose = \"question\" },",
    );
    let errs = load(
        &[(PathBuf::from("m.toml"), menus)],
        &catalog(),
        &LoadOptions::default(),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        matches!(errs[0].kind, MenuErrorKind::BadPurpose { ref allowed, .. } if allowed == "greeting, menu, information, queue_notice, error"),
        "{errs:#?}"
    );
}

#[test]
fn a_missing_prompt_file_is_refused_at_its_line() {
    let text = with("robot-rating.wav", "robot-rateing.wav");
    let e = one_error(&text, "robot-rateing.wav");
    assert!(
        matches!(e.kind, MenuErrorKind::PromptUnavailable { ref file, .. } if file == "robot-rateing.wav"),
        "{e}"
    );
}

#[test]
fn a_missing_step_is_named_at_the_robot() {
    let text = with(
        "[robot.callback.solved]\nprompts = [{ file = \"robot-solved.wav\", purpose = \"question\" }]\nkeys = { \"1\" = \"yes\", \"2\" = \"no\", \"0\" = \"person\" }\n",
        "",
    );
    let e = one_error(&text, "[robot.callback]");
    assert!(
        matches!(e.kind, MenuErrorKind::MissingStep { ref step, .. } if step == "solved"),
        "{e}"
    );
}

#[test]
fn every_answer_of_a_step_must_have_a_key() {
    let text = with("\"3\" = \"unsatisfied\", ", "");
    let e = one_error(&text, "[robot.callback.rating]");
    assert!(
        matches!(
            e.kind,
            MenuErrorKind::MissingAnswer {
                answer: "unsatisfied",
                example: '3',
                ..
            }
        ),
        "{e}"
    );
    let text = with("\"#\" = \"done\", ", "");
    let e = one_error(&text, "[robot.callback.reason]");
    assert!(
        matches!(
            e.kind,
            MenuErrorKind::MissingAnswer {
                answer: "done",
                example: '#',
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn an_answer_the_step_does_not_have_is_refused() {
    let text = with(
        "keys = { \"1\" = \"yes\", \"2\" = \"no\", \"0\" = \"person\" }",
        "keys = { \"1\" = \"yes\", \"2\" = \"no\", \"3\" = \"satisfied\", \"0\" = \"person\" }",
    );
    let e = one_error(&text, "\"3\" = \"satisfied\"");
    assert!(
        e.to_string()
            .contains("\"satisfied\" is not an answer of this step")
            && e.to_string().contains("\"yes\", \"no\", \"person\""),
        "{e}"
    );
    let text = with("\"2\" = \"no\", \"0\"", "\"2\" = 2, \"0\"");
    let e = one_error(&text, "\"2\" = 2");
    assert!(e.to_string().contains("integer is not an answer"), "{e}");
    let text = with("\"2\" = \"no\", \"0\"", "\"22\" = \"no\", \"0\"");
    let e = one_error(&text, "\"22\"");
    assert!(
        matches!(e.kind, MenuErrorKind::InvalidKeyName { .. }),
        "{e}"
    );
}

#[test]
fn timeouts_tries_and_the_recording_are_bounded() {
    let e = one_error(&with("tries = 2", "tries = 9"), "tries = 9");
    assert!(
        matches!(e.kind, MenuErrorKind::BadTries { value: 9, max: 5 }),
        "{e}"
    );
    let e = one_error(&with("timeout = \"6s\"", "timeout = \"45s\""), "timeout");
    assert!(
        matches!(
            e.kind,
            MenuErrorKind::DurationOutOfRange {
                field: "timeout",
                ..
            }
        ),
        "{e}"
    );
    let e = one_error(&with("max = \"60s\"", "max = \"10m\""), "max = ");
    assert!(
        matches!(e.kind, MenuErrorKind::DurationOutOfRange { field: "max", max, .. } if max == secs(180)),
        "{e}"
    );
    let e = one_error(
        &with("silence = \"4s\"", "silence = \"soon\""),
        "silence = ",
    );
    assert!(
        matches!(
            e.kind,
            MenuErrorKind::BadDuration {
                field: "silence",
                ..
            }
        ),
        "{e}"
    );
    let text = with(
        "[robot.callback.solved]\n",
        "[robot.callback.solved]\nmax = \"30s\"\n",
    );
    let e = one_error(&text, "max = \"30s\"");
    assert!(
        matches!(e.kind, MenuErrorKind::MisplacedField { field: "max", ref step } if step == "solved"),
        "{e}"
    );
}

#[test]
fn the_robot_says_who_calls_before_asking() {
    let text = with(
        "    { file = \"robot-identify.wav\", purpose = \"information\" },\n",
        "",
    );
    let e = one_error(&text, "robot-consent.wav");
    assert!(
        matches!(e.kind, MenuErrorKind::MissingIdentify { .. }),
        "{e}"
    );
    // Who calls and why, in a sentence: not a speech (7 s + 7 s over the 10 s limit).
    let text = with(
        "    { file = \"robot-identify.wav\", purpose = \"information\" },\n",
        "    { file = \"robot-identify.wav\", purpose = \"information\" },\n    { file = \"robot-identify.wav\", purpose = \"information\" },\n",
    );
    let e = one_error(&text, "robot-identify.wav");
    assert!(
        matches!(e.kind, MenuErrorKind::IntroTooLong { total, limit, .. } if total == secs(14) && limit == secs(10)),
        "{e}"
    );
    // A question step with only information has no question to ask again.
    let text = with(
        "{ file = \"robot-contacted.wav\", purpose = \"question\" }",
        "{ file = \"robot-contacted.wav\", purpose = \"information\" }",
    );
    let e = one_error(&text, "[robot.callback.contacted]");
    assert!(
        matches!(
            e.kind,
            MenuErrorKind::MissingStepPrompt {
                purpose: "question",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn names_fields_and_duplicates() {
    let e = one_error(
        &with("person_queue = \"general\"", "person_queue = \"sales\""),
        "person_queue",
    );
    assert!(
        matches!(e.kind, MenuErrorKind::UnknownQueue { ref queue, .. } if queue == "sales"),
        "{e}"
    );
    let e = one_error(&with("tries = 2", "tries = 2\nvoice = \"female\""), "voice");
    assert!(e.to_string().contains("unknown field `voice`"), "{e}");
    let text = ROBOT.replace("[robot.callback", "[robot.\"call back\"");
    let e = one_error(&text, "[robot.\"call back\"]");
    assert!(matches!(e.kind, MenuErrorKind::BadRobotId { .. }), "{e}");

    // The same robot in two files: the second is pointed at, the first named.
    let errs = load(
        &[
            (PathBuf::from("menus.toml"), SHIPPED.to_string()),
            (PathBuf::from("a.toml"), ROBOT.to_string()),
            (PathBuf::from("b.toml"), ROBOT.to_string()),
        ],
        &catalog(),
        &LoadOptions::default(),
    )
    .err()
    .unwrap_or_default();
    let at = line(ROBOT, "[robot.callback]");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].to_string().starts_with(&format!(
            "b.toml:{at}: robot `callback` is defined twice (first at a.toml:{at})"
        )),
        "{errs:#?}"
    );
}
