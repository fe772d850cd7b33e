//! str0m: sans-IO. Each endpoint is one task that owns a socket and feeds the `Rtc` with
//! datagrams and time; the same shape as the engine's media shell.

use crate::common::*;
use crate::Phase;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid, Pt};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::watch;

fn new_rtc(lite: bool, rtp_mode: bool, now: Instant) -> Rtc {
    Rtc::builder()
        .set_ice_lite(lite)
        .set_rtp_mode(rtp_mode)
        .clear_codecs()
        .enable_pcmu(true, false)
        .build(now)
}

/// `rtp_mode`: packets in and out (what hotline's leg uses) instead of str0m's frame API.
pub async fn start(
    pairs: usize,
    rtp_mode: bool,
    stats: Arc<Stats>,
    phase: watch::Receiver<Phase>,
) {
    for _ in 0..pairs {
        let sock_b = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let sock_e = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let t0 = Instant::now();
        let mut browser = new_rtc(false, rtp_mode, t0);
        let mut engine = new_rtc(true, rtp_mode, t0);
        let addr_b = sock_b.local_addr().expect("addr");
        let addr_e = sock_e.local_addr().expect("addr");
        browser.add_local_candidate(Candidate::host(addr_b, "udp").expect("cand"));
        engine.add_local_candidate(Candidate::host(addr_e, "udp").expect("cand"));

        let mut change = browser.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().expect("offer");
        // Through text, as signaling would carry it.
        let offer = SdpOffer::from_sdp_string(&offer.to_sdp_string()).expect("parse offer");
        let answer = engine.sdp_api().accept_offer(offer).expect("answer");
        let answer = SdpAnswer::from_sdp_string(&answer.to_sdp_string()).expect("parse answer");
        browser
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("accept");

        let ends = [(browser, sock_b, addr_b, Some(mid)), (engine, sock_e, addr_e, None)];
        for (rtc, sock, addr, mid) in ends {
            let ep = Endpoint { rtp_mode, t0, stats: stats.clone() };
            tokio::spawn(endpoint(rtc, sock, addr, mid, ep, phase.clone()));
        }
    }
}

struct Endpoint {
    rtp_mode: bool,
    t0: Instant,
    stats: Arc<Stats>,
}

async fn endpoint(
    mut rtc: Rtc,
    sock: UdpSocket,
    local: SocketAddr,
    mut mid: Option<Mid>,
    ep: Endpoint,
    mut phase: watch::Receiver<Phase>,
) {
    let Endpoint { rtp_mode, t0, stats } = ep;
    let mut buf = vec![0u8; 2000];
    let mut connected = false;
    let mut next_frame: Option<Instant> = None;
    let mut frame_no: u64 = 0;
    loop {
        let timeout = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    let _ = sock.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(e)) => match e {
                    Event::Connected if !connected => {
                        connected = true;
                        stats.connected_after(t0.elapsed());
                    }
                    Event::MediaAdded(m) => mid = Some(m.mid),
                    Event::MediaData(_) | Event::RtpPacket(_) => stats.add_received(),
                    _ => {}
                },
                Err(e) => {
                    eprintln!("str0m: {e}");
                    return;
                }
            }
        };
        let cur = *phase.borrow();
        let mut wake = timeout;
        match cur {
            Phase::Stop => return,
            Phase::Media { until } => {
                let nf = *next_frame.get_or_insert_with(Instant::now);
                if nf < until {
                    wake = wake.min(nf);
                }
            }
            Phase::Handshake => {}
        }
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                if let Ok((n, source)) = r {
                    if let Ok(contents) = buf[..n].try_into() {
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp, source, destination: local, contents,
                        });
                        if let Err(e) = rtc.handle_input(input) {
                            eprintln!("str0m input: {e}");
                        }
                    }
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = phase.changed() => {}
        }
        let now = Instant::now();
        if let (Phase::Media { until }, Some(nf), Some(mid)) = (cur, next_frame.as_mut(), mid) {
            while *nf <= now && *nf < until {
                if rtp_mode {
                    let mut api = rtc.direct_api();
                    if let Some(tx) = api.stream_tx_by_mid(mid, None) {
                        let seq = SeqNo::from(frame_no);
                        let time = (frame_no * 160) as u32;
                        tx.write_rtp(RtpWrite::new(Pt::from(0), seq, time, *nf, FRAME.to_vec()));
                        stats.add_sent();
                    }
                } else if let Some(w) = rtc.writer(mid) {
                    let pt = w
                        .payload_params()
                        .find(|p| p.spec().codec == Codec::PCMU)
                        .map(|p| p.pt());
                    if let Some(pt) = pt {
                        let mt = MediaTime::new(frame_no * 160, str0m::media::Frequency::EIGHT_KHZ);
                        if w.write(pt, *nf, mt, FRAME.to_vec()).is_ok() {
                            stats.add_sent();
                        }
                    }
                }
                frame_no += 1;
                *nf += PTIME;
            }
        }
        if let Err(e) = rtc.handle_input(Input::Timeout(now)) {
            eprintln!("str0m timeout: {e}");
            return;
        }
    }
}
