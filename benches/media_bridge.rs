//! The media bridge's cost per packet: 1,000 bridged calls, each receiving one 20 ms packet
//! from the caller and one from the agent per iteration (parse, sequence check, decode, the
//! recorder's slot placement, re-encode, re-stamp into the reused transmit buffer, drain),
//! plus the recording's 20 ms slot (one stereo block per call, drained as the shell does).
//! The engine target is 2,000 bridged calls on 2 cores, i.e. 200,000 received packets/s;
//! criterion's throughput line gives packets per second, and time / 2,000 the cost of one
//! relayed and recorded packet.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline::media::bridge::{Bridge, LegMedia};
use hotline::media::codec::Codec;
use hotline::media::recorder::Side;
use hotline::media::rtp::{RtpHeader, RtpSender};

const CALLS: usize = 1_000;

/// A packet template whose sequence and timestamp are rewritten in place per iteration.
fn template(codec: Codec, ssrc: u32) -> Vec<u8> {
    let pcm: Vec<i16> = (0..160)
        .map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16)
        .collect();
    let mut payload = [0u8; 160];
    codec.encode(&pcm, &mut payload);
    let mut out = Vec::new();
    RtpHeader {
        marker: false,
        payload_type: codec.payload_type(),
        sequence: 0,
        timestamp: 0,
        ssrc,
    }
    .append_packet(&payload, &mut out);
    out
}

fn stamp(p: &mut [u8], seq: u16) {
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
}

fn run(c: &mut Criterion, name: &str, caller: Codec, agent: Codec) {
    let t0 = hotline::shell::clock::now();
    let mut rng = rand::thread_rng();
    let media = |codec| LegMedia {
        codec,
        telephone_event: Some(101),
    };
    let mut bridges: Vec<Bridge> = (0..CALLS)
        .map(|_| {
            Bridge::new(
                media(caller),
                RtpSender::new(caller, Some(101), &mut rng),
                media(agent),
                RtpSender::new(agent, Some(101), &mut rng),
                t0,
            )
        })
        .collect();
    let mut from_caller = template(caller, 1);
    let mut from_agent = template(agent, 2);
    let mut seq = 0u16;
    let mut group = c.benchmark_group("media_bridge");
    group.throughput(Throughput::Elements(2 * CALLS as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            let now: Instant = t0 + Duration::from_millis(20 * u64::from(seq) + 1);
            stamp(&mut from_caller, seq);
            stamp(&mut from_agent, seq);
            seq = seq.wrapping_add(1);
            let mut bytes = 0usize;
            let mut blocks = 0usize;
            for br in &mut bridges {
                br.handle_packet(Side::Caller, &from_caller, now);
                while let Some((_, p)) = br.poll_transmit() {
                    bytes += black_box(p).len();
                }
                br.handle_packet(Side::Agent, &from_agent, now);
                while let Some((_, p)) = br.poll_transmit() {
                    bytes += black_box(p).len();
                }
                br.handle_timeout(now);
                while let Some(block) = br.poll_block() {
                    blocks += black_box(&block).len() / 320;
                }
            }
            assert_eq!(bytes, 2 * CALLS * 172);
            black_box(blocks);
        })
    });
    group.finish();
    let st = bridges[0].recorder_stats();
    eprintln!(
        "{name}: recorder of call 0 after the bench: written {} filled {} dropped {}",
        st.written, st.filled, st.dropped
    );
}

fn bridge_relay_and_record(c: &mut Criterion) {
    run(
        c,
        "relay_record_2000_packets_same_codec",
        Codec::Pcma,
        Codec::Pcma,
    );
    run(
        c,
        "relay_record_2000_packets_transcoding",
        Codec::Pcma,
        Codec::Pcmu,
    );
}

criterion_group!(benches, bridge_relay_and_record);
criterion_main!(benches);
