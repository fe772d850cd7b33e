//! The only place that reads the clock. Cores are handed `now`; this is where it comes from.

use std::time::{Instant, SystemTime};

/// Monotonic time for protocol timers (transactions, pacing, IVR timeouts).
#[allow(clippy::disallowed_methods)]
pub fn now() -> Instant {
    Instant::now()
}

/// Wall-clock time for records, tickets and KPIs.
#[allow(clippy::disallowed_methods)]
pub fn wall_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::<chrono::Utc>::from(SystemTime::now())
}

/// How long ago a kernel timestamp (`CLOCK_REALTIME` since the epoch, e.g. a datagram's
/// `SO_TIMESTAMPNS`) was taken; zero if the clock stepped back since.
#[allow(clippy::disallowed_methods)]
pub fn realtime_since(stamp: std::time::Duration) -> std::time::Duration {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(std::time::Duration::ZERO, |now| now.saturating_sub(stamp))
}

/// Sleeps until `at`, or forever when there is nothing to wake for (a `select!` arm).
pub async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}
