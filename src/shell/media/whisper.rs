//! A whisper to a callback's agent before the bridge (issue 15's "call me back"): while the
//! citizen's phone rings, the agent — already on the line — hears that this is a callback,
//! then the ring-back tone. The citizen's side of the call is not open yet (its codec comes
//! with their answer), so the whisper has its own stream: the agent leg's port is bound here,
//! paced under the stream id `!call`, and let go at `OpenAgent` (which binds it again for the
//! bridge) or `Close`.

use std::net::SocketAddr;
use std::sync::Arc;

use super::rtp_io::RtpSocket;
use super::{CallId, Worker};
use crate::media::codec::Codec;
use crate::media::pacer::StreamId;
use crate::media::player::Player;
use crate::media::rtp::RtpSender;
use crate::shell::clock;

/// A whisper's socket and where it goes.
pub(super) struct Whisper {
    socket: Arc<RtpSocket>,
    remote: SocketAddr,
}

/// The pacer's name for a call's whisper stream.
fn whisper_stream(call: CallId) -> StreamId {
    StreamId(!call.0)
}

/// What the whisper plays.
pub(super) struct WhisperLeg<'a> {
    pub port: u16,
    pub remote: SocketAddr,
    pub codec: Codec,
    pub telephone_event: Option<u8>,
    pub prompts: &'a [String],
}

impl Worker {
    /// Plays the prompts to the agent's phone from its leg's port, looping the last.
    pub(super) fn whisper(&mut self, call: CallId, leg: WhisperLeg<'_>) {
        if self.calls.contains_key(&CallId(!call.0)) || self.whispers.contains_key(&call) {
            // Another call holds the id the whisper would take (one chance in 2^64).
            tracing::debug!(%call, "whisper skipped: its stream id is taken");
            return;
        }
        let socket = match self
            .reserved
            .take_or_bind(call, leg.port, false)
            .and_then(RtpSocket::new)
        {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::warn!(%call, port = leg.port, error = %e, "whisper: cannot open the agent's port");
                return;
            }
        };
        let mut player = Player::new(leg.codec);
        for (i, name) in leg.prompts.iter().enumerate() {
            let Some(p) = self.prompts.get(name) else {
                tracing::warn!(prompt = %name, "whisper prompt not loaded; skipped");
                continue;
            };
            if i + 1 == leg.prompts.len() {
                player.play_loop(p.clone());
            } else {
                player.play(p.clone());
            }
        }
        let sender = RtpSender::new(leg.codec, leg.telephone_event, &mut rand::thread_rng());
        if self
            .pacer
            .add(whisper_stream(call), sender, player, clock::now())
            .is_err()
        {
            return;
        }
        self.whispers.insert(
            call,
            Whisper {
                socket,
                remote: leg.remote,
            },
        );
    }

    /// Ends a whisper: its stream stops and the agent's port is free for the bridge.
    pub(super) fn end_whisper(&mut self, call: CallId) {
        if self.whispers.remove(&call).is_some() {
            self.pacer.remove(whisper_stream(call));
        }
    }
}

/// A paced whisper frame: to the agent's phone. Whether `stream` was a whisper.
pub(super) fn send_whisper(
    whispers: &std::collections::HashMap<CallId, Whisper>,
    stream: StreamId,
    packet: &[u8],
) -> bool {
    let Some(w) = whispers.get(&CallId(!stream.0)) else {
        return false;
    };
    let _ = w.socket.try_send_to(packet, w.remote);
    true
}
