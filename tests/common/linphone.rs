//! Linphone as an agent's softphone (Debian's `linphone-daemon`, the same liblinphone as the
//! desktop and mobile apps): headless, registered from its config file, driven over its
//! command socket like a person at its buttons — dial a colleague while the citizen is on
//! hold, transfer one call to the other (REFER with Replaces), merge both into the phone's
//! own conference. It has no sound card here: its own voice is silence, which is why the
//! tests listen at the other peers. Stopped by PID when dropped.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One `linphone-daemon`, stopped by PID when dropped.
pub struct Linphone {
    child: Child,
    /// Its command socket (`--pipe NAME` listens at `/tmp/NAME`).
    socket: PathBuf,
    /// One connection for every command: the daemon serves a single client and notices a
    /// closed one late ("Cannot accept two client at the same time").
    conn: std::sync::Mutex<Option<std::os::unix::net::UnixStream>>,
    log: PathBuf,
}

impl Drop for Linphone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Agent `agent`'s Linphone (password `demo-<agent>`), answering calls by itself.
pub fn start_linphone(dir: &Path, engine: std::net::SocketAddr, agent: &str) -> Linphone {
    assert!(
        Path::new("/usr/bin/linphone-daemon").exists(),
        "Linphone is not installed: run ./.ci/test (it installs Debian's linphone-cli)"
    );
    let home = dir.join(format!("linphone-{agent}"));
    std::fs::create_dir_all(home.join(".local/share/linphone")).expect("linphone home");
    let (sip, rtp) = (free_udp_port(), free_udp_port());
    let rc = home.join("linphonerc");
    std::fs::write(
        &rc,
        format!(
            "[sip]\nsip_port={sip}\nsip_tcp_port=0\nsip_tls_port=0\ndefault_proxy=0\n\
             [rtp]\naudio_rtp_port={rtp}\n\
             [sound]\nechocancellation=0\n\
             [misc]\nmax_calls=4\n\
             [proxy_0]\nreg_proxy=<sip:{engine};transport=udp>\n\
             reg_identity=sip:{agent}@{engine}\nreg_expires=600\nreg_sendregister=1\npublish=0\n\
             [auth_info_0]\nusername={agent}\nuserid={agent}\npasswd=demo-{agent}\nrealm=hotline\n"
        ),
    )
    .expect("linphonerc");
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let pipe = format!(
        "hotline-test-linphone-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let socket = PathBuf::from("/tmp").join(&pipe);
    let _ = std::fs::remove_file(&socket);
    let log = home.join("linphone.log");
    let child = Command::new("linphone-daemon")
        .arg("--config")
        .arg(&rc)
        .args(["--pipe", &pipe, "--auto-answer", "--disable-stats-events"])
        .arg("--log")
        .arg(&log)
        .env("HOME", &home)
        .current_dir(&home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start linphone-daemon");
    let phone = Linphone {
        child,
        socket,
        conn: std::sync::Mutex::new(None),
        log,
    };
    super::wait_for(Duration::from_secs(10), || {
        phone.socket.exists().then_some(())
    })
    .unwrap_or_else(|| panic!("linphone-daemon opens its socket; log:\n{}", phone.log()));
    phone
}

impl Linphone {
    /// Runs one daemon command (e.g. `call sip:1002@…`, `call-transfer 1 2`) and answers its
    /// reply (`Status: Ok` and fields, or `Status: Error` and a reason).
    pub fn command(&self, command: &str) -> String {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if conn.is_none() {
            let s = std::os::unix::net::UnixStream::connect(&self.socket)
                .unwrap_or_else(|e| panic!("linphone's socket: {e}"));
            *conn = Some(s);
        }
        let Some(s) = conn.as_mut() else {
            unreachable!("connected above");
        };
        s.write_all(format!("{command}\n").as_bytes())
            .expect("send the command");
        // A reply is one or more blocks ending in an empty line: read until 200 ms pass
        // without more after something came (5 s at most for the first byte).
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let wait = if reply.is_empty() { 5000 } else { 200 };
            s.set_read_timeout(Some(Duration::from_millis(wait)))
                .expect("timeout");
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    }

    /// A command that must succeed.
    pub fn ok(&self, command: &str) -> String {
        let reply = self.command(command);
        assert!(
            reply.contains("Status: Ok"),
            "Linphone refused `{command}`: {reply}\nlog tail:\n{}",
            self.log_tail()
        );
        reply
    }

    /// The state of call `id` (`LinphoneCallStreamsRunning`, `LinphoneCallPaused`, …).
    pub fn call_state(&self, id: u32) -> String {
        let reply = self.command(&format!("call-status {id}"));
        reply
            .lines()
            .find_map(|l| l.strip_prefix("State: "))
            .unwrap_or("none")
            .trim()
            .to_string()
    }

    /// Waits until call `id` is in `state`.
    pub fn wait_call(&self, id: u32, state: &str, limit: Duration) {
        super::wait_for(limit, || (self.call_state(id) == state).then_some(())).unwrap_or_else(
            || {
                panic!(
                    "Linphone's call {id} never reached {state} (now {}); log tail:\n{}",
                    self.call_state(id),
                    self.log_tail()
                )
            },
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The SIP messages of the log's last part, for a failure message.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let start = log.len().saturating_sub(20_000);
        let start = (start..log.len())
            .find(|i| log.is_char_boundary(*i))
            .unwrap_or(log.len());
        log[start..].to_string()
    }
}
