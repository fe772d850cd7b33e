//! Integrated numbers through the real chain: `[numbers.<n>]` text → `Config::parse` →
//! `number_specs` (lines of the configuration) → the loader's rules.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::config::{number_specs, Config, ConfigSource};
use crate::ivr::navigator::{NavAction, Navigator};
use crate::ivr::numbers::NumberRoute;
use crate::ivr::testutil::{catalog, secs, t0, SHIPPED};

const HEAD: &str = "[sip]\nservice_numbers = [\"12345\", \"12315\", \"12333\"]\n";

/// Loads the shipped menus with the numbers of `config` (a hotline.toml text).
fn load_with(config: &str, max_greeting: Duration) -> Result<Loaded, Vec<MenuError>> {
    let parsed = Config::parse(config, Path::new("h.toml")).unwrap_or_else(|e| panic!("{e}"));
    let source = ConfigSource {
        path: PathBuf::from("h.toml"),
        text: config.into(),
    };
    let mut cat = catalog();
    cat.0.insert("notice.wav".into(), secs(3));
    let opts = LoadOptions {
        numbers: number_specs(&parsed.numbers, &source),
        max_greeting,
        ..LoadOptions::default()
    };
    load(&[(PathBuf::from("m.toml"), SHIPPED.into())], &cat, &opts)
}

/// The errors of `config`, as `hotline check` prints them.
fn errors(config: &str) -> Vec<String> {
    match load_with(config, secs(10)) {
        Ok(_) => panic!("expected errors for:\n{config}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_number_goes_to_its_queue_or_branch_after_its_notice() {
    let config = format!(
        "{HEAD}[numbers.12315]\nname = \"12315 市场监管\"\nqueue = \"enterprise\"\nnotice = {{ file = \"notice.wav\", purpose = \"information\" }}\n\
         [numbers.12333]\nmenu = \"special\"\nnotice = {{ file = \"notice.wav\", purpose = \"information\" }}\n"
    );
    let loaded = load_with(&config, secs(10)).unwrap_or_else(|e| panic!("{e:#?}"));
    let tree = Arc::new(loaded.tree);
    let market = tree.number("12315").expect("12315 is configured");
    assert_eq!(market.route(), &NumberRoute::Queue("enterprise".into()));
    assert_eq!(market.name(), Some("12315 市场监管"));
    assert_eq!(tree.number_name("12315"), Some("12315 市场监管"));
    assert!(tree.number("12345").is_none(), "12345 keeps the entry menu");
    let branch = tree.number("12333").expect("12333 is configured");
    let special = tree.find("special").expect("special menu");
    assert_eq!(branch.route(), &NumberRoute::Menu(special));
    // The branch stays level 2 under the entry menu: its `back` leads there.
    assert_eq!(tree.menu(special).level(), 2);
    assert_eq!(tree.menu(special).parent(), Some(tree.entry()));
    // Its caller hears the notice, then the branch's menu (no greeting), and the time limit
    // counts from the branch, notice included.
    let mut nav = Navigator::starting(&tree, special, branch.notice(), t0());
    let Some(NavAction::Play { prompts, .. }) = nav.poll_action() else {
        panic!("the navigator plays first");
    };
    let files: Vec<&str> = prompts.iter().map(|p| p.as_str()).collect();
    assert_eq!(files, ["notice.wav", "special-menu.wav"]);
    let worst = tree.worst_case_from(special, secs(3));
    assert!(worst > secs(3) && worst < tree.worst_case_to_person() + secs(3));
    assert!(tree
        .describe_number("12315")
        .contains("straight to queue enterprise"));
}

#[test]
fn an_unknown_menu_or_queue_is_refused_at_its_line_in_the_configuration() {
    let config =
        format!("{HEAD}[numbers.12315]\nqueue = \"markt\"\n\n[numbers.12333]\nmenu = \"hrss\"\n");
    let errs = errors(&config);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs[0].starts_with("h.toml:4: [numbers.12315] queue names queue `markt`"),
        "{errs:#?}"
    );
    assert!(errs[0].contains("configured queues: "), "{errs:#?}");
    assert!(
        errs[1].starts_with("h.toml:7: [numbers.12333] menu names menu `hrss`"),
        "{errs:#?}"
    );
    assert!(errs[1].contains("main, special"), "{errs:#?}");
}

#[test]
fn an_advertising_notice_is_refused_by_the_closed_purpose_list() {
    let config = format!(
        "{HEAD}[numbers.12315]\nqueue = \"general\"\n[numbers.12315.notice]\nfile = \"notice.wav\"\npurpose = \"advertising\"\n"
    );
    let errs = errors(&config);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].starts_with("h.toml:7: prompt purpose `advertising` is not allowed"),
        "{errs:#?}"
    );
    assert!(errs[0].contains("no advertising"), "{errs:#?}");
    // A purpose menus know but a notice is not: refused too.
    let config = format!(
        "{HEAD}[numbers.12315]\nqueue = \"general\"\nnotice = {{ file = \"notice.wav\", purpose = \"greeting\" }}\n"
    );
    let errs = errors(&config);
    assert!(
        errs[0].starts_with("h.toml:5: the notice of number 12315 has purpose `greeting`"),
        "{errs:#?}"
    );
}

#[test]
fn a_missing_notice_file_is_refused_at_its_line() {
    let config = format!(
        "{HEAD}[numbers.12315]\nqueue = \"general\"\nnotice = {{ file = \"nope.wav\", purpose = \"information\" }}\n"
    );
    let errs = errors(&config);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].starts_with("h.toml:5: prompt `nope.wav` cannot be used"),
        "{errs:#?}"
    );
}

#[test]
fn notice_and_greeting_together_are_held_to_max_greeting() {
    // The entry menu's greeting is 6 s (fake catalog), the notice 3 s: 9 s.
    let config = format!(
        "{HEAD}[numbers.12315]\nnotice = {{ file = \"notice.wav\", purpose = \"information\" }}\n"
    );
    assert!(load_with(&config, secs(10)).is_ok());
    let errs = match load_with(&config, secs(8)) {
        Ok(_) => panic!("9 s before the menu passed a limit of 8 s"),
        Err(e) => e,
    };
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        matches!(errs[0].kind, MenuErrorKind::NoticeTooLong { .. }),
        "{errs:#?}"
    );
    assert!(errs[0].to_string().starts_with("h.toml:4: "), "{}", errs[0]);
    // Straight to a queue: the notice alone counts.
    let config = format!(
        "{HEAD}[numbers.12315]\nqueue = \"general\"\nnotice = {{ file = \"notice.wav\", purpose = \"information\" }}\n"
    );
    assert!(load_with(&config, secs(8)).is_ok());
}
