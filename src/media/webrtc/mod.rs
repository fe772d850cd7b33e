//! A browser agent's media leg, sans-IO: ICE-lite, DTLS-SRTP (RFC 5763/5764) and RTCP
//! multiplexing through [str0m](https://docs.rs/str0m) (chosen over webrtc-rs because it is
//! sans-IO like our cores; figures in docs/PERFORMANCE.md "WebRTC stacks compared").
//!
//! The engine makes the SDP **offer** (it sends the INVITE to the agent): ICE-lite (the engine
//! has a known address and never gathers), `a=setup:actpass`, its certificate's fingerprint,
//! `a=rtcp-mux`, `UDP/TLS/RTP/SAVPF`, PCMU, PCMA, Opus and telephone-event; it accepts the
//! browser's answer. DTLS refuses a peer whose certificate does not hash to the answer's
//! `a=fingerprint` (the leg fails before any key is derived), and only SRTP leaves the leg:
//! str0m sends media solely after DTLS has keyed SRTP, so there is no plain-RTP path to a browser.
//!
//! **Inner face**: towards the bridge and recorder the leg speaks exactly what a SIP phone's
//! leg does — 8 kHz RTP with G.711 audio (its [`LegMedia`]) and RFC 4733 events on payload
//! type [`INNER_EVENT_PT`] — so `media::bridge` relays, records and passes keys unchanged.
//! A browser that answered PCMU or PCMA is relayed without transcoding; one that answered
//! only Opus is transcoded (`transcode`, libopus) to PCMU and back, with 48 kHz RTP times and
//! event durations scaled to 8 kHz.
//!
//! Inputs: datagrams and `now`; outputs ([`LegOutput`]): datagrams to send, the bridge's
//! packets, `Connected` / `Failed`; [`WebRtcLeg::poll_timeout`] says when to be woken.

#[cfg(test)]
mod tests;
mod transcode;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::{Codec as RtcCodec, FormatParams};
use str0m::media::{Direction, Frequency, MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpPacket as RtcPacket, RtpWrite, SeqNo};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcError};
use thiserror::Error;

use crate::media::bridge::LegMedia;
use crate::media::codec::Codec;
use crate::media::dtmf::TelephoneEvent;
use crate::media::rtp::{RtpHeader, RtpPacket};
pub use transcode::{OpusTranscoder, TranscodeError, DEFAULT_OPUS_COMPLEXITY, MAX_OPUS_COMPLEXITY};

/// The telephone-event payload type of the leg's inner (bridge-side) packets, 8 kHz.
pub const INNER_EVENT_PT: u8 = 101;
/// Offered telephone-event payload types: 8 kHz (with G.711) and 48 kHz (with Opus, whose
/// events must share its clock, RFC 4733 §2.1).
const PT_EVENT_8K: u8 = 101;
const PT_EVENT_48K: u8 = 110;

/// Why a browser leg cannot be set up or goes down.
#[derive(Debug, Error)]
pub enum WebRtcError {
    #[error("cannot use {addr} as the leg's ICE candidate")]
    Candidate { addr: SocketAddr },
    #[error("the offer could not be made")]
    Offer,
    #[error("the browser's SDP answer does not parse: {0}")]
    AnswerSyntax(String),
    #[error("the browser's SDP answer was refused: {0}")]
    Answer(String),
    #[error("an answer without a pending offer (none made, or answered twice), or a re-offer before the first answer")]
    NoPendingOffer,
    #[error("the answer has no audio codec we speak (PCMU, PCMA or Opus)")]
    NoCodec,
    /// DTLS: the certificate the peer presented does not hash to the SDP's fingerprint.
    #[error("DTLS peer refused: {0}")]
    Fingerprint(String),
    #[error("ICE: the browser stopped answering connectivity checks")]
    IceDisconnected,
    /// Answered, but ICE and DTLS did not come up in time (the browser's network blocks
    /// the media, or it never sent a check).
    #[error("ICE/DTLS did not connect within {0:?} of the answer: the media is blocked")]
    ConnectTimeout(std::time::Duration),
    /// The browser ended its session (a DTLS close): it is hanging up, and its BYE is on
    /// its way over the WebSocket, which may come after the media's last datagram.
    #[error("the browser closed its WebRTC session")]
    ClosedByPeer,
    #[error("WebRTC: {0}")]
    Rtc(String),
    #[error(transparent)]
    Transcode(#[from] TranscodeError),
}

/// What the leg asks of the shell (drain after every input).
#[derive(Debug)]
pub enum LegOutput {
    /// A datagram (STUN, DTLS or SRTP/SRTCP) for the leg's socket.
    Transmit {
        destination: SocketAddr,
        contents: Vec<u8>,
    },
    /// A plain 8 kHz RTP packet from the browser for the bridge: G.711 audio in the leg's
    /// [`LegMedia`] codec, or an RFC 4733 event on [`INNER_EVENT_PT`].
    Rtp(Vec<u8>),
    /// ICE and DTLS are up: SRTP flows.
    Connected,
    /// The leg is dead (a refused fingerprint, ICE lost, …); nothing more will come out.
    Failed(WebRtcError),
}

/// Where the leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegState {
    /// The offer is out; waiting for the browser's answer.
    Offered,
    /// Answered: ICE and DTLS under way.
    Connecting,
    Connected,
    Failed,
}

/// Counters of one leg (packets), for `/metrics` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebRtcStats {
    /// Media packets from the browser handed to the bridge.
    pub to_bridge: u64,
    /// Packets from the bridge sent to the browser (SRTP).
    pub to_browser: u64,
    /// Frames through the Opus transcoder, both ways.
    pub transcoded: u64,
    /// Packets dropped: not decodable, an event the other side did not negotiate, or sent
    /// before the leg was connected.
    pub dropped: u64,
    /// Datagrams refused before str0m: neither STUN, DTLS nor SRTP, or refused by it.
    pub refused_datagrams: u64,
}

/// What the browser's answer settled: how the leg sends, and the bridge-side media.
#[derive(Debug)]
struct Negotiated {
    send: SendCodec,
    event_8k: Option<Pt>,
    event_48k: Option<Pt>,
    inner: LegMedia,
}

#[derive(Debug)]
enum SendCodec {
    G711(Codec, Pt),
    Opus(Pt, Box<OpusTranscoder>),
}

/// One browser agent's media: a str0m `Rtc` plus the edge between it and the bridge.
pub struct WebRtcLeg {
    rtc: Rtc,
    local: SocketAddr,
    mid: Mid,
    pending: Option<SdpPendingOffer>,
    negotiated: Option<Negotiated>,
    state: LegState,
    out: VecDeque<LegOutput>,
    timeout: Option<Instant>,
    /// Not connected by then: the leg fails (`ConnectTimeout`).
    connect_deadline: Option<(Instant, std::time::Duration)>,
    /// The browser's first 48 kHz timestamp: inner times count from it (÷6).
    in_base_48k: Option<u32>,
    /// The last outgoing sequence number, extended to str0m's 64 bits.
    out_seq: Option<u64>,
    /// libopus's encoder complexity should the browser answer Opus.
    opus_complexity: u8,
    stats: WebRtcStats,
}

impl std::fmt::Debug for WebRtcLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebRtcLeg")
            .field("local", &self.local)
            .field("state", &self.state)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl WebRtcLeg {
    /// A leg on the UDP socket bound at `local`, and the SDP offer to send to the browser.
    pub fn offer(local: SocketAddr, now: Instant) -> Result<(Self, String), WebRtcError> {
        let mut config = Rtc::builder()
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_pcmu(true, false)
            .enable_pcma(true, false)
            .enable_opus(true, false);
        let events = |max| FormatParams {
            telephone_event_max: Some(max),
            ..Default::default()
        };
        let codecs = config.codec_config();
        codecs.add_config(
            Pt::from(PT_EVENT_8K),
            None,
            RtcCodec::Tele,
            Frequency::EIGHT_KHZ,
            None,
            events(15),
        );
        codecs.add_config(
            Pt::from(PT_EVENT_48K),
            None,
            RtcCodec::Tele,
            Frequency::FORTY_EIGHT_KHZ,
            None,
            events(15),
        );
        let mut rtc = config.build(now);
        let candidate =
            Candidate::host(local, "udp").map_err(|_| WebRtcError::Candidate { addr: local })?;
        if rtc.add_local_candidate(candidate).is_none() {
            return Err(WebRtcError::Candidate { addr: local });
        }
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().ok_or(WebRtcError::Offer)?;
        let mut leg = WebRtcLeg {
            rtc,
            local,
            mid,
            pending: Some(pending),
            negotiated: None,
            state: LegState::Offered,
            out: VecDeque::new(),
            timeout: None,
            connect_deadline: None,
            in_base_48k: None,
            out_seq: None,
            opus_complexity: DEFAULT_OPUS_COMPLEXITY,
            stats: WebRtcStats::default(),
        };
        leg.drain();
        Ok((leg, offer.to_sdp_string()))
    }

    /// The Opus encoder's complexity (`[rtp] opus_complexity`, at most
    /// [`MAX_OPUS_COMPLEXITY`]) for a browser that answers Opus; set before its answer.
    pub fn set_opus_complexity(&mut self, complexity: u8) {
        self.opus_complexity = complexity.min(MAX_OPUS_COMPLEXITY);
    }

    /// The complexity of the leg's running Opus encoder; `None` when it does not transcode.
    pub fn opus_complexity(&mut self) -> Option<u8> {
        match &mut self.negotiated.as_mut()?.send {
            SendCodec::Opus(_, opus) => opus.complexity().ok(),
            SendCodec::G711(..) => None,
        }
    }

    /// The browser's answer: checks it, settles the codecs, and starts ICE/DTLS. Returns the
    /// bridge-side media (what the bridge should send this leg and expect from it).
    pub fn accept_answer(&mut self, sdp: &str, now: Instant) -> Result<LegMedia, WebRtcError> {
        let pending = self.pending.take().ok_or(WebRtcError::NoPendingOffer)?;
        let answer = SdpAnswer::from_sdp_string(sdp)
            .map_err(|e| WebRtcError::AnswerSyntax(e.to_string()))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| WebRtcError::Answer(e.to_string()))?;
        let negotiated = self.negotiate()?;
        let inner = negotiated.inner;
        self.negotiated = Some(negotiated);
        self.state = LegState::Connecting;
        self.input(Input::Timeout(now));
        Ok(inner)
    }

    /// The browser's own offer inside the running session (a re-INVITE: hold, resume, a
    /// refresh): str0m answers it on the same ICE and DTLS (nothing is renegotiated but the
    /// direction; the codecs settled by the first answer stay). Returns our SDP answer and
    /// whether the browser holds the call (it said `sendonly` or `inactive`).
    pub fn accept_offer(&mut self, sdp: &str, now: Instant) -> Result<(String, bool), WebRtcError> {
        if self.state == LegState::Failed || self.negotiated.is_none() {
            return Err(WebRtcError::NoPendingOffer);
        }
        let offer =
            SdpOffer::from_sdp_string(sdp).map_err(|e| WebRtcError::AnswerSyntax(e.to_string()))?;
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| WebRtcError::Answer(e.to_string()))?;
        let held = self
            .rtc
            .media(self.mid)
            .is_some_and(|m| matches!(m.direction(), Direction::RecvOnly | Direction::Inactive));
        self.input(Input::Timeout(now));
        Ok((answer.to_sdp_string(), held))
    }

    /// The first audio codec of the browser's answer we speak (its preference order), and
    /// the telephone-event payload types it kept.
    fn negotiate(&self) -> Result<Negotiated, WebRtcError> {
        let media = self.rtc.media(self.mid).ok_or(WebRtcError::NoCodec)?;
        let params = self.rtc.codec_config();
        let spec = |pt: Pt| params.iter().find(|p| p.pt() == pt).map(|p| p.spec());
        let mut send = None;
        let (mut event_8k, mut event_48k) = (None, None);
        for &pt in media.remote_pts() {
            let Some(s) = spec(pt) else { continue };
            match s.codec {
                RtcCodec::Tele if s.clock_rate == Frequency::EIGHT_KHZ => event_8k = Some(pt),
                RtcCodec::Tele if s.clock_rate == Frequency::FORTY_EIGHT_KHZ => {
                    event_48k = Some(pt)
                }
                RtcCodec::PCMU if send.is_none() => send = Some((RtcCodec::PCMU, pt)),
                RtcCodec::PCMA if send.is_none() => send = Some((RtcCodec::PCMA, pt)),
                RtcCodec::Opus if send.is_none() => send = Some((RtcCodec::Opus, pt)),
                _ => {}
            }
        }
        let send = match send.ok_or(WebRtcError::NoCodec)? {
            (RtcCodec::PCMA, pt) => SendCodec::G711(Codec::Pcma, pt),
            (RtcCodec::Opus, pt) => {
                SendCodec::Opus(pt, Box::new(OpusTranscoder::new(self.opus_complexity)?))
            }
            (_, pt) => SendCodec::G711(Codec::Pcmu, pt),
        };
        let codec = match send {
            SendCodec::G711(c, _) => c,
            SendCodec::Opus(..) => Codec::Pcmu,
        };
        let events = match send {
            SendCodec::G711(..) => event_8k.is_some(),
            SendCodec::Opus(..) => event_48k.is_some() || event_8k.is_some(),
        };
        Ok(Negotiated {
            send,
            event_8k,
            event_48k,
            inner: LegMedia {
                codec,
                telephone_event: events.then_some(INNER_EVENT_PT),
            },
        })
    }

    /// A datagram that arrived on the leg's socket from `source`.
    pub fn handle_datagram(&mut self, source: SocketAddr, datagram: &[u8], now: Instant) {
        if self.state == LegState::Failed {
            // A dead leg reads nothing: whatever still arrives is refused.
            self.stats.refused_datagrams += 1;
            return;
        }
        let Ok(contents) = datagram.try_into() else {
            self.stats.refused_datagrams += 1;
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        );
        if !self.rtc.accepts(&input) {
            self.stats.refused_datagrams += 1;
            return;
        }
        self.input(input);
    }

    /// The leg must be connected within `limit` of `now` (an ICE-lite leg sends no checks
    /// of its own, so without this a browser that never reaches it would wait forever).
    pub fn set_connect_timeout(&mut self, limit: std::time::Duration, now: Instant) {
        if self.state != LegState::Connected {
            self.connect_deadline = Some((now + limit, limit));
        }
    }

    /// The time [`Self::poll_timeout`] asked for has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == LegState::Failed {
            return;
        }
        if let Some((at, limit)) = self.connect_deadline {
            if self.state != LegState::Connected && now >= at {
                self.fail(WebRtcError::ConnectTimeout(limit));
                return;
            }
        }
        self.input(Input::Timeout(now));
    }

    /// A packet from the bridge for the browser, in the leg's inner media (G.711 audio in
    /// its codec, or an RFC 4733 event on [`INNER_EVENT_PT`]). Dropped until connected.
    pub fn send_rtp(&mut self, packet: &[u8], now: Instant) {
        let Ok(p) = RtpPacket::parse(packet) else {
            self.stats.dropped += 1;
            return;
        };
        if self.state != LegState::Connected {
            self.stats.dropped += 1;
            return;
        }
        let Some(n) = self.negotiated.as_mut() else {
            return;
        };
        let h = p.header;
        let write = if h.payload_type == INNER_EVENT_PT {
            match (&n.send, n.event_8k, n.event_48k) {
                (SendCodec::G711(..), Some(pt), _) => Some((pt, h.timestamp, p.payload.to_vec())),
                (SendCodec::Opus(..), _, Some(pt)) => {
                    TelephoneEvent::parse(p.payload).ok().map(|mut e| {
                        e.duration = e.duration.saturating_mul(transcode::CLOCK_RATIO as u16);
                        (pt, scale_up(h.timestamp), e.to_bytes().to_vec())
                    })
                }
                _ => None,
            }
        } else {
            match &mut n.send {
                SendCodec::G711(codec, pt) if h.payload_type == codec.payload_type() => {
                    Some((*pt, h.timestamp, p.payload.to_vec()))
                }
                SendCodec::Opus(pt, opus) if h.payload_type == n.inner.codec.payload_type() => {
                    match opus.encode(n.inner.codec, p.payload) {
                        Ok(encoded) => {
                            self.stats.transcoded += 1;
                            Some((*pt, scale_up(h.timestamp), encoded))
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "Opus encode failed; frame dropped");
                            None
                        }
                    }
                }
                _ => None,
            }
        };
        let Some((pt, time, payload)) = write else {
            self.stats.dropped += 1;
            return;
        };
        let seq = self.extend_out_seq(h.sequence);
        let mid = self.mid;
        let mut api = self.rtc.direct_api();
        let Some(tx) = api.stream_tx_by_mid(mid, None) else {
            self.stats.dropped += 1;
            return;
        };
        tx.write_rtp(RtpWrite::new(pt, seq, time, now, payload).marker(h.marker));
        self.stats.to_browser += 1;
        self.input(Input::Timeout(now));
    }

    fn extend_out_seq(&mut self, seq: u16) -> SeqNo {
        let ext = match self.out_seq {
            // The SRTP index starts with a rollover count of 0 (RFC 3711 §3.3.1): the
            // receiver cannot know any other without signalling.
            None => u64::from(seq),
            Some(prev) => {
                let delta = i64::from(seq.wrapping_sub(prev as u16) as i16);
                prev.saturating_add_signed(delta)
            }
        };
        self.out_seq = Some(ext);
        SeqNo::from(ext)
    }

    /// The next thing to do for the shell, until `None`.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<LegOutput> {
        self.out.pop_front()
    }

    /// When to call [`Self::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            LegState::Failed => None,
            LegState::Connected => self.timeout,
            _ => match (self.timeout, self.connect_deadline) {
                (Some(t), Some((d, _))) => Some(t.min(d)),
                (t, d) => t.or(d.map(|(d, _)| d)),
            },
        }
    }

    pub fn state(&self) -> LegState {
        self.state
    }

    pub fn stats(&self) -> WebRtcStats {
        self.stats
    }

    /// The bridge-side media once answered.
    pub fn media(&self) -> Option<LegMedia> {
        self.negotiated.as_ref().map(|n| n.inner)
    }

    fn input(&mut self, input: Input) {
        if let Err(e) = self.rtc.handle_input(input) {
            self.error(e);
        }
        self.drain();
    }

    fn error(&mut self, e: RtcError) {
        if self.rtc.is_alive() {
            // A bad datagram (str0m refused it); the leg goes on.
            self.stats.refused_datagrams += 1;
            tracing::debug!(error = %e, "datagram refused by the WebRTC stack");
            return;
        }
        let err = match e {
            RtcError::RemoteSdp(why) => WebRtcError::Fingerprint(why),
            other => WebRtcError::Rtc(other.to_string()),
        };
        self.fail(err);
    }

    fn fail(&mut self, err: WebRtcError) {
        if self.state != LegState::Failed {
            tracing::info!(error = %err, "browser media leg failed");
            self.state = LegState::Failed;
            self.rtc.disconnect();
            self.out.push_back(LegOutput::Failed(err));
        }
    }

    /// Everything str0m has to say after an input, up to its next timeout.
    fn drain(&mut self) {
        while self.state != LegState::Failed {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.timeout = Some(t);
                    break;
                }
                Ok(Output::Transmit(t)) => self.out.push_back(LegOutput::Transmit {
                    destination: t.destination,
                    contents: t.contents.to_vec(),
                }),
                Ok(Output::Event(e)) => self.event(e),
                Err(e) => {
                    self.error(e);
                    if self.rtc.is_alive() {
                        continue;
                    }
                    break;
                }
            }
        }
        if !self.rtc.is_alive() && self.state != LegState::Failed {
            self.fail(WebRtcError::ClosedByPeer);
        }
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Connected if self.state == LegState::Connecting => {
                self.state = LegState::Connected;
                self.out.push_back(LegOutput::Connected);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.fail(WebRtcError::IceDisconnected)
            }
            Event::RtpPacket(p) => self.browser_packet(&p),
            _ => {}
        }
    }

    /// A media packet from the browser → the bridge's 8 kHz RTP.
    fn browser_packet(&mut self, p: &RtcPacket) {
        let Some(n) = self.negotiated.as_mut() else {
            return;
        };
        let pt = p.header.payload_type;
        let spec = self
            .rtc
            .codec_config()
            .iter()
            .find(|c| c.pt() == pt)
            .map(|c| c.spec());
        let Some(spec) = spec else {
            self.stats.dropped += 1;
            return;
        };
        let ts = p.header.timestamp;
        let to_8k = |base: &mut Option<u32>| ts.wrapping_sub(*base.get_or_insert(ts)) / 6;
        let inner = match spec.codec {
            RtcCodec::PCMU | RtcCodec::PCMA => {
                let codec = if spec.codec == RtcCodec::PCMU {
                    Codec::Pcmu
                } else {
                    Codec::Pcma
                };
                Some((codec.payload_type(), ts, p.payload.to_vec()))
            }
            RtcCodec::Opus => match &mut n.send {
                SendCodec::Opus(_, opus) => match opus.decode(n.inner.codec, &p.payload) {
                    Ok(g711) => {
                        self.stats.transcoded += 1;
                        let t = to_8k(&mut self.in_base_48k);
                        Some((n.inner.codec.payload_type(), t, g711))
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "Opus decode failed; packet dropped");
                        None
                    }
                },
                // Opus from a browser that answered G.711 first (browsers send the first
                // codec they answered): dropped and counted, no decoder is kept for it.
                SendCodec::G711(..) => None,
            },
            RtcCodec::Tele if n.inner.telephone_event.is_some() => {
                if spec.clock_rate == Frequency::EIGHT_KHZ {
                    Some((INNER_EVENT_PT, ts, p.payload.to_vec()))
                } else {
                    TelephoneEvent::parse(&p.payload).ok().map(|mut e| {
                        e.duration /= transcode::CLOCK_RATIO as u16;
                        let t = to_8k(&mut self.in_base_48k);
                        (INNER_EVENT_PT, t, e.to_bytes().to_vec())
                    })
                }
            }
            _ => None,
        };
        let Some((payload_type, timestamp, payload)) = inner else {
            self.stats.dropped += 1;
            return;
        };
        let header = RtpHeader {
            marker: p.header.marker,
            payload_type,
            sequence: p.header.sequence_number,
            timestamp,
            ssrc: *p.header.ssrc,
        };
        let mut packet = Vec::with_capacity(12 + payload.len());
        header.append_packet(&payload, &mut packet);
        self.stats.to_bridge += 1;
        self.out.push_back(LegOutput::Rtp(packet));
    }
}

/// An 8 kHz RTP time on Opus's 48 kHz clock (differences survive the wrap).
fn scale_up(ts8: u32) -> u32 {
    ts8.wrapping_mul(transcode::CLOCK_RATIO)
}
