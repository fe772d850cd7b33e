//! An N-party conference's media, sans-IO (rule C11/C12's three-way calls, the supervisor's
//! listen, whisper and barge): each party's RTP in, and for each party the sum of the parties
//! it hears, re-encoded in its own codec and paced every 20 ms; the stereo recording keeps the
//! citizen on the left and everyone else mixed on the right. It knows parties only by number:
//! who they are and who hears whom is the call room's decision.

/// A party of one call's media, numbered by the call room: the citizen is always
/// [`PartyId::CALLER`], the first agent [`PartyId::AGENT`], and every later party (a unit, a
/// second agent, an interpreter, an outside service, a supervisor) a new number, never reused
/// within the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(pub u8);

impl PartyId {
    /// The citizen: the recording's left channel.
    pub const CALLER: PartyId = PartyId(0);
    /// The agent who answered (the bridge's agent side).
    pub const AGENT: PartyId = PartyId(1);
}
