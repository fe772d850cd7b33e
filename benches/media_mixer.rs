//! The conference mixer's cost per 20 ms frame: 100 conferences of 3 and of 5 parties
//! (PCMU and PCMA alternating, so every mix is transcoded for half the listeners), each
//! iteration one packet in from every party, one tick (pop, mix, clip, encode, stamp, the
//! recording's slot) and the drain of every packet and block, as the shell does.
//! Time / (100 × parties) is the cost of one party-frame.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline::media::bridge::LegMedia;
use hotline::media::codec::Codec;
use hotline::media::mixer::{Mixer, PartyId};
use hotline::media::rtp::{RtpHeader, RtpSender};

const CONFERENCES: usize = 100;

fn template(codec: Codec, ssrc: u32, freq: f32) -> Vec<u8> {
    let pcm: Vec<i16> = (0..160)
        .map(|i| ((i as f32 * freq / 8000.0 * std::f32::consts::TAU).sin() * 6000.0) as i16)
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

fn run(c: &mut Criterion, parties: u8) {
    let t0 = hotline::shell::clock::now();
    let mut rng = rand::thread_rng();
    let codec = |id: u8| {
        if id % 2 == 0 {
            Codec::Pcma
        } else {
            Codec::Pcmu
        }
    };
    let ids: Vec<PartyId> = (0..parties).map(PartyId).collect();
    let mut mixers: Vec<Mixer> = (0..CONFERENCES)
        .map(|_| {
            let mut m = Mixer::new(t0);
            for &id in &ids {
                let media = LegMedia {
                    codec: codec(id.0),
                    telephone_event: Some(101),
                };
                let sender = RtpSender::new(codec(id.0), Some(101), &mut rng);
                m.add_party(id, media, Some(sender), t0).unwrap();
            }
            let matrix: Vec<(PartyId, Vec<PartyId>)> = ids
                .iter()
                .map(|&l| (l, ids.iter().copied().filter(|&s| s != l).collect()))
                .collect();
            m.set_matrix(&matrix);
            m
        })
        .collect();
    let mut packets: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| {
            template(
                codec(id.0),
                u32::from(id.0),
                300.0 + 150.0 * f32::from(id.0),
            )
        })
        .collect();
    let mut seq = 0u16;
    let mut group = c.benchmark_group("media_mixer");
    group.throughput(Throughput::Elements(
        CONFERENCES as u64 * u64::from(parties),
    ));
    group.bench_function(format!("{parties}_parties_pcmu_pcma"), |b| {
        b.iter(|| {
            let now: Instant = t0 + Duration::from_millis(20 * u64::from(seq) + 1);
            for p in &mut packets {
                stamp(p, seq);
            }
            seq = seq.wrapping_add(1);
            let mut bytes = 0usize;
            for m in &mut mixers {
                for (id, p) in ids.iter().zip(&packets) {
                    m.handle_packet(*id, p, now);
                }
                m.handle_timeout(now);
                while let Some((_, p)) = m.poll_transmit() {
                    bytes += black_box(p).len();
                }
                while let Some(b) = m.poll_block() {
                    black_box(b);
                }
            }
            black_box(bytes)
        })
    });
    group.finish();
}

fn mixer(c: &mut Criterion) {
    run(c, 3);
    run(c, 5);
}

criterion_group!(benches, mixer);
criterion_main!(benches);
