//! Two engines behind Kamailio (issue 19): this engine's role, its takeovers and step-downs,
//! and the leadership store's health and latency; the shared call store's writer.

use super::text::{Kind, Writer};
use crate::shell::leadership::ClusterStatus;

/// Renders the families (only for a clustered engine).
pub fn render(w: &mut Writer, c: &ClusterStatus) {
    w.family(
        "hotline_cluster_role",
        Kind::Gauge,
        "1 for this engine's role ([cluster] node): active takes calls, standby answers every SIP request 503.",
    );
    for role in [crate::cluster::Role::Active, crate::cluster::Role::Standby] {
        let v = if c.role == role { 1.0 } else { 0.0 };
        w.sample("", &[("node", &c.node), ("role", role.as_str())], v);
    }
    w.family(
        "hotline_cluster_failovers_total",
        Kind::Counter,
        "Times this engine took the lock over from another engine (became active after a standby period).",
    );
    w.count(&[], c.failovers);
    w.family(
        "hotline_cluster_step_downs_total",
        Kind::Counter,
        "Times this engine stepped down from active (its leadership session closed, failed or timed out).",
    );
    w.count(&[], c.step_downs);
    w.family(
        "hotline_cluster_fenced_saves_total",
        Kind::Counter,
        "Saves of registrations and agent states refused because this engine's session no longer held the lock.",
    );
    w.count(&[], c.fenced_saves);
    w.family(
        "hotline_cluster_store_up",
        Kind::Gauge,
        "1 when the last exchange with the leadership store (PostgreSQL) succeeded.",
    );
    w.sample("", &[], if c.store_ok { 1.0 } else { 0.0 });
    w.family(
        "hotline_cluster_store_latency_seconds",
        Kind::Gauge,
        "How long the leadership store took to answer the last lock try or session check.",
    );
    w.sample("", &[], c.store_latency_s.unwrap_or(0.0));
}

/// The shared call store's writer (`[storage] url`): records and journal rows committed,
/// dropped (the writer was too far behind; the local files have them), batches retried.
pub fn render_shared_calls(w: &mut Writer, (written, dropped, retries): (u64, u64, u64)) {
    w.family(
        "hotline_shared_calls_written_total",
        Kind::Counter,
        "Call records and call-journal rows committed to the shared PostgreSQL store.",
    );
    w.count(&[], written);
    w.family(
        "hotline_shared_calls_dropped_total",
        Kind::Counter,
        "Call records and journal rows not sent to the shared store because its writer was too far behind (they are in this engine's files only).",
    );
    w.count(&[], dropped);
    w.family(
        "hotline_shared_calls_retries_total",
        Kind::Counter,
        "Batches of the shared call store that failed (database away) and were tried again.",
    );
    w.count(&[], retries);
}
