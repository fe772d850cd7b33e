//! One light receive task per leg: it latches the leg's source (symmetric RTP), forwards
//! the packets of a bridged or mixing call to the media task by [`PartyId`], and reads the
//! caller's keys (RFC 4733 events or in-band tones) for the engine.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::{stamp, Command, MediaCounters, MediaEvent};
use crate::call::session::CallId;
use crate::media::codec::Codec;
use crate::media::dtmf::{EventReceiver, ToneDetector, ToneDetectorConfig};
use crate::media::mixer::PartyId;
use crate::media::rtp::{LatchDecision, ReceiveStats, RefuseReason, RtpPacket, SourceLatch};
use crate::shell::clock;

/// One leg's receiving end.
pub(super) struct Leg {
    pub(super) call: CallId,
    pub(super) party: PartyId,
    /// Which source is this leg's peer, and whether it went quiet.
    pub(super) latch: SourceLatch,
    pub(super) socket: Arc<UdpSocket>,
    pub(super) codec: Codec,
    pub(super) telephone_event: Option<u8>,
    /// Once set, audio goes to the media task for relaying and recording.
    pub(super) bridged: Arc<AtomicBool>,
}

/// Reads one leg's incoming RTP until the call closes (the task is aborted).
pub(super) async fn receive(
    leg: Leg,
    to_engine: mpsc::UnboundedSender<MediaEvent>,
    to_worker: mpsc::UnboundedSender<Command>,
    counters: Arc<MediaCounters>,
) {
    let Leg {
        call,
        party,
        mut latch,
        socket,
        codec,
        telephone_event,
        bridged,
    } = leg;
    let mut stats = ReceiveStats::new();
    let mut events = EventReceiver::new(Duration::from_millis(300));
    let mut tones = ToneDetector::new(ToneDetectorConfig::default());
    // A gateway that sends RFC 4733 events is believed over the tones in its audio (some
    // send both); in-band detection is for those that never send an event.
    let mut events_seen = false;
    let mut pcm = [0i16; 1024];
    let mut buf = vec![0u8; 2048];
    // The kernel's receive time of the previous packet: the gap to the next tells whether a
    // late packet was late on the wire.
    let mut last_stamp: Option<Duration> = None;
    loop {
        let deadline = [events.poll_timeout(), latch.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        // With the kernel's receive time: the media task measures how long it waited here.
        let recv = socket.async_io(Interest::READABLE, || stamp::recv_from(&*socket, &mut buf));
        let received = match deadline {
            Some(at) => tokio::time::timeout_at(tokio::time::Instant::from_std(at), recv)
                .await
                .ok(),
            None => Some(recv.await),
        };
        let now = clock::now();
        match received {
            None => {
                events.handle_timeout(now);
                if latch.handle_timeout(now) {
                    counters.inactive_legs.fetch_add(1, Ordering::Relaxed);
                    let _ = to_engine.send(MediaEvent::Inactive { call });
                }
            }
            Some(Err(_)) => continue,
            Some(Ok((n, from, stamped))) => {
                let Ok(packet) = RtpPacket::parse(&buf[..n]) else {
                    continue;
                };
                counters.received.fetch_add(1, Ordering::Relaxed);
                // The latch first: a refused packet is counted and read by nothing else.
                match latch.handle_packet(from, packet.header.ssrc, now) {
                    LatchDecision::Refuse(reason) => {
                        match reason {
                            RefuseReason::ForeignSource => &counters.refused_foreign_source,
                        }
                        .fetch_add(1, Ordering::Relaxed);
                        if latch.refused().is_power_of_two() {
                            tracing::warn!(%call, ?party, %from, refused = latch.refused(), reason = reason.as_str(), "RTP from a foreign source refused");
                        }
                        continue;
                    }
                    LatchDecision::Accept { send_to, changed } => {
                        if changed {
                            let _ = to_worker.send(Command::Remote {
                                call,
                                party,
                                addr: send_to,
                            });
                        }
                    }
                }
                let lost_before = stats.lost;
                let _ = stats.handle_packet(from, &packet, now);
                if stats.lost > lost_before {
                    counters
                        .lost
                        .fetch_add(stats.lost - lost_before, Ordering::Relaxed);
                }
                let pt = packet.header.payload_type;
                let gap = stamped
                    .zip(last_stamp)
                    .map(|(now, before)| now.saturating_sub(before));
                last_stamp = stamped.or(last_stamp);
                if bridged.load(Ordering::Relaxed) {
                    let _ = to_worker.send(Command::Packet {
                        call,
                        party,
                        packet: buf[..n].to_vec(),
                        stamp: stamped,
                        gap,
                    });
                }
                // Keys are read from the caller only.
                if party != PartyId::CALLER {
                    continue;
                }
                if Some(pt) == telephone_event {
                    events_seen = true;
                    let _ = events.handle_packet(packet.header.timestamp, packet.payload, now);
                } else if !events_seen
                    && pt == codec.payload_type()
                    && packet.payload.len() <= pcm.len()
                {
                    let out = &mut pcm[..packet.payload.len()];
                    codec.decode(packet.payload, out);
                    tones.handle_samples(out);
                }
            }
        }
        while let Some(d) = events.poll_digit() {
            let _ = to_engine.send(MediaEvent::Digit {
                call,
                digit: d.digit.as_char(),
            });
        }
        while let Some(d) = tones.poll_digit() {
            let _ = to_engine.send(MediaEvent::Digit {
                call,
                digit: d.digit.as_char(),
            });
        }
    }
}
