//! baresip as agents' softphones: headless, a sine tone as the voice (440 Hz unless told);
//! by default 1001 auto-answers and 1002 has a wrong password (to be refused). With
//! [`PhoneAudio::record_heard`] its `sndfile` module dumps what each call decodes, read back
//! by [`Baresip::heard`]. Stopped by PID when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// baresip, stopped by PID when dropped; `command` drives it like a person at its keypad.
pub struct Baresip {
    child: Child,
    /// Its `ctrl_tcp` port (commands as netstrings of JSON).
    control: u16,
    /// Where `sndfile` writes its dumps, when recording.
    dumps: Option<PathBuf>,
    /// Its RTP ports, leased from every other test on the machine.
    _ports: super::ports::PortBlock,
}

/// How a test's phone sounds, and whether it keeps what it hears.
#[derive(Debug, Clone, Copy)]
pub struct PhoneAudio {
    /// The phone's "voice": a sine of this frequency (60 s long, about -12 dBFS).
    pub tone_hz: f64,
    /// Load baresip's `sndfile` module: every call's decoded (received) audio goes to a WAV.
    pub record_heard: bool,
}

impl Default for PhoneAudio {
    fn default() -> Self {
        PhoneAudio {
            tone_hz: 440.0,
            record_heard: false,
        }
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Baresip {
    /// Runs one of baresip's menu commands (e.g. `sndcode` `7`: press 7 in the current call)
    /// over its `ctrl_tcp` socket; panics when baresip does not take it.
    #[allow(dead_code)] // not every test binary drives the phone
    pub fn command(&self, command: &str, params: &str) {
        use std::io::{Read, Write};
        let json =
            serde_json::json!({"command": command, "params": params, "token": "t"}).to_string();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.control))
            .expect("baresip's ctrl_tcp port");
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(format!("{}:{json},", json.len()).as_bytes())
            .expect("send the command");
        // Events (a call closing because of this very command) may come before the reply.
        let mut reply = String::new();
        for _ in 0..8 {
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            reply.push_str(&String::from_utf8_lossy(&buf[..n]));
            if reply.contains(r#""response":true"#) {
                break;
            }
        }
        assert!(
            reply.contains(r#""ok":true"#),
            "baresip refused {command}: {reply}"
        );
    }

    /// What the phone heard: each call's decoded audio (`sndfile`'s `dump-…-dec.wav`, oldest
    /// call first) as (samples, sample rate). Readable while a call is still up. Empty when
    /// the phone was not started with [`PhoneAudio::record_heard`] or took no call.
    #[allow(dead_code)] // not every test binary listens
    pub fn heard(&self) -> Vec<(Vec<i16>, u32)> {
        let Some(dir) = &self.dumps else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("dump-") && n.ends_with("-dec.wav"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Oldest call first (the names start with the phone's and the peer's addresses).
        files.sort_by_key(|p| {
            std::fs::metadata(p)
                .and_then(|m| m.created().or_else(|_| m.modified()))
                .ok()
        });
        files
            .iter()
            .filter_map(|p| super::tones::read_wav_lenient(p))
            .collect()
    }

    /// A position (samples) in what the phone's newest call has heard so far, for
    /// [`Baresip::heard_since`]; 0 before any call.
    #[allow(dead_code)] // not every test binary listens
    pub fn mark(&self) -> usize {
        self.heard().last().map_or(0, |(pcm, _)| pcm.len())
    }

    /// What the newest call heard after `mark` (read from the live dump), and its rate.
    #[allow(dead_code)] // not every test binary listens
    pub fn heard_since(&self, mark: usize) -> (Vec<i16>, u32) {
        let (pcm, rate) = self.heard().pop().unwrap_or_default();
        (pcm.get(mark..).unwrap_or(&[]).to_vec(), rate)
    }
}

/// 1001 auto-answers with the correct password; 1002 has a wrong one.
pub fn start_baresip(dir: &Path, engine: std::net::SocketAddr) -> Baresip {
    let accounts = format!(
        "<sip:1001@{engine};transport=udp>;auth_pass=demo-1001;regint=600;answermode=auto\n\
         <sip:1002@{engine};transport=udp>;auth_pass=not-the-password;regint=600\n"
    );
    start_baresip_with(dir, &accounts)
}

/// baresip with the given `accounts` file (one account per line), a 440 Hz voice.
pub fn start_baresip_with(dir: &Path, accounts: &str) -> Baresip {
    start_baresip_audio(dir, accounts, PhoneAudio::default())
}

/// baresip with the given `accounts` file, voice and recording (see [`PhoneAudio`]).
pub fn start_baresip_audio(dir: &Path, accounts: &str, audio: PhoneAudio) -> Baresip {
    assert!(
        Path::new("/usr/lib/baresip/modules/account.so").exists(),
        "baresip is not installed: run ./.ci/test (it installs Debian's baresip)"
    );
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let control = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    // The agent's "voice": 60 s of a tone at 8 kHz, so the engine (and the other peers) can
    // tell it arrived and whose it is.
    let tone = dir.join("voice.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&tone, spec).expect("tone file");
    for i in 0..8000 * 60 {
        let v = (f64::from(i) * 2.0 * std::f64::consts::PI * audio.tone_hz / 8000.0).sin() * 8000.0;
        w.write_sample(v as i16).expect("sample");
    }
    w.finalize().expect("tone written");
    // Each phone gets its own RTP range.
    let ports = super::ports::lease();
    let rtp = ports.first;
    let dumps = audio.record_heard.then(|| dir.join("heard"));
    let recording = match &dumps {
        Some(d) => {
            std::fs::create_dir_all(d).expect("dump folder");
            format!("module\t\t\tsndfile.so\nsnd_path\t\t{}\n", d.display())
        }
        None => String::new(),
    };
    let config = format!(
        "poll_method\t\tepoll\n\
         sip_listen\t\t127.0.0.1:{port}\n\
         sip_trans_def\t\tudp\n\
         net_interface\t\t127.0.0.1\n\
         rtp_ports\t\t{rtp}-{}\n\
         module_path\t\t/usr/lib/baresip/modules\n\
         module\t\t\tg711.so\n\
         module\t\t\taufile.so\n\
         audio_source\t\taufile,{}\n\
         module_app\t\taccount.so\n\
         module_app\t\tmenu.so\n\
         module_app\t\tctrl_tcp.so\n\
         ctrl_tcp_listen\t\t127.0.0.1:{control}\n\
         {recording}",
        ports.last(),
        tone.display(),
    );
    std::fs::write(dir.join("config"), config).expect("baresip config");
    std::fs::write(dir.join("accounts"), accounts).expect("baresip accounts");
    let child = Command::new("baresip")
        .arg("-f")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("baresip.log")).expect("log"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start baresip");
    Baresip {
        child,
        control,
        dumps,
        _ports: ports,
    }
}
