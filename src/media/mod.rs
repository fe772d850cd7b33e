//! Media: RTP packets and the 20 ms pacer, G.711 codecs, DTMF detection, prompt audio.
//! Nothing here opens a file or a socket: the shell hands in bytes and sends what comes out.
//!
//! | module | owns |
//! |---|---|
//! | [`bridge`] | a connected call: caller ↔ agent relay (transcoding, RFC 4733 both ways, hold), its recorder |
//! | [`mixer`] | N parties of one call: who hears whom, the mixes in each party's codec, clipping, the recording |
//! | [`rtp`] | RTP header parse/build, the per-stream `RtpSender`, receive stats (symmetric RTP) |
//! | [`pacer`] | one timer pacing thousands of streams at 20 ms, late/skip accounting |
//! | [`codec`] | G.711 μ-law/A-law, payload types |
//! | [`dtmf`] | RFC 4733 events and in-band Goertzel detection → `Digit`s |
//! | [`prompt`] | prompt files (bytes) → 8 kHz PCM and G.711 frames, shared as `Arc<Prompt>` |
//! | [`player`] | per-call queue of prompts → frames, finished/interrupted events |
//! | [`recorder`] | both sides' frames → stereo 20 ms blocks: playout slots, filled/dropped counts |
//! | [`robot_recorder`] | a callback robot's call: citizen and prompts → stereo blocks; the citizen's spoken reason cut out |
//! | [`webrtc`] | a browser agent's leg: ICE-lite, DTLS-SRTP, rtcp-mux (str0m); Opus ↔ G.711 at its edge |

pub mod bridge;
pub mod codec;
pub mod dtmf;
pub mod mixer;
pub mod pacer;
pub mod player;
pub mod prompt;
pub mod recorder;
pub mod robot_recorder;
pub mod rtp;
pub mod webrtc;

pub use bridge::{Bridge, BridgeStats, LegMedia};
pub use codec::Codec;
pub use dtmf::{DetectedDigit, Digit, DigitTime};
pub use pacer::{FrameSource, Pacer, PacerConfig, PacerStats, StreamId, Transmit};
pub use player::{IdleMode, PlayId, Player, PlayerEvent};
pub use prompt::{Prompt, PromptError};
pub use recorder::{RecorderStats, Side, StereoRecorder};
pub use rtp::{ReceiveOutcome, ReceiveStats, RtpPacket, RtpSender};

/// Tests step a fake clock from one starting instant; `Instant` has no constructor, so the
/// shell's clock supplies that single origin (cores never read the clock themselves).
#[cfg(test)]
pub(crate) fn t0() -> std::time::Instant {
    crate::shell::clock::now()
}
