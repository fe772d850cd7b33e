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
