//! The RTP fixed header (RFC 3550 §5.1) in both directions: a zero-copy view for received
//! packets and a writer into a caller-owned buffer for sent ones (no allocation per packet).

use thiserror::Error;

/// Bytes in the fixed RTP header (no CSRCs, no extension).
pub const HEADER_LEN: usize = 12;

/// Why a datagram is not a usable RTP packet. Bad packets are dropped and counted, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Shorter than the header fields it announces.
    #[error("RTP packet too short: {len} bytes, header needs {needed}")]
    TooShort { len: usize, needed: usize },
    /// Only version 2 exists; anything else is STUN, RTCP-mux noise or garbage.
    #[error("RTP version {version}, expected 2")]
    BadVersion { version: u8 },
    /// The padding count (last byte) is zero or runs into the header.
    #[error("RTP padding of {padding} bytes does not fit in {available} bytes after the header")]
    BadPadding { padding: usize, available: usize },
}

/// The fields a sender chooses for each packet; version 2, no padding, no CSRC, no extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Marks the first packet of a talkspurt (RFC 3551 §4.1) or of a DTMF event (RFC 4733).
    pub marker: bool,
    /// 7-bit payload type (0 PCMU, 8 PCMA, dynamic 96–127 for telephone-event).
    pub payload_type: u8,
    /// +1 per packet sent, so the receiver can see loss and reordering.
    pub sequence: u16,
    /// Media time in 8 kHz samples: +160 per 20 ms frame.
    pub timestamp: u32,
    /// Identifies this stream; random per stream (RFC 3550 §8).
    pub ssrc: u32,
}

impl RtpHeader {
    /// Writes the 12-byte header (V=2, no padding, extension or CSRC).
    #[inline]
    pub fn write(&self, out: &mut [u8; HEADER_LEN]) {
        out[0] = 0x80; // V=2, P=0, X=0, CC=0
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7F);
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
    }

    /// Appends header + payload to `out` (which the caller reuses, so steady state allocates
    /// nothing).
    #[inline]
    pub fn append_packet(&self, payload: &[u8], out: &mut Vec<u8>) {
        let mut h = [0u8; HEADER_LEN];
        self.write(&mut h);
        out.extend_from_slice(&h);
        out.extend_from_slice(payload);
    }
}

/// A header extension (RFC 3550 §5.3.1), exposed uninterpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// The 16-bit "defined by profile" field (0xBEDE for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension body, a multiple of 4 bytes.
    pub data: &'a [u8],
}

/// A parsed, borrowed view of a received RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The fixed-header fields.
    pub header: RtpHeader,
    /// Whether the sender padded the payload (already stripped from `payload`).
    pub padded: bool,
    csrc: &'a [u8],
    /// The header extension, if the X bit was set.
    pub extension: Option<RtpExtension<'a>>,
    /// The media payload with padding removed.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses one datagram. Never panics; every malformed input is an `RtpError`.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        if buf.len() < HEADER_LEN {
            return Err(RtpError::TooShort {
                len: buf.len(),
                needed: HEADER_LEN,
            });
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion { version });
        }
        let padded = buf[0] & 0x20 != 0;
        let has_ext = buf[0] & 0x10 != 0;
        let cc = usize::from(buf[0] & 0x0F);
        let header = RtpHeader {
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7F,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        };
        let mut pos = HEADER_LEN + 4 * cc;
        let too_short = |needed| RtpError::TooShort {
            len: buf.len(),
            needed,
        };
        let csrc = buf.get(HEADER_LEN..pos).ok_or_else(|| too_short(pos))?;
        let extension = if has_ext {
            let fixed = buf.get(pos..pos + 4).ok_or_else(|| too_short(pos + 4))?;
            let profile = u16::from_be_bytes([fixed[0], fixed[1]]);
            let words = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
            let start = pos + 4;
            let end = start + 4 * words;
            let data = buf.get(start..end).ok_or_else(|| too_short(end))?;
            pos = end;
            Some(RtpExtension { profile, data })
        } else {
            None
        };
        let mut end = buf.len();
        if padded {
            let padding = usize::from(buf[buf.len() - 1]);
            let available = buf.len() - pos;
            if padding == 0 || padding > available {
                return Err(RtpError::BadPadding { padding, available });
            }
            end -= padding;
        }
        Ok(RtpPacket {
            header,
            padded,
            csrc,
            extension,
            payload: &buf[pos..end],
        })
    }

    /// The contributing sources (mixers list them; a plain phone sends none).
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrc
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// Number of CSRC entries (the CC field).
    pub fn csrc_count(&self) -> usize {
        self.csrc.len() / 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 8,
            sequence: 0xBEEF,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x1234_5678,
        }
    }

    #[test]
    fn built_packet_parses_back() {
        let mut out = Vec::new();
        header().append_packet(&[1, 2, 3], &mut out);
        assert_eq!(out[..2], [0x80, 0x88]);
        let p = RtpPacket::parse(&out).unwrap();
        assert_eq!(p.header, header());
        assert_eq!(p.payload, &[1, 2, 3]);
        assert!(!p.padded);
        assert_eq!(p.extension, None);
        assert_eq!(p.csrc_count(), 0);
    }

    #[test]
    fn parses_csrc_extension_and_padding() {
        let mut b = vec![0x80 | 0x20 | 0x10 | 2, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7];
        b.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 10]); // 2 CSRCs
        b.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0]); // 1-word extension
        b.extend_from_slice(&[0xFF, 0xFE]); // payload
        b.extend_from_slice(&[0, 0, 3]); // 3 bytes padding
        let p = RtpPacket::parse(&b).unwrap();
        assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![9, 10]);
        let ext = p.extension.unwrap();
        assert_eq!(ext.profile, 0xBEDE);
        assert_eq!(ext.data, &[0x10, 0xAA, 0, 0]);
        assert_eq!(p.payload, &[0xFF, 0xFE]);
        assert!(p.padded);
        assert_eq!(p.header.timestamp, 160);
        assert_eq!(p.header.ssrc, 7);
    }

    #[test]
    fn rejects_short_wrong_version_and_bad_padding() {
        assert_eq!(
            RtpPacket::parse(&[0x80; 11]),
            Err(RtpError::TooShort {
                len: 11,
                needed: 12
            })
        );
        let mut b = [0u8; 12];
        b[0] = 0x40;
        assert_eq!(
            RtpPacket::parse(&b),
            Err(RtpError::BadVersion { version: 1 })
        );
        // CC=3 but no CSRC bytes.
        b[0] = 0x83;
        assert!(matches!(
            RtpPacket::parse(&b),
            Err(RtpError::TooShort { needed: 24, .. })
        ));
        // Padding bit with a count of zero.
        let mut p = vec![0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        assert!(matches!(
            RtpPacket::parse(&p),
            Err(RtpError::BadPadding { padding: 0, .. })
        ));
        // Padding larger than what follows the header.
        p[13] = 5;
        assert!(matches!(
            RtpPacket::parse(&p),
            Err(RtpError::BadPadding { padding: 5, .. })
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = RtpPacket::parse(&bytes);
        }

        #[test]
        fn roundtrip(marker: bool, pt in 0u8..128, seq: u16, ts: u32, ssrc: u32,
                     payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let h = RtpHeader { marker, payload_type: pt, sequence: seq, timestamp: ts, ssrc };
            let mut out = Vec::new();
            h.append_packet(&payload, &mut out);
            let p = RtpPacket::parse(&out).unwrap();
            prop_assert_eq!(p.header, h);
            prop_assert_eq!(p.payload, &payload[..]);
        }
    }
}
