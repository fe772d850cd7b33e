//! Which source a leg's RTP is taken from, and when the leg has gone quiet. Without it any
//! packet reaching a call's port would be relayed, recorded and read for keys, and the leg
//! would re-aim at whoever sent last: an attacker on another port could hear the agent and
//! speak (or press keys) for the caller.
//!
//! The rule: latch the first source (symmetric RTP: behind NAT the SDP address is often not
//! where packets come from) and refuse every other source while it keeps sending. Re-latch
//! only when the latched source has been silent for `relatch_after`, or when a packet with a
//! new SSRC arrives from the address the SDP signalled (the real peer restarting, or taking
//! the latch back from someone who sent first). Sans-IO: the shell hands in `now`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The latch's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatchConfig {
    /// How long the latched source must be silent before another may take its place.
    pub relatch_after: Duration,
    /// No accepted packet for this long: the leg is reported inactive (the caller vanished).
    /// `None` never reports.
    pub inactivity: Option<Duration>,
}

/// Why a packet was refused (the `/metrics` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefuseReason {
    /// From an address other than the latched one, while the latched one keeps sending.
    ForeignSource,
}

impl RefuseReason {
    /// The label value on `hotline_rtp_refused_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefuseReason::ForeignSource => "foreign_source",
        }
    }
}

/// What to do with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatchDecision {
    /// Take it; send this leg's media to `send_to`. `changed` is true when the address to
    /// send to is new (the shell re-aims its sends).
    Accept { send_to: SocketAddr, changed: bool },
    /// Drop it before anything reads it.
    Refuse(RefuseReason),
}

#[derive(Debug, Clone, Copy)]
struct Latched {
    source: SocketAddr,
    ssrc: u32,
    last_at: Instant,
}

/// One leg's latch and inactivity watch.
#[derive(Debug, Clone)]
pub struct SourceLatch {
    cfg: LatchConfig,
    /// Where the SDP said the peer sends from (its `c=`/`m=` address), when usable.
    expected: Option<SocketAddr>,
    latched: Option<Latched>,
    /// Since when the leg has been waiting for a packet (start, or the last accepted one).
    quiet_since: Instant,
    /// Inactivity already reported for the current quiet spell.
    reported: bool,
    refused: u64,
}

impl SourceLatch {
    /// A latch for a leg opened at `now`, expecting packets from `expected` (the SDP's
    /// address; `None` or an unspecified address when there is none worth trusting).
    pub fn new(cfg: LatchConfig, expected: Option<SocketAddr>, now: Instant) -> Self {
        let expected = expected.filter(|a| !a.ip().is_unspecified() && a.port() != 0);
        Self {
            cfg,
            expected,
            latched: None,
            quiet_since: now,
            reported: false,
            refused: 0,
        }
    }

    /// Decides about one packet from `source` carrying `ssrc`.
    pub fn handle_packet(&mut self, source: SocketAddr, ssrc: u32, now: Instant) -> LatchDecision {
        let decision = match self.latched {
            None => LatchDecision::Accept {
                send_to: source,
                changed: true,
            },
            Some(l) if l.source == source => LatchDecision::Accept {
                send_to: source,
                changed: false,
            },
            Some(l) => {
                let silent = now.saturating_duration_since(l.last_at) >= self.cfg.relatch_after;
                let signalled_restart = Some(source) == self.expected && ssrc != l.ssrc;
                if silent || signalled_restart {
                    LatchDecision::Accept {
                        send_to: source,
                        changed: true,
                    }
                } else {
                    LatchDecision::Refuse(RefuseReason::ForeignSource)
                }
            }
        };
        match decision {
            LatchDecision::Accept { send_to, .. } => {
                self.latched = Some(Latched {
                    source: send_to,
                    ssrc,
                    last_at: now,
                });
                self.quiet_since = now;
                self.reported = false;
            }
            LatchDecision::Refuse(_) => self.refused += 1,
        }
        decision
    }

    /// The source packets are taken from now.
    pub fn source(&self) -> Option<SocketAddr> {
        self.latched.map(|l| l.source)
    }

    /// Packets refused so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// When the leg will count as inactive, unless a packet is accepted first (`None` once
    /// reported, until the next accepted packet, or when inactivity is not watched).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.reported {
            return None;
        }
        self.cfg.inactivity.map(|d| self.quiet_since + d)
    }

    /// Time passed: true once per quiet spell, when no packet was accepted for the
    /// configured inactivity time. Refused packets do not keep a leg alive.
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        match self.poll_timeout() {
            Some(at) if now >= at => {
                self.reported = true;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    const CFG: LatchConfig = LatchConfig {
        relatch_after: Duration::from_secs(2),
        inactivity: Some(Duration::from_secs(30)),
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_second_source_is_refused_while_the_first_keeps_sending() {
        let t0 = crate::media::t0();
        let (caller, attacker) = (addr(4000), addr(4444));
        let mut l = SourceLatch::new(CFG, Some(caller), t0);
        assert_eq!(
            l.handle_packet(caller, 1, t0),
            LatchDecision::Accept {
                send_to: caller,
                changed: true
            }
        );
        for i in 1..=100u64 {
            let t = t0 + ms(20 * i);
            assert_eq!(
                l.handle_packet(attacker, 99, t),
                LatchDecision::Refuse(RefuseReason::ForeignSource)
            );
            assert_eq!(
                l.handle_packet(caller, 1, t),
                LatchDecision::Accept {
                    send_to: caller,
                    changed: false
                }
            );
        }
        assert_eq!(l.refused(), 100);
        assert_eq!(l.source(), Some(caller));
        // Even an attacker reusing the caller's SSRC cannot move the latch.
        assert!(matches!(
            l.handle_packet(attacker, 1, t0 + ms(2010)),
            LatchDecision::Refuse(_)
        ));
    }

    #[test]
    fn re_latches_after_the_configured_silence() {
        let t0 = crate::media::t0();
        let (nat1, nat2) = (addr(5000), addr(5002));
        let mut l = SourceLatch::new(CFG, Some(addr(4000)), t0);
        let _ = l.handle_packet(nat1, 7, t0);
        assert!(matches!(
            l.handle_packet(nat2, 7, t0 + ms(1999)),
            LatchDecision::Refuse(_)
        ));
        // The refused packet did not refresh the latch: silence counts from t0.
        assert_eq!(
            l.handle_packet(nat2, 7, t0 + ms(2000)),
            LatchDecision::Accept {
                send_to: nat2,
                changed: true
            }
        );
        assert!(matches!(
            l.handle_packet(nat1, 7, t0 + ms(2020)),
            LatchDecision::Refuse(_)
        ));
    }

    #[test]
    fn the_signalled_address_with_a_new_ssrc_takes_the_latch_back() {
        let t0 = crate::media::t0();
        let (caller, attacker) = (addr(4000), addr(4444));
        let mut l = SourceLatch::new(CFG, Some(caller), t0);
        // The attacker got there first.
        let _ = l.handle_packet(attacker, 99, t0);
        assert_eq!(
            l.handle_packet(caller, 1, t0 + ms(20)),
            LatchDecision::Accept {
                send_to: caller,
                changed: true
            }
        );
        assert!(matches!(
            l.handle_packet(attacker, 99, t0 + ms(40)),
            LatchDecision::Refuse(_)
        ));
        // The same SSRC from the signalled address while someone else holds the latch is
        // not a restart: an unspecified SDP address never is.
        let mut l = SourceLatch::new(CFG, Some(addr(0)), t0);
        let _ = l.handle_packet(attacker, 99, t0);
        assert!(matches!(
            l.handle_packet(addr(0), 1, t0 + ms(20)),
            LatchDecision::Refuse(_)
        ));
    }

    #[test]
    fn inactivity_is_reported_once_per_quiet_spell_and_refused_packets_do_not_count() {
        let t0 = crate::media::t0();
        let mut l = SourceLatch::new(CFG, None, t0);
        assert_eq!(l.poll_timeout(), Some(t0 + Duration::from_secs(30)));
        assert!(!l.handle_timeout(t0 + ms(29_999)));
        assert!(l.handle_timeout(t0 + Duration::from_secs(30)));
        assert_eq!(l.poll_timeout(), None);
        assert!(!l.handle_timeout(t0 + Duration::from_secs(60)));
        // A packet arrives: watched again from then.
        let t1 = t0 + Duration::from_secs(61);
        let _ = l.handle_packet(addr(4000), 1, t1);
        assert_eq!(l.poll_timeout(), Some(t1 + Duration::from_secs(30)));
        // A foreign source sends (refused, before the re-latch silence): still inactive.
        for i in 1..=90u64 {
            let _ = l.handle_packet(addr(4444), 2, t1 + ms(20 * i));
        }
        assert!(l.handle_timeout(t1 + Duration::from_secs(30)));
        let off = SourceLatch::new(
            LatchConfig {
                inactivity: None,
                ..CFG
            },
            None,
            t0,
        );
        assert_eq!(off.poll_timeout(), None);
    }
}
