//! An engine process that outlives nothing but its handle: started on a project folder and a
//! data folder the test keeps, so it can be killed (-9) or stopped and started again on the
//! same data; SIPp callers stopped by PID.

#![allow(dead_code)] // each test binary uses a different part of this

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{http_request, root};

/// One `hotline serve` process on a project folder and data folder that outlive it.
pub struct Proc {
    child: Child,
    pub sip: SocketAddr,
    pub http: SocketAddr,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    pub fn start(config: &Path, data: &Path, log: PathBuf) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args([
                "--sip-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ])
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
            .recv_timeout(Duration::from_secs(60))
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

    /// Agent 1001's baresip phone (auto-answer) registered to this engine and 1001 ready:
    /// keep both returned handles alive for the phone to stay up.
    pub fn agent_1001_ready(&self) -> (tempfile::TempDir, super::baresip::Baresip) {
        let phone_dir = tempfile::tempdir().expect("tmp");
        let phone = super::baresip::start_baresip_with(
            phone_dir.path(),
            &format!(
                "<sip:1001@{};transport=udp>;auth_pass=demo-1001;regint=600;answermode=auto\n",
                self.sip
            ),
        );
        super::wait_for(Duration::from_secs(15), || {
            let agents = self.get("/api/agents");
            let a = agents
                .as_array()?
                .iter()
                .find(|a| a["id"] == "1001")?
                .clone();
            (a["registered"] == true).then_some(())
        })
        .unwrap_or_else(|| panic!("1001 registers; log:\n{}", self.log()));
        let (status, body) = http_request(
            self.http,
            "POST",
            "/api/agents/1001/state",
            Some("demo-supervisor"),
            Some(r#"{"state":"ready"}"#),
        );
        assert_eq!(status, 204, "{body}");
        (phone_dir, phone)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        let (status, body) = http_request(self.http, "GET", path, Some("demo-supervisor"), None);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("json")
    }

    pub fn metric(&self, sample: &str) -> f64 {
        let (_, body) = http_request(self.http, "GET", "/metrics", None, None);
        body.lines()
            .find(|l| l.starts_with(sample))
            .and_then(|l| l.split_whitespace().last()?.parse().ok())
            .unwrap_or(0.0)
    }

    /// kill -9: no shutdown, no flush, nothing.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (bounded) for a clean exit.
    pub fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..400 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

/// SIPp callers, stopped by PID when dropped (a killed engine never ends their calls).
pub struct Callers(pub Vec<Child>);

impl Drop for Callers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `calls` SIPp callers running `scenario`, each staying `hold_ms` after the menu.
pub fn callers(target: SocketAddr, scenario: &str, calls: u32, hold_ms: u32) -> Child {
    Command::new("sipp")
        .arg(target.to_string())
        .arg("-sf")
        .arg(root().join("tests/sipp").join(scenario))
        .args(["-s", "12345", "-i", "127.0.0.1", "-p", "0"])
        .args(["-nostdin", "-timeout", "60s", "-timeout_error"])
        .args(["-m", &calls.to_string(), "-l", &calls.to_string()])
        .args(["-r", "10", "-d", &hold_ms.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp (./.ci/test installs it)")
}

/// A project folder in `dir`: hotline.toml with its own RTP block and no media timeout
/// (the menu callers send no RTP), links to the rest of the shipped config and the menus.
pub fn project(dir: &Path, rtp_min: u16) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("config")).expect("mkdir");
    std::os::unix::fs::symlink(root().join("ivr-menus"), project.join("ivr-menus")).expect("link");
    for entry in std::fs::read_dir(root().join("config"))
        .expect("config")
        .flatten()
    {
        if entry.file_name() != "hotline.toml" {
            let to = project.join("config").join(entry.file_name());
            std::os::unix::fs::symlink(entry.path(), to).expect("link");
        }
    }
    let config = project.join("config/hotline.toml");
    std::fs::write(
        &config,
        format!(
            "[rtp]\nport_min = {rtp_min}\nport_max = {}\nmedia_timeout = \"0s\"\n",
            rtp_min + 198
        ),
    )
    .expect("config");
    config
}
