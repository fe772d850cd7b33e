//! What a citizen's file really is, by its bytes (magic numbers and the first structure after
//! them), never by its name or `Content-Type`: a renamed text file or a truncated header is
//! refused.

/// The file types a citizen may attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl FileType {
    /// The media type.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Webp => "image/webp",
            FileType::Pdf => "application/pdf",
        }
    }

    /// The type a `Content-Type` names, when it is one of ours.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let essence = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(FileType::Jpeg),
            "image/png" => Some(FileType::Png),
            "image/webp" => Some(FileType::Webp),
            "application/pdf" => Some(FileType::Pdf),
            _ => None,
        }
    }
}

/// The type of `bytes`, if it is one of ours with a plausible header.
pub fn sniff(b: &[u8]) -> Option<FileType> {
    if is_jpeg(b) {
        Some(FileType::Jpeg)
    } else if is_png(b) {
        Some(FileType::Png)
    } else if is_webp(b) {
        Some(FileType::Webp)
    } else if is_pdf(b) {
        Some(FileType::Pdf)
    } else {
        None
    }
}

/// SOI, then a whole first marker segment (APPn, DQT, SOF, DHT or COM) inside the file, and
/// an end-of-image marker somewhere after it.
fn is_jpeg(b: &[u8]) -> bool {
    if b.len() < 8 || b[..3] != [0xFF, 0xD8, 0xFF] {
        return false;
    }
    let marker = b[3];
    let segment = matches!(marker, 0xE0..=0xEF | 0xDB | 0xC0..=0xC3 | 0xC4 | 0xFE);
    let len = usize::from(u16::from_be_bytes([b[4], b[5]]));
    segment && len >= 2 && 4 + len <= b.len() && b[4 + len..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// The signature, then an `IHDR` chunk of 13 bytes with a non-zero size.
fn is_png(b: &[u8]) -> bool {
    const SIG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    b.len() >= 33
        && b[..8] == SIG
        && b[8..12] == [0, 0, 0, 13]
        && &b[12..16] == b"IHDR"
        && b[16..20] != [0; 4]
        && b[20..24] != [0; 4]
}

/// `RIFF` size `WEBP` and a VP8 / VP8L / VP8X chunk; the RIFF size fits the file.
fn is_webp(b: &[u8]) -> bool {
    if b.len() < 20 || &b[..4] != b"RIFF" || &b[8..12] != b"WEBP" {
        return false;
    }
    let riff = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    let chunk = &b[12..16];
    (chunk == b"VP8 " || chunk == b"VP8L" || chunk == b"VP8X") && riff + 8 <= b.len() && riff >= 12
}

/// `%PDF-d.d` and an `%%EOF` near the end (a PDF is read from its end).
fn is_pdf(b: &[u8]) -> bool {
    b.len() >= 16
        && b.starts_with(b"%PDF-")
        && b[5].is_ascii_digit()
        && b[6] == b'.'
        && b[7].is_ascii_digit()
        && b[b.len().saturating_sub(1024)..]
            .windows(5)
            .any(|w| w == b"%%EOF")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A valid 1×1 JPEG.
    pub const JPEG: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06,
        0x05, 0x08, 0x07, 0x07, 0x07, 0x09, 0x09, 0x08, 0x0A, 0x0C, 0x14, 0x0D, 0x0C, 0x0B, 0x0B,
        0x0C, 0x19, 0x12, 0x13, 0x0F, 0x14, 0x1D, 0x1A, 0x1F, 0x1E, 0x1D, 0x1A, 0x1C, 0x1C, 0x20,
        0x24, 0x2E, 0x27, 0x20, 0x22, 0x2C, 0x23, 0x1C, 0x1C, 0x28, 0x37, 0x29, 0x2C, 0x30, 0x31,
        0x34, 0x34, 0x34, 0x1F, 0x27, 0x39, 0x3D, 0x38, 0x32, 0x3C, 0x2E, 0x33, 0x34, 0x32, 0xFF,
        0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xC4, 0x00,
        0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x08, 0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xDA, 0x00,
        0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0xD2, 0xCF, 0x20, 0xFF, 0xD9,
    ];

    #[test]
    fn real_headers_are_recognised() {
        assert_eq!(sniff(JPEG), Some(FileType::Jpeg));
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&[
            0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3A, 0x7E, 0x9B, 0x55,
        ]);
        assert_eq!(sniff(&png), Some(FileType::Png));
        let mut webp = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\0".to_vec();
        webp.resize(34, 0);
        assert_eq!(sniff(&webp), Some(FileType::Webp));
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
        assert_eq!(sniff(pdf), Some(FileType::Pdf));
    }

    #[test]
    fn renamed_text_and_truncated_headers_are_refused() {
        assert_eq!(sniff(b"just some text, named photo.jpg"), None);
        assert_eq!(sniff(&JPEG[..5]), None, "SOI and a cut segment");
        assert_eq!(sniff(&JPEG[..60]), None, "no end of image");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n"), None, "signature only");
        assert_eq!(sniff(b"RIFF\x04\0\0\0WEBP"), None);
        assert_eq!(sniff(b"%PDF-1.4 but never ends......"), None);
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(FileType::from_mime("image/PNG; x=y"), Some(FileType::Png));
        assert_eq!(FileType::from_mime("text/plain"), None);
    }
}
