//! G.711 (ITU-T G.711) μ-law and A-law, the two codecs every SIP phone and gateway speaks.
//! Owns payload types and sample ↔ byte conversion; knows nothing about RTP headers or time.
//!
//! Encoding and decoding are table-driven: the tables are computed at compile time from the
//! reference algorithm (the one in ITU-T G.191's `g711.c`), so the hot path is one lookup per
//! sample and the tables are exact by construction.

/// The audio codecs `hotline` negotiates. Both are 8 kHz, 8 bits per sample, 160 bytes per 20 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 μ-law, static payload type 0 (North America, Japan, and most SIP trunks' default).
    Pcmu,
    /// G.711 A-law, static payload type 8 (the Chinese PSTN and most carrier gateways in China).
    Pcma,
}

/// Samples per second for both G.711 codecs; also the RTP clock rate.
pub const SAMPLE_RATE: u32 = 8000;
/// Samples (and payload bytes) in one 20 ms frame: the packetisation `hotline` always uses.
pub const FRAME_SAMPLES: usize = 160;

impl Codec {
    /// The static RTP payload type (RFC 3551), used in SDP and every RTP header.
    pub const fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name as written in SDP `a=rtpmap` lines.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// Maps a received payload type back to a codec; `None` for anything we do not speak.
    pub const fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// Maps an SDP encoding name (case-insensitive, per RFC 4566) to a codec.
    pub fn from_name(name: &str) -> Option<Codec> {
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Codec::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Codec::Pcma)
        } else {
            None
        }
    }

    /// The byte that decodes to (near) zero: what silence frames are filled with.
    pub const fn silence_byte(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }

    /// One 20 ms frame of silence, shared so that silence costs no allocation.
    pub fn silence_frame(self) -> &'static [u8; FRAME_SAMPLES] {
        match self {
            Codec::Pcmu => &ULAW_SILENCE,
            Codec::Pcma => &ALAW_SILENCE,
        }
    }

    /// Encodes one 16-bit linear sample.
    #[inline]
    pub fn encode_sample(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => ULAW_ENCODE[((sample as u16) >> 2) as usize],
            Codec::Pcma => ALAW_ENCODE[((sample as u16) >> 3) as usize],
        }
    }

    /// Decodes one byte to a 16-bit linear sample.
    #[inline]
    pub fn decode_sample(self, byte: u8) -> i16 {
        match self {
            Codec::Pcmu => ULAW_DECODE[byte as usize],
            Codec::Pcma => ALAW_DECODE[byte as usize],
        }
    }

    /// Encodes `pcm` into `out` (same length: the shorter of the two bounds the work).
    pub fn encode(self, pcm: &[i16], out: &mut [u8]) {
        for (o, &s) in out.iter_mut().zip(pcm) {
            *o = self.encode_sample(s);
        }
    }

    /// Decodes `payload` into `out` (the shorter of the two bounds the work).
    pub fn decode(self, payload: &[u8], out: &mut [i16]) {
        for (o, &b) in out.iter_mut().zip(payload) {
            *o = self.decode_sample(b);
        }
    }
}

static ULAW_SILENCE: [u8; FRAME_SAMPLES] = [0xFF; FRAME_SAMPLES];
static ALAW_SILENCE: [u8; FRAME_SAMPLES] = [0xD5; FRAME_SAMPLES];

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;
const SEG_UEND: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

const fn segment(val: i32, table: &[i32; 8]) -> i32 {
    let mut i = 0;
    while i < 8 {
        if val <= table[i] {
            return i as i32;
        }
        i += 1;
    }
    8
}

/// G.191 `linear2ulaw`, input is the 14-bit magnitude-and-sign sample (16-bit >> 2).
const fn ulaw_from_14bit(pcm14: i32) -> u8 {
    let (mut val, mask) = if pcm14 < 0 {
        (-pcm14, 0x7F)
    } else {
        (pcm14, 0xFF)
    };
    if val > ULAW_CLIP {
        val = ULAW_CLIP;
    }
    val += ULAW_BIAS >> 2;
    let seg = segment(val, &SEG_UEND);
    if seg >= 8 {
        (0x7F ^ mask) as u8
    } else {
        let uval = (seg << 4) | ((val >> (seg + 1)) & 0xF);
        (uval ^ mask) as u8
    }
}

/// G.191 `linear2alaw`, input is the 13-bit sample (16-bit >> 3).
const fn alaw_from_13bit(pcm13: i32) -> u8 {
    let (val, mask) = if pcm13 >= 0 {
        (pcm13, 0xD5)
    } else {
        (-pcm13 - 1, 0x55)
    };
    let seg = segment(val, &SEG_AEND);
    if seg >= 8 {
        (0x7F ^ mask) as u8
    } else {
        let mut aval = seg << 4;
        if seg < 2 {
            aval |= (val >> 1) & 0xF;
        } else {
            aval |= (val >> seg) & 0xF;
        }
        (aval ^ mask) as u8
    }
}

const fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte as i32;
    let mut t = ((u & 0x0F) << 3) + ULAW_BIAS;
    t <<= (u & 0x70) >> 4;
    (if u & 0x80 != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    }) as i16
}

const fn alaw_to_linear(byte: u8) -> i16 {
    let a = (byte ^ 0x55) as i32;
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

const fn build_ulaw_encode() -> [u8; 16384] {
    let mut t = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        // Index is the top 14 bits of the u16 view; sign-extend back to i32.
        let pcm14 = ((i as u16) << 2) as i16 as i32 >> 2;
        t[i] = ulaw_from_14bit(pcm14);
        i += 1;
    }
    t
}

const fn build_alaw_encode() -> [u8; 8192] {
    let mut t = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        let pcm13 = ((i as u16) << 3) as i16 as i32 >> 3;
        t[i] = alaw_from_13bit(pcm13);
        i += 1;
    }
    t
}

const fn build_decode(ulaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if ulaw {
            ulaw_to_linear(i as u8)
        } else {
            alaw_to_linear(i as u8)
        };
        i += 1;
    }
    t
}

static ULAW_ENCODE: [u8; 16384] = build_ulaw_encode();
static ALAW_ENCODE: [u8; 8192] = build_alaw_encode();
static ULAW_DECODE: [i16; 256] = build_decode(true);
static ALAW_DECODE: [i16; 256] = build_decode(false);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types_and_names_follow_rfc3551() {
        assert_eq!(Codec::Pcmu.payload_type(), 0);
        assert_eq!(Codec::Pcma.payload_type(), 8);
        assert_eq!(Codec::from_payload_type(8), Some(Codec::Pcma));
        assert_eq!(Codec::from_payload_type(18), None);
        assert_eq!(Codec::from_name("pcmu"), Some(Codec::Pcmu));
        assert_eq!(Codec::Pcma.name(), "PCMA");
    }

    /// Reference values from ITU-T G.191 `g711.c` / Sun's `g711.c` (and Wireshark's tables).
    #[test]
    fn ulaw_matches_reference_values() {
        let c = Codec::Pcmu;
        for (byte, lin) in [
            (0x00u8, -32124i16),
            (0x80, 32124),
            (0xFF, 0),
            (0x7F, 0),
            (0x0F, -16764),
            (0x8F, 16764),
            (0x70, -120),
            (0xF0, 120),
            (0xFE, 8),
            (0x7E, -8),
        ] {
            assert_eq!(c.decode_sample(byte), lin, "decode {byte:#04x}");
        }
        for (lin, byte) in [
            (0i16, 0xFFu8),
            (-1, 0x7E),
            (32767, 0x80),
            (-32768, 0x00),
            (8, 0xFE),
            (120, 0xF0),
            (1000, 0xCE),
            (-1000, 0x4E),
        ] {
            assert_eq!(c.encode_sample(lin), byte, "encode {lin}");
        }
    }

    #[test]
    fn alaw_matches_reference_values() {
        let c = Codec::Pcma;
        for (byte, lin) in [
            (0xD5u8, 8i16),
            (0x55, -8),
            (0xAA, 32256),
            (0x2A, -32256),
            (0x80, 5504),
            (0x00, -5504),
            (0xD4, 24),
            (0xFF, 848),
        ] {
            assert_eq!(c.decode_sample(byte), lin, "decode {byte:#04x}");
        }
        for (lin, byte) in [
            (0i16, 0xD5u8),
            (-1, 0x55),
            (32767, 0xAA),
            (-32768, 0x2A),
            (1000, 0xFA),
            (-1000, 0x7A),
        ] {
            assert_eq!(c.encode_sample(lin), byte, "encode {lin}");
        }
    }

    /// Order-sensitive checksum, so a whole 65,536-entry table can be compared against the
    /// reference implementation in one constant.
    fn checksum(values: impl Iterator<Item = u64>) -> u64 {
        values.fold(0u64, |h, v| h.wrapping_mul(31).wrapping_add(v + 1))
    }

    /// Every one of the 65,536 inputs and 256 codes, against checksums computed with CPython's
    /// `audioop` (`lin2ulaw`, `lin2alaw`, `ulaw2lin`, `alaw2lin`: the Sun/G.191 reference code).
    #[test]
    fn whole_tables_match_the_reference_implementation() {
        let all = || i16::MIN..=i16::MAX;
        let enc = |c: Codec| checksum(all().map(|s| u64::from(c.encode_sample(s))));
        let dec = |c: Codec| checksum((0..=255u8).map(|b| u64::from(c.decode_sample(b) as u16)));
        assert_eq!(enc(Codec::Pcmu), 11673912062962102464);
        assert_eq!(enc(Codec::Pcma), 10100801499584397312);
        assert_eq!(dec(Codec::Pcmu), 6838773336280207360);
        assert_eq!(dec(Codec::Pcma), 13162456127274881024);
    }

    #[test]
    fn decode_then_encode_is_identity_on_every_code() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for b in 0..=255u8 {
                let lin = codec.decode_sample(b);
                let back = codec.encode_sample(lin);
                // μ-law has two zeros (0x7F and 0xFF); both decode to 0, which encodes to 0xFF.
                if codec == Codec::Pcmu && b == 0x7F {
                    assert_eq!(back, 0xFF);
                } else {
                    assert_eq!(back, b, "{codec:?} code {b:#04x} -> {lin}");
                }
            }
        }
    }

    #[test]
    fn encoding_is_monotonic_in_the_decoded_domain() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut prev = i16::MIN;
            for s in (i16::MIN..=i16::MAX).step_by(7) {
                let d = codec.decode_sample(codec.encode_sample(s));
                assert!(d >= prev, "{codec:?} not monotonic at {s}");
                prev = d;
            }
        }
    }

    #[test]
    fn silence_decodes_near_zero() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut out = [1i16; FRAME_SAMPLES];
            codec.decode(codec.silence_frame(), &mut out);
            assert!(out.iter().all(|s| s.abs() <= 8));
        }
    }
}
