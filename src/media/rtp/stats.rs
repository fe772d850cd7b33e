//! Receive-side bookkeeping for one incoming RTP stream: counts, loss estimate, and the
//! address the caller's packets really come from (symmetric RTP: behind NAT, the SDP address
//! is often unreachable, so the shell sends to where the caller's packets arrive from).

use std::net::SocketAddr;
use std::time::Instant;

use super::packet::RtpPacket;

/// What one received packet changed, so the shell knows when to re-aim its sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiveOutcome {
    /// The first packet: start sending to `source`.
    FirstSource(SocketAddr),
    /// The peer's address changed (NAT rebinding, re-INVITE without new SDP): send there now.
    SourceChanged {
        /// Where packets came from before.
        from: SocketAddr,
        /// Where they come from now.
        to: SocketAddr,
    },
    /// Nothing changed.
    Same,
}

/// Counters and the latched source of one incoming stream.
#[derive(Debug, Clone, Default)]
pub struct ReceiveStats {
    /// Packets accepted.
    pub packets: u64,
    /// Payload bytes accepted.
    pub payload_bytes: u64,
    /// Packets whose sequence number was a duplicate or older than the highest seen.
    pub reordered_or_duplicate: u64,
    /// Sequence numbers skipped over (an estimate of loss; late arrivals are not subtracted).
    pub lost: u64,
    /// Times the peer's SSRC changed (a new stream: sequence tracking restarts).
    pub ssrc_changes: u64,
    /// Times the source address changed after the first packet.
    pub source_changes: u64,
    ssrc: Option<u32>,
    highest_seq: Option<u16>,
    last_source: Option<SocketAddr>,
    last_packet_at: Option<Instant>,
}

impl ReceiveStats {
    /// An empty record; nothing received yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one parsed packet from `source`.
    pub fn handle_packet(
        &mut self,
        source: SocketAddr,
        packet: &RtpPacket<'_>,
        now: Instant,
    ) -> ReceiveOutcome {
        self.packets += 1;
        self.payload_bytes += packet.payload.len() as u64;
        self.last_packet_at = Some(now);
        let h = &packet.header;
        if self.ssrc != Some(h.ssrc) {
            if self.ssrc.is_some() {
                self.ssrc_changes += 1;
            }
            self.ssrc = Some(h.ssrc);
            self.highest_seq = None;
        }
        match self.highest_seq {
            None => self.highest_seq = Some(h.sequence),
            Some(prev) => {
                let delta = h.sequence.wrapping_sub(prev);
                if delta == 0 || delta >= 0x8000 {
                    self.reordered_or_duplicate += 1;
                } else {
                    self.lost += u64::from(delta - 1);
                    self.highest_seq = Some(h.sequence);
                }
            }
        }
        let outcome = match self.last_source {
            None => ReceiveOutcome::FirstSource(source),
            Some(prev) if prev != source => {
                self.source_changes += 1;
                ReceiveOutcome::SourceChanged {
                    from: prev,
                    to: source,
                }
            }
            Some(_) => ReceiveOutcome::Same,
        };
        self.last_source = Some(source);
        outcome
    }

    /// Where to send this peer's media (symmetric RTP), once anything has arrived.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.last_source
    }

    /// The peer's current SSRC.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// When the last packet arrived: the shell's media-timeout check (dead caller) uses it.
    pub fn last_packet_at(&self) -> Option<Instant> {
        self.last_packet_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp::RtpHeader;
    use std::time::Duration;

    fn packet(seq: u16, ssrc: u32) -> Vec<u8> {
        let mut out = Vec::new();
        RtpHeader {
            marker: false,
            payload_type: 0,
            sequence: seq,
            timestamp: 0,
            ssrc,
        }
        .append_packet(&[0; 160], &mut out);
        out
    }

    #[test]
    fn latches_to_the_source_and_follows_changes() {
        let t0 = crate::media::t0();
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut st = ReceiveStats::new();
        assert_eq!(st.remote(), None);
        let p = packet(1, 9);
        let pk = RtpPacket::parse(&p).unwrap();
        assert_eq!(st.handle_packet(a, &pk, t0), ReceiveOutcome::FirstSource(a));
        assert_eq!(st.handle_packet(a, &pk, t0), ReceiveOutcome::Same);
        let later = t0 + Duration::from_millis(40);
        assert_eq!(
            st.handle_packet(b, &pk, later),
            ReceiveOutcome::SourceChanged { from: a, to: b }
        );
        assert_eq!(st.remote(), Some(b));
        assert_eq!(st.source_changes, 1);
        assert_eq!(st.packets, 3);
        assert_eq!(st.payload_bytes, 480);
        assert_eq!(st.last_packet_at(), Some(later));
    }

    #[test]
    fn counts_loss_reordering_and_ssrc_changes_across_wrap() {
        let t0 = crate::media::t0();
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let mut st = ReceiveStats::new();
        for seq in [65534u16, 65535, 2, 1, 2, 3] {
            let p = packet(seq, 7);
            st.handle_packet(a, &RtpPacket::parse(&p).unwrap(), t0);
        }
        assert_eq!(st.lost, 2, "0 and 1 skipped over at the wrap");
        assert_eq!(st.reordered_or_duplicate, 2);
        let p = packet(500, 8);
        st.handle_packet(a, &RtpPacket::parse(&p).unwrap(), t0);
        assert_eq!(st.ssrc_changes, 1);
        assert_eq!(st.ssrc(), Some(8));
        assert_eq!(st.lost, 2, "a new SSRC restarts sequence tracking");
    }
}
