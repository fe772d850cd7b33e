//! A browser agent's leg on a media task: one UDP socket (a port from the same range as the
//! RTP legs) carrying ICE, DTLS and SRTP for the sans-IO [`WebRtcLeg`]. Towards the bridge
//! and recorder it is an agent leg like a SIP phone's ([`AgentSide`], the leg's inner G.711
//! media and RFC 4733 events), so `bridging.rs` bridges, holds and unbridges it unchanged:
//! what the bridge sends the agent goes into [`WebRtcLeg::send_rtp`] instead of the socket,
//! and what the leg decodes from the browser enters the bridge as the agent's packets.
//!
//! The leg's own timers (ICE consent, DTLS retransmits, RTCP) run from the media task's
//! 20 ms tick. The call room makes the offer and accepts the answer on the core before
//! handing it here ([`MediaHandle::open_webrtc_agent`](super::MediaHandle::open_webrtc_agent)).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::rtp_io::RtpSocket;
use super::{AgentSide, MediaEvent, Worker};
use crate::call::session::CallId;
use crate::media::mixer::PartyId;
use crate::media::rtp::RtpSender;
use crate::media::webrtc::{LegOutput, WebRtcError, WebRtcLeg};
use crate::shell::clock;

/// The browser leg's core beside the call's [`AgentSide`] (which holds its socket).
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
    /// Binds the leg's port, receives it on this task and makes it the call's agent leg.
    /// The leg has been answered (its bridge-side media is known); a leg that was not is
    /// refused like an unopenable port.
    pub(super) fn open_webrtc_agent(&mut self, call: CallId, port: u16, leg: Box<WebRtcLeg>) {
        if !self.calls.contains_key(&call) {
            return;
        }
        let Some(media) = leg.media() else {
            tracing::warn!(%call, "a browser leg handed over before its answer; refused");
            let _ = self.to_engine.send(MediaEvent::AgentLegFailed {
                call,
                reason: "the browser leg was handed over before its answer".into(),
            });
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
                tracing::warn!(%call, port, error = %e, "cannot open a browser leg's port");
                let _ = self.to_engine.send(MediaEvent::AgentLegFailed {
                    call,
                    reason: format!("the browser leg's port {port} cannot be opened: {e}"),
                });
                return;
            }
        };
        let receiver = match self.legs.insert_webrtc(socket.clone(), call) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%call, port, error = %e, "cannot poll a browser leg's port");
                let _ = self.to_engine.send(MediaEvent::AgentLegFailed {
                    call,
                    reason: format!("the browser leg's port {port} cannot be polled: {e}"),
                });
                return;
            }
        };
        let sender = RtpSender::new(media.codec, media.telephone_event, &mut rand::thread_rng());
        let Some(s) = self.calls.get_mut(&call) else {
            receiver.abort();
            return;
        };
        // `remote` is ICE's business here: the leg sends to the pair ICE nominated.
        let remote = socket
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], port)));
        s.agent = Some(AgentSide {
            socket,
            remote,
            media,
            sender: Some(sender),
            receiver,
        });
        let mut leg = leg;
        leg.set_connect_timeout(self.settings.webrtc_connect_timeout, clock::now());
        s.webrtc = Some(WebRtcAgent {
            leg,
            closed_at: None,
        });
        self.counters.webrtc.legs.fetch_add(1, Ordering::Relaxed);
        self.drain_webrtc(call);
    }

    /// The browser's re-offer (hold, resume): answered by its leg, the answer to the engine.
    pub(super) fn webrtc_reoffer(&mut self, call: CallId, offer: &str) {
        let answer = match self.calls.get_mut(&call).and_then(|s| s.webrtc.as_mut()) {
            Some(w) => w
                .leg
                .accept_offer(offer, clock::now())
                .map_err(|e| e.to_string()),
            None => Err("no browser leg is open on this call".to_string()),
        };
        let _ = self
            .to_engine
            .send(MediaEvent::WebRtcReanswer { call, answer });
        self.drain_webrtc(call);
    }

    /// A datagram from the browser's side of the leg.
    pub(super) fn webrtc_datagram(&mut self, call: CallId, source: SocketAddr, datagram: &[u8]) {
        let Some(w) = self.calls.get_mut(&call).and_then(|s| s.webrtc.as_mut()) else {
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
        let legs: Vec<CallId> = self
            .calls
            .iter_mut()
            .filter_map(|(call, s)| {
                let w = s.webrtc.as_mut()?;
                if w.leg.poll_timeout().is_some_and(|t| t <= now) {
                    w.leg.handle_timeout(now);
                }
                if w.closed_at
                    .is_some_and(|at| now.saturating_duration_since(at) >= CLOSE_GRACE)
                {
                    w.closed_at = None;
                    unended.push(*call);
                }
                Some(*call)
            })
            .collect();
        for call in unended {
            tracing::warn!(%call, "a browser closed its media and sent no BYE");
            self.counters.webrtc.failed.fetch_add(1, Ordering::Relaxed);
            let _ = self.to_engine.send(MediaEvent::AgentLegFailed {
                call,
                reason: format!(
                    "the browser closed its WebRTC session and sent no BYE within {CLOSE_GRACE:?}"
                ),
            });
        }
        for call in legs {
            self.drain_webrtc(call);
        }
    }

    /// What the leg has to send or hand on: datagrams go out on its socket, the browser's
    /// audio and keys into the bridge as the agent's packets.
    pub(super) fn drain_webrtc(&mut self, call: CallId) {
        let mut to_bridge = Vec::new();
        {
            let Some(s) = self.calls.get_mut(&call) else {
                return;
            };
            let (Some(w), Some(agent)) = (s.webrtc.as_mut(), s.agent.as_ref()) else {
                return;
            };
            while let Some(out) = w.leg.poll_output() {
                match out {
                    LegOutput::Transmit {
                        destination,
                        contents,
                    } => {
                        if agent.socket.try_send_to(&contents, destination).is_ok() {
                            self.counters
                                .webrtc
                                .datagrams_sent
                                .fetch_add(1, Ordering::Relaxed);
                        } else {
                            self.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    LegOutput::Rtp(packet) => to_bridge.push(packet),
                    LegOutput::Connected => {
                        tracing::info!(%call, "browser agent leg connected (DTLS-SRTP)");
                    }
                    LegOutput::Failed(WebRtcError::ClosedByPeer) => {
                        tracing::info!(%call, "the browser closed its WebRTC session; its BYE should follow");
                        w.closed_at = Some(clock::now());
                    }
                    LegOutput::Failed(e) => {
                        tracing::warn!(%call, error = %e, "browser agent leg failed");
                        self.counters.webrtc.failed.fetch_add(1, Ordering::Relaxed);
                        let _ = self.to_engine.send(MediaEvent::AgentLegFailed {
                            call,
                            reason: e.to_string(),
                        });
                    }
                }
            }
        }
        for packet in to_bridge {
            self.counters.received.fetch_add(1, Ordering::Relaxed);
            self.packet((call, PartyId::AGENT), &packet, None, None);
        }
    }
}
