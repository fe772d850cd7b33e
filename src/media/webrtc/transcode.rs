//! Opus ↔ 8 kHz G.711 at the edge of a browser leg, through libopus (the `opus` crate).
//!
//! libopus encodes from and decodes to 8 kHz itself (its own resampler, band-limited to
//! narrowband), so no resampler of ours sits in the path: a 20 ms G.711 frame is 160 samples
//! in, one Opus packet out, and an Opus packet decodes to 160 samples per 20 ms. Opus's RTP
//! clock is 48 kHz whatever the audio's rate (RFC 7587 §4.1): timestamps are scaled by 6.

use thiserror::Error;

use crate::media::codec::{Codec, FRAME_SAMPLES};

/// Opus's RTP clock rate over G.711's.
pub const CLOCK_RATIO: u32 = 6;
/// The longest Opus packet (120 ms) in 8 kHz samples.
const MAX_DECODED: usize = 120 * 8;
/// Room for one encoded 20 ms packet (libopus's recommended ceiling is 4000 bytes).
const MAX_PACKET: usize = 1500;
/// libopus's encoder complexity (0–10) unless `[rtp] opus_complexity` says otherwise. Its
/// own default, 10, cost ~90 µs per 20 ms frame on the project's VM (`benches/webrtc_leg.rs`,
/// `protect_opus`). At 5, 200 Opus-only browsers overloaded two quiet cores (141 % of a
/// core, 53,847 recording frames filled); at 0 they ran with none lost (124 %): the audio is
/// 8 kHz speech bound for G.711 anyway. Measured per value in docs/PERFORMANCE.md.
pub const DEFAULT_OPUS_COMPLEXITY: u8 = 0;
/// The highest complexity libopus knows.
pub const MAX_OPUS_COMPLEXITY: u8 = 10;

/// Why a frame could not be transcoded; the frame is dropped and counted, never fatal.
#[derive(Debug, Error)]
pub enum TranscodeError {
    #[error("libopus: {0}")]
    Opus(#[from] opus::Error),
}

/// One browser leg's Opus encoder and decoder, both at 8 kHz mono.
pub struct OpusTranscoder {
    encoder: opus::Encoder,
    decoder: opus::Decoder,
    pcm: Vec<i16>,
}

impl std::fmt::Debug for OpusTranscoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpusTranscoder")
    }
}

impl OpusTranscoder {
    /// A VoIP-tuned encoder (speech, in-band FEC for the browser's loss concealment) at
    /// `complexity` (0–10; libopus refuses more).
    pub fn new(complexity: u8) -> Result<Self, TranscodeError> {
        let mut encoder = opus::Encoder::new(8000, opus::Channels::Mono, opus::Application::Voip)?;
        encoder.set_inband_fec(true)?;
        encoder.set_complexity(i32::from(complexity))?;
        Ok(OpusTranscoder {
            encoder,
            decoder: opus::Decoder::new(8000, opus::Channels::Mono)?,
            pcm: vec![0; MAX_DECODED],
        })
    }

    /// The encoder's complexity as libopus has it.
    pub fn complexity(&mut self) -> Result<u8, TranscodeError> {
        let c = self.encoder.get_complexity()?;
        Ok(u8::try_from(c).unwrap_or(u8::MAX))
    }

    /// One 20 ms G.711 frame (`codec`) → one Opus packet.
    pub fn encode(&mut self, codec: Codec, g711: &[u8]) -> Result<Vec<u8>, TranscodeError> {
        let mut pcm = [0i16; FRAME_SAMPLES];
        let n = g711.len().min(FRAME_SAMPLES);
        codec.decode(&g711[..n], &mut pcm[..n]);
        let mut out = vec![0u8; MAX_PACKET];
        let len = self.encoder.encode(&pcm, &mut out)?;
        out.truncate(len);
        Ok(out)
    }

    /// One Opus packet → G.711 bytes in `codec` (160 per 20 ms of audio it carried).
    pub fn decode(&mut self, codec: Codec, packet: &[u8]) -> Result<Vec<u8>, TranscodeError> {
        let samples = self.decoder.decode(packet, &mut self.pcm, false)?;
        let mut out = vec![0u8; samples];
        codec.encode(&self.pcm[..samples], &mut out);
        Ok(out)
    }
}
