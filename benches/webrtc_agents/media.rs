//! One load agent's call media: a browser-like str0m peer (full ICE, the DTLS client, RTP
//! mode) answering the engine's WebRTC offer, sending a 600 Hz tone every 20 ms and checking
//! what comes back: sequence gaps (lost packets), RTP time jumps (frames the engine never
//! sent), and which tone a second of it carries. Its own task and UDP socket per call; every
//! loop ends with the call's stop signal or its time limit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::SdpOffer;
use str0m::format::Codec as RtcCodec;
use str0m::media::{Frequency, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

use hotline::media::dtmf::tone::goertzel_amplitude;
use hotline::media::Codec as G711;

/// The agent's own tone and the citizen's the engine should relay.
pub const AGENT_HZ: f64 = 600.0;
pub const CITIZEN_HZ: f64 = 400.0;
const PTIME: Duration = Duration::from_millis(20);
/// Received packets whose audio is checked for the citizen's tone: the third second.
const CHECK_FROM: u64 = 100;
const CHECK_LEN: u64 = 50;

/// The codec the load agent answers with: the engine relays PCMU as it is, and transcodes
/// Opus (libopus) at the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentCodec {
    Pcmu,
    Opus,
}

impl AgentCodec {
    /// RTP clock ticks per 20 ms frame.
    fn frame_ticks(self) -> u32 {
        match self {
            AgentCodec::Pcmu => 160,
            AgentCodec::Opus => 960,
        }
    }
}

/// One second of the agent's tone as ready payloads (50 frames), looped like SIPp's
/// `rtp_stream`: whole periods of 600 Hz in a second, so the loop is seamless. Opus frames
/// are encoded once here, at 48 kHz as a browser does, so the load client spends no CPU on
/// encoding during the run.
pub fn tone_frames(codec: AgentCodec) -> Result<Vec<Vec<u8>>, String> {
    let sine = |rate: f64, i: usize| {
        ((i as f64) * 2.0 * std::f64::consts::PI * AGENT_HZ / rate).sin() * 8000.0
    };
    match codec {
        AgentCodec::Pcmu => Ok((0..50)
            .map(|f| {
                let pcm: Vec<i16> = (0..160).map(|i| sine(8000.0, f * 160 + i) as i16).collect();
                let mut out = vec![0u8; 160];
                G711::Pcmu.encode(&pcm, &mut out);
                out
            })
            .collect()),
        AgentCodec::Opus => {
            let mut enc = opus::Encoder::new(48000, opus::Channels::Mono, opus::Application::Voip)
                .map_err(|e| format!("Opus encoder: {e}"))?;
            (0..50)
                .map(|f| {
                    let pcm: Vec<i16> = (0..960)
                        .map(|i| sine(48000.0, f * 960 + i) as i16)
                        .collect();
                    enc.encode_vec(&pcm, 1500)
                        .map_err(|e| format!("Opus encode: {e}"))
                })
                .collect()
        }
    }
}

/// What one call's media did, for the run's summary.
#[derive(Debug, Default, Clone)]
pub struct CallMedia {
    /// From the 200 OK's answer to str0m's `Connected` (ICE + DTLS + SRTP keys).
    pub handshake: Option<Duration>,
    pub sent: u64,
    pub received: u64,
    /// Sequence numbers never received between the first and the last that were.
    pub lost: u64,
    /// Consecutive packets whose RTP times differ by more than a frame (a frame the engine
    /// skipped towards the agent).
    pub time_jumps: u64,
    /// The third second of received audio: `Some(true)` when it carries the citizen's
    /// 400 Hz ten times louder than 600 Hz; `None` when the call was too short to check.
    pub tone_ok: Option<bool>,
    pub error: Option<String>,
}

/// A call's media peer between the answer and its task.
pub struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
}

/// The browser's side of the engine's offer: a str0m peer answering with only `codec`
/// (plus telephone-event), and the SDP answer to put in the 200 OK.
pub async fn answer(offer: &str, codec: AgentCodec) -> Result<(Peer, String), String> {
    let socket = UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let local = socket.local_addr().map_err(|e| format!("addr: {e}"))?;
    let cfg = Rtc::builder().set_rtp_mode(true).clear_codecs();
    let cfg = match codec {
        AgentCodec::Pcmu => cfg.enable_pcmu(true, false),
        AgentCodec::Opus => cfg.enable_opus(true, false),
    };
    let mut rtc = cfg.build(Instant::now());
    let cand = Candidate::host(local, "udp").map_err(|e| format!("candidate: {e}"))?;
    rtc.add_local_candidate(cand);
    let offer = SdpOffer::from_sdp_string(offer).map_err(|e| format!("offer: {e}"))?;
    let sdp = rtc
        .sdp_api()
        .accept_offer(offer)
        .map_err(|e| format!("accept offer: {e}"))?;
    Ok((Peer { rtc, socket, local }, sdp.to_sdp_string()))
}

/// Received audio and its accounting.
struct Received {
    codec: AgentCodec,
    count: u64,
    first_seq: Option<u64>,
    last_seq: u64,
    last_time: Option<(u64, u64)>,
    time_jumps: u64,
    check: Vec<i16>,
    decoder: Option<opus::Decoder>,
}

impl Received {
    fn packet(&mut self, seq: u64, time: u64, payload: &[u8], ticks: u32) {
        self.count += 1;
        let first = *self.first_seq.get_or_insert(seq);
        self.last_seq = self.last_seq.max(seq);
        if let Some((s, t)) = self.last_time {
            if seq == s + 1 && time > t + u64::from(ticks) {
                self.time_jumps += 1;
            }
        }
        self.last_time = Some((seq, time));
        let n = seq.saturating_sub(first);
        if !(CHECK_FROM..CHECK_FROM + CHECK_LEN).contains(&n) {
            return;
        }
        match self.codec {
            AgentCodec::Pcmu => {
                let mut pcm = vec![0i16; payload.len()];
                G711::Pcmu.decode(payload, &mut pcm);
                self.check.extend_from_slice(&pcm);
            }
            AgentCodec::Opus => {
                // A fresh decoder for the checked second (its first frames settle).
                let dec = match &mut self.decoder {
                    Some(d) => d,
                    None => match opus::Decoder::new(8000, opus::Channels::Mono) {
                        Ok(d) => self.decoder.insert(d),
                        Err(_) => return,
                    },
                };
                let mut pcm = [0i16; 960];
                if let Ok(k) = dec.decode(payload, &mut pcm, false) {
                    if n >= CHECK_FROM + 5 {
                        self.check.extend_from_slice(&pcm[..k]);
                    }
                }
            }
        }
    }

    fn tone_ok(&self) -> Option<bool> {
        if self.check.len() < 8000 / 2 {
            return None;
        }
        let citizen = goertzel_amplitude(&self.check, CITIZEN_HZ as f32);
        let agent = goertzel_amplitude(&self.check, AGENT_HZ as f32);
        Some(citizen > 10.0 * agent && citizen > 0.0)
    }
}

/// Runs the call's media until `stop` fires (the engine's BYE) or `limit` passes: answers
/// ICE, completes DTLS, sends the looped tone every 20 ms from `Connected` on.
pub async fn run(
    peer: Peer,
    codec: AgentCodec,
    frames: Arc<Vec<Vec<u8>>>,
    mut stop: oneshot::Receiver<()>,
    limit: Duration,
) -> CallMedia {
    let Peer {
        mut rtc,
        socket,
        local,
    } = peer;
    let started = Instant::now();
    let deadline = started + limit;
    let ticks = codec.frame_ticks();
    let mut out = CallMedia::default();
    let mut rx = Received {
        codec,
        count: 0,
        first_seq: None,
        last_seq: 0,
        last_time: None,
        time_jumps: 0,
        check: Vec::new(),
        decoder: None,
    };
    let mut mid: Option<Mid> = None;
    let mut pt: Option<Pt> = None;
    let mut next_frame: Option<Instant> = None;
    let mut frame_no: u64 = 0;
    let mut buf = vec![0u8; 2048];
    let want = match codec {
        AgentCodec::Pcmu => RtcCodec::PCMU,
        AgentCodec::Opus => RtcCodec::Opus,
    };
    loop {
        let timeout = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    let _ = socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(e)) => match e {
                    Event::Connected if out.handshake.is_none() => {
                        out.handshake = Some(started.elapsed());
                        next_frame = Some(Instant::now());
                    }
                    Event::MediaAdded(m) => {
                        mid = Some(m.mid);
                        let params = rtc.codec_config();
                        pt = rtc.media(m.mid).and_then(|media| {
                            media.remote_pts().iter().copied().find(|p| {
                                params.iter().any(|c| {
                                    c.pt() == *p
                                        && c.spec().codec == want
                                        && (want == RtcCodec::Opus
                                            || c.spec().clock_rate == Frequency::EIGHT_KHZ)
                                })
                            })
                        });
                    }
                    Event::RtpPacket(p) => {
                        rx.packet(*p.seq_no, p.time.numer(), &p.payload, ticks);
                    }
                    _ => {}
                },
                Err(e) => {
                    out.error = Some(format!("str0m: {e}"));
                    break Instant::now() + PTIME;
                }
            }
        };
        if out.error.is_some() || !rtc.is_alive() {
            out.error.get_or_insert_with(|| "the peer closed".into());
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            out.error = Some(format!("no BYE within {limit:?}"));
            break;
        }
        let mut wake = timeout.min(deadline);
        if let Some(nf) = next_frame {
            wake = wake.min(nf);
        }
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                if let Ok((n, source)) = r {
                    if let Ok(contents) = buf[..n].try_into() {
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp, source, destination: local, contents,
                        });
                        if let Err(e) = rtc.handle_input(input) {
                            out.error = Some(format!("str0m input: {e}"));
                        }
                    }
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = &mut stop => break,
        }
        let now = Instant::now();
        if let (Some(nf), Some(mid), Some(pt)) = (next_frame.as_mut(), mid, pt) {
            // Frames due (a late wake-up sends the backlog: RTP times come from the count).
            while *nf <= now {
                let payload = frames[(frame_no % frames.len() as u64) as usize].clone();
                let mut api = rtc.direct_api();
                if let Some(tx) = api.stream_tx_by_mid(mid, None) {
                    let time = (frame_no as u32).wrapping_mul(ticks);
                    tx.write_rtp(RtpWrite::new(pt, SeqNo::from(frame_no), time, *nf, payload));
                    out.sent += 1;
                }
                frame_no += 1;
                *nf += PTIME;
            }
        }
        if let Err(e) = rtc.handle_input(Input::Timeout(now)) {
            out.error = Some(format!("str0m timeout: {e}"));
            break;
        }
    }
    out.received = rx.count;
    if let Some(first) = rx.first_seq {
        out.lost = (rx.last_seq - first + 1).saturating_sub(rx.count);
    }
    out.time_jumps = rx.time_jumps;
    out.tone_ok = rx.tone_ok();
    if out.handshake.is_none() && out.error.is_none() {
        out.error = Some("never connected".into());
    }
    out
}
