//! The connection limits' families: open connections and live streams, what was refused,
//! timed out, or failed to be accepted (SIP over TCP, SIP over WebSocket and HTTP).

use std::sync::atomic::Ordering;

use super::text::{Kind, Writer};
use crate::shell::conn_limit::{ConnLimits, NetLimits};

/// One listener's connection figures, read once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerValues {
    pub open: u64,
    pub refused_total: u64,
    pub refused_per_source: u64,
    pub header_timeouts: u64,
    pub idle_timeouts: u64,
    pub accept_errors: u64,
    pub tls_handshake_failures: u64,
}

impl ListenerValues {
    fn read(l: &ConnLimits) -> Self {
        let c = &l.counters;
        Self {
            open: l.open() as u64,
            refused_total: c.refused_total.load(Ordering::Relaxed),
            refused_per_source: c.refused_per_source.load(Ordering::Relaxed),
            header_timeouts: c.header_timeouts.load(Ordering::Relaxed),
            idle_timeouts: c.idle_timeouts.load(Ordering::Relaxed),
            accept_errors: c.accept_errors.load(Ordering::Relaxed),
            tls_handshake_failures: c.tls_handshake_failures.load(Ordering::Relaxed),
        }
    }
}

/// SIP over WebSocket's own figures, read once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WsValues {
    pub refused_subprotocol: u64,
    pub refused_origin: u64,
    pub frames_received: u64,
    pub messages_sent: u64,
    pub too_large: u64,
}

impl WsValues {
    fn read(c: &crate::shell::sip_ws::WsCounters) -> Self {
        let r = crate::shell::sip_ws::read;
        Self {
            refused_subprotocol: r(&c.refused_subprotocol),
            refused_origin: r(&c.refused_origin),
            frames_received: r(&c.frames_received),
            messages_sent: r(&c.messages_sent),
            too_large: r(&c.too_large),
        }
    }
}

/// Connections and live streams, read once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetValues {
    pub sip_tcp: ListenerValues,
    pub sip_ws: ListenerValues,
    pub ws: WsValues,
    pub http: ListenerValues,
    pub streams_open: u64,
    pub streams_refused: u64,
}

impl NetValues {
    /// Reads the shared limits.
    pub fn read(n: &NetLimits) -> Self {
        Self {
            sip_tcp: ListenerValues::read(&n.sip),
            sip_ws: ListenerValues::read(&n.ws),
            ws: WsValues::read(&n.ws_counters),
            http: ListenerValues::read(&n.http),
            streams_open: n.streams.open() as u64,
            streams_refused: n.streams.refused.load(Ordering::Relaxed),
        }
    }
}

/// Renders the connection families.
pub fn render(w: &mut Writer, n: &NetValues) {
    let listeners = [
        ("sip_tcp", &n.sip_tcp),
        ("sip_ws", &n.sip_ws),
        ("http", &n.http),
    ];
    w.family(
        "hotline_connections_open",
        Kind::Gauge,
        "Connections open now, by listener.",
    );
    for (l, v) in listeners {
        w.count(&[("listener", l)], v.open);
    }
    w.family(
        "hotline_connections_refused_total",
        Kind::Counter,
        "Connections closed as soon as accepted: the listener's cap (total) or the source's (per_source).",
    );
    for (l, v) in listeners {
        w.count(&[("listener", l), ("reason", "total")], v.refused_total);
        w.count(
            &[("listener", l), ("reason", "per_source")],
            v.refused_per_source,
        );
    }
    w.family(
        "hotline_connections_timed_out_total",
        Kind::Counter,
        "Connections closed because a message (request head) came too slowly (header) or nothing moved (idle).",
    );
    for (l, v) in listeners {
        w.count(&[("listener", l), ("reason", "header")], v.header_timeouts);
        w.count(&[("listener", l), ("reason", "idle")], v.idle_timeouts);
    }
    w.family(
        "hotline_accept_errors_total",
        Kind::Counter,
        "accept() failures (EMFILE, ENFILE…), each followed by a pause of 100 ms doubling to 1 s.",
    );
    for (l, v) in [("sip_tcp", &n.sip_tcp), ("http", &n.http)] {
        w.count(&[("listener", l)], v.accept_errors);
    }
    w.family(
        "hotline_tls_handshakes_failed_total",
        Kind::Counter,
        "TLS handshakes that failed on the HTTPS listener ([http] tls_cert): untrusted certificate, plain HTTP, scanners.",
    );
    w.count(&[("listener", "http")], n.http.tls_handshake_failures);
    w.family(
        "hotline_sip_ws_handshakes_refused_total",
        Kind::Counter,
        "GET /ws refused before the upgrade: no `sip` subprotocol (400) or an Origin the pages would not accept (403).",
    );
    w.count(&[("reason", "subprotocol")], n.ws.refused_subprotocol);
    w.count(&[("reason", "origin")], n.ws.refused_origin);
    w.family(
        "hotline_sip_ws_frames_total",
        Kind::Counter,
        "SIP over WebSocket frames: received (messages, keep-alives, invalid ones) and messages sent.",
    );
    w.count(&[("direction", "received")], n.ws.frames_received);
    w.count(&[("direction", "sent")], n.ws.messages_sent);
    w.family(
        "hotline_sip_ws_too_large_total",
        Kind::Counter,
        "SIP over WebSocket frames larger than sip.max_message_bytes: answered 513 and the connection closed (1009).",
    );
    w.count(&[], n.ws.too_large);
    w.family(
        "hotline_live_streams",
        Kind::Gauge,
        "Live streams (wallboard, desks) open now.",
    );
    w.count(&[], n.streams_open);
    w.family(
        "hotline_live_streams_refused_total",
        Kind::Counter,
        "Live streams refused with 503 too_many_streams (http.max_streams).",
    );
    w.count(&[], n.streams_refused);
}
