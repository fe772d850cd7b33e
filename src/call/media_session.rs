//! The call's side of SDP offer/answer (RFC 3264): what we answer to the caller's offer, what
//! we offer when the INVITE had none, and what was agreed (codec, telephone-event, where to
//! send RTP).

use std::net::{IpAddr, SocketAddr};

use crate::media::codec::Codec;

/// What both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Codec,
    /// The caller's payload type for RFC 4733 events, if they offered it.
    pub telephone_event: Option<u8>,
    /// Where the caller said to send RTP.
    pub remote: SocketAddr,
}

/// Why a session could not be agreed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    #[error("no common codec (we take PCMU/8000 and PCMA/8000)")]
    NoCommonCodec,
    #[error("unreadable SDP: {0}")]
    Invalid(String),
}

/// Our answer to the caller's offer, and what it agrees to.
pub fn answer(
    _offer: &[u8],
    _ip: IpAddr,
    _port: u16,
    _session_id: u32,
) -> Result<(Vec<u8>, Negotiated), NegotiationError> {
    Err(NegotiationError::Invalid("SDP not wired yet".into()))
}

/// Our offer for an INVITE that came without one.
pub fn offer(_ip: IpAddr, _port: u16, _session_id: u32) -> Vec<u8> {
    Vec::new()
}

/// What the caller's answer (in the ACK) agrees to.
pub fn read_answer(_sdp: &[u8]) -> Result<Negotiated, NegotiationError> {
    Err(NegotiationError::Invalid("SDP not wired yet".into()))
}
