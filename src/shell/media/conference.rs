//! Conference calls on a media task (`OpenParty`, `Mix`, `CloseParty`, and `Hold`,
//! `SendDigit`, `Close` once a call mixes): the sockets and receive tasks of the extra
//! parties, the move from the two-party [`Bridge`](crate::media::bridge::Bridge) to the
//! sans-IO [`Mixer`], and sending what it mixes. A call is bridged until its first `Mix`, so
//! the two-party path (thousands of calls) is untouched; from then on it mixes until `Close`.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{CallId, Stream, Worker};
use crate::media::bridge::LegMedia;
use crate::media::codec::Codec;
use crate::media::mixer::{Mixer, PartyId, MAX_FRAMES, PRIME_FRAMES};
use crate::media::pacer::StreamId;
use crate::media::player::Player;
use crate::media::rtp::RtpSender;
use crate::shell::bridge::AgentSide;
use crate::shell::clock;

impl Stream {
    /// The leg of a party other than the caller (the agent, or a conference party).
    pub(super) fn leg_mut(&mut self, party: PartyId) -> Option<&mut AgentSide> {
        if party == PartyId::AGENT {
            return self.agent.as_mut();
        }
        self.parties
            .iter_mut()
            .find(|(id, _)| *id == party)
            .map(|(_, leg)| leg)
    }
}

impl Worker {
    /// Binds a party's port (like an agent's), starts its receive task and keeps its sender
    /// for the mixer; while the call is still bridged the party waits, heard by nobody.
    pub(super) fn open_party(
        &mut self,
        call: CallId,
        party: PartyId,
        (port, remote): (u16, SocketAddr),
        codec: Codec,
        telephone_event: Option<u8>,
    ) {
        let Some(s) = self.calls.get(&call) else {
            return;
        };
        if party == PartyId::CALLER
            || party == PartyId::AGENT
            || s.parties.iter().any(|p| p.0 == party)
        {
            tracing::warn!(%call, ?party, "party already open; ignored");
            return;
        }
        let flag = s.bridged_flag.clone();
        let Some((socket, receiver)) = self.start_leg(
            call,
            party,
            (port, Some(remote)),
            codec,
            telephone_event,
            flag,
        ) else {
            return;
        };
        let media = LegMedia {
            codec,
            telephone_event,
        };
        let mut sender = Some(RtpSender::new(
            codec,
            telephone_event,
            &mut rand::thread_rng(),
        ));
        let Some(s) = self.calls.get_mut(&call) else {
            receiver.abort();
            return;
        };
        if let Some(m) = s.mixed.as_mut() {
            if let Err(e) = m.core.add_party(party, media, sender.take(), clock::now()) {
                tracing::warn!(%call, ?party, error = %e, "party refused by the mixer");
                receiver.abort();
                return;
            }
        }
        s.parties.push((
            party,
            AgentSide {
                socket,
                remote,
                media,
                sender,
                receiver,
            },
        ));
    }

    /// Who hears whom. The first `Mix` turns the bridge into a mixer: same recording file
    /// and counters, the caller's and agent's streams go on, waiting parties join.
    pub(super) fn mix(&mut self, call: CallId, hears: &[(PartyId, Vec<PartyId>)]) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        if s.mixed.is_none() {
            let Some(bridged) = s.bridged.take() else {
                tracing::warn!(%call, "mix of a call that is not bridged ignored");
                return;
            };
            let now = clock::now();
            let mut mixed = bridged.map_core(|core| Mixer::from_bridge(core, now));
            let prime = self.settings.conference_prime.as_millis() / 20;
            mixed
                .core
                .set_prime(usize::try_from(prime).unwrap_or(PRIME_FRAMES));
            let frames = self.settings.conference_queue.as_millis() / 20;
            mixed
                .core
                .set_max_queue(usize::try_from(frames).unwrap_or(MAX_FRAMES));
            for (id, leg) in &mut s.parties {
                if let Err(e) = mixed.core.add_party(*id, leg.media, leg.sender.take(), now) {
                    tracing::warn!(%call, party = ?id, error = %e, "party refused by the mixer");
                }
            }
            s.mixed = Some(mixed);
        }
        if let Some(m) = s.mixed.as_mut() {
            m.core.set_matrix(hears);
        }
    }

    /// One party's leg closes: its receive task stops and it leaves the mix (the recording
    /// and the other legs go on).
    pub(super) fn close_party(&mut self, call: CallId, party: PartyId) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        if party == PartyId::CALLER {
            tracing::warn!(%call, "the caller's leg closes with the call, not alone");
            return;
        }
        let leg = if party == PartyId::AGENT {
            s.agent.take()
        } else {
            let i = s.parties.iter().position(|p| p.0 == party);
            i.map(|i| s.parties.remove(i).1)
        };
        if let Some(leg) = leg {
            leg.receiver.abort();
        }
        // A browser's WebRTC leg goes with its socket.
        s.webrtc.retain(|(p, _)| *p != party);
        if let Some(m) = s.mixed.as_mut() {
            let _ = m.core.remove_party(party);
        } else if let (Some(b), PartyId::AGENT) = (s.bridged.as_mut(), party) {
            b.core.detach_agent();
        }
    }

    /// Hold on a mixing call: the caller's sender goes to the pacer with `prompt` looping
    /// (prompts can then play to the caller), or comes back into the mix.
    pub(super) fn hold_mixed(&mut self, call: CallId, prompt: Option<String>) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(m) = s.mixed.as_mut() else {
            return;
        };
        match prompt {
            Some(name) => {
                let Some(sender) = m.core.detach_sender(PartyId::CALLER) else {
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
                if !m.core.sender_attached(PartyId::CALLER) {
                    if let Some((sender, _player)) = self.pacer.remove(StreamId(call.0)) {
                        let _ = m.core.attach_sender(PartyId::CALLER, sender);
                    }
                }
            }
        }
    }

    /// A packet from one party of a mixing call.
    /// `delay`: how long it waited in the engine since the kernel received it; `gap`: the
    /// kernel time since the party's previous packet.
    pub(super) fn mixed_packet(
        &mut self,
        call: CallId,
        party: PartyId,
        packet: &[u8],
        (delay, gap): (Option<Duration>, Option<Duration>),
    ) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(m) = s.mixed.as_mut() else {
            return;
        };
        let underruns = m.core.stats().underruns;
        m.core.handle_packet(party, packet, clock::now());
        if m.core.stats().underruns > underruns {
            let timing = &self.counters.timing;
            if let Some(d) = delay {
                timing.underrun_delay.observe(d);
            }
            if let Some(g) = gap {
                timing.underrun_gap.observe(g);
            }
        }
        send_mixed(s, &self.counters, clock::now());
        if let Some(m) = s.mixed.as_mut() {
            m.write_blocks();
        }
        self.drain_webrtc(call);
    }
}

/// The 20 ms timer, for a mixing call: its due frames go out and its recording blocks to
/// the file.
pub(super) fn tick(s: &mut Stream, now: Instant, counters: &super::MediaCounters) {
    if let Some(m) = s.mixed.as_mut() {
        m.tick(now);
        send_mixed(s, counters, now);
    }
}

/// Sends what a call's mixer produced, each packet on its party's socket.
fn send_mixed(s: &mut Stream, counters: &super::MediaCounters, now: Instant) {
    let Some(m) = s.mixed.as_mut() else {
        return;
    };
    while let Some((to, bytes)) = m.core.poll_transmit() {
        if let Some((_, w)) = s.webrtc.iter_mut().find(|(p, _)| *p == to) {
            // A browser (the agent or a party): its leg encrypts it; the task drains it.
            w.leg.send_rtp(bytes, now);
            counters.to_agents.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let (socket, remote, count) = if to == PartyId::CALLER {
            match s.remote {
                Some(r) => (&s.socket, r, &counters.to_callers),
                None => continue, // not latched yet
            }
        } else {
            let leg = if to == PartyId::AGENT {
                s.agent.as_ref()
            } else {
                s.parties.iter().find(|p| p.0 == to).map(|p| &p.1)
            };
            match leg {
                Some(l) => (&l.socket, l.remote, &counters.to_agents),
                None => continue,
            }
        };
        if socket.try_send_to(bytes, remote).is_ok() {
            counters.sent.fetch_add(1, Ordering::Relaxed);
            count.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.send_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}
