//! A browser phone as one more party of a call (`call::parties`): a consulted or
//! conferenced agent, a supervisor listening in, or the next agent of a call already in the
//! mixer. Its leg is WebRTC like a browser agent's (`call::browser_leg`): the offer is made
//! here when the party's INVITE goes out (its socket bound at once, `ReserveLeg`), the 2xx's
//! answer accepted here, and the answered leg handed to the media shell as one more party
//! of the mixer (`MediaCommand::OpenWebRtcParty`). An answer that cannot carry the call is
//! refused like a party that never answered: ACK, BYE, the others go on.

use std::net::SocketAddr;
use std::time::Instant;

use crate::call::agent_leg::LegStartError;
use crate::call::browser_leg::is_browser;
use crate::call::engine::{CallEngine, MediaCommand, Output, Peer};
use crate::call::output::WebRtcHandoff;
use crate::call::session::CallId;
use crate::media::mixer::PartyId;
use crate::media::webrtc::WebRtcLeg;
use crate::sip::message::{Request, TransactionKey};

impl CallEngine {
    /// The SDP offer for a party's INVITE on `port` when its phone is a browser: a new
    /// WebRTC leg, kept until the answer, its socket bound now. `Ok(None)` for any other
    /// phone (plain RTP).
    pub(crate) fn browser_party_offer(
        &mut self,
        id: CallId,
        party: PartyId,
        peer: Peer,
        port: u16,
        now: Instant,
    ) -> Result<Option<Vec<u8>>, LegStartError> {
        if !is_browser(peer) {
            return Ok(None);
        }
        let local = SocketAddr::new(self.cfg.rtp_address, port);
        let (mut leg, sdp) = WebRtcLeg::offer(local, now).map_err(|e| {
            tracing::error!(call = %id, party = party.0, %local, error = %e, "no WebRTC offer for a browser party");
            self.ports.release(port);
            LegStartError::NotSent
        })?;
        leg.set_opus_complexity(self.cfg.opus_complexity);
        self.browser.parties.insert((id, party), (port, leg));
        self.out
            .push_back(Output::Media(MediaCommand::ReserveLeg { call: id, port }));
        Ok(Some(sdp.into_bytes()))
    }

    /// A browser party's 2xx answer to its pending offer. `None`: the party's phone is not
    /// a browser. `Some(Err)`: refused (the leg is forgotten; the caller must ACK, BYE and
    /// take the party off the call).
    pub(crate) fn browser_party_answer(
        &mut self,
        id: CallId,
        party: PartyId,
        body: &[u8],
        now: Instant,
    ) -> Option<Result<(), String>> {
        let (_, leg) = self.browser.parties.get_mut(&(id, party))?;
        let answered = std::str::from_utf8(body)
            .map_err(|_| "the answer is not UTF-8".to_string())
            .and_then(|sdp| leg.accept_answer(sdp, now).map_err(|e| e.to_string()));
        Some(match answered {
            Ok(media) => {
                tracing::info!(call = %id, party = party.0, codec = ?media.codec, "browser party's WebRTC answer accepted");
                Ok(())
            }
            Err(why) => {
                self.browser.parties.remove(&(id, party));
                self.counters.webrtc_answers_refused += 1;
                tracing::warn!(call = %id, party = party.0, %why, "browser party's answer refused: hanging up its leg");
                Err(why)
            }
        })
    }

    /// The answered browser leg of `party`, to open as media party `as_party` (itself, or
    /// the call's next agent party in a mixing call).
    pub(crate) fn open_browser_party(
        &mut self,
        id: CallId,
        party: PartyId,
        as_party: PartyId,
    ) -> Option<MediaCommand> {
        let (port, leg) = self.browser.parties.remove(&(id, party))?;
        leg.media()?;
        Some(MediaCommand::OpenWebRtcParty {
            call: id,
            party: as_party,
            port,
            leg: WebRtcHandoff::new(leg),
        })
    }

    /// A party's browser offer that will not be answered (cancelled, refused, dropped).
    pub(crate) fn drop_browser_party(&mut self, id: CallId, party: PartyId) {
        self.browser.parties.remove(&(id, party));
    }

    /// A re-INVITE from a browser party (its hold or resume): answered by its leg on the
    /// media shell. `false` when the party's phone is not a browser.
    pub(crate) fn browser_party_reoffer(
        &mut self,
        id: CallId,
        party: PartyId,
        req: &Request,
        key: &TransactionKey,
        now: Instant,
    ) -> bool {
        let browser = self
            .calls
            .get(&id)
            .and_then(|c| c.conference.party(party))
            .is_some_and(|p| is_browser(p.leg.peer));
        browser && self.webrtc_reoffer(id, party, req, key, now)
    }

    /// The media shell says a browser party's leg failed (DTLS refused, ICE lost, closed
    /// with no BYE): a conference party is taken off the call, the others go on; the leg
    /// of a party that had taken the call over is the agent's, and ends the call.
    pub fn handle_party_leg_failed(
        &mut self,
        id: CallId,
        party: PartyId,
        reason: &str,
        now: Instant,
    ) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.conference.party(party).is_some() {
            tracing::warn!(call = %id, party = party.0, %reason, "browser party's media failed: dropped");
            self.counters.webrtc_legs_failed += 1;
            self.drop_party_inner(id, party, now);
            self.flush_transactions(now);
        } else if call.conference.agent_party == party {
            self.handle_agent_media_failed(id, reason, now);
        }
    }
}
