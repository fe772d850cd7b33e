//! Issue 18's load run (`benches/load_webrtc.sh`) in miniature, so `cargo test` guards the
//! path: the load client's browser-like agents (`benches/webrtc_agents/`: SIP over WebSocket
//! with digest, str0m peers answering the engine's WebRTC offers, ICE + DTLS-SRTP) take five
//! SIPp citizens' calls at once (400 Hz, key 0 in-band) and speak 600 Hz back. Every agent
//! leg connects, hears the citizen without a lost packet, and every recording holds 400 Hz
//! on the citizen's channel and 600 Hz on the agent's, with no frame filled or dropped.
//! Once with PCMU, once with Opus (transcoded at the engine's edge). Bounded: each run about
//! 20 s, every SIPp and the client with a time limit; the engine is stopped by PID.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

#[allow(dead_code)]
#[path = "../benches/webrtc_agents/agents.rs"]
mod agents;
mod common;
#[allow(dead_code)]
#[path = "../benches/webrtc_agents/media.rs"]
mod media;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::tones::{assert_hears, read_stereo_wav};
use common::{http_request, root, wait_for, Engine};
use hotline::media::Codec;
use media::AgentCodec;

const CALLS: u64 = 5;
const AGENTS: [&str; 6] = ["20001", "20002", "20003", "20004", "20005", "20006"];

/// The load script's agents and queues (every queue the shipped IVR names, served by every
/// agent at once, no wrap-up), so five calls are answered at once; `[acd]` lines for them.
fn load_acd(dir: &Path) -> String {
    let mut agents = String::from("realm = \"hotline\"\n");
    for id in AGENTS {
        agents.push_str(&format!(
            "\n[[agent]]\nid = \"{id}\"\nname = \"Load {id}\"\npassword = \"load-{id}\"\n\
             skills = [{{ skill = \"general\", level = 5 }}, {{ skill = \"enterprise\", level = 5 }}]\n"
        ));
    }
    let mut queues = String::new();
    for name in [
        "general",
        "enterprise",
        "dialect",
        "foreign",
        "sign",
        "high_frequency",
    ] {
        let skill = if name == "enterprise" {
            name
        } else {
            "general"
        };
        queues.push_str(&format!(
            "[[queue]]\nname = \"{name}\"\nskill = \"{skill}\"\nwrap_up = \"0s\"\n\n"
        ));
    }
    std::fs::write(dir.join("agents.toml"), agents).expect("write agents");
    std::fs::write(dir.join("queues.toml"), queues).expect("write queues");
    format!(
        "[acd]\nagents = \"{}\"\nqueues = \"{}\"\n",
        dir.join("agents.toml").display(),
        dir.join("queues.toml").display()
    )
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

fn ready_agents(engine: &Engine) -> usize {
    let (_, body) = http_request(
        engine.http,
        "GET",
        "/api/agents",
        Some("demo-supervisor"),
        None,
    );
    let list: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    list.as_array().map_or(0, |a| {
        a.iter()
            .filter(|x| x["registered"] == true && x["state"] == "ready")
            .count()
    })
}

fn five_calls_to_webrtc_agents(codec: AgentCodec) {
    let work = tempfile::tempdir().expect("work dir");
    let dir = work.path();
    let engine = Engine::start(&load_acd(dir));
    alaw_file(&dir.join("caller.alaw"), &[400.0], 8000.0, 1.0);
    let mut dtmf = Vec::new();
    alaw_file(&dir.join("dtmf0.alaw"), &[941.0, 1336.0], 5000.0, 0.2);
    dtmf.extend(std::fs::read(dir.join("dtmf0.alaw")).expect("read"));
    dtmf.extend(std::iter::repeat_n(0xD5u8, 1600)); // 200 ms of A-law silence
    std::fs::write(dir.join("dtmf0.alaw"), dtmf).expect("write");

    let opts = agents::Options {
        http: engine.http,
        agents: AGENTS
            .iter()
            .map(|id| (id.to_string(), format!("load-{id}")))
            .collect(),
        token: "demo-supervisor".into(),
        codec,
        calls: CALLS,
        duration: Duration::from_secs(45),
        register_rate: 50,
    };
    let client = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(agents::run(opts, |_| {}))
    });
    wait_for(Duration::from_secs(15), || {
        (ready_agents(&engine) == AGENTS.len()).then_some(())
    })
    .unwrap_or_else(|| panic!("the WebSocket agents are not ready:\n{}", engine.log()));

    // Five citizens at once: 0 in-band, then 400 Hz for 10 s from the key press.
    let callers = Command::new("sipp")
        .arg(engine.sip.to_string())
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", "0"])
        .args(["-nostdin", "-timeout_error", "-timeout", "40s"])
        .args([
            "-m", "5", "-l", "5", "-r", "10", "-d", "10000", "-s", "12345",
        ])
        .arg("-sf")
        .arg(root().join("benches/load/caller.xml"))
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run SIPp callers");
    let summary = client.join().expect("the load client");
    eprintln!("{}", summary.line());
    assert!(
        callers.status.success(),
        "callers failed:\n{}\n{}",
        String::from_utf8_lossy(&callers.stdout),
        String::from_utf8_lossy(&callers.stderr)
    );
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(summary.registered, AGENTS.len() as u64);
    assert_eq!((summary.answered, summary.ended), (CALLS, CALLS));
    assert_eq!(summary.peak_talking, CALLS, "five calls at once");
    for call in &summary.calls {
        assert!(call.error.is_none() && call.handshake.is_some(), "{call:?}");
        // ~9 s of talk at 50 packets/s, nothing lost on the way to the agent.
        assert!(call.received > 300 && call.sent > 300, "{call:?}");
        assert_eq!((call.lost, call.time_jumps), (0, 0), "{call:?}");
        assert_eq!(call.tone_ok, Some(true), "the agent hears 400 Hz: {call:?}");
    }

    let records = wait_for(Duration::from_secs(15), || {
        let (_, body) = engine.get("/api/calls/recent");
        let list: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        (list.len() == CALLS as usize).then_some(list)
    })
    .unwrap_or_else(|| panic!("five call records; log:\n{}", engine.log()));
    for r in &records {
        assert_eq!(r["outcome"], "answered", "{r}");
        assert!(r.get("agent_media_failure").is_none(), "{r}");
        let wav = engine
            .data_dir
            .path()
            .join(r["recording"].as_str().expect("recording"));
        let (left, right, _) = read_stereo_wav(&wav);
        let mid = left.len() / 2;
        let span = mid.saturating_sub(4000)..(mid + 4000).min(left.len());
        assert_hears(
            "the citizen's channel",
            &left[span.clone()],
            &[400.0],
            &[600.0],
        );
        assert_hears("the agent's channel", &right[span], &[600.0], &[400.0]);
    }
    assert!(metric(&engine, "hotline_recording_frames_total") > CALLS * 300);
    assert_eq!(metric(&engine, "hotline_recording_frames_filled_total"), 0);
    assert_eq!(metric(&engine, "hotline_recording_frames_dropped_total"), 0);
    assert_eq!(metric(&engine, "hotline_rtp_packets_lost_total"), 0);
    assert_eq!(metric(&engine, "hotline_webrtc_answers_refused_total"), 0);
}

#[test]
fn five_webrtc_agents_over_websocket_take_calls_at_once_with_pcmu() {
    five_calls_to_webrtc_agents(AgentCodec::Pcmu);
}

#[test]
fn five_webrtc_agents_over_websocket_take_calls_at_once_with_opus() {
    five_calls_to_webrtc_agents(AgentCodec::Opus);
}
