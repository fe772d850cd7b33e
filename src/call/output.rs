//! What the call engine asks of the shell, drained with `CallEngine::poll_output()`: the
//! media commands for a call's RTP (open, play, bridge, mix, hold, close) and everything
//! else (datagrams, records, tickets' cues, KPIs, the journal).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::call::engine::Peer;
use crate::call::record::CallRecord;
use crate::call::session::CallId;
use crate::media::codec::Codec;
use crate::media::webrtc::WebRtcLeg;

/// What the engine wants the media shell to do for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCommand {
    /// Bind the caller's RTP `port` now and hold it (nothing flows until `Open`); reply
    /// with `handle_media_ready` or `handle_media_failed`. The call is answered only then.
    Reserve { call: CallId, port: u16 },
    /// Bind `port` and start a paced RTP stream; sent only once the ACK came. With `remote`
    /// `None` nothing goes out until the caller's first packet arrives, and then only to its
    /// source (symmetric RTP), so an SDP naming someone else's address reflects nothing;
    /// `Some` (the SDP's address) only for a configured trunk, until its packets latch.
    Open {
        call: CallId,
        port: u16,
        remote: Option<SocketAddr>,
        codec: Codec,
        telephone_event: Option<u8>,
    },
    /// Bind a browser agent's leg `port` now and hold it, before the INVITE carrying its
    /// WebRTC offer goes out: the browser's first ICE checks (which may come before its 200
    /// OK) wait in the socket instead of meeting a closed port. Nothing to answer; a port
    /// that cannot be bound is tried again when the leg opens.
    ReserveLeg { call: CallId, port: u16 },
    /// A browser agent answered: its WebRTC leg (offer made and answer accepted by the call
    /// room) becomes the call's agent leg on `port`, in place of [`MediaCommand::OpenAgent`].
    OpenWebRtcAgent {
        call: CallId,
        port: u16,
        leg: WebRtcHandoff,
    },
    /// A browser's own offer in its running session (a hold or resume re-INVITE) on the
    /// leg of media party `party` (the agent's, or a conference party's): the media shell
    /// answers it on that leg and says so with `handle_webrtc_reanswer`.
    WebRtcReoffer {
        call: CallId,
        party: crate::media::mixer::PartyId,
        offer: String,
    },
    /// A browser answered as one more party of a mixing call (a consulted agent, a
    /// supervisor, or the next agent of a call already in the mixer): its WebRTC leg (offer
    /// made and answer accepted by the call room) joins the mix as `party` on `port`, in
    /// place of [`MediaCommand::OpenParty`]. Heard by nobody until a `Mix` says so.
    OpenWebRtcParty {
        call: CallId,
        party: crate::media::mixer::PartyId,
        port: u16,
        leg: WebRtcHandoff,
    },
    /// Bind `port` for the agent's leg and stream to its phone at `remote`.
    OpenAgent {
        call: CallId,
        port: u16,
        remote: SocketAddr,
        codec: Codec,
        telephone_event: Option<u8>,
    },
    /// Connect the caller's and the agent's audio both ways and record both into a stereo
    /// WAV at `recording` (relative to the data dir).
    Bridge { call: CallId, recording: String },
    /// The agent left (transfer): drop its leg and give the caller's stream back to the
    /// pacer for prompts; the recording stays open for the next agent.
    Unbridge { call: CallId },
    /// Send a key the caller pressed on to the agent's phone (RFC 4733, regenerated). The
    /// media bridge skips a key that already went through as the caller's own event.
    SendDigit { call: CallId, digit: char },
    /// The agent put the caller on hold (`prompt` loops to the caller) or took them off it.
    Hold {
        call: CallId,
        prompt: Option<String>,
    },
    /// Play `prompts` to the agent's leg (the last looping) until `Bridge`: a callback's agent
    /// hears who is being called, then a ring-back tone, while the citizen's phone rings.
    Whisper {
        call: CallId,
        port: u16,
        remote: std::net::SocketAddr,
        codec: crate::media::codec::Codec,
        telephone_event: Option<u8>,
        prompts: Vec<String>,
    },
    /// Replace whatever plays with these prompts (file names under the prompts folder);
    /// report the end with `handle_play_finished(call, token)`. With `loop_last`, the last
    /// prompt repeats until the next command and no end is reported.
    Play {
        call: CallId,
        token: u64,
        prompts: Vec<String>,
        loop_last: bool,
    },
    /// Silence now (barge-in).
    Stop { call: CallId },
    /// Another party joins the call's media (a consulted agent, a unit, an interpreter, an
    /// outside service, a supervisor): bind `port` and stream to its phone at `remote`. It
    /// hears and is heard by nobody until a [`MediaCommand::Mix`] says so.
    OpenParty {
        call: CallId,
        party: crate::media::mixer::PartyId,
        port: u16,
        remote: SocketAddr,
        codec: Codec,
        telephone_event: Option<u8>,
    },
    /// Who hears whom from now on: each listed party hears the sum of its listed speakers; a
    /// party not listed hears nobody. The first `Mix` of a bridged call moves it from the
    /// two-party bridge to the mixer (same recording, same caller and agent streams: the
    /// agent's leg is [`PartyId::AGENT`](crate::media::mixer::PartyId::AGENT)); from then on
    /// the call room speaks only `OpenParty`, `CloseParty`, `Mix`, `Hold`, `SendDigit`,
    /// `Play`/`Stop` (to the caller while held) and `Close` for it. `Hold { prompt: Some }`
    /// still hands the caller's stream to the pacer (hold music, prompts), `Hold { None }`
    /// brings it back to the mixer; `SendDigit` goes to every party that hears the caller.
    Mix {
        call: CallId,
        hears: Vec<(
            crate::media::mixer::PartyId,
            Vec<crate::media::mixer::PartyId>,
        )>,
    },
    /// One party's leg closes (dropped, hung up, left); the recording goes on.
    CloseParty {
        call: CallId,
        party: crate::media::mixer::PartyId,
    },
    /// The call is over: close the socket and forget the stream.
    Close { call: CallId },
    /// A callback robot's call was answered: record it in stereo at `recording` (the
    /// citizen left, the robot's prompts right); a later `Bridge` goes on in the same file.
    RecordRobot { call: CallId, recording: String },
    /// Keep the citizen's words apart as their reason until `StopReason`, `silence` without
    /// voice, or `max`; report with `handle_reason_taken`, then the file.
    StartReason {
        call: CallId,
        max: std::time::Duration,
        silence: std::time::Duration,
    },
    /// End the reason now (`#`, `0`, a hang-up).
    StopReason { call: CallId },
}

/// A browser leg going from the call room to the media shell: taken once by the shell.
/// (Shared, so that `MediaCommand` stays `Clone` for the tests that keep what came out;
/// equal only to itself.)
#[derive(Clone)]
pub struct WebRtcHandoff(Arc<Mutex<Option<Box<WebRtcLeg>>>>);

impl WebRtcHandoff {
    pub fn new(leg: WebRtcLeg) -> Self {
        Self(Arc::new(Mutex::new(Some(Box::new(leg)))))
    }

    /// The leg, the first time only.
    pub fn take(&self) -> Option<Box<WebRtcLeg>> {
        match self.0.lock() {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

impl PartialEq for WebRtcHandoff {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for WebRtcHandoff {}

impl std::fmt::Debug for WebRtcHandoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebRtcHandoff")
    }
}

/// Everything the engine asks the shell to do, drained with `poll_output()`.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send these bytes to this peer.
    Transmit { to: Peer, data: Vec<u8> },
    /// Drive a call's media.
    Media(MediaCommand),
    /// A call ended: append its record.
    Record(Box<CallRecord>),
    /// An agent answered a call: open its draft ticket, then tell us with `link_ticket`.
    Connected(Box<crate::call::record::ConnectedCall>),
    /// A caller who asked for a person was answered or gave up: feed the KPIs.
    Kpi(crate::stats::kpi::KpiEvent),
    /// C12: the call is being transferred to an outside service (`target` as configured in
    /// `[transfer.numbers]`, e.g. `"110"`): its ticket is marked urgent and linked.
    EmergencyTransfer { call: String, target: String },
    /// A live call started, was answered or was queued: append it to the call journal, so a
    /// crash leaves a record of it (`Connected` is journalled too).
    Journal(Box<crate::call::record::JournalEntry>),
    /// Someone beyond the caller and the first agent joined or left a call (consult,
    /// conference, supervisor): the call's ticket records a unit's or an outside service's
    /// part in it (W3 three-way transfer), the audit log a supervisor's.
    Party(Box<crate::call::record::PartyEvent>),
    /// An agent changed state, held a caller or took a web item: kept durably for the
    /// per-agent statistics (`GET /api/stats/agents`).
    AgentActivity(Box<crate::stats::activity::AgentActivity>),
    /// How an outbound call's try went (`call::outbound`), for the dialler.
    Outbound {
        attempt: u64,
        outcome: crate::outbound::rules::Outcome,
    },
    /// An outbound call ended: its trunk line is free (an answered call holds one until now).
    OutboundEnded { attempt: u64 },
}
