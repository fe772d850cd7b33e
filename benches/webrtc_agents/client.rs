//! `webrtc_agents`: the headless load client of `benches/load_webrtc.sh` (issue 18). N agents
//! register over SIP-over-WebSocket with digest, are set ready over the HTTP API, and answer
//! the engine's WebRTC offers with str0m peers (ICE, DTLS-SRTP, PCMU or Opus), speaking a
//! 600 Hz tone and checking that they hear the citizen's 400 Hz without lost packets.
//!
//! ```text
//! cargo build --release --example webrtc_agents
//! target/release/examples/webrtc_agents --http 127.0.0.1:8080 --first 20001 --count 240 \
//!     --password-prefix load- --codec pcmu --calls 200 --seconds 200
//! ```
//!
//! It is an example of the hotline package (built from `benches/webrtc_agents/`) rather than
//! a project of its own like `tools/webrtc-compare`: it reuses the crates hotline already
//! builds (str0m, libopus, tokio-tungstenite) and hotline's digest client and G.711, and
//! `tests/webrtc_agents_load.rs` runs the same modules against the engine in `cargo test`.
//! Prints progress on stderr every 5 s and one `key=value` summary line on stdout.

// A load client runs in real time.
#![allow(clippy::disallowed_methods)]

mod agents;
mod media;

use std::time::Duration;

use media::AgentCodec;

fn usage(why: &str) -> ! {
    eprintln!(
        "{why}\nusage: webrtc_agents --http ADDR --first ID --count N [--password-prefix P] \
         [--token T] [--codec pcmu|opus] [--calls N] [--seconds S] [--register-rate R] [--workers W]"
    );
    std::process::exit(2)
}

/// user+sys CPU of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only fills the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let num = |name: &str, default: u64| -> u64 {
        arg(name).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{name}: not a number: {v}")))
        })
    };
    let http = arg("--http")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| usage("--http ADDR is needed"));
    let first = num("--first", 20001);
    let count = num("--count", 0);
    if count == 0 {
        usage("--count N (agents) is needed");
    }
    let prefix = arg("--password-prefix").unwrap_or_else(|| "load-".into());
    let codec = match arg("--codec").as_deref().unwrap_or("pcmu") {
        "pcmu" => AgentCodec::Pcmu,
        "opus" => AgentCodec::Opus,
        other => usage(&format!("--codec {other}: pcmu or opus")),
    };
    let opts = agents::Options {
        http,
        agents: (first..first + count)
            .map(|id| (id.to_string(), format!("{prefix}{id}")))
            .collect(),
        token: arg("--token").unwrap_or_else(|| "demo-supervisor".into()),
        codec,
        calls: num("--calls", 0),
        duration: Duration::from_secs(num("--seconds", 120)),
        register_rate: num("--register-rate", 200) as u32,
    };
    let workers = num("--workers", 2) as usize;
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => usage(&format!("no tokio runtime: {e}")),
    };
    let summary = rt.block_on(agents::run(opts, |live| {
        use std::sync::atomic::Ordering::Relaxed;
        eprintln!(
            "webrtc_agents: registered {} invites {} answered {} connected {} talking {} ended {} (cpu {:.1} s)",
            live.registered.load(Relaxed),
            live.invites.load(Relaxed),
            live.answered.load(Relaxed),
            live.connected.load(Relaxed),
            live.talking.load(Relaxed),
            live.ended.load(Relaxed),
            cpu_seconds(),
        );
    }));
    for e in summary.errors.iter().take(5) {
        eprintln!("webrtc_agents: {e}");
    }
    for c in summary.calls.iter().filter(|c| c.error.is_some()).take(5) {
        eprintln!("webrtc_agents: call: {c:?}");
    }
    println!(
        "codec={:?} {} errors={} client_cpu_s={:.2}",
        codec,
        summary.line(),
        summary.errors.len(),
        cpu_seconds()
    );
}
