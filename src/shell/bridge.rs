//! A connected call on a media task: the caller's and the agent's audio relayed both ways
//! (transcoded PCMU↔PCMA when their codecs differ, re-stamped by each leg's own RTP sender so
//! every phone sees one continuous stream), and both sides written to the stereo recording
//! every 20 ms — a missing frame is silence, so the channels never drift apart.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::media::codec::{Codec, FRAME_SAMPLES};
use crate::media::rtp::RtpSender;
use crate::shell::recording::RecordingFile;

/// One side of a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Caller,
    Agent,
}

/// Frames older than this many 20 ms slots are dropped from the recording queues (a side
/// that sends faster than real time must not make the file drift).
const MAX_QUEUED: usize = 10;

/// Where relayed audio goes: the receiving leg's RTP sender and how to put a packet on the wire.
type Outlet<'a, 'f> = (&'a mut RtpSender, &'a mut (dyn FnMut(&[u8]) + 'f));

/// The agent's leg on a media task.
pub struct AgentSide {
    pub socket: Arc<UdpSocket>,
    pub remote: SocketAddr,
    pub sender: RtpSender,
    pub codec: Codec,
    pub receiver: JoinHandle<()>,
}

/// A bridged call's relay and recording state.
pub struct Bridged {
    /// The caller's outgoing stream, taken over from the pacer (same SSRC and sequence);
    /// `None` while the caller is on hold and the pacer plays them hold music again.
    pub caller_sender: Option<RtpSender>,
    pub recording: Option<RecordingFile>,
    /// The recording's path relative to the data dir (the call record names it).
    pub recording_name: String,
    pub recording_path: PathBuf,
    left: VecDeque<[i16; FRAME_SAMPLES]>,
    right: VecDeque<[i16; FRAME_SAMPLES]>,
    /// Decoded samples not yet making a whole 20 ms frame.
    left_acc: Vec<i16>,
    right_acc: Vec<i16>,
    buf: Vec<u8>,
}

impl Bridged {
    /// Starts a bridge, opening the recording file (a failure is logged; the call goes on).
    pub fn new(
        caller_sender: RtpSender,
        recording_name: String,
        recording_path: PathBuf,
    ) -> Bridged {
        let recording = match RecordingFile::create(&recording_path) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(file = %recording_path.display(), error = %e, "cannot create recording");
                None
            }
        };
        Bridged {
            caller_sender: Some(caller_sender),
            recording,
            recording_name,
            recording_path,
            left: VecDeque::new(),
            right: VecDeque::new(),
            left_acc: Vec::new(),
            right_acc: Vec::new(),
            buf: Vec::with_capacity(12 + FRAME_SAMPLES),
        }
    }

    /// Audio from one side in `codec` (any packet length: 10, 20, 30 ms…) is cut into
    /// 20 ms frames; each is queued for the recording and, when there is an `out`,
    /// re-encoded in `out_codec` and stamped by its sender into one packet for the other side.
    /// `out`: the other side's sender and how to send to it, or `None` to record only.
    fn relay(
        acc: &mut Vec<i16>,
        queue: &mut VecDeque<[i16; FRAME_SAMPLES]>,
        buf: &mut Vec<u8>,
        payload: &[u8],
        codec: Codec,
        out_codec: Codec,
        mut out: Option<Outlet<'_, '_>>,
    ) {
        if payload.len() > 8 * FRAME_SAMPLES {
            return; // not G.711 audio of a sane packet time
        }
        let start = acc.len();
        acc.resize(start + payload.len(), 0);
        codec.decode(payload, &mut acc[start..]);
        while acc.len() >= FRAME_SAMPLES {
            let mut pcm = [0i16; FRAME_SAMPLES];
            pcm.copy_from_slice(&acc[..FRAME_SAMPLES]);
            acc.drain(..FRAME_SAMPLES);
            if queue.len() >= MAX_QUEUED {
                queue.pop_front();
            }
            queue.push_back(pcm);
            if let Some((sender, send)) = out.as_mut() {
                let mut encoded = [0u8; FRAME_SAMPLES];
                out_codec.encode(&pcm, &mut encoded);
                buf.clear();
                if sender.frame(Some(&encoded), buf) {
                    send(buf);
                }
            }
        }
    }

    /// Audio from the caller (left channel) → packets for the agent.
    pub fn from_caller(
        &mut self,
        payload: &[u8],
        caller_codec: Codec,
        agent: &mut AgentSide,
        send: &mut dyn FnMut(&[u8]),
    ) {
        Self::relay(
            &mut self.left_acc,
            &mut self.left,
            &mut self.buf,
            payload,
            caller_codec,
            agent.codec,
            Some((&mut agent.sender, send)),
        );
    }

    /// Audio from the agent (right channel) → packets for the caller.
    pub fn from_agent(
        &mut self,
        payload: &[u8],
        agent_codec: Codec,
        caller_codec: Codec,
        send: &mut dyn FnMut(&[u8]),
    ) {
        // On hold the caller hears hold music from the pacer; the agent's audio is still
        // recorded but not relayed.
        let out = self.caller_sender.as_mut().map(|s| (s, send));
        Self::relay(
            &mut self.right_acc,
            &mut self.right,
            &mut self.buf,
            payload,
            agent_codec,
            caller_codec,
            out,
        );
    }

    /// One 20 ms slot of the recording: a frame from each side, silence where none came.
    pub fn tick(&mut self) {
        let silence = [0i16; FRAME_SAMPLES];
        let left = self.left.pop_front();
        let right = self.right.pop_front();
        if let Some(rec) = self.recording.as_mut() {
            if let Err(e) = rec.write_frame(
                left.as_ref().map_or(&silence[..], |f| &f[..]),
                right.as_ref().map_or(&silence[..], |f| &f[..]),
            ) {
                tracing::error!(file = %self.recording_path.display(), error = %e, "recording write failed");
                self.recording = None;
            }
        }
    }
}
