//! The bridged load run (`benches/load_bridged.sh`) in miniature: SIPp phones register the
//! demo agents with MD5 digest (the `[registrar] md5_only_agents` setting picks them out by
//! User-Agent), answer the engine's INVITEs with the load scenarios of `benches/load/`, and two
//! SIPp callers press 0 in-band and talk; the recordings lose no frame and carry both sides.
//! And its `THREE_WAY=1` run: five calls with the water unit conferenced in over the API.
//! And both load runs' receiving side, `rtp-probe` (benches/load/rtp_probe.rs): as the SIPp
//! trunk's callers of `benches/load_ivr.sh` (it sees every paced stream, and its keepalives keep
//! the calls up past `rtp.media_timeout`), and with `--reply` as the agents' phones of
//! `benches/load_bridged.sh` (it sees every relayed stream, and its 600 Hz is recorded).
//! Functional facts only: the pacing figures are the benchmarks' business.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{http_request, ports, root, wait_for, Engine};
use hotline::media::Codec;

/// A SIPp process stopped (by its PID) when the test ends, however it ends.
struct Sipp(Child);

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Writes `seconds` of raw A-law: `tones` summed, each at `amplitude`.
fn alaw_file(path: &Path, tones: &[f64], amplitude: f64, seconds: f64) {
    let n = (8000.0 * seconds) as usize;
    let pcm: Vec<i16> = (0..n)
        .map(|t| {
            let v: f64 = tones
                .iter()
                .map(|f| amplitude * (2.0 * std::f64::consts::PI * f * t as f64 / 8000.0).sin())
                .sum();
            v as i16
        })
        .collect();
    let mut out = vec![0u8; n];
    Codec::Pcma.encode(&pcm, &mut out);
    std::fs::write(path, out).expect("write audio");
}

fn metric(engine: &Engine, name: &str) -> u64 {
    let (_, body) = engine.get("/metrics");
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{body}"))
}

/// Peak absolute sample of each channel over the middle second of a stereo recording.
fn channel_peaks(path: &Path) -> (i16, i16) {
    let reader = hound::WavReader::open(path).expect("valid WAV");
    assert_eq!(reader.spec().channels, 2);
    let samples: Vec<i16> = reader.into_samples().map(|s| s.expect("sample")).collect();
    let mid = (samples.len() / 2) & !1;
    let window = &samples[mid.saturating_sub(8000)..(mid + 8000).min(samples.len())];
    let peak = |skip: usize| {
        window
            .iter()
            .skip(skip)
            .step_by(2)
            .map(|s| s.saturating_abs())
            .max()
            .unwrap_or(0)
    };
    (peak(0), peak(1))
}

/// SIPp on loopback in `dir` (its scenarios' audio files), aimed at `target` (none: a
/// server), output captured.
fn sipp_command(dir: &Path, target: Option<std::net::SocketAddr>, args: &[&str]) -> Command {
    let mut cmd = Command::new("sipp");
    cmd.args(target.map(|t| t.to_string()))
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-nostdin", "-timeout_error"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits (30 s at most) for the SIPp callers to end, and requires every call of theirs to
/// have succeeded.
fn callers_succeed(mut callers: std::process::Child) {
    let done = wait_for(Duration::from_secs(30), || {
        callers.try_wait().ok().flatten()
    });
    let _ = callers.kill();
    let out = callers.wait_with_output().expect("SIPp callers output");
    assert!(
        done.is_some_and(|s| s.success()),
        "callers failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The demo agents the SIPp phones register as (`agents.csv`, their demo passwords).
const AGENTS: [&str; 6] = ["1001", "1002", "1003", "1004", "1005", "1006"];

/// The load scenarios' files in `dir`: each `(name, Hz)` as `name.alaw` (1 s of the tone,
/// looped by `rtp_stream`), the key 0 in-band then 200 ms of silence as `dtmf0.alaw`, and
/// `agents.csv` with the demo agents' digest credentials.
fn write_load_files(dir: &Path, tones: &[(&str, f64)]) {
    for (name, hz) in tones {
        alaw_file(&dir.join(format!("{name}.alaw")), &[*hz], 8000.0, 1.0);
    }
    let mut dtmf = Vec::new();
    alaw_file(&dir.join("dtmf0.alaw"), &[941.0, 1336.0], 5000.0, 0.2);
    dtmf.extend(std::fs::read(dir.join("dtmf0.alaw")).expect("read"));
    dtmf.extend(std::iter::repeat_n(0xD5u8, 1600)); // 200 ms of A-law silence
    std::fs::write(dir.join("dtmf0.alaw"), dtmf).expect("write");
    let mut csv = String::from("SEQUENTIAL\n");
    for id in AGENTS {
        csv.push_str(&format!(
            "{id};[authentication username={id} password=demo-{id}]\n"
        ));
    }
    std::fs::write(dir.join("agents.csv"), csv).expect("write csv");
}

/// Waits (10 s at most) until every demo agent's SIPp phone is registered, then sets each
/// ready over the API.
fn agents_registered_and_ready(engine: &Engine) {
    let token = Some("demo-supervisor");
    wait_for(Duration::from_secs(10), || {
        let (_, body) = http_request(engine.http, "GET", "/api/agents", token, None);
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        let registered = list.as_array()?.iter().filter(|a| a["registered"] == true);
        (registered.count() == AGENTS.len()).then_some(())
    })
    .unwrap_or_else(|| panic!("the SIPp phones did not register:\n{}", engine.log()));
    for id in AGENTS {
        let path = format!("/api/agents/{id}/state");
        let ready = Some(r#"{"state":"ready"}"#);
        let (status, body) = http_request(engine.http, "POST", &path, token, ready);
        assert_eq!(status, 204, "{body}");
    }
}

/// The call records once `n` calls have one (15 s at most).
fn call_records(engine: &Engine, n: usize) -> Vec<serde_json::Value> {
    wait_for(Duration::from_secs(15), || {
        let (_, body) = engine.get("/api/calls/recent");
        let list: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        (list.len() == n).then_some(list)
    })
    .unwrap_or_else(|| panic!("{n} call records:\n{}", engine.log()))
}

#[test]
fn sipp_agents_register_with_md5_answer_and_are_recorded_without_lost_frames() {
    let engine = Engine::start("[registrar]\nmd5_only_agents = [\"SIPp hotline load agent\"]\n");
    let work = tempfile::tempdir().expect("work dir");
    let dir = work.path();
    write_load_files(dir, &[("caller", 400.0), ("agent", 600.0)]);
    let scenarios = root().join("benches/load");
    let sipp = |args: &[&str]| {
        let mut cmd = sipp_command(dir, Some(engine.sip), &["-p", "0"]);
        cmd.args(args);
        cmd
    };
    let mut phones = sipp(&["-m", "6", "-l", "6", "-d", "30000", "-timeout", "40s"]);
    let _phones = Sipp(
        phones
            .arg("-sf")
            .arg(scenarios.join("agent_register.xml"))
            .arg("-oocsf")
            .arg(scenarios.join("agent_answer.xml"))
            .arg("-inf")
            .arg(dir.join("agents.csv"))
            .spawn()
            .expect("start SIPp phones"),
    );
    agents_registered_and_ready(&engine);

    let callers = sipp(&[
        "-m", "2", "-l", "2", "-r", "10", "-d", "3000", "-s", "12345",
    ])
    .args(["-timeout", "30s", "-sf"])
    .arg(scenarios.join("caller.xml"))
    .output()
    .expect("run SIPp callers");
    assert!(
        callers.status.success(),
        "callers failed:\n{}\n{}",
        String::from_utf8_lossy(&callers.stdout),
        String::from_utf8_lossy(&callers.stderr)
    );

    let records = call_records(&engine, 2);
    for r in &records {
        assert_eq!(r["outcome"], "answered", "{r}");
        assert!(r["recording_sha256"].is_string(), "{r}");
        let wav = engine
            .data_dir
            .path()
            .join(r["recording"].as_str().expect("recording"));
        let (left, right) = channel_peaks(&wav);
        assert!(
            left > 4000 && right > 4000,
            "both sides in {r}: {left} {right}"
        );
    }
    // About 3 s of talk per call, none of it filled in or dropped.
    assert!(metric(&engine, "hotline_recording_frames_total") > 2 * 100);
    assert_eq!(metric(&engine, "hotline_recording_frames_filled_total"), 0);
    assert_eq!(metric(&engine, "hotline_recording_frames_dropped_total"), 0);
    assert_eq!(metric(&engine, "hotline_rtp_packets_lost_total"), 0);
}

/// Amplitude of `freq` in one channel (0 left, 1 right) of a stereo recording, over the
/// second that ends one second before the recording does (the call is three-way by then).
fn tone_near_end(path: &Path, channel: usize, freq: f32) -> f32 {
    let reader = hound::WavReader::open(path).expect("valid WAV");
    assert_eq!(reader.spec().channels, 2, "{}", path.display());
    let samples: Vec<i16> = reader.into_samples().map(|s| s.expect("sample")).collect();
    let frames = samples.len() / 2;
    let (from, to) = (frames.saturating_sub(16_000), frames.saturating_sub(8_000));
    let pcm: Vec<i16> = samples[2 * from..2 * to]
        .iter()
        .skip(channel)
        .step_by(2)
        .copied()
        .collect();
    hotline::media::dtmf::tone::goertzel_amplitude(&pcm, freq)
}

/// `THREE_WAY=1 benches/load_bridged.sh` in miniature (issue 14): five SIPp callers talk to
/// SIPp agents, the water unit (a third SIPp behind the `[transfer]` gateway, speaking
/// 800 Hz) is conferenced into every call over the API, and every recording keeps the
/// caller's 400 Hz on the left and both the agent's 600 Hz and the unit's 800 Hz on the
/// right. Bounded: about 10 s of talk, every SIPp with a timeout.
#[test]
fn sipp_three_way_calls_are_recorded_with_every_party() {
    let gateway = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port for the gateway");
    let engine = Engine::start(&format!(
        "[registrar]\nmd5_only_agents = [\"SIPp hotline load agent\"]\n\n\
         [transfer]\ngateway = \"{gateway}\"\n"
    ));
    let work = tempfile::tempdir().expect("work dir");
    let dir = work.path();
    write_load_files(dir, &[("caller", 400.0), ("agent", 600.0), ("unit", 800.0)]);
    let scenarios = root().join("benches/load");
    let answer = std::fs::read_to_string(scenarios.join("agent_answer.xml")).expect("scenario");
    std::fs::write(
        dir.join("unit_answer.xml"),
        answer.replace("agent.alaw", "unit.alaw"),
    )
    .expect("write unit scenario");
    let target = Some(engine.sip);
    let phones = sipp_command(dir, target, &["-p", "0", "-m", "6", "-l", "6"])
        .args(["-d", "40000", "-timeout", "50s", "-sf"])
        .arg(scenarios.join("agent_register.xml"))
        .arg("-oocsf")
        .arg(scenarios.join("agent_answer.xml"))
        .arg("-inf")
        .arg(dir.join("agents.csv"))
        .spawn()
        .expect("start SIPp phones");
    let _phones = Sipp(phones);
    let port = gateway.port().to_string();
    let unit = sipp_command(
        dir,
        None,
        &["-p", &port, "-m", "5", "-timeout", "50s", "-sf"],
    )
    .arg(dir.join("unit_answer.xml"))
    .spawn()
    .expect("start the unit's SIPp");
    let _unit = Sipp(unit);
    let token = Some("demo-supervisor");
    agents_registered_and_ready(&engine);

    let callers = sipp_command(dir, target, &["-p", "0", "-m", "5", "-l", "5", "-r", "10"])
        .args(["-d", "10000", "-s", "12345", "-timeout", "35s", "-sf"])
        .arg(scenarios.join("caller.xml"))
        .spawn()
        .expect("start SIPp callers");
    // Every talking call gets the water unit, once.
    let mut posted = std::collections::BTreeSet::new();
    let three_way = wait_for(Duration::from_secs(15), || {
        let (_, body) = http_request(engine.http, "GET", "/api/calls", token, None);
        let calls: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        for c in &calls {
            let id = c["id"].to_string().trim_matches('"').to_string();
            if c["state"] == "talking" && !posted.contains(&id) {
                let path = format!("/api/calls/{id}/parties");
                let body = Some(r#"{"unit":"water","mode":"conference"}"#);
                let (status, reply) = http_request(engine.http, "POST", &path, token, body);
                assert_eq!(status, 201, "{reply}");
                posted.insert(id);
            }
        }
        let talking = |c: &&serde_json::Value| {
            c["parties"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["state"] == "talking"))
        };
        (calls.iter().filter(talking).count() == 5).then_some(())
    });
    assert!(
        three_way.is_some(),
        "not all five calls became three-way ({} posted):\n{}",
        posted.len(),
        engine.log()
    );
    callers_succeed(callers);

    let records = call_records(&engine, 5);
    for r in &records {
        assert_eq!(r["outcome"], "answered", "{r}");
        assert!(r["recording_sha256"].is_string(), "{r}");
        let unit_joined = r["parties"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["party"]["kind"] == "unit" && p["joined_at"].is_string())
        });
        assert!(unit_joined, "the unit's span in {r}");
        let wav = engine
            .data_dir
            .path()
            .join(r["recording"].as_str().expect("recording"));
        let left = [400.0, 600.0, 800.0].map(|f| tone_near_end(&wav, 0, f));
        let right = [400.0, 600.0, 800.0].map(|f| tone_near_end(&wav, 1, f));
        assert!(
            left[0] > 1000.0 && left[1] < 300.0 && left[2] < 300.0,
            "the caller alone on the left in {r}: {left:?}"
        );
        assert!(
            right[0] < 300.0 && right[1] > 1000.0 && right[2] > 1000.0,
            "the agent and the unit on the right in {r}: {right:?}"
        );
    }
    eprintln!(
        "three-way smoke: mixer underruns {}, frames dropped {}",
        metric(&engine, "hotline_mixer_underruns_total"),
        metric(&engine, "hotline_mixer_frames_dropped_total")
    );
}

/// A started `rtp-probe` (stopped by its PID when the test ends) and the file its report goes to.
struct Probe {
    child: Sipp,
    out: std::path::PathBuf,
}

impl Probe {
    /// `rtp-probe [--reply] 127.0.0.1:PORT WINDOW SKIP LINGER`, its stdout to `dir/probe.out`.
    fn start(dir: &Path, port: u16, reply: bool, window: u32, skip: u32, linger: u32) -> Probe {
        let out = dir.join(if reply {
            "probe-reply.out"
        } else {
            "probe.out"
        });
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtp-probe"));
        if reply {
            cmd.arg("--reply");
        }
        let child = cmd
            .arg(format!("127.0.0.1:{port}"))
            .args([window, skip, linger].map(|n| n.to_string()))
            .stdout(std::fs::File::create(&out).expect("probe output file"))
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start rtp-probe");
        let probe = Probe {
            child: Sipp(child),
            out,
        };
        // Bound before any SDP names it: a probe that cannot bind exits at once.
        std::thread::sleep(Duration::from_millis(300));
        probe.assert_running();
        probe
    }

    fn assert_running(&self) {
        let pid = self.child.0.id();
        assert!(
            Path::new(&format!("/proc/{pid}")).exists() && !self.report().contains("rtp-probe:"),
            "rtp-probe exited: {}",
            self.report()
        );
    }

    fn pid(&self) -> String {
        self.child.0.id().to_string()
    }

    fn report(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// The window's figures, once the probe has printed them (bounded wait).
    fn figures(&self, limit: Duration) -> ProbeFigures {
        let text = wait_for(limit, || {
            let text = self.report();
            (text.lines().filter(|l| l.starts_with("probe:")).count() >= 3).then_some(text)
        })
        .unwrap_or_else(|| panic!("no report from rtp-probe:\n{}", self.report()));
        ProbeFigures::parse(&text)
    }
}

/// The numbers of the probe's first line, and its reply line (`--reply`).
#[derive(Debug)]
struct ProbeFigures {
    streams: u64,
    packets: u64,
    seconds: f64,
    kernel_drops: u64,
    /// `--reply`: (legs answered, packets sent, packets not sent).
    replies: Option<(u64, u64, u64)>,
    text: String,
}

impl ProbeFigures {
    fn parse(text: &str) -> ProbeFigures {
        // The number after `word` on `line`.
        fn after(line: &str, word: &str) -> f64 {
            let words: Vec<&str> = line.split_whitespace().collect();
            let i = words
                .iter()
                .position(|w| *w == word)
                .unwrap_or_else(|| panic!("{word:?} in {line:?}"));
            words[i + 1]
                .trim_end_matches(['s', ';', ':'])
                .parse()
                .unwrap_or_else(|e| panic!("a number after {word:?} in {line:?}: {e}"))
        }
        let first = text
            .lines()
            .find(|l| l.starts_with("probe: streams "))
            .unwrap_or_else(|| panic!("no stream line in:\n{text}"));
        let replies = text
            .lines()
            .find(|l| l.starts_with("probe: replied "))
            .map(|l| {
                (
                    after(l, "to") as u64,
                    after(l, "legs:") as u64,
                    after(l, "sent,") as u64,
                )
            });
        ProbeFigures {
            streams: after(first, "streams") as u64,
            packets: after(first, "packets") as u64,
            seconds: after(first, "in"),
            kernel_drops: after(first, "probe") as u64,
            replies,
            text: text.to_string(),
        }
    }

    /// Packets per second per stream over the window.
    fn rate_per_stream(&self) -> f64 {
        self.packets as f64 / self.seconds / self.streams.max(1) as f64
    }
}

/// `benches/load_ivr.sh`'s phase 2 in miniature: twenty calls from SIPp as the carrier's trunk,
/// their SDP naming the probe, held 14 s against an `rtp.media_timeout` of 8 s. The probe sees
/// every call's paced stream at about 50 packets/s, drops nothing in the kernel, and its
/// keepalives (a packet every 5 s per stream) keep every call up to its own hang-up.
#[test]
fn rtp_probe_sees_every_paced_ivr_stream_and_keeps_the_calls_up() {
    let engine_ports = ports::lease();
    let probe_ports = ports::lease();
    let probe_port = probe_ports.first;
    let engine = Engine::start(&format!(
        "[sip]\ntrunks = [\"127.0.0.1\"]\n\n[rtp]\nport_min = {}\nport_max = {}\nmedia_timeout = \"8s\"\n",
        engine_ports.first,
        engine_ports.last() - 1
    ));
    let work = tempfile::tempdir().expect("work dir");
    let dir = work.path();
    let scenario =
        std::fs::read_to_string(root().join("tests/sipp/uac_call.xml")).expect("scenario");
    let to_probe = scenario.replace("m=audio [media_port]", &format!("m=audio {probe_port}"));
    assert_ne!(to_probe, scenario, "uac_call.xml names [media_port]");
    std::fs::write(dir.join("uac_probe.xml"), to_probe).expect("write scenario");
    // Measures 4 s to 12 s from its start (the calls are set up within the first 2 s and
    // hang up at about 16 s), then answers until it is stopped.
    let probe = Probe::start(dir, probe_port, false, 8, 4, 30);
    let callers = Command::new("sipp")
        .arg(engine.sip.to_string())
        .arg("-sf")
        .arg(dir.join("uac_probe.xml"))
        .args(["-s", "12345", "-i", "127.0.0.1", "-p", "0"])
        .args(["-mp", &(probe_ports.first + 100).to_string()])
        .args(["-m", "20", "-l", "20", "-r", "10", "-d", "14000"])
        .args(["-nostdin", "-timeout_error", "-timeout", "60s"])
        .current_dir(dir)
        .output()
        .expect("run SIPp callers");
    assert!(
        callers.status.success(),
        "a call failed (hung up by the engine?):\n{}\n{}\n{}",
        String::from_utf8_lossy(&callers.stdout),
        String::from_utf8_lossy(&callers.stderr),
        engine.log()
    );
    let figures = probe.figures(Duration::from_secs(10));
    assert_eq!(figures.streams, 20, "every call's stream: {figures:?}");
    let rate = figures.rate_per_stream();
    assert!(
        (30.0..=70.0).contains(&rate),
        "about 50 packets/s per stream (20 ms frames): {rate:.1} {figures:?}"
    );
    assert_eq!(figures.kernel_drops, 0, "{figures:?}");
    let records = wait_for(Duration::from_secs(15), || {
        let (_, body) = engine.get("/api/calls/recent?limit=100");
        let list: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        (list.len() == 20).then_some(list)
    })
    .expect("twenty call records");
    for r in &records {
        assert_ne!(r["outcome"], "media_timeout", "kept up by the probe: {r}");
    }
    eprintln!("{}", figures.text);
}

/// `benches/load_bridged.sh` in miniature: the SIPp agents' answer names the probe's port
/// (their `rtp_stream` removed), and `rtp-probe --reply` plays their phones. It receives every
/// caller's audio relayed to an agent (one stream per call) and answers each packet with the
/// agent's 600 Hz, which the engine records on the agent's (right) channel.
#[test]
fn rtp_probe_replies_as_the_agents_phones_and_is_recorded() {
    let probe_ports = ports::lease();
    let probe_port = probe_ports.first;
    let engine = Engine::start("[registrar]\nmd5_only_agents = [\"SIPp hotline load agent\"]\n");
    let work = tempfile::tempdir().expect("work dir");
    let dir = work.path();
    write_load_files(dir, &[("caller", 400.0)]);
    let scenarios = root().join("benches/load");
    // The agents' answer as load_bridged.sh writes it: the probe's port, no rtp_stream.
    let answer = std::fs::read_to_string(scenarios.join("agent_answer.xml")).expect("scenario");
    let (head, rest) = answer
        .split_once("<nop>")
        .expect("agent_answer.xml has its <nop>");
    let (_, tail) = rest.split_once("</nop>").expect("its </nop>");
    let to_probe = format!("{head}{tail}").replace(
        "m=audio [rtpstream_audio_port]",
        &format!("m=audio {probe_port}"),
    );
    assert!(
        !to_probe.contains("rtp_stream=") && to_probe.contains(&format!("m=audio {probe_port} ")),
        "{to_probe}"
    );
    std::fs::write(dir.join("agent_answer.xml"), to_probe).expect("write scenario");
    // Measures from SIGUSR1 (below, once every call talks) for 3 s; answers until stopped.
    let probe = Probe::start(dir, probe_port, true, 3, 120, 120);
    let sipp = |args: &[&str]| {
        let mut cmd = sipp_command(dir, Some(engine.sip), &["-p", "0"]);
        cmd.args(args);
        cmd
    };
    let mp = (probe_ports.first + 100).to_string();
    let phones = sipp(&["-m", "6", "-l", "6", "-d", "40000", "-timeout", "50s"])
        .args(["-mp", &mp, "-sf"])
        .arg(scenarios.join("agent_register.xml"))
        .arg("-oocsf")
        .arg(dir.join("agent_answer.xml"))
        .arg("-inf")
        .arg(dir.join("agents.csv"))
        .spawn()
        .expect("start SIPp phones");
    let _phones = Sipp(phones);
    let token = Some("demo-supervisor");
    agents_registered_and_ready(&engine);

    let callers_mp = (probe_ports.first + 150).to_string();
    let callers = sipp(&[
        "-m", "5", "-l", "5", "-r", "10", "-d", "8000", "-s", "12345",
    ])
    .args(["-mp", &callers_mp, "-timeout", "40s", "-sf"])
    .arg(scenarios.join("caller.xml"))
    .spawn()
    .expect("start SIPp callers");
    let talking = wait_for(Duration::from_secs(20), || {
        let (_, body) = http_request(engine.http, "GET", "/api/calls", token, None);
        let calls: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        (calls.iter().filter(|c| c["state"] == "talking").count() == 5).then_some(())
    });
    assert!(talking.is_some(), "five calls talking:\n{}", engine.log());
    probe.assert_running();
    let signalled = Command::new("kill")
        .args(["-USR1", &probe.pid()])
        .status()
        .expect("run kill");
    assert!(signalled.success(), "signal the probe");
    let figures = probe.figures(Duration::from_secs(15));
    callers_succeed(callers);
    // One relayed stream per call, each one answered.
    assert_eq!(figures.streams, 5, "{figures:?}");
    assert!(figures.packets > 0, "{figures:?}");
    let (legs, sent, _) = figures.replies.expect("the reply line");
    assert_eq!(legs, 5, "{figures:?}");
    assert!(sent > 0, "{figures:?}");

    let records = call_records(&engine, 5);
    for r in &records {
        assert_eq!(r["outcome"], "answered", "{r}");
        let wav = engine
            .data_dir
            .path()
            .join(r["recording"].as_str().expect("recording"));
        let left = [400.0, 600.0].map(|f| tone_near_end(&wav, 0, f));
        let right = [400.0, 600.0].map(|f| tone_near_end(&wav, 1, f));
        assert!(
            left[0] > 1000.0 && left[1] < 300.0,
            "the caller's 400 Hz on the left in {r}: {left:?}"
        );
        assert!(
            right[1] > 1000.0 && right[0] < 300.0,
            "the probe's 600 Hz on the right in {r}: {right:?}"
        );
    }
    eprintln!(
        "{}bridged smoke: recording frames filled {}, dropped {}",
        figures.text,
        metric(&engine, "hotline_recording_frames_filled_total"),
        metric(&engine, "hotline_recording_frames_dropped_total")
    );
}
