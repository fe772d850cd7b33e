//! Limits on the stream listeners (SIP over TCP, HTTP): how many connections are open in all
//! and per source address, what was refused or timed out, and the back-off after `accept()`
//! fails (EMFILE/ENFILE) so that a full file table never turns the acceptor into a busy loop
//! that floods the log. The counters are read by `/metrics`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one listener refused, timed out and failed to accept (monotonic counters).
#[derive(Debug, Default)]
pub struct ConnCounters {
    /// Connections closed at once because the listener had its maximum open.
    pub refused_total: AtomicU64,
    /// Connections closed at once because their source had its maximum open.
    pub refused_per_source: AtomicU64,
    /// Connections closed because a message (request head) did not arrive in time.
    pub header_timeouts: AtomicU64,
    /// Connections closed after carrying nothing for the idle timeout.
    pub idle_timeouts: AtomicU64,
    /// `accept()` errors (EMFILE, ENFILE, ENOBUFS…).
    pub accept_errors: AtomicU64,
    /// TLS handshakes that failed (HTTPS only: a client that does not trust the
    /// certificate, plain HTTP sent to an HTTPS port, a scanner).
    pub tls_handshake_failures: AtomicU64,
}

impl ConnCounters {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener has `max_total` connections open.
    Total,
    /// This source has `max_per_source` connections open.
    PerSource,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// Open connections of one listener, in all and per source address.
#[derive(Debug)]
pub struct ConnLimits {
    max_total: usize,
    max_per_source: usize,
    open: Mutex<Open>,
    /// What was refused or timed out.
    pub counters: ConnCounters,
}

/// One open connection's place; dropping it frees the place.
#[derive(Debug)]
pub struct ConnSlot {
    limits: Arc<ConnLimits>,
    source: IpAddr,
}

impl ConnLimits {
    /// Limits of `max_total` connections, `max_per_source` from any one address.
    pub fn new(max_total: usize, max_per_source: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_source,
            open: Mutex::new(Open::default()),
            counters: ConnCounters::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        match self.open.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Takes a place for a connection from `source`; `exempt` sources (the carrier's trunks)
    /// are held only to the total. A refusal is counted.
    pub fn try_open(self: &Arc<Self>, source: IpAddr, exempt: bool) -> Result<ConnSlot, Refusal> {
        let source = source.to_canonical();
        let mut open = self.lock();
        if open.total >= self.max_total {
            ConnCounters::bump(&self.counters.refused_total);
            return Err(Refusal::Total);
        }
        let mine = open.by_source.get(&source).copied().unwrap_or(0);
        if !exempt && mine >= self.max_per_source {
            ConnCounters::bump(&self.counters.refused_per_source);
            return Err(Refusal::PerSource);
        }
        open.total += 1;
        open.by_source.insert(source, mine + 1);
        Ok(ConnSlot {
            limits: self.clone(),
            source,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut open = self.limits.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                open.by_source.remove(&self.source);
            }
        }
    }
}

/// Places for live streams (SSE): each open stream holds one; when none is free the page
/// gets 503 `too_many_streams`.
#[derive(Debug)]
pub struct StreamSlots {
    places: Arc<tokio::sync::Semaphore>,
    max: usize,
    /// Streams refused for want of a place.
    pub refused: AtomicU64,
}

impl StreamSlots {
    /// Room for `max` streams at once.
    pub fn new(max: usize) -> Self {
        Self {
            places: Arc::new(tokio::sync::Semaphore::new(max)),
            max,
            refused: AtomicU64::new(0),
        }
    }

    /// A place for one stream, held until the stream ends; `None` (counted) when full.
    pub fn try_take(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let taken = self.places.clone().try_acquire_owned().ok();
        if taken.is_none() {
            ConnCounters::bump(&self.refused);
        }
        taken
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.max - self.places.available_permits()
    }
}

/// Every connection limit of the shell, shared with `/metrics` and the live streams.
#[derive(Debug)]
pub struct NetLimits {
    /// SIP over TCP.
    pub sip: Arc<ConnLimits>,
    /// SIP over WebSocket (`/ws` on the HTTP listener) and what its handshakes refused.
    pub ws: Arc<ConnLimits>,
    pub ws_counters: Arc<crate::shell::sip_ws::WsCounters>,
    /// HTTP.
    pub http: Arc<ConnLimits>,
    /// Live streams over HTTP.
    pub streams: StreamSlots,
}

impl NetLimits {
    /// The limits the configuration sets.
    pub fn from_config(config: &crate::config::Config) -> Arc<Self> {
        Arc::new(Self {
            sip: ConnLimits::new(
                config.sip.tcp_max_connections,
                config.sip.tcp_max_per_source,
            ),
            ws: ConnLimits::new(config.sip.ws_max_connections, config.sip.ws_max_per_source),
            ws_counters: Arc::default(),
            http: ConnLimits::new(config.http.max_connections, config.http.max_per_source),
            streams: StreamSlots::new(config.http.max_streams),
        })
    }
}

/// The first pause after a failed `accept()`, and the longest.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// At most one log line a second, each saying how many events it stands for: a flood of
/// connections must not become a flood of log lines.
#[derive(Debug, Default)]
pub struct LogLimit {
    last: Option<Instant>,
    pending: u64,
}

impl LogLimit {
    /// One more event at `now`: `Some(events)` when a line is due (this event and those not
    /// logged since the last line).
    pub fn hit(&mut self, now: Instant) -> Option<u64> {
        self.pending += 1;
        let due = self
            .last
            .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1));
        due.then(|| {
            self.last = Some(now);
            std::mem::take(&mut self.pending)
        })
    }
}

/// Back-off after `accept()` errors: the pause doubles from [`BACKOFF_MIN`] to
/// [`BACKOFF_MAX`], and at most one log line a second says how many errors it stands for.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    next: Option<Duration>,
    log: LogLimit,
}

/// What to do after a failed `accept()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterError {
    /// Sleep this long before accepting again.
    pub pause: Duration,
    /// Log now, for this many errors (this one and those not logged since the last line).
    pub log: Option<u64>,
}

impl AcceptBackoff {
    /// An `accept()` failed at `now`.
    pub fn failed(&mut self, now: Instant) -> AfterError {
        let pause = self.next.unwrap_or(BACKOFF_MIN);
        self.next = Some((pause * 2).min(BACKOFF_MAX));
        AfterError {
            pause,
            log: self.log.hit(now),
        }
    }

    /// An `accept()` succeeded: the next error starts from the shortest pause again.
    pub fn succeeded(&mut self) {
        self.next = None;
    }
}

/// Accepts the next connection; after an error it pauses (backing off) and logs at most once
/// a second, so a full file table never becomes a busy loop.
pub async fn accept(
    listener: &tokio::net::TcpListener,
    backoff: &mut AcceptBackoff,
    counters: &ConnCounters,
    what: &'static str,
) -> (tokio::net::TcpStream, std::net::SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(c) => {
                backoff.succeeded();
                return c;
            }
            Err(e) => {
                ConnCounters::bump(&counters.accept_errors);
                let after = backoff.failed(crate::shell::clock::now());
                if let Some(errors) = after.log {
                    tracing::warn!(listener = what, error = %e, errors, pause_ms = after.pause.as_millis() as u64, "accept failed; pausing");
                }
                tokio::time::sleep(after.pause).await;
            }
        }
    }
}

/// Pending connections the kernel holds for a listener before it drops SYNs (std's 128 is
/// filled by a burst of a few hundred connects, and then every legitimate client waits a
/// second for its SYN to be retransmitted).
pub const LISTEN_BACKLOG: u32 = 1024;

/// A TCP listener on `addr` with room for a burst of connects ([`LISTEN_BACKLOG`]).
pub fn listen_tcp(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Raises the soft open-file limit to the hard limit (a media server holds a socket per call
/// leg besides its connections) and returns the limit in force.
pub fn raise_nofile_limit() -> std::io::Result<libc::rlim_t> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the call's duration.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; the kernel only reads it.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        lim.rlim_cur = lim.rlim_max;
    }
    Ok(lim.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_in_all_and_per_source_and_free_on_drop() {
        let limits = ConnLimits::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = limits.try_open(a, false).unwrap();
        let _a2 = limits.try_open(a, false).unwrap();
        assert_eq!(limits.try_open(a, false).unwrap_err(), Refusal::PerSource);
        let _b1 = limits.try_open(b, false).unwrap();
        assert_eq!(limits.try_open(b, false).unwrap_err(), Refusal::Total);
        assert_eq!(limits.open(), 3);
        drop(a1);
        assert_eq!(limits.open(), 2);
        let _a3 = limits.try_open(a, false).unwrap();
        assert_eq!(limits.counters.refused_total.load(Ordering::Relaxed), 1);
        assert_eq!(
            limits.counters.refused_per_source.load(Ordering::Relaxed),
            1
        );
    }

    #[test]
    fn an_exempt_source_is_held_to_the_total_only() {
        let limits = ConnLimits::new(3, 1);
        let trunk: IpAddr = "10.0.0.9".parse().unwrap();
        let _s: Vec<_> = (0..3)
            .map(|_| limits.try_open(trunk, true).unwrap())
            .collect();
        assert_eq!(limits.try_open(trunk, true).unwrap_err(), Refusal::Total);
    }

    #[test]
    fn an_ipv4_mapped_source_is_the_same_source() {
        let limits = ConnLimits::new(10, 1);
        let _v4 = limits.try_open("10.0.0.1".parse().unwrap(), false).unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            limits.try_open(mapped, false).unwrap_err(),
            Refusal::PerSource
        );
    }

    #[test]
    fn accept_errors_back_off_and_log_once_a_second() {
        let t0 = crate::shell::clock::now();
        let mut b = AcceptBackoff::default();
        let mut pauses = Vec::new();
        let mut logged = Vec::new();
        let mut now = t0;
        for _ in 0..12 {
            let after = b.failed(now);
            pauses.push(after.pause.as_millis());
            if let Some(n) = after.log {
                logged.push(n);
            }
            now += after.pause;
        }
        assert_eq!(
            pauses,
            [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000]
        );
        // 12 errors over 8.5 s: the first line, then one a second, each counting its errors.
        assert_eq!(logged.iter().sum::<u64>(), 12 - b.log.pending);
        assert!(logged.len() <= 9, "{logged:?}");
        assert_eq!(logged[0], 1);
        b.succeeded();
        assert_eq!(b.failed(now).pause, BACKOFF_MIN);
    }
}
