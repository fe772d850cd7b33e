//! SIP over UDP and TCP on one address. Reading tasks parse (a pure function) and hand typed
//! messages — or what was wrong with them — to the engine task; the engine's replies come
//! back as bytes addressed to a peer. TCP connections are framed by Content-Length; one that
//! cannot be resynchronised is answered 400 and closed. TCP connections are capped in all
//! and per source, and closed when a message takes too long to arrive whole or when they
//! carry nothing for the idle timeout (see `shell::conn_limit`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::call::engine::{Link, Peer};
use crate::shell::clock;
use crate::shell::conn_limit::{self, AcceptBackoff, ConnCounters, ConnLimits, ConnSlot, LogLimit};
use crate::sip::message::Message;
use crate::sip::parse::{parse_datagram, Framed, ParseError, ParseErrorKind, StreamFramer};
use crate::sip::prefix::IpPrefix;

/// What the transports hand the engine task.
#[derive(Debug)]
pub enum Inbound {
    /// A parsed message.
    Message(Box<Message>, Peer),
    /// Bytes that are not a valid message (the engine answers 400/505/513 or drops them).
    Malformed(Box<ParseError>, Peer),
    /// A TCP or WebSocket connection closed (its registrations go with it).
    Closed(Link),
}

/// Open stream connections (SIP over TCP and over WebSocket) by id, each with a channel to
/// its writer task; the ids are unique across both.
#[derive(Clone, Default)]
pub struct Connections {
    inner: Arc<Mutex<HashMap<u64, mpsc::Sender<Vec<u8>>>>>,
    next: Arc<AtomicU64>,
}

impl Connections {
    pub(crate) fn add(&self, tx: mpsc::Sender<Vec<u8>>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(id, tx);
        id
    }

    pub(crate) fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn get(&self, id: u64) -> Option<mpsc::Sender<Vec<u8>>> {
        self.lock().get(&id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::Sender<Vec<u8>>>> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Sends what the engine produced. UDP goes straight out; TCP goes to the connection's
/// writer (a closed connection drops it: the transaction layer's timers notice).
#[derive(Clone)]
pub struct Outbound {
    udp: Arc<UdpSocket>,
    conns: Connections,
}

impl Outbound {
    /// The open stream connections, shared with the WebSocket transport (`shell::sip_ws`).
    pub fn connections(&self) -> Connections {
        self.conns.clone()
    }

    /// Sends `data` to `to` without waiting (the engine task must never block on a peer).
    pub fn send(&self, to: Peer, data: Vec<u8>) {
        match to.link {
            Link::Udp => {
                if let Err(e) = self.udp.try_send_to(&data, to.addr) {
                    tracing::debug!(to = %to.addr, error = %e, "UDP send failed");
                }
            }
            Link::Tcp(id) | Link::Ws { id, .. } => match self.conns.get(id) {
                Some(tx) => {
                    if tx.try_send(data).is_err() {
                        tracing::debug!(
                            conn = id,
                            "stream connection backlogged or closed; dropped"
                        );
                    }
                }
                None => tracing::debug!(conn = id, "stream connection gone; dropped"),
            },
        }
    }
}

/// How TCP connections are limited.
#[derive(Debug, Clone)]
pub struct TcpSettings {
    /// Largest message; larger ones are refused (513) and the connection closed.
    pub max_message: usize,
    /// Open connections in all and per source; their counters.
    pub limits: Arc<ConnLimits>,
    /// Sources held to the total only (the carrier's trunks).
    pub exempt: Vec<IpPrefix>,
    /// A message must arrive whole within this of its first byte (a new connection's first
    /// message within this of the connection).
    pub header_timeout: std::time::Duration,
    /// A connection that carried nothing for this long is closed.
    pub idle_timeout: std::time::Duration,
}

/// Starts the UDP reader and the TCP acceptor; returns the sender the engine uses.
pub fn start(
    udp: UdpSocket,
    tcp: TcpListener,
    settings: TcpSettings,
    to_engine: mpsc::Sender<Inbound>,
) -> Outbound {
    let udp = Arc::new(udp);
    let conns = Connections::default();
    tokio::spawn(udp_reader(
        udp.clone(),
        settings.max_message,
        to_engine.clone(),
    ));
    tokio::spawn(tcp_acceptor(
        tcp,
        Arc::new(settings),
        conns.clone(),
        to_engine,
    ));
    Outbound { udp, conns }
}

async fn udp_reader(udp: Arc<UdpSocket>, max_message: usize, to_engine: mpsc::Sender<Inbound>) {
    // Room for anything the network can carry, so an oversized request is seen whole and
    // answered 513 rather than cut and answered 400.
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = match udp.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP port unreachable from an earlier send shows up here on Linux: keep going.
                tracing::debug!(error = %e, "UDP receive error");
                continue;
            }
        };
        let bytes = &buf[..n];
        if is_keepalive(bytes) {
            continue;
        }
        let peer = Peer {
            addr: from,
            link: Link::Udp,
        };
        let inbound = if n > max_message {
            Inbound::Malformed(
                Box::new(ParseError::new(
                    ParseErrorKind::TooLarge { limit: max_message },
                    bytes,
                )),
                peer,
            )
        } else {
            match parse_datagram(bytes) {
                Ok(msg) => Inbound::Message(Box::new(msg), peer),
                Err(e) => Inbound::Malformed(Box::new(e), peer),
            }
        };
        if to_engine.send(inbound).await.is_err() {
            return; // the engine stopped
        }
    }
}

/// A UDP keep-alive (RFC 5626 CRLF, or an empty datagram) carries no message.
fn is_keepalive(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| matches!(b, b'\r' | b'\n' | 0))
}

async fn tcp_acceptor(
    listener: TcpListener,
    settings: Arc<TcpSettings>,
    conns: Connections,
    to_engine: mpsc::Sender<Inbound>,
) {
    let mut backoff = AcceptBackoff::default();
    let mut refusals = LogLimit::default();
    loop {
        let (stream, from) = conn_limit::accept(
            &listener,
            &mut backoff,
            &settings.limits.counters,
            "sip-tcp",
        )
        .await;
        let exempt = crate::sip::prefix::any_contains(&settings.exempt, from.ip());
        let slot = match settings.limits.try_open(from.ip(), exempt) {
            Ok(slot) => slot,
            Err(why) => {
                // Closed at once (the drop), counted, and logged at most once a second.
                if let Some(refused) = refusals.hit(clock::now()) {
                    let open = settings.limits.open();
                    tracing::warn!(%from, ?why, refused, open, "SIP TCP connections refused: too many open");
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(tcp_connection(
            stream,
            from,
            slot,
            settings.clone(),
            conns.clone(),
            to_engine.clone(),
        ));
    }
}

/// Why a connection's read deadline is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// For the rest of a message (or a new connection's first one).
    Message,
    /// For anything: the connection is idle.
    Idle,
}

async fn tcp_connection(
    stream: TcpStream,
    from: SocketAddr,
    slot: ConnSlot,
    settings: Arc<TcpSettings>,
    conns: Connections,
    to_engine: mpsc::Sender<Inbound>,
) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let id = conns.add(tx.clone());
    let peer = Peer {
        addr: from,
        link: Link::Tcp(id),
    };
    let writer_task = tokio::spawn(async move {
        while let Some(data) = rx.recv().await {
            if writer.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let counters = &settings.limits.counters;
    let mut framer = StreamFramer::new(settings.max_message);
    let mut buf = vec![0u8; 16 * 1024];
    // Until its first message a connection is held to the header timeout from the connect
    // (keep-alives alone do not count): a connection that never says anything is not an
    // idle phone.
    let mut deadline = (clock::now() + settings.header_timeout, Waiting::Message);
    let mut spoke = false;
    'read: loop {
        let at = tokio::time::Instant::from_std(deadline.0);
        let n = match tokio::time::timeout_at(at, reader.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => n,
            Err(_elapsed) => {
                ConnCounters::bump(match deadline.1 {
                    Waiting::Message => &counters.header_timeouts,
                    Waiting::Idle => &counters.idle_timeouts,
                });
                tracing::trace!(%from, waiting = ?deadline.1, "SIP TCP connection timed out");
                break;
            }
        };
        let was_empty = framer.buffered() == 0;
        framer.push(&buf[..n]);
        let mut framed_any = false;
        loop {
            match framer.pull() {
                Framed::Incomplete => break,
                Framed::Ping => {
                    framed_any = true;
                    let _ = tx.try_send(b"\r\n".to_vec());
                }
                Framed::Pong => framed_any = true,
                Framed::Message(msg) => {
                    framed_any = true;
                    spoke = true;
                    if to_engine.send(Inbound::Message(msg, peer)).await.is_err() {
                        break 'read;
                    }
                }
                Framed::Invalid { error, fatal } => {
                    framed_any = true;
                    if to_engine
                        .send(Inbound::Malformed(Box::new(error), peer))
                        .await
                        .is_err()
                        || fatal
                    {
                        // Give the engine's 400 time to reach the writer before the
                        // connection goes.
                        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        break 'read;
                    }
                }
            }
        }
        let now = clock::now();
        deadline = if !spoke {
            deadline
        } else if framer.buffered() == 0 {
            if framed_any {
                (now + settings.idle_timeout, Waiting::Idle)
            } else {
                deadline
            }
        } else if framed_any || (was_empty && deadline.1 == Waiting::Idle) {
            // A new message began: it has the header timeout from now.
            (now + settings.header_timeout, Waiting::Message)
        } else {
            // More of the same message, or of a new connection's first one: the clock runs on.
            deadline
        };
    }
    conns.remove(id);
    drop(slot);
    let _ = to_engine.send(Inbound::Closed(peer.link)).await;
    drop(tx);
    let _ = writer_task.await;
}
