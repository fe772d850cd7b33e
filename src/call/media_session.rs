//! The call's side of SDP offer/answer (RFC 3264): what we answer to the caller's offer, what
//! we offer when the INVITE had none, and what was agreed (codec, telephone-event, where to
//! send RTP), in the media room's terms.

use std::net::{IpAddr, SocketAddr};

use crate::media::codec::Codec;
use crate::sip::sdp::{self, Local, SdpError, SessionDescription};

/// What both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Codec,
    /// The caller's payload type for RFC 4733 events, if they offered it.
    pub telephone_event: Option<u8>,
    /// Where the caller said to send RTP.
    pub remote: SocketAddr,
    /// The peer will not listen (`sendonly`/`inactive` from them): they put the call on hold.
    pub on_hold: bool,
}

impl From<&sdp::Negotiated> for Negotiated {
    fn from(n: &sdp::Negotiated) -> Self {
        Negotiated {
            codec: match n.codec {
                sdp::Codec::Pcmu => Codec::Pcmu,
                sdp::Codec::Pcma => Codec::Pcma,
            },
            telephone_event: n.telephone_event_pt,
            remote: n.remote_rtp,
            on_hold: matches!(
                n.direction,
                sdp::Direction::RecvOnly | sdp::Direction::Inactive
            ),
        }
    }
}

fn local(ip: IpAddr, port: u16, session_id: u32) -> Local {
    Local {
        ip,
        port,
        session_id: u64::from(session_id),
        session_version: 1,
    }
}

/// Our answer to the caller's offer, and what it agrees to; `NoCommonCodec` means 488.
pub fn answer(
    offer: &[u8],
    ip: IpAddr,
    port: u16,
    session_id: u32,
) -> Result<(Vec<u8>, Negotiated), SdpError> {
    let offer = SessionDescription::parse(offer)?;
    let (ours, agreed) = sdp::answer(&offer, &local(ip, port, session_id))?;
    Ok((ours.to_bytes(), Negotiated::from(&agreed)))
}

/// Our offer for an INVITE that came without one (the answer comes in the ACK).
pub fn offer(ip: IpAddr, port: u16, session_id: u32) -> Vec<u8> {
    sdp::offer(&local(ip, port, session_id)).to_bytes()
}

/// What the caller's answer (in the ACK) agrees to.
pub fn read_answer(answer: &[u8]) -> Result<Negotiated, SdpError> {
    let answer = SessionDescription::parse(answer)?;
    Ok(Negotiated::from(&sdp::negotiated(&answer)?))
}
