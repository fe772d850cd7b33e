//! Shared by the integration tests: start a whole engine on port 0 (stopped by PID on drop),
//! run SIPp against it with a time bound, and read its HTTP API.

#![allow(dead_code)] // each test binary uses a different part of this

pub mod baresip;
pub mod callback;
pub mod linphone;
pub mod pages;
pub mod pcap;
pub mod ports;
pub mod postgres;
pub mod proc;
pub mod public;
pub mod store_backend;
pub mod ticket_writers;
pub mod tone_calls;
pub mod tones;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `hotline serve` on loopback, with its own data dir.
pub struct Engine {
    child: Child,
    pub sip: SocketAddr,
    pub http: SocketAddr,
    pub data_dir: tempfile::TempDir,
    stderr_log: PathBuf,
    /// Its RTP range, leased from every other test on the machine (none when the test's
    /// own `[rtp]` table names one).
    _ports: Option<ports::PortBlock>,
}

/// The project root (where `config/` and `ivr-menus/` live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Engine {
    /// Starts the engine with the shipped defaults plus `extra_toml` (whole tables, e.g.
    /// `[sip]\nanswer_delay = "2s"`). Each engine gets its own RTP port block so engines of
    /// parallel tests never collide, unless `extra_toml` has its own `[rtp]` table.
    pub fn start(extra_toml: &str) -> Engine {
        Self::start_with_args(extra_toml, &[])
    }

    /// As [`Engine::start`], with more flags for `hotline serve` (e.g. `--log-format json`).
    pub fn start_with_args(extra_toml: &str, args: &[&str]) -> Engine {
        Self::start_with_env(extra_toml, args, &[])
    }

    /// As [`Engine::start_with_args`], with more environment (e.g. libfaketime's).
    pub fn start_with_env(extra_toml: &str, args: &[&str], env: &[(&str, &str)]) -> Engine {
        Self::start_in(
            tempfile::tempdir().expect("temp dir"),
            extra_toml,
            args,
            env,
        )
    }

    /// As [`Engine::start_with_env`], over a data dir the test has already filled (records,
    /// tickets, agent activity written through the store's own functions).
    pub fn start_in(
        data_dir: tempfile::TempDir,
        extra_toml: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Engine {
        // A config in a temp `config/` folder next to a link to the shipped menus.
        let dir = data_dir.path().join("project");
        std::fs::create_dir_all(dir.join("config")).expect("mkdir");
        std::os::unix::fs::symlink(root().join("ivr-menus"), dir.join("ivr-menus"))
            .expect("link menus");
        // Everything the shipped config folder holds but hotline.toml (agents, queues,
        // users, dispatch catalogue, calendars).
        for entry in std::fs::read_dir(root().join("config"))
            .expect("config dir")
            .flatten()
        {
            if entry.file_name() != "hotline.toml" {
                let link = dir.join("config").join(entry.file_name());
                std::os::unix::fs::symlink(entry.path(), link).expect("link config");
            }
        }
        let config = dir.join("config/hotline.toml");
        let mut text = String::from(extra_toml);
        let mut leased = None;
        if !extra_toml.contains("[rtp]") {
            let block = ports::lease();
            text.push_str(&format!(
                "\n[rtp]\nport_min = {}\nport_max = {}\n",
                block.first,
                block.last() - 1
            ));
            leased = Some(block);
        }
        std::fs::write(&config, text).expect("write config");
        let stderr_log = data_dir.path().join("engine.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .args([
                "--sip-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "hotline=debug,info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_log).expect("log file"))
            .spawn()
            .expect("start hotline");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut sip = None;
        let mut http = None;
        while sip.is_none() || http.is_none() {
            let line = match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(l) => l,
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "engine did not report its addresses; log:\n{}",
                        std::fs::read_to_string(&stderr_log).unwrap_or_default()
                    );
                }
            };
            // "listening sip=127.0.0.1:PORT http=127.0.0.1:PORT"
            for word in line.split_whitespace() {
                if let Some(a) = word.strip_prefix("sip=") {
                    sip = a.parse().ok();
                }
                if let Some(a) = word.strip_prefix("http=") {
                    http = a.parse().ok();
                }
            }
        }
        Engine {
            child,
            sip: sip.expect("sip addr"),
            http: http.expect("http addr"),
            data_dir,
            stderr_log,
            _ports: leased,
        }
    }

    /// The engine's process id (to inspect or limit it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The engine's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (bounded: 20 s, generous for a loaded CI machine; the engine's
    /// own grace for live calls is 5 s) for a clean exit; returns the exit status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..400 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// GET a path from the HTTP API: (status, body).
    /// A GET with the demo supervisor's token (the API's call and KPI routes need one).
    pub fn get(&self, path: &str) -> (u16, String) {
        http_request(self.http, "GET", path, Some("demo-supervisor"), None)
    }

    /// The first live call (`/api/calls`) that satisfies `pred`, waiting up to `limit`.
    pub fn call_where(
        &self,
        limit: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        wait_for(limit, || {
            let (_, body) = self.get("/api/calls");
            let calls: serde_json::Value = serde_json::from_str(&body).ok()?;
            calls.as_array()?.iter().find(|c| pred(c)).cloned()
        })
    }

    /// The newest finished call (`/api/calls/recent`), waiting up to `limit` for one.
    pub fn latest_record(&self, limit: Duration) -> Option<serde_json::Value> {
        wait_for(limit, || {
            let (_, body) = self.get("/api/calls/recent");
            let recent: serde_json::Value = serde_json::from_str(&body).ok()?;
            recent.as_array()?.first().cloned()
        })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A minimal HTTP/1.1 client for tests (no extra dependency): (status, body).
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect http");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = match text.split_once("\r\n\r\n") {
        Some((head, rest))
            if head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked") =>
        {
            dechunk(rest)
        }
        Some((_, rest)) => rest.to_string(),
        None => String::new(),
    };
    (status, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// The result of one SIPp run.
pub struct SippRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl SippRun {
    /// Fails the test with SIPp's own report when a call failed.
    pub fn assert_ok(&self) {
        assert!(
            self.success,
            "sipp failed:\n{}\n{}",
            self.stdout, self.stderr
        );
    }
}

/// Runs SIPp with a scenario from `tests/sipp/` against the engine, bounded in calls and time.
pub fn sipp(target: SocketAddr, scenario: &str, args: &[&str], timeout: Duration) -> SippRun {
    assert!(
        Command::new("sipp").arg("-v").output().is_ok(),
        "SIPp is not installed: run ./.ci/test (it installs Debian's sip-tester)"
    );
    let scen = root().join("tests/sipp").join(scenario);
    let mut cmd = Command::new("sipp");
    cmd.arg(target.to_string())
        .arg("-sf")
        .arg(&scen)
        .args(["-s", "12345", "-i", "127.0.0.1", "-p", "0"])
        .args(["-nostdin", "-timeout_error"])
        .arg("-timeout")
        .arg(format!("{}s", timeout.as_secs().max(1)))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = cmd.output().expect("run sipp");
    SippRun {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let steps = (limit.as_millis() / 100).max(1);
    for _ in 0..steps {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Agent `id`'s password as `config/agents.toml` ships it.
pub fn shipped_password(id: &str) -> String {
    let text = std::fs::read_to_string(root().join("config/agents.toml")).expect("agents.toml");
    let doc: toml::Value = toml::from_str(&text).expect("agents.toml parses");
    doc.get("agent")
        .and_then(toml::Value::as_array)
        .and_then(|a| a.iter().find(|x| x["id"].as_str() == Some(id)))
        .and_then(|a| a["password"].as_str())
        .unwrap_or_else(|| panic!("{id} has a password in config/agents.toml"))
        .to_string()
}
