//! `webrtc-compare --stack str0m|str0m-rtp|webrtc --pairs N --seconds T [--workers W]`
//!
//! Build it outside hotline's target (CI never compiles both stacks):
//! `CARGO_TARGET_DIR=/work/webrtc-target/compare cargo build --release -j 1
//!  --manifest-path tools/webrtc-compare/Cargo.toml`
//!
//! N pairs of endpoints of one stack in this process on loopback: a "browser" full-ICE
//! offerer and an "engine" ICE-lite answerer, each with its own UDP socket. Every pair does
//! ICE + DTLS-SRTP, then sends 20 ms PCMU frames both ways for T seconds. Prints handshake
//! p50/p99, CPU per handshake and per call-second (getrusage), RSS per call and lost frames.

mod common;
mod str0m_side;
mod webrtc_side;

use common::*;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The phases every endpoint follows, set by `main`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phase {
    Handshake,
    Media { until: Instant },
    Stop,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| default.to_owned())
    };
    let stack = arg("--stack", "str0m");
    let pairs: usize = arg("--pairs", "50").parse().expect("--pairs N");
    let seconds: u64 = arg("--seconds", "10").parse().expect("--seconds T");
    let workers: usize = arg("--workers", "2").parse().expect("--workers W");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(stack, pairs, seconds));
}

async fn run(stack: String, pairs: usize, seconds: u64) {
    let stats = Arc::new(Stats::default());
    let (phase_tx, phase_rx) = tokio::sync::watch::channel(Phase::Handshake);
    let rss0 = rss_kib();
    let cpu0 = cpu();
    let t0 = Instant::now();
    match stack.as_str() {
        "str0m" => str0m_side::start(pairs, false, stats.clone(), phase_rx).await,
        "str0m-rtp" => str0m_side::start(pairs, true, stats.clone(), phase_rx).await,
        "webrtc" => webrtc_side::start(pairs, stats.clone(), phase_rx).await,
        other => panic!("unknown stack {other}"),
    }
    // Every endpoint (2 per pair) reports Connected.
    let deadline = Instant::now() + Duration::from_secs(60);
    while stats.connected.load(Ordering::Relaxed) < (2 * pairs) as u64 && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let connected = stats.connected.load(Ordering::Relaxed);
    let t_hs = t0.elapsed();
    let cpu_hs = cpu() - cpu0;
    let rss_hs = rss_kib();

    let cpu1 = cpu();
    let until = Instant::now() + Duration::from_secs(seconds);
    let _ = phase_tx.send(Phase::Media { until });
    tokio::time::sleep(Duration::from_secs(seconds) / 2).await;
    let rss_media = rss_kib();
    tokio::time::sleep_until((until + Duration::from_millis(500)).into()).await;
    let cpu_media = cpu() - cpu1;
    let _ = phase_tx.send(Phase::Stop);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut hs = stats.handshakes.lock().map(|h| h.clone()).unwrap_or_default();
    hs.sort();
    let sent = stats.sent.load(Ordering::Relaxed);
    let received = stats.received.load(Ordering::Relaxed);
    let per_call_s = cpu_media.as_secs_f64() / pairs as f64 / seconds as f64;
    println!(
        "stack={stack} pairs={pairs} seconds={seconds} connected={connected}/{} \
         all_connected_in={:.0}ms handshake_p50={:.1}ms p99={:.1}ms max={:.1}ms \
         cpu_handshake_total={:.0}ms cpu_per_handshake_pair={:.2}ms \
         cpu_media={:.2}s cpu_per_call={:.2}%_of_a_core ({:.1}us_per_frame) \
         rss_base={}KiB rss_after_handshake={}KiB rss_media={}KiB rss_per_call={:.0}KiB \
         frames_sent={sent} frames_received={received} lost={}",
        2 * pairs,
        t_hs.as_secs_f64() * 1e3,
        percentile(&hs, 0.50).as_secs_f64() * 1e3,
        percentile(&hs, 0.99).as_secs_f64() * 1e3,
        hs.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        cpu_hs.as_secs_f64() * 1e3,
        cpu_hs.as_secs_f64() * 1e3 / pairs as f64,
        cpu_media.as_secs_f64(),
        per_call_s * 100.0,
        cpu_media.as_secs_f64() * 1e6 / (sent.max(1) + received.max(1)) as f64,
        rss0,
        rss_hs,
        rss_media,
        rss_media.saturating_sub(rss0) as f64 / pairs as f64,
        sent.saturating_sub(received),
    );
}
