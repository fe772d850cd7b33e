//! One pacer tick with 2,000 streams due: pull a frame from each stream's `Player` and build
//! its RTP packet into the pacer's reused buffer, then drain the packets. The engine target is
//! 2,000 concurrent calls on 2 cores, i.e. 100,000 packets/s; criterion's throughput line
//! gives packets per second, and time / 2,000 is the cost per packet.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline::media::codec::Codec;
use hotline::media::pacer::{Pacer, PacerConfig, StreamId, FRAME};
use hotline::media::player::Player;
use hotline::media::prompt::Prompt;
use hotline::media::rtp::{RtpPacket, RtpSender};

const STREAMS: u64 = 2_000;

fn pacer_tick(c: &mut Criterion) {
    // A 5 s prompt shared by every call, as the real prompts are.
    let pcm: Vec<i16> = (0..40_000)
        .map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16)
        .collect();
    let prompt = Arc::new(Prompt::from_pcm("bench.wav", pcm));
    let t0 = hotline::shell::clock::now();
    let mut rng = rand::thread_rng();
    let mut pacer = Pacer::new(PacerConfig::default());
    for i in 0..STREAMS {
        let codec = if i % 2 == 0 { Codec::Pcma } else { Codec::Pcmu };
        let mut player = Player::new(codec);
        player.play_loop(prompt.clone());
        let sender = RtpSender::new(codec, Some(101), &mut rng);
        if pacer.add(StreamId(i), sender, player, t0).is_err() {
            unreachable!("ids are unique");
        }
    }
    let mut tick = 0u32;
    let mut group = c.benchmark_group("rtp_pacer");
    group.throughput(Throughput::Elements(STREAMS));
    group.bench_function("tick_2000_streams_due", |b| {
        b.iter(|| {
            let now = t0 + FRAME * tick;
            tick += 1;
            pacer.handle_timeout(now);
            let mut bytes = 0usize;
            while let Some(t) = pacer.poll_transmit() {
                bytes += black_box(t.packet).len();
            }
            assert_eq!(bytes, STREAMS as usize * 172);
        })
    });
    group.finish();
    let s = pacer.stats();
    eprintln!(
        "pacer stats after bench: sent {} late {} skipped {}",
        s.sent, s.late, s.skipped
    );
}

fn rtp_parse(c: &mut Criterion) {
    let mut sender = RtpSender::with_initial(Codec::Pcmu, None, 1, 2, 3);
    let mut buf = Vec::new();
    sender.frame(Some(&[0xFF; 160]), &mut buf);
    let mut group = c.benchmark_group("rtp_packet");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_172_bytes", |b| {
        b.iter(|| RtpPacket::parse(black_box(&buf)).map(|p| p.payload.len()))
    });
    group.finish();
}

criterion_group!(benches, pacer_tick, rtp_parse);
criterion_main!(benches);
