//! The media tasks: a small fixed set (about one per core), each owning many calls' RTP
//! sockets and pacing all their streams from one timer (`media::pacer`). RTP timestamps come
//! from frame counts, never from the wall clock. Each task receives its legs' packets itself
//! ([`rtp_io`]: one epoll set, `recvmmsg` into reused buffers) and handles them in place
//! ([`receive`]): it latches each leg's source (symmetric RTP), turns the caller's RFC 4733
//! events or in-band tones into key presses for the engine, and hands a bridged or mixing
//! call's packets straight to its core by [`PartyId`]. A connected call runs on the two-party [`Bridge`](crate::media::bridge::Bridge) until the
//! call room first mixes it; from then on on the conference [`Mixer`] ([`conference`]).
//! Any leg but the caller's may be a browser's WebRTC leg (`webrtc_leg`): the agent's or
//! an extra party's, decrypted into and encrypted out of the same bridge or mixer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::call::engine::MediaCommand;
use crate::call::session::CallId;
use crate::media::bridge::LegMedia;
use crate::media::codec::Codec;
use crate::media::mixer::{Mixer, PartyId};
use crate::media::pacer::{Pacer, StreamId};
use crate::media::player::{Player, PlayerEvent};
use crate::media::rtp::{LatchConfig, RtpSender, SourceLatch};
use crate::shell::assets::Prompts;
use crate::shell::bridge::{AgentSide, Bridged, RecordedCore, RecordingCounters, Side};
use crate::shell::clock;
use crate::shell::media_ports::ReservedPorts;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

mod bridging;
mod conference;
mod handle;
mod receive;
mod robot;
pub mod rtp_io;
mod stamp;
#[cfg(test)]
mod tests;
pub mod timing;
mod webrtc_leg;
#[cfg(test)]
mod webrtc_party_tests;
#[cfg(test)]
mod webrtc_tests;
mod whisper;

pub use handle::MediaHandle;
use receive::{Legs, RtpLeg};
use rtp_io::{LegHandle, RtpSocket};

/// What the media side tells the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The caller pressed a key.
    Digit { call: CallId, digit: char },
    /// The play list with this token ended.
    PlayFinished { call: CallId, token: u64 },
    /// The call's RTP port could not be opened.
    Failed { call: CallId },
    /// A browser agent's WebRTC leg failed (DTLS refused, ICE lost, its port not
    /// openable): the agent's leg ends, with `reason` in the call record.
    AgentLegFailed { call: CallId, reason: String },
    /// The same for a browser that is one more party of a mixing call: the engine takes
    /// that party off the call (or, for the party carrying the call, ends it).
    PartyLegFailed {
        call: CallId,
        party: PartyId,
        reason: String,
    },
    /// A browser leg's answer to its re-offer (`MediaCommand::WebRtcReoffer`): our SDP
    /// and whether the browser holds the call, or why it was refused.
    WebRtcReanswer {
        call: CallId,
        party: PartyId,
        answer: Result<(String, bool), String>,
    },
    /// A conference party's RTP port could not be opened: that party is taken off the call,
    /// the others go on.
    PartyFailed {
        call: CallId,
        party: crate::media::mixer::PartyId,
    },
    /// No RTP was accepted from the caller for the configured time (the caller vanished,
    /// unless they put the call on hold: the engine decides).
    Inactive { call: CallId },
    /// The citizen's reason (a callback robot's `StartReason`) ended: how long it is
    /// (trailing silence cut; zero when nothing was said). Its file follows as `ReasonSaved`.
    ReasonTaken { call: CallId, duration: Duration },
    /// The reason's mono WAV is written and synced, beside the call's `recording`. Sent
    /// before that recording's `RecordingClosed`.
    ReasonSaved {
        call: CallId,
        recording: String,
        reason: crate::call::record::ReasonRecording,
    },
    /// A call's recording is closed and hashed.
    RecordingClosed {
        name: String,
        sha256: Option<String>,
    },
}

/// Packet counters over all media tasks (for logs, tests and later `/metrics`).
#[derive(Debug, Default)]
pub struct MediaCounters {
    pub sent: AtomicU64,
    /// Packets relayed from callers to agents, and from agents to callers.
    pub to_agents: AtomicU64,
    pub to_callers: AtomicU64,
    pub received: AtomicU64,
    pub late: AtomicU64,
    pub skipped: AtomicU64,
    /// Packets missing from the sequence of what the legs received (lost before reaching us).
    pub lost: AtomicU64,
    /// Relayed packets the socket refused (would block or failed): lost towards a phone.
    pub send_errors: AtomicU64,
    /// Packets dropped by the source latch (from an address other than the leg's peer):
    /// never relayed, recorded or read for keys.
    pub refused_foreign_source: AtomicU64,
    /// Legs reported inactive (no RTP for `rtp.media_timeout`).
    pub inactive_legs: AtomicU64,
    /// Frames written to, filled in or dropped from the recordings.
    pub recording: Arc<RecordingCounters>,
    /// Tick lateness and packet delays (where a late frame is lost).
    pub timing: timing::MediaTiming,
    /// Browser legs, agents' and extra parties' (ICE, DTLS-SRTP).
    pub webrtc: WebRtcCounters,
}

/// Browser legs (agents' and extra parties') over all media tasks.
#[derive(Debug, Default)]
pub struct WebRtcCounters {
    /// Legs opened.
    pub legs: AtomicU64,
    /// Legs that failed: a DTLS certificate not matching the SDP fingerprint, ICE consent
    /// lost, or the stack closing the session.
    pub failed: AtomicU64,
    /// Datagrams refused on browser legs: neither STUN, DTLS nor SRTP of the session (not
    /// authenticated, not decryptable, malformed).
    pub refused_datagrams: AtomicU64,
    /// Datagrams (STUN, DTLS, SRTP) sent on browser legs.
    pub datagrams_sent: AtomicU64,
}

/// Commands for one media task.
enum Command {
    Engine(MediaCommand),
    /// Reloaded prompts for every play from now on.
    Prompts(Arc<Prompts>),
    /// A browser agent's answered leg becomes the call's agent leg (`webrtc_leg`).
    OpenWebRtcAgent {
        call: CallId,
        port: u16,
        leg: Box<crate::media::webrtc::WebRtcLeg>,
    },
    /// Tests: the media thread says it stalls, then blocks until the gate opens (or 5 s),
    /// as when the OS does not run it.
    #[cfg(test)]
    Stall {
        stalled: std::sync::mpsc::Sender<()>,
        gate: std::sync::mpsc::Receiver<()>,
    },
    /// Tests: the same stall, taken when the next tick fires (before it reads the clock).
    #[cfg(test)]
    StallAtTick {
        stalled: std::sync::mpsc::Sender<()>,
        gate: std::sync::mpsc::Receiver<()>,
    },
}

/// The media tasks' settings, from `[rtp]`.
#[derive(Debug, Clone, Copy)]
pub struct MediaSettings {
    /// See `rtp.relatch_after`.
    pub relatch_after: Duration,
    /// See `rtp.media_timeout`; `None` is off.
    pub media_timeout: Option<Duration>,
    /// See `rtp.conference_queue`.
    pub conference_queue: Duration,
    /// See `rtp.conference_prime`.
    pub conference_prime: Duration,
    /// See `rtp.webrtc_connect_timeout`.
    pub webrtc_connect_timeout: Duration,
}

/// One call's stream on a media task.
struct Stream {
    socket: Arc<RtpSocket>,
    /// Where the caller's audio goes: `None` until their first packet latched it (unless a
    /// trunk's SDP address was trusted), and nothing is sent meanwhile.
    remote: Option<SocketAddr>,
    media: LegMedia,
    /// Set once the call is bridged: its legs' audio then goes to the bridge or mixer.
    bridged_flag: Arc<AtomicBool>,
    agent: Option<AgentSide>,
    bridged: Option<Bridged>,
    /// Parties after the agent (conference legs), by id; their senders wait here until the
    /// call is mixing.
    parties: Vec<(PartyId, AgentSide)>,
    /// Once the call room mixes the call, the bridge's recording and streams live here
    /// (`bridged` is then `None`) until `Close`.
    mixed: Option<Bridged<Mixer>>,
    /// A callback robot's call: its recording until a person takes over (then `bridged`).
    robot: Option<Bridged<crate::media::robot_recorder::RobotRecorder>>,
    /// Reasons being written: the call's recording is closed after them.
    reason_jobs: Vec<JoinHandle<()>>,
    /// The last item of the current play list and the engine's token for it.
    pending: Option<(crate::media::player::PlayId, u64)>,
    /// The WebRTC legs of the parties that are browsers (the agent's, [`PartyId::AGENT`],
    /// and extra parties'); their [`AgentSide`] (in `agent` or `parties`) holds the socket.
    webrtc: Vec<(PartyId, webrtc_leg::WebRtcAgent)>,

    /// The caller leg's place in the task's poller.
    receiver: LegHandle,
}

struct Worker {
    settings: MediaSettings,
    data_dir: PathBuf,
    prompts: Arc<Prompts>,
    to_engine: mpsc::UnboundedSender<MediaEvent>,
    /// Every leg's socket and receiving state (`receive`).
    legs: Legs,
    pacer: Pacer<Player>,
    calls: HashMap<CallId, Stream>,
    counters: Arc<MediaCounters>,
    reserved: ReservedPorts,
    /// Callbacks' agents hearing a whisper until their bridge (`media::whisper`).
    whispers: HashMap<CallId, whisper::Whisper>,
    /// Tests: a stall to take at the start of the next tick.
    #[cfg(test)]
    stall_at_tick: Option<(std::sync::mpsc::Sender<()>, std::sync::mpsc::Receiver<()>)>,
}

impl Worker {
    /// Until `stop` fires (or its sender is dropped), then closes every call.
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Command>,
        mut stop: oneshot::Receiver<()>,
    ) {
        let poller = self.legs.poller();
        let mut record_tick = tokio::time::interval(crate::media::pacer::FRAME);
        // The recorder computes its slots from `now`: one late tick writes every missed slot.
        record_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wake = self.pacer.poll_timeout();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                _ = &mut stop => break,
                ready = poller.readable() => match ready {
                    Ok(mut guard) => {
                        if self.receive_ready() {
                            guard.clear_ready();
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "media sockets' poller failed");
                        break;
                    }
                },
                _ = crate::shell::clock::sleep_until(wake) => {
                    self.pace();
                }
                at = record_tick.tick() => {
                    #[cfg(test)]
                    if let Some((stalled, gate)) = self.stall_at_tick.take() {
                        let _ = stalled.send(());
                        let _ = gate.recv_timeout(Duration::from_secs(5));
                    }
                    // The tick mixes up to `now`, read before it takes what waits in the
                    // sockets (`tick`), so each packet the kernel had by `now` is in first.
                    // Reading `now` after a stall of this thread (or mixing before the
                    // sockets were read) caught up on ticks whose packets still waited in
                    // the sockets: underruns, though nothing was late on the wire.
                    let now = clock::now();
                    self.counters
                        .timing
                        .tick(now.saturating_duration_since(at.into_std()), rx.len());
                    self.tick(&mut rx, now);
                }
            }
        }
        let calls: Vec<CallId> = self.calls.keys().copied().collect();
        for call in calls {
            self.close(call);
        }
    }

    /// The 20 ms timer. The commands already waiting go first, then the packets waiting in
    /// the sockets: after a stall of this task they hold what arrived in time for this tick,
    /// and ticking before them would starve every conference's queues (underruns: silence
    /// to the phones and in the recordings) though nothing was late on the wire. Only
    /// those waiting now (and a bounded receive), so a flood cannot hold the tick back.
    fn tick(&mut self, rx: &mut mpsc::UnboundedReceiver<Command>, now: Instant) {
        for _ in 0..rx.len() {
            match rx.try_recv() {
                Ok(cmd) => self.handle(cmd),
                Err(_) => break,
            }
        }
        let _ = self.receive_ready();
        self.leg_timeouts(now);
        for s in self.calls.values_mut() {
            if let Some(b) = s.bridged.as_mut() {
                b.tick(now);
            } else if s.mixed.is_some() {
                conference::tick(s, now, &self.counters);
            }
        }
        self.tick_robots(now);
        self.tick_webrtc(now);
    }

    /// Ends a call's media: stops receiving its legs and closes its recording.
    fn close(&mut self, call: CallId) {
        self.end_whisper(call);
        self.pacer.remove(StreamId(call.0));
        // A reason still being taken ends with the call (the citizen hung up mid-sentence).
        if self.calls.get(&call).is_some_and(|s| s.robot.is_some()) {
            self.stop_reason(call);
        }
        let Some(s) = self.calls.remove(&call) else {
            return;
        };
        let after = s.reason_jobs;
        s.receiver.abort();
        if let Some(agent) = s.agent {
            agent.receiver.abort();
        }
        for (_, party) in s.parties {
            party.receiver.abort();
        }
        if let Some(bridged) = s.bridged {
            self.finish_recording(bridged, after);
        } else if let Some(mixed) = s.mixed {
            self.finish_recording(mixed, after);
        } else if let Some(robot) = s.robot {
            self.finish_recording(robot, after);
        }
    }

    /// Writes a call's last frames and closes its recording off the media task, once the
    /// call's reasons (`after`) are written: the engine hears of those first.
    fn finish_recording<C: RecordedCore>(
        &self,
        mut bridged: Bridged<C>,
        after: Vec<JoinHandle<()>>,
    ) {
        bridged.flush();
        let name = bridged.recording_name.clone();
        let to_engine = self.to_engine.clone();
        let recording = bridged.recording;
        let runtime = tokio::runtime::Handle::current();
        // Syncing and hashing a file is blocking work: off the media task. A blocking job
        // runs to its end even when the media thread stops (shutdown): the file is synced.
        tokio::task::spawn_blocking(move || {
            for job in after {
                let _ = runtime.block_on(job);
            }
            let sha256 = match recording.map(|r| r.finish()) {
                Some(Ok(sha)) => Some(sha),
                Some(Err(e)) => {
                    tracing::error!(recording = %name, error = %e, "cannot finish recording");
                    None
                }
                None => None,
            };
            let _ = to_engine.send(MediaEvent::RecordingClosed { name, sha256 });
        });
    }

    /// A packet from one side of a bridged call: the core relays and records it; the
    /// packets it makes go out on the destination leg's socket.
    fn packet(
        &mut self,
        (call, party): (CallId, PartyId),
        packet: &[u8],
        stamp: Option<Duration>,
        gap: Option<Duration>,
    ) {
        let delay = stamp.map(clock::realtime_since);
        if let Some(d) = delay {
            self.counters.timing.packet_delay.observe(d);
        }
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(bridged) = s.bridged.as_mut() else {
            if s.mixed.is_some() {
                self.mixed_packet(call, party, packet, (delay, gap));
            } else if s.robot.is_some() && party == PartyId::CALLER {
                self.robot_packet(call, packet);
            }
            return;
        };
        let side = match party {
            PartyId::CALLER => Side::Caller,
            PartyId::AGENT => Side::Agent,
            _ => return, // a party waiting for the `Mix`: not heard yet
        };
        let now = clock::now();
        bridged.core.handle_packet(side, packet, now);
        let counters = &self.counters;
        let mut to_browser = false;
        while let Some((to, bytes)) = bridged.core.poll_transmit() {
            let browser = s.webrtc.iter_mut().find(|(p, _)| *p == PartyId::AGENT);
            if let (Side::Agent, Some((_, w))) = (to, browser) {
                // A browser agent: the leg encrypts (and transcodes) what the bridge sends.
                w.leg.send_rtp(bytes, now);
                counters.to_agents.fetch_add(1, Ordering::Relaxed);
                to_browser = true;
                continue;
            }
            let (socket, remote, count) = match (to, s.agent.as_ref()) {
                (Side::Caller, _) => match s.remote {
                    Some(r) => (&s.socket, r, &counters.to_callers),
                    None => continue,
                },
                (Side::Agent, Some(a)) => (&a.socket, a.remote, &counters.to_agents),
                (Side::Agent, None) => continue,
            };
            if socket.try_send_to(bytes, remote).is_ok() {
                counters.sent.fetch_add(1, Ordering::Relaxed);
                count.fetch_add(1, Ordering::Relaxed);
            } else {
                counters.send_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        bridged.write_blocks();
        if to_browser {
            self.drain_webrtc(call);
        }
    }

    fn pace(&mut self) {
        let before = self.pacer.stats();
        self.pacer.handle_timeout(clock::now());
        let mut sent = 0;
        let now = clock::now();
        while let Some(t) = self.pacer.poll_transmit() {
            if whisper::send_whisper(&self.whispers, t.stream, t.packet) {
                sent += 1;
            } else if let Some(s) = self.calls.get_mut(&CallId(t.stream.0)) {
                if let Some(r) = s.robot.as_mut() {
                    r.core.handle_robot_packet(t.packet, now);
                }
                // Frames paced before the caller's first packet latched go nowhere.
                if let Some(remote) = s.remote {
                    if s.socket.try_send_to(t.packet, remote).is_ok() {
                        sent += 1;
                    }
                }
            }
        }
        let after = self.pacer.stats();
        self.counters.sent.fetch_add(sent, Ordering::Relaxed);
        self.counters
            .late
            .fetch_add(after.late - before.late, Ordering::Relaxed);
        self.counters
            .skipped
            .fetch_add(after.skipped - before.skipped, Ordering::Relaxed);
        while let Some((stream, event)) = self.pacer.poll_event() {
            let call = CallId(stream.0);
            if let PlayerEvent::Finished(id) = event {
                if let Some(s) = self.calls.get_mut(&call) {
                    if let Some((last, token)) = s.pending {
                        if last == id {
                            s.pending = None;
                            let _ = self
                                .to_engine
                                .send(MediaEvent::PlayFinished { call, token });
                        }
                    }
                }
            }
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Prompts(prompts) => self.prompts = prompts,
            Command::OpenWebRtcAgent { call, port, leg } => {
                self.end_whisper(call);
                self.open_webrtc(call, PartyId::AGENT, port, leg)
            }
            #[cfg(test)]
            Command::Stall { stalled, gate } => {
                let _ = stalled.send(());
                let _ = gate.recv_timeout(Duration::from_secs(5));
            }
            #[cfg(test)]
            Command::StallAtTick { stalled, gate } => self.stall_at_tick = Some((stalled, gate)),
            Command::Engine(MediaCommand::Open {
                call,
                port,
                remote,
                codec,
                telephone_event,
            }) => self.open(call, port, remote, codec, telephone_event),
            Command::Engine(MediaCommand::Play {
                call,
                token,
                prompts,
                loop_last,
            }) => self.play(call, token, &prompts, loop_last),
            Command::Engine(MediaCommand::Stop { call }) => {
                if let Some(p) = self.pacer.source_mut(StreamId(call.0)) {
                    p.stop();
                }
                if let Some(s) = self.calls.get_mut(&call) {
                    s.pending = None;
                }
            }
            Command::Engine(MediaCommand::OpenAgent {
                call,
                port,
                remote,
                codec,
                telephone_event,
            }) => {
                self.end_whisper(call);
                self.open_agent(call, port, remote, codec, telephone_event)
            }
            Command::Engine(MediaCommand::Bridge { call, recording }) => {
                self.bridge(call, recording)
            }
            Command::Engine(MediaCommand::Hold { call, prompt }) => self.hold(call, prompt),
            Command::Engine(MediaCommand::Whisper {
                call,
                port,
                remote,
                codec,
                telephone_event,
                prompts,
            }) => self.whisper(
                call,
                whisper::WhisperLeg {
                    port,
                    remote,
                    codec,
                    telephone_event,
                    prompts: &prompts,
                },
            ),
            Command::Engine(MediaCommand::Unbridge { call }) => self.unbridge(call),
            Command::Engine(MediaCommand::SendDigit { call, digit }) => {
                self.send_digit(call, digit)
            }
            Command::Engine(MediaCommand::Close { call }) => self.close(call),
            Command::Engine(MediaCommand::RecordRobot { call, recording }) => {
                self.record_robot(call, recording)
            }
            Command::Engine(MediaCommand::StartReason { call, max, silence }) => {
                self.start_reason(call, max, silence)
            }
            Command::Engine(MediaCommand::StopReason { call }) => self.stop_reason(call),
            // The engine task's (`send`): bound there, or turned into `OpenWebRtcAgent`.
            Command::Engine(MediaCommand::Reserve { .. })
            | Command::Engine(MediaCommand::ReserveLeg { .. }) => {}
            Command::Engine(MediaCommand::WebRtcReoffer { call, party, offer }) => {
                self.webrtc_reoffer(call, party, &offer)
            }
            Command::Engine(MediaCommand::OpenWebRtcAgent { call, port, leg }) => {
                if let Some(leg) = leg.take() {
                    self.end_whisper(call);
                    self.open_webrtc(call, PartyId::AGENT, port, leg)
                }
            }
            Command::Engine(MediaCommand::OpenWebRtcParty {
                call,
                party,
                port,
                leg,
            }) => {
                if let Some(leg) = leg.take() {
                    self.open_webrtc(call, party, port, leg)
                }
            }
            Command::Engine(MediaCommand::OpenParty {
                call,
                party,
                port,
                remote,
                codec,
                telephone_event,
            }) => self.open_party(call, party, (port, remote), codec, telephone_event),
            Command::Engine(MediaCommand::Mix { call, hears }) => self.mix(call, &hears),
            Command::Engine(MediaCommand::CloseParty { call, party }) => {
                self.close_party(call, party)
            }
        }
    }

    /// Binds a leg's RTP port and receives it on this task; tells the engine when it cannot.
    fn start_leg(
        &mut self,
        call: CallId,
        party: PartyId,
        (port, remote): (u16, Option<SocketAddr>),
        codec: Codec,
        telephone_event: Option<u8>,
        bridged: Arc<AtomicBool>,
    ) -> Option<(Arc<RtpSocket>, LegHandle)> {
        // A caller's port was bound before the answer; an agent's is bound now.
        let bound = self
            .reserved
            .take_or_bind(call, port, party == PartyId::CALLER);
        if let Ok(s) = &bound {
            if let Err(e) = stamp::enable(s) {
                tracing::debug!(%call, error = %e, "no kernel receive timestamps on an RTP port");
            }
        }
        let socket = match bound.and_then(RtpSocket::new) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::warn!(%call, port, ?party, error = %e, "cannot open an RTP port");
                // Without the caller's or the agent's leg the call cannot go on; a conference
                // party's failure must not end the citizen's call (it is left out of the mix).
                let failed = if party <= PartyId::AGENT {
                    MediaEvent::Failed { call }
                } else {
                    MediaEvent::PartyFailed { call, party }
                };
                let _ = self.to_engine.send(failed);
                return None;
            }
        };
        let latch = SourceLatch::new(
            LatchConfig {
                relatch_after: self.settings.relatch_after,
                // Only a caller who vanished ends a call; an agent's phone has its own checks.
                inactivity: match party {
                    PartyId::CALLER => self.settings.media_timeout,
                    _ => None,
                },
            },
            // The SDP's address, where it is believed (a trunk's, an agent's phone); otherwise
            // the first packet latches.
            remote,
            clock::now(),
        );
        let leg = RtpLeg {
            call,
            party,
            latch,
            codec,
            telephone_event,
            bridged,
        };
        match self.receive_rtp(socket.clone(), leg) {
            Ok(receiver) => Some((socket, receiver)),
            Err(e) => {
                tracing::warn!(%call, port, ?party, error = %e, "cannot poll an RTP port");
                let failed = if party <= PartyId::AGENT {
                    MediaEvent::Failed { call }
                } else {
                    MediaEvent::PartyFailed { call, party }
                };
                let _ = self.to_engine.send(failed);
                None
            }
        }
    }

    fn open(
        &mut self,
        call: CallId,
        port: u16,
        remote: Option<SocketAddr>,
        codec: Codec,
        telephone_event: Option<u8>,
    ) {
        let bridged_flag = Arc::new(AtomicBool::new(false));
        let Some((socket, receiver)) = self.start_leg(
            call,
            PartyId::CALLER,
            (port, remote),
            codec,
            telephone_event,
            bridged_flag.clone(),
        ) else {
            return;
        };
        let sender = RtpSender::new(codec, telephone_event, &mut rand::thread_rng());
        if self
            .pacer
            .add(StreamId(call.0), sender, Player::new(codec), clock::now())
            .is_err()
        {
            receiver.abort();
            return;
        }
        self.calls.insert(
            call,
            Stream {
                socket,
                remote,
                media: LegMedia {
                    codec,
                    telephone_event,
                },
                bridged_flag,
                agent: None,
                bridged: None,
                parties: Vec::new(),
                mixed: None,
                robot: None,
                reason_jobs: Vec::new(),
                pending: None,
                webrtc: Vec::new(),
                receiver,
            },
        );
    }

    fn open_agent(
        &mut self,
        call: CallId,
        port: u16,
        remote: SocketAddr,
        codec: Codec,
        telephone_event: Option<u8>,
    ) {
        let Some(flag) = self.calls.get(&call).map(|s| s.bridged_flag.clone()) else {
            return;
        };
        let Some((socket, receiver)) = self.start_leg(
            call,
            PartyId::AGENT,
            (port, Some(remote)),
            codec,
            telephone_event,
            flag,
        ) else {
            return;
        };
        let sender = RtpSender::new(codec, telephone_event, &mut rand::thread_rng());
        if let Some(s) = self.calls.get_mut(&call) {
            s.agent = Some(AgentSide {
                socket,
                remote,
                media: LegMedia {
                    codec,
                    telephone_event,
                },
                sender: Some(sender),
                receiver,
            });
        }
    }

    fn play(&mut self, call: CallId, token: u64, names: &[String], loop_last: bool) {
        let Some(player) = self.pacer.source_mut(StreamId(call.0)) else {
            return;
        };
        player.stop();
        let mut last = None;
        for (i, name) in names.iter().enumerate() {
            let Some(prompt) = self.prompts.get(name) else {
                tracing::warn!(prompt = %name, "prompt not loaded; skipped");
                continue;
            };
            let is_last = i + 1 == names.len();
            last = Some(if is_last && loop_last {
                player.play_loop(prompt.clone())
            } else {
                player.play(prompt.clone())
            });
        }
        if let Some(s) = self.calls.get_mut(&call) {
            s.pending = match (last, loop_last) {
                (Some(id), false) => Some((id, token)),
                _ => None,
            };
            if last.is_none() && !loop_last {
                // Nothing playable: report the end at once so the IVR's timers run.
                let _ = self
                    .to_engine
                    .send(MediaEvent::PlayFinished { call, token });
            }
        }
    }
}
