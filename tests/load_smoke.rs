//! The bridged load run (`benches/load_bridged.sh`) in miniature: SIPp phones register the
//! demo agents with MD5 digest (the `[registrar] md5_only_agents` setting picks them out by
//! User-Agent), answer the engine's INVITEs with the load scenarios of `benches/load/`, and two
//! SIPp callers press 0 in-band and talk; the recordings lose no frame and carry both sides.
//! And its `THREE_WAY=1` run: five calls with the water unit conferenced in over the API.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{http_request, root, wait_for, Engine};
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

#[test]
fn sipp_agents_register_with_md5_answer_and_are_recorded_without_lost_frames() {
    let engine = Engine::start("[registrar]\nmd5_only_agents = [\"SIPp hotline load agent\"]\n");
    let work = tempfile::tempdir().expect("work dir");
    let dir = work.path();
    alaw_file(&dir.join("caller.alaw"), &[400.0], 8000.0, 1.0);
    alaw_file(&dir.join("agent.alaw"), &[600.0], 8000.0, 1.0);
    let mut dtmf = Vec::new();
    alaw_file(&dir.join("dtmf0.alaw"), &[941.0, 1336.0], 5000.0, 0.2);
    dtmf.extend(std::fs::read(dir.join("dtmf0.alaw")).expect("read"));
    dtmf.extend(std::iter::repeat_n(0xD5u8, 1600)); // 200 ms of A-law silence
    std::fs::write(dir.join("dtmf0.alaw"), dtmf).expect("write");
    let agents = ["1001", "1002", "1003", "1004", "1005", "1006"];
    let mut csv = String::from("SEQUENTIAL\n");
    for id in agents {
        csv.push_str(&format!(
            "{id};[authentication username={id} password=demo-{id}]\n"
        ));
    }
    std::fs::write(dir.join("agents.csv"), csv).expect("write csv");
    let scenarios = root().join("benches/load");
    let sipp = |args: &[&str]| {
        let mut cmd = Command::new("sipp");
        cmd.arg(engine.sip.to_string())
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", "0"])
            .args(["-nostdin", "-timeout_error"])
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
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
    let token = Some("demo-supervisor");
    wait_for(Duration::from_secs(10), || {
        let (_, body) = http_request(engine.http, "GET", "/api/agents", token, None);
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        let registered = list.as_array()?.iter().filter(|a| a["registered"] == true);
        (registered.count() == agents.len()).then_some(())
    })
    .unwrap_or_else(|| panic!("the SIPp phones did not register:\n{}", engine.log()));
    for id in agents {
        let path = format!("/api/agents/{id}/state");
        let ready = Some(r#"{"state":"ready"}"#);
        let (status, body) = http_request(engine.http, "POST", &path, token, ready);
        assert_eq!(status, 204, "{body}");
    }

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

    let records = wait_for(Duration::from_secs(15), || {
        let (_, body) = engine.get("/api/calls/recent");
        let list: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        (list.len() == 2).then_some(list)
    })
    .expect("two call records");
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
    alaw_file(&dir.join("caller.alaw"), &[400.0], 8000.0, 1.0);
    alaw_file(&dir.join("agent.alaw"), &[600.0], 8000.0, 1.0);
    alaw_file(&dir.join("unit.alaw"), &[800.0], 8000.0, 1.0);
    let mut dtmf = Vec::new();
    alaw_file(&dir.join("dtmf0.alaw"), &[941.0, 1336.0], 5000.0, 0.2);
    dtmf.extend(std::fs::read(dir.join("dtmf0.alaw")).expect("read"));
    dtmf.extend(std::iter::repeat_n(0xD5u8, 1600));
    std::fs::write(dir.join("dtmf0.alaw"), dtmf).expect("write");
    let agents = ["1001", "1002", "1003", "1004", "1005", "1006"];
    let mut csv = String::from("SEQUENTIAL\n");
    for id in agents {
        csv.push_str(&format!(
            "{id};[authentication username={id} password=demo-{id}]\n"
        ));
    }
    std::fs::write(dir.join("agents.csv"), csv).expect("write csv");
    let scenarios = root().join("benches/load");
    let answer = std::fs::read_to_string(scenarios.join("agent_answer.xml")).expect("scenario");
    std::fs::write(
        dir.join("unit_answer.xml"),
        answer.replace("agent.alaw", "unit.alaw"),
    )
    .expect("write unit scenario");
    let sipp = |target: Option<String>, args: &[&str]| {
        let mut cmd = Command::new("sipp");
        cmd.args(target)
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-nostdin", "-timeout_error"])
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let target = Some(engine.sip.to_string());
    let phones = sipp(target.clone(), &["-p", "0", "-m", "6", "-l", "6"])
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
    let unit = sipp(None, &["-p", &port, "-m", "5", "-timeout", "50s", "-sf"])
        .arg(dir.join("unit_answer.xml"))
        .spawn()
        .expect("start the unit's SIPp");
    let _unit = Sipp(unit);
    let token = Some("demo-supervisor");
    wait_for(Duration::from_secs(10), || {
        let (_, body) = http_request(engine.http, "GET", "/api/agents", token, None);
        let list: serde_json::Value = serde_json::from_str(&body).ok()?;
        let registered = list.as_array()?.iter().filter(|a| a["registered"] == true);
        (registered.count() == agents.len()).then_some(())
    })
    .unwrap_or_else(|| panic!("the SIPp phones did not register:\n{}", engine.log()));
    for id in agents {
        let path = format!("/api/agents/{id}/state");
        let ready = Some(r#"{"state":"ready"}"#);
        let (status, body) = http_request(engine.http, "POST", &path, token, ready);
        assert_eq!(status, 204, "{body}");
    }

    let mut callers = sipp(target, &["-p", "0", "-m", "5", "-l", "5", "-r", "10"])
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

    let records = wait_for(Duration::from_secs(15), || {
        let (_, body) = engine.get("/api/calls/recent");
        let list: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        (list.len() == 5).then_some(list)
    })
    .expect("five call records");
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
