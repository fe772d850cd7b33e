//! The page scripts of the browser tests (`tests/browser/*.mjs`, Debian's Chromium driven by
//! playwright-core): started under node with the engine's address, read line by line.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{http_request, root, Engine};

/// A page script under node, killed by PID when dropped; its stdout lines arrive on `lines`.
pub struct PageScript {
    child: Child,
    lines: mpsc::Receiver<String>,
    name: &'static str,
    stderr: PathBuf,
    /// Its test's place among the Chromiums the machine runs at once.
    _slot: std::sync::Arc<super::ports::Slot>,
}

impl Drop for PageScript {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn shots_dir() -> PathBuf {
    root().join("target").join("browser-shots")
}

pub fn start_page(
    name: &'static str,
    base: &str,
    token: &str,
    tmp: &Path,
    extra: &[&str],
) -> PageScript {
    let script = root().join("tests/browser").join(format!("{name}.mjs"));
    assert!(
        root()
            .join("tests/browser/node_modules/playwright-core")
            .exists(),
        "playwright-core is not installed: run ./.ci/test (npm ci in tests/browser)"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "chromium is not installed: run ./.ci/test (it installs Debian's chromium)"
    );
    // Two Chromiums at a time on this machine: a third starves the others' pages past
    // their timeouts on two cores.
    let slot = super::ports::slot("chromium", 2);
    let stderr = tmp.join(format!("{name}.err"));
    let mut child = Command::new("node")
        .arg(script)
        .arg(base)
        .arg(token)
        .arg(shots_dir())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("start node");
    let out = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    PageScript {
        child,
        lines,
        name,
        stderr,
        _slot: slot,
    }
}

impl PageScript {
    /// The next line starting with `word`, within `limit`; panics with the script's errors.
    pub fn expect(&self, word: &str, limit: Duration, engine: &Engine) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(word) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "{}: no {word} within {limit:?}\n{}\nengine log:\n{}",
                    self.name,
                    std::fs::read_to_string(&self.stderr).unwrap_or_default(),
                    engine.log()
                ),
            }
        }
    }
}

/// A staff action on a ticket through the API; panics with the answer unless it is a 200.
pub fn act(engine: &Engine, token: &str, id: &str, action: &str) {
    let (status, body) = http_request(
        engine.http,
        "POST",
        &format!("/api/tickets/{id}/actions"),
        Some(token),
        Some(action),
    );
    assert_eq!(status, 200, "{action}: {body}");
}

/// A citizen's request over the public route; its ticket id.
pub fn submit_request(engine: &Engine, content: &str) -> String {
    let body =
        serde_json::json!({"content": content, "type": "consultation", "callback_consent": false});
    let (status, text) = http_request(
        engine.http,
        "POST",
        "/api/public/requests",
        None,
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{text}");
    let receipt: serde_json::Value = serde_json::from_str(&text).expect("receipt json");
    receipt["id"].as_str().expect("id").to_string()
}
