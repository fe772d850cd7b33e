//! Where a conference's late frame is lost (issue 14), measured on the media tasks: how late
//! each 20 ms tick ran, how many commands were waiting for it, and how long a packet waited
//! between the kernel's receipt (`SO_TIMESTAMPNS`) and the media task, for every relayed or
//! mixed packet and for the packets that ended a mixer underrun. Read by `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::shell::metrics::Histogram;

/// Upper bounds (seconds): a tick or packet within a millisecond is on time; the mixer's
/// prime absorbs 20–40 ms; beyond 40 ms a conference party underruns.
pub const MEDIA_BUCKETS: [f64; 9] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.1, 0.5];

/// Upper bounds (seconds) of the gaps between two packets of a stream: 20 ms is on time;
/// the mixer's prime absorbs a gap of 40–60 ms.
pub const GAP_BUCKETS: [f64; 9] = [0.025, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.2, 0.5];

/// See the module doc.
#[derive(Debug)]
pub struct MediaTiming {
    /// How late each media tick ran after its scheduled instant.
    pub tick_late: Histogram,
    /// The most commands (packets mostly) waiting in a media task's channel at a tick.
    pub queued_at_tick_max: AtomicU64,
    /// Kernel receipt → handled by the media task, for packets of bridged or mixing calls.
    pub packet_delay: Histogram,
    /// The same, for the packets after which a mixer counted an underrun (the party's
    /// stream went on after its queue ran dry): small delays mean it came late on the wire,
    /// large ones that it waited in the engine.
    pub underrun_delay: Histogram,
    /// For those packets, the kernel time since the party's previous packet: a gap beyond
    /// 40–60 ms means the stream itself paused (late on the wire).
    pub underrun_gap: Histogram,
}

impl Default for MediaTiming {
    fn default() -> Self {
        Self {
            tick_late: Histogram::new(&MEDIA_BUCKETS),
            queued_at_tick_max: AtomicU64::new(0),
            packet_delay: Histogram::new(&MEDIA_BUCKETS),
            underrun_delay: Histogram::new(&MEDIA_BUCKETS),
            underrun_gap: Histogram::new(&GAP_BUCKETS),
        }
    }
}

impl MediaTiming {
    /// A tick ran `late` after its instant with `queued` commands waiting.
    pub fn tick(&self, late: Duration, queued: usize) {
        self.tick_late.observe(late);
        self.queued_at_tick_max
            .fetch_max(queued as u64, Ordering::Relaxed);
    }
}
