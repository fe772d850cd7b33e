//! SIP over WebSocket (RFC 7118) on the HTTP listener: `GET /ws` with the subprotocol `sip`
//! and an Origin the pages would accept upgrades to a WebSocket whose every text or binary
//! frame is one SIP message (`sip::ws` decides what is accepted and what a frame holds).
//! Each connection is a [`Link::Ws`] for the engine, exactly like a SIP TCP connection: a
//! writer channel in the shared [`Connections`], its own caps (`[sip] ws_max_connections`,
//! `ws_max_per_source`), the SIP TCP header and idle timeouts, and its registrations go
//! when it closes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::mpsc;

use crate::call::engine::{Link, Peer};
use crate::cti::ApiError;
use crate::shell::clock;
use crate::shell::conn_limit::{ConnCounters, ConnLimits, ConnSlot, LogLimit};
use crate::shell::sip_transport::{Connections, Inbound};
use crate::sip::ws::{check_subprotocol, read_frame, OriginPolicy, WsFrame, WsRefusal};

/// What the WebSocket transport counted (read by `/metrics`).
#[derive(Debug, Default)]
pub struct WsCounters {
    /// Handshakes refused: no `sip` subprotocol.
    pub refused_subprotocol: AtomicU64,
    /// Handshakes refused: an Origin the pages would not accept.
    pub refused_origin: AtomicU64,
    /// Frames received (messages, keep-alives and invalid ones).
    pub frames_received: AtomicU64,
    /// Messages sent down WebSockets.
    pub messages_sent: AtomicU64,
    /// Frames larger than `[sip] max_message_bytes` (answered 513, connection closed).
    pub too_large: AtomicU64,
}

/// How WebSocket connections are accepted and limited.
#[derive(Debug)]
pub struct WsSettings {
    /// Largest SIP message in one frame (`[sip] max_message_bytes`).
    pub max_message: usize,
    /// Open WebSockets in all and per source.
    pub limits: Arc<ConnLimits>,
    /// The first message must arrive within this of the upgrade.
    pub header_timeout: Duration,
    /// A connection that carried no frame for this long is closed.
    pub idle_timeout: Duration,
    /// Which pages may open one.
    pub origins: OriginPolicy,
    /// The listener speaks TLS: the Via transport is WSS and the pages' origin `https://`.
    pub secure: bool,
    pub counters: Arc<WsCounters>,
}

/// What the `/ws` route needs: the engine's inbox and the connections its replies go to.
#[derive(Clone)]
pub struct WsHub {
    pub conns: Connections,
    pub to_engine: mpsc::Sender<Inbound>,
    pub settings: Arc<WsSettings>,
    refusals: Arc<std::sync::Mutex<LogLimit>>,
}

impl WsHub {
    /// A hub over the SIP transport's connections and the engine's inbox.
    pub fn new(conns: Connections, to_engine: mpsc::Sender<Inbound>, settings: WsSettings) -> Self {
        Self {
            conns,
            to_engine,
            settings: Arc::new(settings),
            refusals: Arc::default(),
        }
    }

    /// Logs a refusal at most once a second, saying how many it stands for.
    fn log_refusal(&self, from: SocketAddr, why: &str) {
        let due = match self.refusals.lock() {
            Ok(mut l) => l.hit(clock::now()),
            Err(poisoned) => poisoned.into_inner().hit(clock::now()),
        };
        if let Some(refused) = due {
            tracing::warn!(%from, why, refused, "SIP WebSocket handshakes refused");
        }
    }
}

/// The `/ws` route.
pub fn router(hub: WsHub) -> Router {
    Router::new().route("/ws", get(upgrade)).with_state(hub)
}

/// The opening handshake: the subprotocol, the Origin, a place, then the upgrade.
async fn upgrade(
    State(hub): State<WsHub>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            return ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "websocket_required",
                format!("/ws is SIP over WebSocket (RFC 7118): open it as a WebSocket with the subprotocol `sip` ({rejection})"),
            )
            .into_response();
        }
    };
    let s = &hub.settings;
    let protocols = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("?"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let checked =
        check_subprotocol(protocols).and_then(|()| s.origins.check(origin, host, s.secure));
    if let Err(why) = checked {
        let (counter, status, code) = match why {
            WsRefusal::Subprotocol { .. } => (
                &s.counters.refused_subprotocol,
                StatusCode::BAD_REQUEST,
                "ws_subprotocol",
            ),
            WsRefusal::Origin { .. } => (
                &s.counters.refused_origin,
                StatusCode::FORBIDDEN,
                "ws_origin",
            ),
        };
        ConnCounters::bump(counter);
        hub.log_refusal(from, code);
        return ApiError::new(status, code, why.to_string()).into_response();
    }
    let slot = match s.limits.try_open(from.ip(), false) {
        Ok(slot) => slot,
        Err(why) => {
            hub.log_refusal(
                from,
                if matches!(why, crate::shell::conn_limit::Refusal::Total) {
                    "total"
                } else {
                    "per_source"
                },
            );
            return (
                [(header::RETRY_AFTER, "5")],
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too_many_connections",
                    "too many SIP WebSocket connections; try again later",
                ),
            )
                .into_response();
        }
    };
    // Frames past twice the message limit are cut by the WebSocket layer itself (the
    // connection fails); up to that they are read whole, answered 513 and closed.
    let cap = s.max_message.saturating_mul(2).max(1024);
    // Small buffers: tungstenite's default 128 KiB read buffer per socket made an idle
    // browser phone cost ~133 kB (1024 of them ~136 MB); SIP messages are a few kB, larger
    // ones are read in several chunks. Each message is written out at once (one per frame).
    ws.protocols([crate::sip::ws::SUBPROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| connection(socket, from, slot, hub))
}

/// The chunk a WebSocket reads at a time.
const READ_BUFFER: usize = 4096;

/// Why a connection's deadline is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// For the first message.
    First,
    /// For anything: the connection is idle.
    Idle,
    /// For the engine's 513 to go out before the close.
    Closing,
}

async fn connection(mut socket: WebSocket, from: SocketAddr, slot: ConnSlot, hub: WsHub) {
    let s = hub.settings.clone();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let id = hub.conns.add(tx);
    let peer = Peer {
        addr: from,
        link: Link::Ws {
            id,
            secure: s.secure,
        },
    };
    tracing::debug!(%from, conn = id, "SIP WebSocket open");
    let mut deadline = (clock::now() + s.header_timeout, Waiting::First);
    let close = loop {
        let at = tokio::time::Instant::from_std(deadline.0);
        tokio::select! {
            frame = socket.recv() => {
                let bytes = match frame {
                    None => break None,
                    Some(Err(e)) => {
                        tracing::debug!(%from, error = %e, "SIP WebSocket failed");
                        break None;
                    }
                    Some(Ok(WsMessage::Close(_))) => break None,
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                    Some(Ok(WsMessage::Text(t))) => bytes::Bytes::from(t),
                    Some(Ok(WsMessage::Binary(b))) => b,
                };
                ConnCounters::bump(&s.counters.frames_received);
                let frame = read_frame(&bytes, s.max_message);
                // As over TCP, keep-alives alone do not count as a first message.
                let keepalive = matches!(frame, WsFrame::Ping | WsFrame::Blank);
                if deadline.1 == Waiting::Idle || (deadline.1 == Waiting::First && !keepalive) {
                    deadline = (clock::now() + s.idle_timeout, Waiting::Idle);
                }
                let inbound = match frame {
                    WsFrame::Message(msg) => Inbound::Message(msg, peer),
                    WsFrame::Ping => {
                        let pong = crate::sip::ws::KEEPALIVE_PONG.to_vec();
                        if send(&mut socket, pong, &s.counters).await.is_err() {
                            break None;
                        }
                        continue;
                    }
                    WsFrame::Blank => continue,
                    WsFrame::Invalid { error, fatal } => {
                        if fatal {
                            ConnCounters::bump(&s.counters.too_large);
                            deadline = (clock::now() + Duration::from_millis(300), Waiting::Closing);
                        }
                        Inbound::Malformed(error, peer)
                    }
                };
                if hub.to_engine.send(inbound).await.is_err() {
                    break Some((1001, "engine stopped"));
                }
            }
            out = rx.recv() => {
                let Some(data) = out else { break None };
                if send(&mut socket, data, &s.counters).await.is_err() {
                    break None;
                }
            }
            _ = tokio::time::sleep_until(at) => {
                break match deadline.1 {
                    Waiting::First => {
                        ConnCounters::bump(&s.limits.counters.header_timeouts);
                        Some((1000, "no SIP message in time"))
                    }
                    Waiting::Idle => {
                        ConnCounters::bump(&s.limits.counters.idle_timeouts);
                        Some((1000, "idle"))
                    }
                    Waiting::Closing => Some((1009, "SIP message too large")),
                };
            }
        }
    };
    hub.conns.remove(id);
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            socket.send(WsMessage::Close(Some(frame))),
        )
        .await;
    }
    drop(slot);
    tracing::debug!(%from, conn = id, ?close, "SIP WebSocket closed");
    let _ = hub.to_engine.send(Inbound::Closed(peer.link)).await;
}

/// Sends one SIP message as a text frame (a binary one if it is not UTF-8), bounded in time
/// so a peer that stopped reading cannot hold the task.
async fn send(socket: &mut WebSocket, data: Vec<u8>, counters: &WsCounters) -> Result<(), ()> {
    let msg = match String::from_utf8(data) {
        Ok(text) => WsMessage::Text(text.into()),
        Err(e) => WsMessage::Binary(e.into_bytes().into()),
    };
    match tokio::time::timeout(Duration::from_secs(5), socket.send(msg)).await {
        Ok(Ok(())) => {
            ConnCounters::bump(&counters.messages_sent);
            Ok(())
        }
        _ => Err(()),
    }
}

/// Reads a counter.
pub fn read(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}
