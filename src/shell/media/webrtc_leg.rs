//! A browser's leg on a media task: one UDP socket (a port from the same range as the RTP
//! legs) carrying ICE, DTLS and SRTP for the sans-IO [`WebRtcLeg`]. The browser may be the
//! call's agent or one more party of its mixer (a consulted agent, a supervisor). Towards
//! the bridge, mixer and recorder it is a leg like a SIP phone's ([`AgentSide`], the leg's
//! inner G.711 media and RFC 4733 events), so `bridging.rs` and `conference.rs` bridge, mix,
//! hold and close it unchanged: what they send that party goes into
//! [`WebRtcLeg::send_rtp`] instead of the socket, and what the leg decodes from the browser
//! enters the bridge or mixer as that party's packets.
//!
//! The leg's own timers (ICE consent, DTLS retransmits, RTCP) run from the media task's
//! 20 ms tick. The call room makes the offer and accepts the answer on the core before
//! handing it here ([`MediaHandle::open_webrtc_agent`](super::MediaHandle::open_webrtc_agent)).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::rtp_io::RtpSocket;
use super::{AgentSide, MediaEvent, Stream, Worker};
use crate::call::session::CallId;
use crate::media::mixer::PartyId;
use crate::media::rtp::RtpSender;
use crate::media::webrtc::{LegOutput, WebRtcError, WebRtcLeg};
use crate::shell::clock;

/// A browser leg's core beside its party's [`AgentSide`] (which holds its socket).
pub(super) struct WebRtcAgent {
    pub(super) leg: Box<WebRtcLeg>,
    /// When the browser closed its session; its BYE gets [`CLOSE_GRACE`] to end the call
    /// before the leg is reported failed.
    pub(super) closed_at: Option<Instant>,
}

/// How long a browser that closed its media has for its BYE: the BYE comes over the
/// WebSocket (TCP, through the engine's signalling task) and the DTLS close over UDP
/// straight to this thread, so the close usually arrives first.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

impl Worker {
    /// Binds the leg's port, receives it on this task and makes it the leg of `party`: the
    /// call's agent ([`PartyId::AGENT`]), or one more party of its mixer (heard by nobody
    /// until a `Mix` says so, like `open_party`). The leg has been answered (its inner media
    /// is known); a leg that was not is refused like an unopenable port.
    pub(super) fn open_webrtc(
        &mut self,
        call: CallId,
        party: PartyId,
        port: u16,
        leg: Box<WebRtcLeg>,
    ) {
        let Some(s) = self.calls.get(&call) else {
            return;
        };
        if party == PartyId::CALLER || (party != PartyId::AGENT && s.leg_open(party)) {
            tracing::warn!(%call, ?party, "browser party already open; ignored");
            return;
        }
        let Some(media) = leg.media() else {
            tracing::warn!(%call, ?party, "a browser leg handed over before its answer; refused");
            self.leg_failed(
                call,
                party,
                "the browser leg was handed over before its answer".into(),
            );
            return;
        };
        // The socket bound when the offer went out (`ReserveLeg`): the browser's early ICE
        // checks wait in it.
        let socket = match self
            .reserved
            .take_leg_or_bind(call, port)
            .and_then(RtpSocket::new)
        {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::warn!(%call, ?party, port, error = %e, "cannot open a browser leg's port");
                let reason = format!("the browser leg's port {port} cannot be opened: {e}");
                self.leg_failed(call, party, reason);
                return;
            }
        };
        let receiver = match self.legs.insert_webrtc(socket.clone(), call, party) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%call, ?party, port, error = %e, "cannot poll a browser leg's port");
                let reason = format!("the browser leg's port {port} cannot be polled: {e}");
                self.leg_failed(call, party, reason);
                return;
            }
        };
        let mut sender = Some(RtpSender::new(
            media.codec,
            media.telephone_event,
            &mut rand::thread_rng(),
        ));
        let Some(s) = self.calls.get_mut(&call) else {
            receiver.abort();
            return;
        };
        if party != PartyId::AGENT {
            if let Some(m) = s.mixed.as_mut() {
                if let Err(e) = m.core.add_party(party, media, sender.take(), clock::now()) {
                    tracing::warn!(%call, ?party, error = %e, "browser party refused by the mixer");
                    receiver.abort();
                    return;
                }
            }
        }
        // `remote` is ICE's business here: the leg sends to the pair ICE nominated.
        let remote = socket
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], port)));
        let side = AgentSide {
            socket,
            remote,
            media,
            sender,
            receiver,
        };
        if party == PartyId::AGENT {
            s.agent = Some(side);
        } else {
            s.parties.push((party, side));
        }
        let mut leg = leg;
        leg.set_connect_timeout(self.settings.webrtc_connect_timeout, clock::now());
        s.webrtc.retain(|(p, _)| *p != party);
        s.webrtc.push((
            party,
            WebRtcAgent {
                leg,
                closed_at: None,
            },
        ));
        self.counters.webrtc.legs.fetch_add(1, Ordering::Relaxed);
        self.drain_webrtc(call);
    }

    /// Tells the engine a browser leg failed: the agent's ends the call, a party's that
    /// party.
    fn leg_failed(&self, call: CallId, party: PartyId, reason: String) {
        let event = if party == PartyId::AGENT {
            MediaEvent::AgentLegFailed { call, reason }
        } else {
            MediaEvent::PartyLegFailed {
                call,
                party,
                reason,
            }
        };
        let _ = self.to_engine.send(event);
    }

    /// The browser's re-offer (hold, resume) on `party`'s leg: answered by the leg, the
    /// answer to the engine.
    pub(super) fn webrtc_reoffer(&mut self, call: CallId, party: PartyId, offer: &str) {
        let answer = match self.calls.get_mut(&call).and_then(|s| s.webrtc_mut(party)) {
            Some(w) => w
                .leg
                .accept_offer(offer, clock::now())
                .map_err(|e| e.to_string()),
            None => Err("no browser leg is open for this party".to_string()),
        };
        let _ = self.to_engine.send(MediaEvent::WebRtcReanswer {
            call,
            party,
            answer,
        });
        self.drain_webrtc(call);
    }

    /// A datagram from the browser's side of `party`'s leg.
    pub(super) fn webrtc_datagram(
        &mut self,
        (call, party): (CallId, PartyId),
        source: SocketAddr,
        datagram: &[u8],
    ) {
        let Some(w) = self.calls.get_mut(&call).and_then(|s| s.webrtc_mut(party)) else {
            return;
        };
        let before = w.leg.stats().refused_datagrams;
        w.leg.handle_datagram(source, datagram, clock::now());
        let refused = w.leg.stats().refused_datagrams - before;
        self.counters
            .webrtc
            .refused_datagrams
            .fetch_add(refused, Ordering::Relaxed);
        self.drain_webrtc(call);
    }

    /// The 20 ms tick: every browser leg's due timer, then what each has to send (a mixing
    /// call's frames for the browser went into its leg during this tick).
    pub(super) fn tick_webrtc(&mut self, now: Instant) {
        let mut unended = Vec::new();
        let mut calls = Vec::new();
        for (call, s) in self.calls.iter_mut() {
            if s.webrtc.is_empty() {
                continue;
            }
            calls.push(*call);
            for (party, w) in s.webrtc.iter_mut() {
                if w.leg.poll_timeout().is_some_and(|t| t <= now) {
                    w.leg.handle_timeout(now);
                }
                if w.closed_at
                    .is_some_and(|at| now.saturating_duration_since(at) >= CLOSE_GRACE)
                {
                    w.closed_at = None;
                    unended.push((*call, *party));
                }
            }
        }
        for (call, party) in unended {
            tracing::warn!(%call, ?party, "a browser closed its media and sent no BYE");
            self.counters.webrtc.failed.fetch_add(1, Ordering::Relaxed);
            let reason = format!(
                "the browser closed its WebRTC session and sent no BYE within {CLOSE_GRACE:?}"
            );
            self.leg_failed(call, party, reason);
        }
        for call in calls {
            self.drain_webrtc(call);
        }
    }

    /// What the call's browser legs have to send or hand on: datagrams go out on each leg's
    /// socket, the browser's audio and keys into the bridge or mixer as its party's packets.
    pub(super) fn drain_webrtc(&mut self, call: CallId) {
        let mut to_core = Vec::new();
        let mut failed = Vec::new();
        {
            let Some(s) = self.calls.get_mut(&call) else {
                return;
            };
            let Stream {
                webrtc,
                agent,
                parties,
                ..
            } = s;
            for (party, w) in webrtc.iter_mut() {
                let side = if *party == PartyId::AGENT {
                    agent.as_ref()
                } else {
                    parties.iter().find(|(p, _)| p == party).map(|(_, l)| l)
                };
                let Some(side) = side else {
                    continue;
                };
                while let Some(out) = w.leg.poll_output() {
                    match out {
                        LegOutput::Transmit {
                            destination,
                            contents,
                        } => {
                            if side.socket.try_send_to(&contents, destination).is_ok() {
                                self.counters
                                    .webrtc
                                    .datagrams_sent
                                    .fetch_add(1, Ordering::Relaxed);
                            } else {
                                self.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        LegOutput::Rtp(packet) => to_core.push((*party, packet)),
                        LegOutput::Connected => {
                            tracing::info!(%call, ?party, "browser leg connected (DTLS-SRTP)");
                        }
                        LegOutput::Failed(WebRtcError::ClosedByPeer) => {
                            tracing::info!(%call, ?party, "the browser closed its WebRTC session; its BYE should follow");
                            w.closed_at = Some(clock::now());
                        }
                        LegOutput::Failed(e) => {
                            tracing::warn!(%call, ?party, error = %e, "browser leg failed");
                            self.counters.webrtc.failed.fetch_add(1, Ordering::Relaxed);
                            failed.push((*party, e.to_string()));
                        }
                    }
                }
            }
        }
        for (party, reason) in failed {
            self.leg_failed(call, party, reason);
        }
        for (party, packet) in to_core {
            self.counters.received.fetch_add(1, Ordering::Relaxed);
            self.packet((call, party), &packet, None, None);
        }
    }
}

impl Stream {
    /// The WebRTC leg of `party`, when its phone is a browser.
    fn webrtc_mut(&mut self, party: PartyId) -> Option<&mut WebRtcAgent> {
        self.webrtc
            .iter_mut()
            .find(|(p, _)| *p == party)
            .map(|(_, w)| w)
    }

    /// Whether an extra party's leg is open.
    fn leg_open(&self, party: PartyId) -> bool {
        self.parties.iter().any(|(p, _)| *p == party)
    }
}
