//! webrtc-rs (0.21): an async layer over its own sans-IO core. Each peer connection spawns its
//! driver task and owns its sockets; we hand it tracks and callbacks.

use crate::common::*;
use crate::Phase;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_PCMU;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, SettingEngineBuilder,
};
use webrtc::runtime::{default_runtime, Runtime};

struct Handler {
    t0: Instant,
    stats: Arc<Stats>,
    gathered: mpsc::Sender<()>,
    runtime: Arc<dyn Runtime>,
    connected: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.try_send(());
        }
    }
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if state == RTCPeerConnectionState::Connected
            && !self.connected.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            self.stats.connected_after(self.t0.elapsed());
        }
    }
    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let stats = self.stats.clone();
        self.runtime.spawn(Box::pin(async move {
            while let Some(ev) = track.poll().await {
                match ev {
                    TrackRemoteEvent::OnRtpPacket(_) => stats.add_received(),
                    TrackRemoteEvent::OnEnded => break,
                    _ => {}
                }
            }
        }));
    }
}

fn pcmu_track(id: &str, ssrc: u32) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("s-{id}"),
        id.to_owned(),
        format!("t-{id}"),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: RTCRtpCodec {
                mime_type: MIME_TYPE_PCMU.to_owned(),
                clock_rate: 8000,
                channels: 0,
                sdp_fmtp_line: String::new(),
                rtcp_feedback: vec![],
            },
            ..Default::default()
        }],
    )))
}

pub async fn start(pairs: usize, stats: Arc<Stats>, phase: watch::Receiver<Phase>) {
    let runtime = default_runtime().expect("tokio runtime feature");
    // Pairs set up concurrently, as str0m's are (their handshakes overlap the same way).
    for i in 0..pairs {
        tokio::spawn(pair(i, runtime.clone(), stats.clone(), phase.clone()));
    }
}

async fn pair(
    i: usize,
    runtime: Arc<dyn Runtime>,
    stats: Arc<Stats>,
    phase: watch::Receiver<Phase>,
) {
    {
        let t0 = Instant::now();
        let mut media = MediaEngine::default();
        media.register_default_codecs().expect("codecs");
        let (gb_tx, mut gb_rx) = mpsc::channel(1);
        let (ge_tx, mut ge_rx) = mpsc::channel(1);
        let mk = |tx| {
            Arc::new(Handler {
                t0,
                stats: stats.clone(),
                gathered: tx,
                runtime: runtime.clone(),
                connected: Default::default(),
            })
        };
        let browser = Arc::new(
            PeerConnectionBuilder::new()
                .with_media_engine(media.clone())
                .with_handler(mk(gb_tx))
                .with_runtime(runtime.clone())
                .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
                .build()
                .await
                .expect("browser pc"),
        );
        let engine = Arc::new(
            PeerConnectionBuilder::new()
                .with_media_engine(media)
                .with_setting_engine(SettingEngineBuilder::new().with_lite(true).build())
                .with_handler(mk(ge_tx))
                .with_runtime(runtime.clone())
                .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
                .build()
                .await
                .expect("engine pc"),
        );
        let tb = pcmu_track(&format!("b{i}"), 1000 + i as u32 * 2);
        let te = pcmu_track(&format!("e{i}"), 1001 + i as u32 * 2);
        browser
            .add_track(tb.clone() as Arc<dyn TrackLocal>)
            .await
            .expect("add track");
        engine
            .add_track(te.clone() as Arc<dyn TrackLocal>)
            .await
            .expect("add track");

        let offer = browser.create_offer(None).await.expect("offer");
        browser.set_local_description(offer).await.expect("set local");
        let _ = tokio::time::timeout(Duration::from_secs(5), gb_rx.recv()).await;
        let offer = browser.local_description().await.expect("offer sdp");
        engine.set_remote_description(offer).await.expect("set remote");
        let answer = engine.create_answer(None).await.expect("answer");
        engine.set_local_description(answer).await.expect("set local");
        let _ = tokio::time::timeout(Duration::from_secs(5), ge_rx.recv()).await;
        let answer = engine.local_description().await.expect("answer sdp");
        browser.set_remote_description(answer).await.expect("set remote");

        for (pc, track, ssrc) in [
            (browser.clone(), tb, 1000 + i as u32 * 2),
            (engine.clone(), te, 1001 + i as u32 * 2),
        ] {
            let stats = stats.clone();
            let mut phase = phase.clone();
            tokio::spawn(async move {
                let until = loop {
                    if let Phase::Media { until } = *phase.borrow() {
                        break until;
                    }
                    if phase.changed().await.is_err() {
                        return;
                    }
                };
                let mut tick = tokio::time::interval(PTIME);
                let mut seq: u16 = 0;
                while Instant::now() < until {
                    tick.tick().await;
                    let pkt = rtc::rtp::packet::Packet {
                        header: rtc::rtp::header::Header {
                            version: 2,
                            payload_type: 0,
                            sequence_number: seq,
                            timestamp: seq as u32 * 160,
                            ssrc,
                            ..Default::default()
                        },
                        payload: bytes::Bytes::from_static(&FRAME),
                    };
                    if track.write_rtp(pkt).await.is_ok() {
                        stats.add_sent();
                    }
                    seq = seq.wrapping_add(1);
                }
                while *phase.borrow() != Phase::Stop {
                    if phase.changed().await.is_err() {
                        break;
                    }
                }
                let _ = pc.close().await;
            });
        }
    }
}
