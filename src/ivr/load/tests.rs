use super::*;
use crate::ivr::model::{Action, Key, Purpose};
use crate::ivr::testutil::{catalog, secs, SHIPPED};

fn load_text(text: &str) -> Result<Loaded, Vec<MenuError>> {
    load(
        &[(PathBuf::from("m.toml"), text.to_string())],
        &catalog(),
        &LoadOptions::default(),
    )
}

fn errors(text: &str) -> Vec<MenuError> {
    match load_text(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

/// The 1-based line of the first occurrence of `needle`.
/// Searches after the header comment, which quotes examples of the format.
fn line(text: &str, needle: &str) -> usize {
    let body = body_start(text);
    let at = text[body..]
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    line_of(text, body + at)
}

fn body_start(text: &str) -> usize {
    text.find("\n[defaults]").unwrap_or(0)
}

/// Asserts exactly one error, at the line of `needle`, and returns it.
fn one_error(text: &str, needle: &str) -> MenuError {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = errs.into_iter().next().unwrap_or_else(|| unreachable!());
    let want = format!("m.toml:{}: ", line(text, needle));
    assert!(e.to_string().starts_with(&want), "{e} (want {want})");
    e
}

/// The shipped menu with the first `replace` after the header comment replaced.
fn with(replace: &str, by: &str) -> String {
    let (head, body) = SHIPPED.split_at(body_start(SHIPPED));
    assert!(
        body.contains(replace),
        "`{replace}` not in the shipped menu"
    );
    format!("{head}{}", body.replacen(replace, by, 1))
}

#[test]
fn shipped_menu_loads_with_the_required_tree() {
    let loaded = load_text(SHIPPED).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let tree = loaded.tree;
    let main = tree.menu(tree.entry());
    assert_eq!(main.id(), "main");
    assert_eq!(main.level(), 1);
    let special = tree.find("special").expect("special exists");
    assert_eq!(tree.menu(special).level(), 2);
    assert_eq!(tree.menu(special).parent(), Some(tree.entry()));
    let q = |s: &str| Some(Action::Queue(s.to_string()));
    assert_eq!(main.action(Key::Digit(1)).cloned(), q("enterprise"));
    assert_eq!(main.action(Key::Digit(2)), Some(&Action::Menu(special)));
    assert_eq!(main.action(Key::Digit(0)).cloned(), q("general"));
    assert_eq!(main.action(Key::Digit(9)), Some(&Action::Repeat));
    assert_eq!(main.keys().len(), 4);
    let sp = tree.menu(special);
    assert_eq!(sp.action(Key::Digit(1)).cloned(), q("dialect"));
    assert_eq!(sp.action(Key::Digit(2)).cloned(), q("foreign"));
    assert_eq!(sp.action(Key::Digit(3)).cloned(), q("sign"));
    assert_eq!(sp.action(Key::Digit(0)).cloned(), q("general"));
    assert_eq!(sp.action(Key::Star), Some(&Action::Back));
    for (_, m) in tree.menus() {
        assert_eq!(m.tries(), 2);
        assert_eq!(m.timeout(), secs(5));
        assert_eq!(m.no_input_queue(), "general");
        assert_eq!(
            m.invalid_key_prompt().map(|p| p.file().as_str()),
            Some("invalid-key.wav")
        );
        assert_eq!(
            m.no_input_prompt().map(|p| p.purpose()),
            Some(Purpose::Error)
        );
    }
    assert_eq!(main.prompts()[0].purpose(), Purpose::Greeting);
    assert_eq!(main.menu_prompts().len(), 1);
    assert_eq!(main.pre_menu(), secs(6));
    // greeting 6 + menu 8 + timeout 5, then no-input 2 + menu 8 + timeout 5.
    assert_eq!(tree.worst_case_to_person(), secs(34));
    assert_eq!(
        tree.to_string(),
        "main (level 1): 0→queue general, 1→queue enterprise, 2→menu special, 9→repeat, no input ×2→queue general\n  \
         special (level 2): 0→queue general, 1→queue dialect, 2→queue foreign, 3→queue sign, *→back, no input ×2→queue general\n\
         worst case to a person: 34s"
    );
    let qa = tree.queue_audio();
    assert_eq!(qa.hold().as_str(), "hold-music.ogg");
    assert_eq!(qa.transfer().as_str(), "transfer.wav");
    let notice: Vec<String> = qa
        .position_notice(305)
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        notice,
        [
            "queue-position-prefix.wav",
            "digit-3.wav",
            "digit-0.wav",
            "digit-5.wav",
            "queue-position-suffix.wav"
        ]
    );
}

#[test]
fn a_third_level_is_refused_at_the_key() {
    let text = with(
        "\"3\" = { queue = \"sign\" }",
        "\"3\" = { queue = \"sign\" }\n\"4\" = { menu = \"deep\" }",
    ) + "\n[menu.deep]\nprompts = [{ file = \"main-menu.wav\", purpose = \"menu\" }]\nkeys = { \"0\" = { queue = \"general\" } }\n";
    let e = one_error(&text, "\"4\" = { menu");
    assert!(
        matches!(e.kind, MenuErrorKind::TooDeep { ref target, .. } if target == "deep"),
        "{e}"
    );
    assert!(e.to_string().contains("rule C4"), "{e}");
}

#[test]
fn loops_other_than_back_are_refused() {
    let text = with("\"*\" = \"back\"", "\"*\" = { menu = \"main\" }");
    let e = one_error(&text, "\"*\" = { menu");
    assert!(
        matches!(e.kind, MenuErrorKind::Cycle { fix: "back", .. }),
        "{e}"
    );

    let text = with("\"9\" = \"repeat\"", "\"9\" = { menu = \"main\" }");
    let e = one_error(&text, "\"9\" = { menu");
    assert!(
        matches!(e.kind, MenuErrorKind::Cycle { fix: "repeat", .. }),
        "{e}"
    );

    let text = with("\"*\" = \"back\"", "\"*\" = { menu = \"special\" }");
    let e = one_error(&text, "\"*\" = { menu");
    assert!(
        matches!(e.kind, MenuErrorKind::Cycle { fix: "repeat", .. }),
        "{e}"
    );
}

#[test]
fn back_from_the_entry_menu_is_refused() {
    let text = with("\"9\" = \"repeat\"", "\"*\" = \"back\"");
    let e = one_error(&text, "\"*\" = \"back\"");
    assert!(matches!(e.kind, MenuErrorKind::BackFromEntry { .. }), "{e}");
}

#[test]
fn a_level_without_a_person_key_is_refused_at_its_header() {
    let text = with(
        "\"0\" = { queue = \"general\" }        # straight to an agent (直转人工)\n\"*\"",
        "\"*\"",
    )
    .replace("\"1\" = { queue = \"dialect\" }", "")
    .replace("\"2\" = { queue = \"foreign\" }", "")
    .replace("\"3\" = { queue = \"sign\" }", "");
    let e = one_error(&text, "[menu.special]");
    assert!(
        matches!(e.kind, MenuErrorKind::NoPersonKey { ref menu } if menu == "special"),
        "{e}"
    );
    assert!(e.to_string().contains("直转人工"), "{e}");
}

#[test]
fn no_input_must_exist_and_end_in_a_queue() {
    let text = with("no_input = { queue = \"general\" }\n", "");
    let errs = errors(&text);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(errs
        .iter()
        .all(|e| matches!(e.kind, MenuErrorKind::MissingNoInput { .. })));
    assert!(errs[0]
        .to_string()
        .starts_with(&format!("m.toml:{}:", line(&text, "[menu.main]"))));

    let text = with(
        "no_input = { queue = \"general\" }",
        "no_input = \"repeat\"",
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(errs
        .iter()
        .all(|e| matches!(e.kind, MenuErrorKind::NoInputNotQueue { .. })));
    assert!(errs[0]
        .to_string()
        .starts_with(&format!("m.toml:{}:", line(&text, "no_input ="))));

    let text = with(
        "no_input = { queue = \"general\" }",
        "no_input = { queue = \"nowhere\" }",
    );
    assert_eq!(errors(&text).len(), 2);
}

#[test]
fn advertising_cannot_be_declared() {
    for purpose in ["advertising", "promotion", "Menu", ""] {
        let text = with(
            "{ file = \"special-menu.wav\", purpose = \"menu\" },",
            &format!("{{ file = \"special-menu.wav\", purpose = \"menu\" }},\n    {{ file = \"info.wav\", purpose = \"{purpose}\" }},"),
        );
        let e = one_error(&text, "\"info.wav\"");
        assert!(matches!(e.kind, MenuErrorKind::BadPurpose { .. }), "{e}");
        assert!(e.to_string().contains("no advertising"), "{e}");
    }
}

#[test]
fn a_long_greeting_is_refused() {
    let text = with(
        "{ file = \"greeting.wav\", purpose = \"greeting\" },",
        "{ file = \"greeting.wav\", purpose = \"greeting\" },\n    { file = \"info.wav\", purpose = \"information\" },\n    { file = \"info.wav\", purpose = \"information\" },",
    );
    // 6 s + 3 s + 3 s = 12 s > 10 s.
    let e = one_error(&text, "{ file = \"greeting.wav\"");
    assert!(
        matches!(e.kind, MenuErrorKind::GreetingTooLong { total, .. } if total == secs(12)),
        "{e}"
    );
    assert!(e.to_string().contains("12s"), "{e}");

    let opts = LoadOptions {
        max_greeting: secs(5),
        ..LoadOptions::default()
    };
    let errs = load(
        &[(PathBuf::from("m.toml"), SHIPPED.to_string())],
        &catalog(),
        &opts,
    )
    .err()
    .unwrap_or_default();
    assert_eq!(errs.len(), 1, "{errs:#?}");
}

#[test]
fn a_greeting_belongs_before_the_entry_menu_prompt() {
    let text = with(
        "{ file = \"special-menu.wav\", purpose = \"menu\" },",
        "{ file = \"greeting.wav\", purpose = \"greeting\" },\n    { file = \"special-menu.wav\", purpose = \"menu\" },",
    );
    let e = one_error(&text, "purpose = \"greeting\" },\n    { file = \"special");
    assert!(
        matches!(e.kind, MenuErrorKind::MisplacedGreeting { .. }),
        "{e}"
    );
}

#[test]
fn a_key_bound_twice_names_its_line() {
    let text = with(
        "\"9\" = \"repeat\"",
        "\"9\" = \"repeat\"\n9 = { queue = \"general\" }",
    );
    let e = one_error(&text, "9 = { queue");
    assert!(e.to_string().contains("duplicate key"), "{e}");
    assert!(e.to_string().contains("only once"), "{e}");
}

#[test]
fn unknown_menus_and_queues_are_refused() {
    let text = with(
        "\"2\" = { menu = \"special\" }",
        "\"2\" = { menu = \"specail\" }",
    );
    let errs = errors(&text);
    // The typo and the now unreachable `special`.
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        matches!(errs[0].kind, MenuErrorKind::UnknownMenu { ref target, .. } if target == "specail")
    );
    assert!(errs[0]
        .to_string()
        .starts_with(&format!("m.toml:{}:", line(&text, "\"specail\""))));
    assert!(matches!(errs[1].kind, MenuErrorKind::Unreachable { .. }));

    let text = with("{ queue = \"enterprise\" }", "{ queue = \"advertising\" }");
    let e = one_error(&text, "\"advertising\"");
    assert!(
        e.to_string()
            .contains("configured queues: dialect, enterprise"),
        "{e}"
    );
}

#[test]
fn the_queue_set_comes_from_the_options() {
    let opts = LoadOptions {
        queues: ["general", "dialect", "foreign", "sign"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..LoadOptions::default()
    };
    let errs = load(
        &[(PathBuf::from("m.toml"), SHIPPED.to_string())],
        &catalog(),
        &opts,
    )
    .err()
    .unwrap_or_default();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        matches!(errs[0].kind, MenuErrorKind::UnknownQueue { ref queue, .. } if queue == "enterprise")
    );
}

#[test]
fn a_missing_prompt_file_is_refused_with_the_reason() {
    let text = with("\"special-menu.wav\"", "\"special-menu-v2.wav\"");
    let e = one_error(&text, "special-menu-v2.wav");
    assert!(e.to_string().contains("no such file"), "{e}");

    let text = with("\"special-menu.wav\"", "\"../../etc/passwd\"");
    let e = one_error(&text, "../../etc");
    assert!(matches!(e.kind, MenuErrorKind::BadPromptPath { .. }), "{e}");
}

#[test]
fn an_unknown_field_is_refused_at_its_line() {
    let text = with("[menu.special]\n", "[menu.special]\nadvert = \"buy.wav\"\n");
    let e = one_error(&text, "advert =");
    assert!(e.to_string().contains("unknown field `advert`"), "{e}");
}

#[test]
fn invalid_key_names_are_refused() {
    for name in ["10", "A", "", " 1"] {
        let text = with("\"9\" = \"repeat\"", &format!("\"{name}\" = \"repeat\""));
        let e = one_error(&text, &format!("\"{name}\" = \"repeat\""));
        assert!(
            matches!(e.kind, MenuErrorKind::InvalidKeyName { .. }),
            "{e}"
        );
    }
}

#[test]
fn bad_actions_timeouts_and_tries_are_refused() {
    let text = with("\"9\" = \"repeat\"", "\"9\" = \"again\"");
    let e = one_error(&text, "\"again\"");
    assert!(matches!(e.kind, MenuErrorKind::BadAction { .. }), "{e}");
    let text = with(
        "\"9\" = \"repeat\"",
        "\"9\" = { queue = \"general\", menu = \"special\" }",
    );
    one_error(&text, "\"9\" = {");
    let text = with("\"9\" = \"repeat\"", "\"9\" = 9");
    one_error(&text, "\"9\" = 9");

    let text = with("timeout = \"5s\"", "timeout = \"5 seconds please\"");
    let errs = errors(&text);
    assert!(
        errs.iter()
            .all(|e| matches!(e.kind, MenuErrorKind::BadDuration { .. })),
        "{errs:#?}"
    );
    let text = with("timeout = \"5s\"", "timeout = \"2m\"");
    let errs = errors(&text);
    assert!(
        errs.iter()
            .all(|e| matches!(e.kind, MenuErrorKind::DurationOutOfRange { .. })),
        "{errs:#?}"
    );
    let text = with("tries = 2", "tries = 0");
    let errs = errors(&text);
    assert!(errs[0]
        .to_string()
        .starts_with(&format!("m.toml:{}:", line(&text, "tries = 0"))));
}

#[test]
fn every_error_is_collected() {
    let text = with("\"9\" = \"repeat\"", "\"9\" = \"again\"");
    let (head, body) = text.split_at(body_start(&text));
    let text = head.to_string()
        + &body
            .replace("\"special-menu.wav\"", "\"missing.wav\"")
            .replace("{ queue = \"dialect\" }", "{ queue = \"klingon\" }")
            .replace("purpose = \"greeting\"", "purpose = \"advertising\"");
    let errs = errors(&text);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    let mut lines: Vec<usize> = errs
        .iter()
        .map(|e| e.location.as_ref().map_or(0, |l| l.line))
        .collect();
    lines.sort_unstable();
    let mut want = vec![
        line(&text, "\"again\""),
        line(&text, "missing.wav"),
        line(&text, "klingon"),
        line(&text, "advertising\""),
    ];
    want.sort_unstable();
    assert_eq!(lines, want);
}

#[test]
fn the_entry_menu_must_exist_and_reach_every_menu() {
    let opts = LoadOptions {
        entry_menu: "start".into(),
        ..LoadOptions::default()
    };
    let errs = load(
        &[(PathBuf::from("m.toml"), SHIPPED.to_string())],
        &catalog(),
        &opts,
    )
    .err()
    .unwrap_or_default();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].to_string().contains("`start` is not defined"),
        "{}",
        errs[0]
    );

    let text = format!("{SHIPPED}\n[menu.orphan]\nprompts = [{{ file = \"main-menu.wav\", purpose = \"menu\" }}]\nkeys = {{ \"0\" = {{ queue = \"general\" }} }}\n");
    let e = one_error(&text, "[menu.orphan]");
    assert!(matches!(e.kind, MenuErrorKind::Unreachable { .. }), "{e}");
}

#[test]
fn menus_may_span_files_and_clashes_name_both() {
    let (head, tail) = SHIPPED.split_at(SHIPPED.find("# Level 2").unwrap_or(0));
    let defaults = "[defaults]\nno_input = { queue = \"general\" }\n";
    let files = [
        (PathBuf::from("a.toml"), head.to_string()),
        (PathBuf::from("b.toml"), format!("{defaults}{tail}")),
    ];
    let loaded =
        load(&files, &catalog(), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(loaded.tree.menus().count(), 2);

    let files = [
        (PathBuf::from("a.toml"), SHIPPED.to_string()),
        (
            PathBuf::from("b.toml"),
            "[menu.special]\nprompts = []\n".to_string(),
        ),
    ];
    let errs = load(&files, &catalog(), &LoadOptions::default())
        .err()
        .unwrap_or_default();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let msg = errs[0].to_string();
    assert!(msg.starts_with("b.toml:1: "), "{msg}");
    assert!(
        msg.contains(&format!("a.toml:{}", line(SHIPPED, "[menu.special]"))),
        "{msg}"
    );

    let files = [
        (PathBuf::from("a.toml"), SHIPPED.to_string()),
        (PathBuf::from("b.toml"), "[menu.x\n".to_string()),
    ];
    let errs = load(&files, &catalog(), &LoadOptions::default())
        .err()
        .unwrap_or_default();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].to_string().starts_with("b.toml:1: "), "{}", errs[0]);
    assert!(!errs[0].to_string().contains('\n'), "{}", errs[0]);
}

#[test]
fn queue_audio_is_required_once_with_ten_digits() {
    let cut = SHIPPED.rfind("[queue_audio]").unwrap_or(SHIPPED.len());
    let errs = errors(&SHIPPED[..cut]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].kind, MenuErrorKind::MissingQueueAudio);
    assert!(
        errs[0]
            .to_string()
            .starts_with("m.toml:1: no [queue_audio]"),
        "{}",
        errs[0]
    );

    let text = with("\"digit-9.wav\",\n", "\n");
    let e = one_error(&text, "position_digits");
    assert_eq!(e.kind, MenuErrorKind::BadDigitCount { count: 9 });
}

#[test]
fn a_slow_way_to_a_person_is_a_warning() {
    let opts = LoadOptions {
        max_to_person: secs(30),
        ..LoadOptions::default()
    };
    let loaded = load(
        &[(PathBuf::from("m.toml"), SHIPPED.to_string())],
        &catalog(),
        &opts,
    )
    .unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(
        loaded.warnings,
        vec![MenuWarning::SlowToPerson {
            worst: secs(34),
            limit: secs(30)
        }]
    );
    assert!(loaded.warnings[0].to_string().contains("34s"));
}

#[test]
fn no_files_is_an_error_without_location() {
    let errs = load(&[], &catalog(), &LoadOptions::default())
        .err()
        .unwrap_or_default();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].location, None);
    assert!(errs[0].to_string().starts_with("no menu files"));
}
