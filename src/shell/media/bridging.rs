//! Two-party calls on a media task: the bridge between the caller and the agent (its
//! recording, or the callback robot's going on), hold, and the agent leaving (transfer).

use std::sync::atomic::Ordering;

use super::{CallId, Worker};
use crate::media::bridge::Bridge;
use crate::media::pacer::StreamId;
use crate::media::player::Player;
use crate::shell::bridge::Bridged;
use crate::shell::clock;

impl Worker {
    /// Hold (`Some(prompt)`): the caller's stream goes back to the pacer with `prompt` looping;
    /// resume (`None`): it comes back to the bridge, same SSRC and sequence throughout.
    pub(super) fn hold(&mut self, call: CallId, prompt: Option<String>) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        if s.mixed.is_some() {
            return self.hold_mixed(call, prompt);
        }
        let Some(bridged) = s.bridged.as_mut() else {
            return;
        };
        match prompt {
            Some(name) => {
                let Some(sender) = bridged.core.detach_caller() else {
                    return; // already on hold
                };
                let mut player = Player::new(s.media.codec);
                if let Some(p) = self.prompts.get(&name) {
                    player.play_loop(p.clone());
                }
                if self
                    .pacer
                    .add(StreamId(call.0), sender, player, clock::now())
                    .is_err()
                {
                    tracing::warn!(%call, "call already paced; hold ignored");
                }
            }
            None => {
                if !bridged.core.caller_attached() {
                    if let Some((sender, _player)) = self.pacer.remove(StreamId(call.0)) {
                        bridged.core.attach_caller(sender);
                    }
                }
            }
        }
    }

    /// The agent left (transfer): its leg closes and the caller's stream returns to the
    /// pacer, silent until the engine plays something; the recording stays open.
    pub(super) fn unbridge(&mut self, call: CallId) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        if s.mixed.is_some() {
            tracing::warn!(%call, "unbridge of a mixing call ignored (the call room closes parties)");
            return;
        }
        if let Some(agent) = s.agent.take() {
            agent.receiver.abort();
        }
        // A browser agent's WebRTC leg goes with its socket.
        s.webrtc
            .retain(|(p, _)| *p != crate::media::mixer::PartyId::AGENT);
        if let Some(b) = s.bridged.as_mut() {
            b.core.detach_agent();
        }
        let Some(sender) = s.bridged.as_mut().and_then(|b| b.core.detach_caller()) else {
            return; // on hold: already paced
        };
        if self
            .pacer
            .add(
                StreamId(call.0),
                sender,
                Player::new(s.media.codec),
                clock::now(),
            )
            .is_err()
        {
            tracing::warn!(%call, "call already paced");
        }
    }

    /// Connects the two legs: the caller's stream leaves the pacer (its RTP sender goes on
    /// with the relayed audio) and the recording starts.
    pub(super) fn bridge(&mut self, call: CallId, recording: String) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        if s.mixed.is_some() {
            tracing::warn!(%call, "bridge of a mixing call ignored");
            return;
        }
        if self.pacer.sender_mut(StreamId(call.0)).is_none() {
            return; // the caller's stream is not with the pacer: nothing to take over
        }
        let Some((agent_media, agent_sender)) = s
            .agent
            .as_mut()
            .and_then(|a| Some((a.media, a.sender.take()?)))
        else {
            tracing::warn!(%call, "bridge without an agent leg ignored");
            return;
        };
        let Some((caller_sender, _player)) = self.pacer.remove(StreamId(call.0)) else {
            return;
        };
        if let Some(b) = s.bridged.as_mut() {
            // A transferred call reaches its next agent: same recording, same caller stream.
            b.core.attach_agent(agent_media, agent_sender);
            b.core.attach_caller(caller_sender);
            return;
        }
        s.pending = None;
        if let Some(robot) = s.robot.take() {
            // The robot handed the citizen to this agent: the call's file goes on.
            let caller = s.media;
            s.bridged = Some(Self::robot_into_bridge(robot, |recorder| {
                Bridge::with_recorder(caller, caller_sender, agent_media, agent_sender, recorder)
            }));
            return;
        }
        let path = self.data_dir.join(&recording);
        let core = Bridge::new(
            s.media,
            caller_sender,
            agent_media,
            agent_sender,
            clock::now(),
        );
        s.pending = None;
        s.bridged = Some(Bridged::new(
            core,
            recording,
            path,
            self.counters.recording.clone(),
        ));
        s.bridged_flag.store(true, Ordering::Relaxed);
    }

    /// A key the caller pressed, regenerated as RFC 4733 towards the agent (bridged) or every
    /// party that hears the caller (mixing).
    pub(super) fn send_digit(&mut self, call: CallId, digit: char) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(d) = crate::media::dtmf::Digit::from_char(digit) else {
            return;
        };
        if let Some(m) = s.mixed.as_mut() {
            if !m.core.send_digit(d, clock::now()) {
                tracing::debug!(%call, %digit, "key not regenerated (passed through, or no telephone-event)");
            }
        }
        if let Some(b) = s.bridged.as_mut() {
            // The core skips a key that already went through as the caller's event.
            if !b.core.send_digit(d, clock::now()) {
                tracing::debug!(%call, %digit, "key not regenerated (passed through, or no telephone-event)");
            }
        }
    }
}
