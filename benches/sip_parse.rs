//! SIP parse and encode cost per message: the engine parses every packet it receives.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hotline::sip::message::Message;
use hotline::sip::parse::{parse_datagram, StreamFramer};
use hotline::sip::sdp::{answer, Local, SessionDescription};

const INVITE: &[u8] = b"INVITE sip:12345@hotline.example.gov.cn SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776asdhds;rport\r\n\
Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK9a8b7c6d;received=10.1.1.1\r\n\
Max-Forwards: 69\r\n\
Record-Route: <sip:sbc.carrier.example.net;lr>\r\n\
To: <sip:12345@hotline.example.gov.cn>\r\n\
From: \"138****0000\" <sip:13800138000@carrier.example.net>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@198.51.100.7\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:13800138000@198.51.100.7:5060>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK\r\n\
Supported: timer, 100rel, replaces\r\n\
User-Agent: CarrierSBC/4.2\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 238\r\n\
\r\n\
v=0\r\n\
o=- 3842195123 3842195123 IN IP4 198.51.100.7\r\n\
s=-\r\n\
c=IN IP4 198.51.100.7\r\n\
t=0 0\r\n\
m=audio 30000 RTP/AVP 8 0 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

const OK200: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;received=192.0.2.10\r\n\
To: <sip:agent7@10.0.0.5>;tag=a6c85cf\r\n\
From: <sip:ivr@hotline.example.gov.cn>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@hotline\r\n\
CSeq: 2 BYE\r\n\
Content-Length: 0\r\n\
\r\n";

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sip");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_invite_with_sdp", |b| {
        b.iter(|| parse_datagram(black_box(INVITE)))
    });
    g.bench_function("parse_200_ok", |b| {
        b.iter(|| parse_datagram(black_box(OK200)))
    });
    let msg: Message = match parse_datagram(INVITE) {
        Ok(m) => m,
        Err(e) => panic!("bench INVITE must parse: {e}"),
    };
    let mut out = Vec::with_capacity(2048);
    g.bench_function("encode_invite", |b| {
        b.iter(|| {
            out.clear();
            black_box(&msg).encode(&mut out);
            out.len()
        })
    });
    g.bench_function("frame_invite_tcp", |b| {
        let mut f = StreamFramer::new(65536);
        b.iter(|| {
            f.push(black_box(INVITE));
            match f.pull() {
                hotline::sip::parse::Framed::Message(m) => m,
                other => panic!("bench INVITE must frame: {other:?}"),
            }
        })
    });
    let body = match &msg {
        Message::Request(r) => r.body.clone(),
        Message::Response(_) => unreachable!(),
    };
    let local = Local {
        ip: [192, 0, 2, 10].into(),
        port: 40000,
        session_id: 1,
        session_version: 1,
    };
    g.bench_function("sdp_parse_and_answer", |b| {
        b.iter(|| {
            let sd = SessionDescription::parse(black_box(&body)).ok()?;
            answer(&sd, &local).ok().map(|(a, _)| a.to_bytes())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
