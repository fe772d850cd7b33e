//! Writes small pcap files SIPp replays as a citizen's phone (`play_pcap_audio`): RFC 4733
//! key presses, each with its own RTP timestamp (the receiver tells two presses of the same
//! key apart by it; the pcaps Debian ships reuse one timestamp per key).

use std::path::Path;

/// One IPv4/UDP/RTP packet in an Ethernet frame, `at_us` after the capture's start.
fn frame(out: &mut Vec<u8>, at_us: u64, rtp: &[u8]) {
    let udp_len = 8 + rtp.len();
    let ip_len = 20 + udp_len;
    let len = 14 + ip_len;
    out.extend_from_slice(&((at_us / 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&((at_us % 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00]);
    out.extend_from_slice(&[
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        0,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ]);
    out.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
    out.extend_from_slice(&[
        0x13,
        0x88,
        0x13,
        0x8a,
        (udp_len >> 8) as u8,
        udp_len as u8,
        0,
        0,
    ]);
    out.extend_from_slice(rtp);
}

/// A pcap of one key press (`key` 0–9, 10 = `*`, 11 = `#`): 7 updates and 3 end packets,
/// 20 ms apart, payload type 101, at RTP `timestamp`.
pub fn key_press(path: &Path, key: u8, timestamp: u32, first_seq: u16) {
    let mut out = Vec::new();
    // Global header: microsecond pcap, version 2.4, Ethernet.
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&[2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..10u16 {
        let end = i >= 7;
        let duration = 160 * (i.min(7) + 1);
        let seq = first_seq.wrapping_add(i);
        let mut rtp = vec![0x80, if i == 0 { 0x80 | 101 } else { 101 }];
        rtp.extend_from_slice(&seq.to_be_bytes());
        rtp.extend_from_slice(&timestamp.to_be_bytes());
        rtp.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        rtp.extend_from_slice(&[key, if end { 0x80 | 10 } else { 10 }]);
        rtp.extend_from_slice(&duration.to_be_bytes());
        frame(&mut out, u64::from(i) * 20_000, &rtp);
    }
    std::fs::write(path, out).expect("write pcap");
}
