//! Operations over real peers (issue 11, items 18 and 19): a baresip agent registers and goes
//! ready, the engine is stopped with SIGTERM and started again on the same data folder, and a
//! citizen's call rings the phone with no new REGISTER; `SIGHUP` during a bridged call keeps
//! the call, applies changed files, and refuses a broken one with `file:line` in the log while
//! the old configuration keeps working.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::baresip::start_baresip_with;
use common::{http_request, root, sipp, wait_for};

/// One `hotline serve` process on a project folder and data folder that outlive it.
struct Proc {
    child: Child,
    sip: SocketAddr,
    http: SocketAddr,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts the engine on `config` and `data`, SIP on `sip` (port 0: any), logging to `log`.
    fn start(config: &Path, data: &Path, sip: &str, log: PathBuf) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(["--sip-listen", sip, "--http-listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data)
            .env("RUST_LOG", "hotline=debug,info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start hotline");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "no listening line; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        let addr = |key: &str| -> SocketAddr {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key)?.parse().ok())
                .unwrap_or_else(|| panic!("{key} in {line:?}"))
        };
        Proc {
            sip: addr("sip="),
            http: addr("http="),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// SIGTERM, then waits (bounded) for a clean exit.
    fn terminate(&mut self) -> Option<i32> {
        self.signal("TERM");
        for _ in 0..400 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Waits (bounded) until the log has `n` lines containing `text`.
    fn wait_log(&self, text: &str, n: usize) -> String {
        wait_for(Duration::from_secs(10), || {
            let log = self.log();
            (log.matches(text).count() >= n).then_some(log)
        })
        .unwrap_or_else(|| panic!("{text:?} ×{n} not logged:\n{}", self.log()))
    }

    fn agents(&self) -> serde_json::Value {
        let (status, body) = http_request(
            self.http,
            "GET",
            "/api/agents",
            Some("demo-supervisor"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("json")
    }

    fn agent(&self, id: &str) -> serde_json::Value {
        self.agents()
            .as_array()
            .and_then(|a| a.iter().find(|x| x["id"] == id).cloned())
            .unwrap_or(serde_json::Value::Null)
    }

    fn set_state(&self, id: &str, body: &str) {
        let (status, text) = http_request(
            self.http,
            "POST",
            &format!("/api/agents/{id}/state"),
            Some("demo-supervisor"),
            Some(body),
        );
        assert_eq!(status, 204, "{text}");
    }

    fn metric(&self, sample: &str) -> f64 {
        let (_, body) = http_request(self.http, "GET", "/metrics", None, None);
        body.lines()
            .find(|l| l.starts_with(sample))
            .and_then(|l| l.split_whitespace().last()?.parse().ok())
            .unwrap_or(0.0)
    }

    fn live_call(&self, limit: Duration, state: &str) -> Option<serde_json::Value> {
        wait_for(limit, || {
            let (_, body) = http_request(
                self.http,
                "GET",
                "/api/calls",
                Some("demo-supervisor"),
                None,
            );
            let calls: serde_json::Value = serde_json::from_str(&body).ok()?;
            calls
                .as_array()?
                .iter()
                .find(|c| c["state"] == state)
                .cloned()
        })
    }
}

/// A project folder in `dir`: hotline.toml (own RTP block), copies of agents, queues and
/// users (to be edited), links to the rest of the shipped config and to the menus.
fn project(dir: &Path, rtp_min: u16) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("config")).expect("mkdir");
    std::os::unix::fs::symlink(root().join("ivr-menus"), project.join("ivr-menus")).expect("link");
    for entry in std::fs::read_dir(root().join("config"))
        .expect("config")
        .flatten()
    {
        let name = entry.file_name();
        let to = project.join("config").join(&name);
        match name.to_str() {
            Some("hotline.toml") => {}
            Some("agents.toml" | "queues.toml" | "users.toml") => {
                std::fs::copy(entry.path(), to).expect("copy");
            }
            _ => std::os::unix::fs::symlink(entry.path(), to).expect("link"),
        }
    }
    let config = project.join("config/hotline.toml");
    std::fs::write(
        &config,
        format!(
            "[rtp]\nport_min = {rtp_min}\nport_max = {}\n",
            rtp_min + 198
        ),
    )
    .expect("config");
    config
}

#[test]
fn a_restarted_engine_rings_the_agents_phone_without_a_new_register_and_keeps_states() {
    let dir = tempfile::tempdir().expect("tmp");
    let ports = common::ports::lease();
    let config = project(dir.path(), ports.first);
    let data = dir.path().join("data");
    let mut first = Proc::start(&config, &data, "127.0.0.1:0", dir.path().join("first.log"));
    let phone_dir = tempfile::tempdir().expect("tmp");
    // regint=600: the phone will not register again during this test.
    let _phone = start_baresip_with(
        phone_dir.path(),
        &format!(
            "<sip:1001@{};transport=udp>;auth_pass=demo-1001;regint=600;answermode=auto\n",
            first.sip
        ),
    );
    wait_for(Duration::from_secs(15), || {
        (first.agent("1001")["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| panic!("1001 registers; log:\n{}", first.log()));
    first.set_state("1001", r#"{"state":"ready"}"#);
    first.set_state("1003", r#"{"state":"not_ready","reason":"training"}"#);
    // Saved within a second of the change.
    wait_for(Duration::from_secs(5), || {
        let text = std::fs::read_to_string(data.join("state.json")).ok()?;
        text.contains("training").then_some(())
    })
    .expect("state.json written after the change");
    let registers_before =
        first.metric(r#"hotline_sip_requests_total{direction="received",method="REGISTER"}"#);
    assert!(registers_before >= 1.0);
    assert_eq!(
        first.terminate(),
        Some(0),
        "clean exit; log:\n{}",
        first.log()
    );
    let sip = first.sip.to_string();
    drop(first);

    // Same data folder, same SIP address: the phone is not told anything.
    let second = Proc::start(&config, &data, &sip, dir.path().join("second.log"));
    second.wait_log("restored 1 registration(s)", 1);
    let a1001 = second.agent("1001");
    assert_eq!(a1001["registered"], true, "{a1001}");
    assert_eq!(a1001["state"], "ready", "{a1001}");
    let a1003 = second.agent("1003");
    assert_eq!(a1003["state"], "not_ready", "{a1003}");
    assert_eq!(a1003["reason"], "training", "{a1003}");

    // A citizen presses 1: the enterprise agent's phone rings and answers.
    let target = second.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "3000"],
            Duration::from_secs(30),
        )
    });
    let talking = second
        .live_call(Duration::from_secs(15), "talking")
        .unwrap_or_else(|| {
            panic!(
                "the agent never answered; log:\n{}\nbaresip:\n{}",
                second.log(),
                std::fs::read_to_string(phone_dir.path().join("baresip.log")).unwrap_or_default()
            )
        });
    assert_eq!(talking["agent"], "1001", "{talking}");
    caller.join().expect("sipp").assert_ok();
    assert_eq!(
        second.metric(r#"hotline_sip_requests_total{direction="received",method="REGISTER"}"#),
        0.0,
        "baresip did not register again"
    );
}

#[test]
fn sighup_during_a_bridged_call_applies_changes_and_refuses_a_broken_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let ports = common::ports::lease();
    let config = project(dir.path(), ports.first);
    let data = dir.path().join("data");
    let engine = Proc::start(&config, &data, "127.0.0.1:0", dir.path().join("engine.log"));
    let phone_dir = tempfile::tempdir().expect("tmp");
    let _phone = start_baresip_with(
        phone_dir.path(),
        &format!(
            "<sip:1001@{};transport=udp>;auth_pass=demo-1001;regint=600;answermode=auto\n",
            engine.sip
        ),
    );
    wait_for(Duration::from_secs(15), || {
        (engine.agent("1001")["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| panic!("1001 registers; log:\n{}", engine.log()));
    engine.set_state("1001", r#"{"state":"ready"}"#);
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "9000"],
            Duration::from_secs(40),
        )
    });
    let talking = engine
        .live_call(Duration::from_secs(15), "talking")
        .unwrap_or_else(|| panic!("never bridged; log:\n{}", engine.log()));
    let call = talking["id"].clone();

    // New token, new agent, then SIGHUP while the call is bridged.
    let cfg = config.parent().expect("config dir");
    let (status, _) = http_request(
        engine.http,
        "GET",
        "/api/agents",
        Some("new-token-42"),
        None,
    );
    assert_eq!(status, 401);
    let users = std::fs::read_to_string(cfg.join("users.toml")).expect("users");
    std::fs::write(
        cfg.join("users.toml"),
        format!("{users}\n[[user]]\ntoken = \"new-token-42\"\nuser = \"night-supervisor\"\nrole = \"supervisor\"\n"),
    )
    .expect("write users");
    let agents = std::fs::read_to_string(cfg.join("agents.toml")).expect("agents");
    std::fs::write(
        cfg.join("agents.toml"),
        format!("{agents}\n[[agent]]\nid = \"1099\"\nname = \"Night Shift\"\npassword = \"demo-1099\"\nskills = [{{ skill = \"general\", level = 3 }}]\n"),
    )
    .expect("write agents");
    engine.signal("HUP");
    let log = engine.wait_log("reloaded: ", 1);
    assert!(log.contains("reloaded: 7 agents, 10 queues"), "{log}");
    let (status, body) = http_request(
        engine.http,
        "GET",
        "/api/agents",
        Some("new-token-42"),
        None,
    );
    assert_eq!(status, 200, "the new token works: {body}");
    assert_eq!(engine.agent("1099")["state"], "logged_out");
    // The new agent's password is checked from the reloaded file: their phone registers.
    let phone2_dir = tempfile::tempdir().expect("tmp");
    let _phone2 = start_baresip_with(
        phone2_dir.path(),
        &format!(
            "<sip:1099@{};transport=udp>;auth_pass=demo-1099;regint=600\n",
            engine.sip
        ),
    );
    wait_for(Duration::from_secs(15), || {
        (engine.agent("1099")["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| panic!("1099 registers after the reload; log:\n{}", engine.log()));
    let still = engine
        .live_call(Duration::from_secs(1), "talking")
        .expect("the bridged call is still up");
    assert_eq!(still["id"], call);
    assert_eq!(engine.agent("1001")["state"], "talking");

    // A broken queues.toml: refused with file:line, the old configuration stays.
    let queues = std::fs::read_to_string(cfg.join("queues.toml")).expect("queues");
    std::fs::write(
        cfg.join("queues.toml"),
        format!("{queues}\n[[queue]]\nname = \"general\"\nskill = \"general\"\nbogus = 1\n"),
    )
    .expect("write queues");
    engine.signal("HUP");
    let log = engine.wait_log("reload refused: the configuration in force stays", 1);
    let refusal = log
        .lines()
        .find(|l| l.contains("reload refused: ") && l.contains("queues.toml:"))
        .unwrap_or_else(|| panic!("no file:line in the refusal:\n{log}"));
    assert!(
        refusal
            .split("queues.toml:")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .is_some_and(|n| n.parse::<u32>().is_ok()),
        "{refusal}"
    );
    let (status, _) = http_request(
        engine.http,
        "GET",
        "/api/agents",
        Some("new-token-42"),
        None,
    );
    assert_eq!(status, 200, "the configuration in force still works");
    assert_eq!(
        engine.metric(r#"hotline_config_reloads_total{result="ok"}"#),
        1.0
    );
    assert_eq!(
        engine.metric(r#"hotline_config_reloads_total{result="refused"}"#),
        1.0
    );

    // The call was never dropped: the caller ends it normally.
    caller.join().expect("sipp").assert_ok();
    assert!(engine.log().contains("hotline serving"));
    assert!(
        !engine.log().contains("signal received"),
        "SIGHUP did not stop the engine"
    );
}
