//! What both stacks share: the figures, getrusage and RSS.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// One 20 ms PCMU frame of silence-ish payload (the content does not matter to the stacks).
pub const FRAME: [u8; 160] = [0x55; 160];
pub const PTIME: Duration = Duration::from_millis(20);

/// Counters one endpoint updates; read by `main` between phases.
#[derive(Default)]
pub struct Stats {
    pub connected: AtomicU64,
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub handshakes: Mutex<Vec<Duration>>,
}

impl Stats {
    pub fn add_sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add_received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }
    pub fn connected_after(&self, d: Duration) {
        self.connected.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut h) = self.handshakes.lock() {
            h.push(d);
        }
    }
}

/// user+sys CPU of this process so far.
pub fn cpu() -> Duration {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Resident set size in KiB from /proc/self/status.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
