//! Each leg's receiving end, run in place by the media task that owns the call (issue 20):
//! the task takes the ready sockets from its [`Poller`], each socket's datagrams in one
//! `recvmmsg` into its reused [`Batch`], and per packet latches the leg's source (symmetric
//! RTP), reads the caller's keys (RFC 4733 events or in-band tones) for the engine and hands
//! a bridged or mixing call's audio straight to the bridge, mixer or recorder. Before, a task
//! per leg did this and forwarded each packet as a `Vec` over a channel.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::rtp_io::{Batch, LegHandle, Poller, Received, RtpSocket, BATCH, READY_MAX};
use super::{MediaEvent, Worker};
use crate::call::session::CallId;
use crate::media::codec::Codec;
use crate::media::dtmf::{EventReceiver, ToneDetector, ToneDetectorConfig};
use crate::media::mixer::PartyId;
use crate::media::rtp::{LatchDecision, ReceiveStats, RefuseReason, RtpPacket, SourceLatch};
use crate::shell::clock;

/// Rounds of `epoll_wait` one wake takes at most: a flood cannot hold the task from its
/// ticks (what is left is taken at the next wake, the sockets stay ready).
const ROUNDS: usize = 4;

/// One RTP leg's receiving state.
pub(super) struct RtpLeg {
    pub(super) call: CallId,
    pub(super) party: PartyId,
    /// Which source is this leg's peer, and whether it went quiet.
    pub(super) latch: SourceLatch,
    pub(super) codec: Codec,
    pub(super) telephone_event: Option<u8>,
    /// Once set, audio goes to the bridge or mixer for relaying and recording.
    pub(super) bridged: Arc<AtomicBool>,
}

/// What a leg's socket carries.
enum LegKind {
    Rtp(Box<RtpState>),
    /// A browser's leg (the agent's or a party's): every datagram goes to its WebRTC core.
    WebRtc(CallId, PartyId),
}

struct RtpState {
    leg: RtpLeg,
    stats: ReceiveStats,
    events: EventReceiver,
    tones: ToneDetector,
    /// A gateway that sends RFC 4733 events is believed over the tones in its audio (some
    /// send both); in-band detection is for those that never send an event.
    events_seen: bool,
    /// The kernel's receive time of the previous packet: the gap to the next tells whether
    /// a late packet was late on the wire.
    last_stamp: Option<Duration>,
}

struct PolledLeg {
    socket: Arc<RtpSocket>,
    kind: LegKind,
}

/// A media task's legs in its poller, by token.
pub(super) struct Legs {
    poller: Poller,
    legs: HashMap<u64, PolledLeg>,
    next: u64,
    /// Tokens of legs whose [`LegHandle`] closed: taken out before the next receive.
    closed_tx: mpsc::Sender<u64>,
    closed_rx: mpsc::Receiver<u64>,
    ready: Vec<u64>,
    batch: Box<Batch>,
}

impl Legs {
    /// An empty set; within the media thread's runtime.
    pub(super) fn new() -> std::io::Result<Self> {
        let (closed_tx, closed_rx) = mpsc::channel();
        Ok(Self {
            poller: Poller::new()?,
            legs: HashMap::new(),
            next: 0,
            closed_tx,
            closed_rx,
            ready: Vec::with_capacity(READY_MAX),
            batch: Box::default(),
        })
    }

    /// The poller, for the task's `select!`.
    pub(super) fn poller(&self) -> Poller {
        self.poller.clone()
    }

    /// Legs being received.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.legs.len()
    }

    fn insert(&mut self, socket: Arc<RtpSocket>, kind: LegKind) -> std::io::Result<LegHandle> {
        self.reap();
        self.next += 1;
        let token = self.next;
        self.poller.add(&*socket, token)?;
        self.legs.insert(token, PolledLeg { socket, kind });
        Ok(LegHandle::new(token, self.closed_tx.clone()))
    }

    /// Receives `leg`'s RTP from now on.
    pub(super) fn insert_rtp(
        &mut self,
        socket: Arc<RtpSocket>,
        leg: RtpLeg,
    ) -> std::io::Result<LegHandle> {
        let state = RtpState {
            leg,
            stats: ReceiveStats::new(),
            events: EventReceiver::new(Duration::from_millis(300)),
            tones: ToneDetector::new(ToneDetectorConfig::default()),
            events_seen: false,
            last_stamp: None,
        };
        self.insert(socket, LegKind::Rtp(Box::new(state)))
    }

    /// Hands every datagram on `socket` to `call`'s browser leg of `party` from now on.
    pub(super) fn insert_webrtc(
        &mut self,
        socket: Arc<RtpSocket>,
        call: CallId,
        party: PartyId,
    ) -> std::io::Result<LegHandle> {
        self.insert(socket, LegKind::WebRtc(call, party))
    }

    /// Takes the closed legs out of the poller (their sockets close with the last `Arc`).
    fn reap(&mut self) {
        while let Ok(token) = self.closed_rx.try_recv() {
            if let Some(leg) = self.legs.remove(&token) {
                self.poller.remove(&*leg.socket);
            }
        }
    }
}

impl Worker {
    /// Takes what every ready socket has queued and handles each datagram in place.
    /// Returns whether every ready socket was drained (the poller's readiness may then be
    /// cleared); bounded to [`ROUNDS`] rounds.
    pub(super) fn receive_ready(&mut self) -> bool {
        self.legs.reap();
        let mut ready = std::mem::take(&mut self.legs.ready);
        let mut batch = std::mem::take(&mut self.legs.batch);
        let mut drained = false;
        for _ in 0..ROUNDS {
            if let Err(e) = self.legs.poller.ready(&mut ready) {
                tracing::error!(error = %e, "epoll_wait on the media sockets failed");
                break;
            }
            let mut more = ready.len() >= READY_MAX;
            for &token in &ready {
                more |= self.receive_leg(token, &mut batch);
            }
            if !more {
                drained = true;
                break;
            }
        }
        self.legs.ready = ready;
        self.legs.batch = batch;
        drained
    }

    /// One `recvmmsg` on a ready leg, each datagram handled. Whether more may be waiting.
    fn receive_leg(&mut self, token: u64, batch: &mut Batch) -> bool {
        let Some(leg) = self.legs.legs.get(&token) else {
            return false;
        };
        let n = match batch.receive(&leg.socket.as_raw_fd()) {
            Ok(n) => n,
            Err(e) => {
                // ICMP errors (the peer's port closed) surface here on Linux: not fatal.
                tracing::debug!(error = %e, "RTP receive error");
                return false;
            }
        };
        let now = clock::now();
        for i in 0..n {
            if let Some((bytes, r)) = batch.get(i) {
                self.datagram(token, bytes, r, now);
            }
        }
        n == BATCH
    }

    /// One datagram on a leg: latch, statistics, keys, then the bridge or mixer.
    fn datagram(&mut self, token: u64, bytes: &[u8], r: Received, now: Instant) {
        let Some(leg) = self.legs.legs.get_mut(&token) else {
            return;
        };
        let st = match &mut leg.kind {
            LegKind::WebRtc(call, party) => {
                let (call, party) = (*call, *party);
                return self.webrtc_datagram((call, party), r.from, bytes);
            }
            LegKind::Rtp(st) => st,
        };
        let Ok(packet) = RtpPacket::parse(bytes) else {
            return;
        };
        let counters = &self.counters;
        counters.received.fetch_add(1, Ordering::Relaxed);
        let (call, party) = (st.leg.call, st.leg.party);
        // The latch first: a refused packet is counted and read by nothing else.
        let mut relatched = None;
        match st.leg.latch.handle_packet(r.from, packet.header.ssrc, now) {
            LatchDecision::Refuse(reason) => {
                match reason {
                    RefuseReason::ForeignSource => &counters.refused_foreign_source,
                }
                .fetch_add(1, Ordering::Relaxed);
                if st.leg.latch.refused().is_power_of_two() {
                    tracing::warn!(%call, ?party, from = %r.from, refused = st.leg.latch.refused(), reason = reason.as_str(), "RTP from a foreign source refused");
                }
                return;
            }
            LatchDecision::Accept { send_to, changed } => {
                if changed {
                    relatched = Some(send_to);
                }
            }
        }
        let lost_before = st.stats.lost;
        let _ = st.stats.handle_packet(r.from, &packet, now);
        if st.stats.lost > lost_before {
            counters
                .lost
                .fetch_add(st.stats.lost - lost_before, Ordering::Relaxed);
        }
        let gap = r
            .stamp
            .zip(st.last_stamp)
            .map(|(now, before)| now.saturating_sub(before));
        st.last_stamp = r.stamp.or(st.last_stamp);
        // Keys are read from the caller only.
        if party == PartyId::CALLER {
            let pt = packet.header.payload_type;
            if Some(pt) == st.leg.telephone_event {
                st.events_seen = true;
                let _ = st
                    .events
                    .handle_packet(packet.header.timestamp, packet.payload, now);
            } else if !st.events_seen && pt == st.leg.codec.payload_type() {
                let mut pcm = [0i16; 1024];
                if let Some(out) = pcm.get_mut(..packet.payload.len()) {
                    st.leg.codec.decode(packet.payload, out);
                    st.tones.handle_samples(out);
                }
            }
            poll_digits(st, &self.to_engine);
        }
        let forward = st.leg.bridged.load(Ordering::Relaxed);
        if let Some(addr) = relatched {
            self.set_remote(call, party, addr);
        }
        if forward {
            self.packet((call, party), bytes, r.stamp, gap);
        }
    }

    /// Every leg's due timers (the key receiver's end of an event, the latch's inactivity),
    /// from the 20 ms tick.
    pub(super) fn leg_timeouts(&mut self, now: Instant) {
        for leg in self.legs.legs.values_mut() {
            let LegKind::Rtp(st) = &mut leg.kind else {
                continue;
            };
            if st.events.poll_timeout().is_some_and(|t| t <= now) {
                st.events.handle_timeout(now);
                poll_digits(st, &self.to_engine);
            }
            if st.leg.latch.poll_timeout().is_some_and(|t| t <= now)
                && st.leg.latch.handle_timeout(now)
            {
                self.counters.inactive_legs.fetch_add(1, Ordering::Relaxed);
                let _ = self
                    .to_engine
                    .send(MediaEvent::Inactive { call: st.leg.call });
            }
        }
    }

    /// A leg's source address latched (or relatched): what goes to it goes there now.
    fn set_remote(&mut self, call: CallId, party: PartyId, addr: std::net::SocketAddr) {
        if let Some(s) = self.calls.get_mut(&call) {
            match party {
                PartyId::CALLER => s.remote = Some(addr),
                _ => {
                    if let Some(a) = s.leg_mut(party) {
                        a.remote = addr;
                    }
                }
            }
        }
    }

    /// Starts receiving a leg's RTP on this task.
    pub(super) fn receive_rtp(
        &mut self,
        socket: Arc<RtpSocket>,
        leg: RtpLeg,
    ) -> std::io::Result<LegHandle> {
        self.legs.insert_rtp(socket, leg)
    }
}

/// The keys a leg's detectors have read, to the engine.
fn poll_digits(st: &mut RtpState, to_engine: &tokio::sync::mpsc::UnboundedSender<MediaEvent>) {
    let call = st.leg.call;
    while let Some(d) = st.events.poll_digit() {
        let _ = to_engine.send(MediaEvent::Digit {
            call,
            digit: d.digit.as_char(),
        });
    }
    while let Some(d) = st.tones.poll_digit() {
        let _ = to_engine.send(MediaEvent::Digit {
            call,
            digit: d.digit.as_char(),
        });
    }
}
