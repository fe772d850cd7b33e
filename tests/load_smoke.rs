//! The bridged load run (`benches/load_bridged.sh`) in miniature: SIPp phones register the
//! demo agents with MD5 digest (the `[registrar] md5_only_agents` setting picks them out by
//! User-Agent), answer the engine's INVITEs with the load scenarios of `benches/load/`, and two
//! SIPp callers press 0 in-band and talk; the recordings lose no frame and carry both sides.

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
