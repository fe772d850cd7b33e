//! `hotline check` as an operator runs it: the shipped files pass with a summary; a menu that
//! breaks rule C4 (a third level, an advertising prompt) fails with `file:line` and exit 1.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::root;

/// A project folder with the shipped prompts and `menus` as its only menu file.
fn project(menus: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("config")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("ivr-menus")).expect("mkdir");
    std::os::unix::fs::symlink(
        root().join("ivr-menus/prompts"),
        dir.path().join("ivr-menus/prompts"),
    )
    .expect("link prompts");
    std::fs::write(dir.path().join("ivr-menus/menus.toml"), menus).expect("menus");
    for entry in std::fs::read_dir(root().join("config"))
        .expect("config")
        .flatten()
    {
        if entry.file_name() != "hotline.toml" {
            let link = dir.path().join("config").join(entry.file_name());
            std::os::unix::fs::symlink(entry.path(), link).expect("link config");
        }
    }
    let config = dir.path().join("config/hotline.toml");
    std::fs::write(&config, "").expect("config");
    (dir, config)
}

fn check(config: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("check")
        .arg("--config")
        .arg(config)
        .output()
        .expect("run hotline check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn shipped_menus() -> String {
    std::fs::read_to_string(root().join("ivr-menus/menus.toml")).expect("shipped menus")
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn the_shipped_configuration_passes_with_a_summary() {
    let (code, stdout, stderr) = check(&root().join("config/hotline.toml"));
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("2 menus"), "{stdout}");
    assert!(
        stdout.contains("worst case from answer to a person"),
        "{stdout}"
    );
    // The callback robot's script is loaded with the menus and summarised.
    assert!(stdout.contains("robot callback: consent"), "{stdout}");
}

#[test]
fn a_third_menu_level_is_refused_with_file_and_line() {
    // Key 4 of the level-2 menu opens a level-3 menu.
    let menus = shipped_menus().replace(
        "[menu.special.keys]\n",
        "[menu.special.keys]\n\"4\" = { menu = \"deeper\" }\n",
    ) + "\n[menu.deeper]\nprompts = [{ file = \"special-menu.wav\", purpose = \"menu\" }]\n[menu.deeper.keys]\n\"0\" = { queue = \"general\" }\n";
    let line = line_of(&menus, "\"4\" = { menu = \"deeper\" }");
    let (dir, config) = project(&menus);
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1, "{stderr}");
    let file = dir.path().join("ivr-menus/menus.toml");
    let expected = format!("{}:{line}:", file.display());
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(&expected) && l.contains("third level")),
        "wanted `{expected} … third level` in:\n{stderr}"
    );
}

#[test]
fn a_broken_robot_script_is_refused_with_file_and_line() {
    // The robot's `solved` step forgets 0 for a person; its rating binds 0 to an answer.
    let fixture = root().join("tests/fixtures/robot/no-person.toml");
    let robot = std::fs::read_to_string(&fixture).expect("fixture");
    let (dir, config) = project(&shipped_menus());
    let file = dir.path().join("ivr-menus/callback.toml");
    std::fs::write(&file, &robot).expect("robot");
    let (code, stdout, stderr) = check(&config);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    for (needle, words) in [
        (
            "[robot.callback.solved]",
            "step `solved` of robot `callback` does not bind \"0\" = \"person\"",
        ),
        (
            "\"0\" = \"unsatisfied\"",
            "step `rating` of robot `callback` does not bind",
        ),
    ] {
        let expected = format!("{}:{}: ", file.display(), line_of(&robot, needle));
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&expected) && l.contains(words) && l.contains("rule C5")),
            "wanted `{expected} … {words}` in:\n{stderr}"
        );
    }
    // The shipped script passes in the same project.
    std::fs::copy(root().join("ivr-menus/callback.toml"), &file).expect("robot");
    let (code, stdout, stderr) = check(&config);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
}

#[test]
fn an_advertising_prompt_is_refused_with_file_and_line() {
    let menus = shipped_menus().replace(
        "{ file = \"greeting.wav\", purpose = \"greeting\" },",
        "{ file = \"greeting.wav\", purpose = \"greeting\" },\n    { file = \"transfer.wav\", purpose = \"advertising\" },",
    );
    let line = line_of(&menus, "purpose = \"advertising\"");
    let (dir, config) = project(&menus);
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1, "{stderr}");
    let expected = format!(
        "{}:{line}:",
        dir.path().join("ivr-menus/menus.toml").display()
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(&expected) && l.contains("advertising")),
        "wanted `{expected} … advertising` in:\n{stderr}"
    );
}

#[test]
fn check_prints_the_policy_in_force_and_names_a_bad_number_with_its_line() {
    let (dir, config) = project(&shipped_menus());
    std::fs::write(
        &config,
        "[policy]\ncomplaint_days = 20\ncallback_days = 2\n",
    )
    .expect("config");
    let (code, stdout, stderr) = check(&config);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("policy: dispatch 1day (immediately = 30m)")
            && stdout.contains("consultation/help/suggestion/complaint/other 2/10/10/20/10 wd")
            && stdout.contains("callback 2 wd"),
        "{stdout}"
    );
    std::fs::write(&config, "[policy]\nsign_off_days = 1\nmax_extensions = 5\n").expect("config");
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1);
    let expected = format!(
        "{}:3: policy.max_extensions = 5",
        dir.path().join("config/hotline.toml").display()
    );
    assert!(
        stderr.contains(&expected),
        "wanted {expected} in:\n{stderr}"
    );
}

#[test]
fn an_integrated_number_naming_an_unknown_queue_menu_or_advertising_is_refused_at_its_line() {
    let (dir, config) = project(&shipped_menus());
    let text = "[sip]\nservice_numbers = [\"12345\", \"12315\", \"12333\", \"12366\"]\n\n\
                [numbers.12315]\nqueue = \"markt\"\n\
                [numbers.12333]\nmenu = \"hrss\"\n\
                [numbers.12366]\nqueue = \"general\"\nnotice = { file = \"notice-12315.wav\", purpose = \"advertising\" }\n";
    std::fs::write(&config, text).expect("config");
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1, "{stderr}");
    let path = dir.path().join("config/hotline.toml");
    for (line, what) in [
        (5, "[numbers.12315] queue names queue `markt`"),
        (7, "[numbers.12333] menu names menu `hrss`"),
        (10, "prompt purpose `advertising` is not allowed"),
    ] {
        let expected = format!("{}:{line}: {what}", path.display());
        assert!(
            stderr.contains(&expected),
            "wanted {expected} in:\n{stderr}"
        );
    }
    // Fixed, it passes and says where each number goes.
    let text = text
        .replace("markt", "market")
        .replace("menu = \"hrss\"", "menu = \"special\"")
        .replace("advertising", "information");
    std::fs::write(&config, text).expect("config");
    let (code, stdout, stderr) = check(&config);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("number 12366: straight to queue general after notice notice-12315.wav"),
        "{stdout}"
    );
    assert!(stdout.contains("number 12333: menu special"), "{stdout}");
    assert!(stdout.contains("number 12345: menu main"), "{stdout}");
}

#[test]
fn a_broken_config_names_its_file_and_line() {
    let (dir, config) = project(&shipped_menus());
    std::fs::write(
        &config,
        "[sip]\nlisten = \"127.0.0.1:5060\"\nservice_number = \"12345\"\n",
    )
    .expect("config");
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1);
    let expected = format!("{}:3:", dir.path().join("config/hotline.toml").display());
    assert!(
        stderr.contains(&expected),
        "wanted {expected} in:\n{stderr}"
    );
}

#[test]
fn a_storage_url_that_is_not_postgres_is_refused_at_its_line_without_the_password() {
    let (dir, config) = project(&shipped_menus());
    std::fs::write(
        &config,
        "[storage]\ndata_dir = \"data\"\nurl = \"mysql://hotline:s3cret@127.0.0.1/hotline\"\n",
    )
    .expect("config");
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1);
    let expected = format!("{}:3:", dir.path().join("config/hotline.toml").display());
    assert!(
        stderr.contains(&expected),
        "wanted {expected} in:\n{stderr}"
    );
    assert!(stderr.contains("PostgreSQL URL"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn serve_refuses_demo_passwords_beyond_loopback() {
    // Refused before any socket is bound, so nothing listens on the network.
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--config"])
        .arg(root().join("config/hotline.toml"))
        .args(["--sip-listen", "0.0.0.0:0", "--http-listen", "127.0.0.1:0"])
        .output()
        .expect("run hotline serve");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("demo agent passwords"), "{stderr}");
    assert!(stderr.contains("agents.toml"), "{stderr}");
}

/// Issue 11 item 16: `check` and `serve` agree — no key to the enterprise seat (C6) and demo
/// tokens on a non-loopback HTTP address are refused by both; a missing calendar year that
/// deadlines reach is a warning.
#[test]
fn check_and_serve_refuse_what_the_standard_and_the_network_forbid() {
    // The enterprise key rebound to the general queue: no key reaches the seat.
    let menus = shipped_menus().replace(
        "\"1\" = { queue = \"enterprise\" }     # enterprise service (营商环境)",
        "\"1\" = { queue = \"general\" }",
    );
    assert_ne!(
        menus,
        shipped_menus(),
        "the shipped menu binds 1 to enterprise"
    );
    let (_dir, config) = project(&menus);
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("rule C6") && stderr.contains("enterprise"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--config"])
        .arg(&config)
        .args([
            "--sip-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("run hotline serve");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rule C6"));

    // Demo tokens with HTTP on every address: refused by check (from the file) and serve.
    let (_dir, config) = project(&shipped_menus());
    std::fs::write(&config, "[http]\nlisten = \"0.0.0.0:8080\"\n").expect("config");
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("demo tokens") && stderr.contains("users.toml"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--config"])
        .arg(root().join("config/hotline.toml"))
        .args(["--sip-listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0"])
        .output()
        .expect("run hotline serve");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("demo tokens"));

    // The shipped files pass; a year without its calendar file is named when deadlines
    // can reach it (this year always; next year from November).
    let (_dir, config) = project(&shipped_menus());
    let (code, stdout, stderr) = check(&config);
    assert_eq!(code, 0, "{stderr}");
    let year = hotline::shell::clock::wall_now()
        .with_timezone(&hotline::workflow::model::china())
        .format("%Y")
        .to_string();
    let has_this_year = root().join(format!("config/calendar/{year}.toml")).exists();
    assert_eq!(
        stdout.contains(&format!("no working-day calendar for {year}")),
        !has_this_year,
        "{stdout}"
    );
}

#[test]
fn trunk_credentials_need_a_readable_secret_and_the_secret_is_never_printed() {
    let (dir, config) = project(&shipped_menus());
    let secret = dir.path().join("config/trunk.secret");
    let text = "[trunk]\naddress = \"127.0.0.1:5090\"\nusername = \"hotline\"\npassword_file = \"config/trunk.secret\"\nrealm = \"carrier\"\n";
    std::fs::write(&config, text).expect("config");
    // No file yet: refused, naming the config's line and the file.
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1, "{stderr}");
    let expected = format!("{}:4: trunk.password_file", config.display());
    assert!(
        stderr.contains(&expected),
        "wanted {expected} in:\n{stderr}"
    );
    assert!(stderr.contains("cannot read"), "{stderr}");
    std::fs::write(&secret, "Tr0ub4dor&3\n").expect("secret");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (code, stdout, _) = check(&config);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("warning: trunk.password_file can be read by every user"),
        "{stdout}"
    );
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (code, stdout, stderr) = check(&config);
    assert!(!stdout.contains("can be read by every user"), "{stdout}");
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("trunk: digest credentials for user \"hotline\", realm \"carrier\""),
        "{stdout}"
    );
    assert!(!stdout.contains("Tr0ub4dor") && !stderr.contains("Tr0ub4dor"));
    // Both secrets at once: refused with the line.
    std::fs::write(&config, format!("{text}password = \"x\"\n")).expect("config");
    let (code, _, stderr) = check(&config);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("set only one of trunk.password and trunk.password_file"),
        "{stderr}"
    );
}

/// The project of [`project`] with `config/<name>` replaced by `text`.
fn project_with(name: &str, text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, config) = project(&shipped_menus());
    let file = dir.path().join("config").join(name);
    std::fs::remove_file(&file).expect("unlink the shipped file");
    std::fs::write(&file, text).expect("write");
    (dir, config, file)
}

#[test]
fn the_shipped_area_tree_resolves_every_category_in_every_area() {
    let (code, stdout, stderr) = check(&root().join("config/hotline.toml"));
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("dispatch by area: 22 areas,")
            && stdout.contains("categories resolve to a unit in every area"),
        "{stdout}"
    );
}

#[test]
fn an_area_tree_with_a_loop_is_refused_with_file_and_line() {
    // 湖滨街道's parent becomes its own community: street → community → street.
    let shipped = std::fs::read_to_string(root().join("config/areas.toml")).expect("areas");
    let text = shipped.replacen(
        "code = \"351003001\"\nname = \"湖滨街道\"\nparent = \"351003\"",
        "code = \"351003001\"\nname = \"湖滨街道\"\nparent = \"351003001001\"",
        1,
    );
    assert_ne!(text, shipped);
    let (_dir, config, file) = project_with("areas.toml", &text);
    let (code, stdout, stderr) = check(&config);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The walk up from the street meets the street again through its community's `parent`.
    let line = line_of(&text, "code = \"351003001001\"") + 2;
    assert_eq!(
        text.lines().nth(line - 1),
        Some("parent = \"351003001\""),
        "the community's parent line"
    );
    let expected = format!("{}:{line}: ", file.display());
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(&expected) && l.contains("loop")),
        "wanted `{expected}… loop` in:\n{stderr}"
    );
}

#[test]
fn a_category_that_resolves_to_no_unit_in_some_area_is_refused_with_file_and_line() {
    // `city_appearance` loses its city-level lead: 云溪县 has no rule, so it resolves nowhere.
    let shipped = std::fs::read_to_string(root().join("config/dispatch.toml")).expect("dispatch");
    let text = shipped.replacen(
        "id = \"city_appearance\"\nname = \"市容环境（占道、违建、垃圾）\"\ndomain = \"social_management\"\nlead = \"urban\"\n",
        "id = \"city_appearance\"\nname = \"市容环境（占道、违建、垃圾）\"\ndomain = \"social_management\"\n",
        1,
    );
    assert_ne!(text, shipped);
    let line = line_of(&text, "id = \"city_appearance\"");
    let (_dir, config, file) = project_with("dispatch.toml", &text);
    let (code, stdout, stderr) = check(&config);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let expected = format!("{}:{line}: ", file.display());
    assert!(
        stderr.lines().any(|l| l.starts_with(&expected)
            && l.contains("city_appearance")
            && l.contains("no unit")),
        "wanted `{expected}… no unit` in:\n{stderr}"
    );
}
