//! The media tasks' families: packets, pacing, relaying, recording, browser legs.

use super::text::{Kind, Writer};
use super::MediaValues;
use super::{counter, histogram};

/// Renders the media families (`docs/METRICS.md`, "Media").
pub fn render(w: &mut Writer, m: &MediaValues) {
    counter(
        w,
        "hotline_rtp_packets_sent_total",
        "RTP packets sent (prompts and relayed audio).",
        m.sent,
    );
    counter(
        w,
        "hotline_rtp_packets_received_total",
        "RTP packets received.",
        m.received,
    );
    counter(
        w,
        "hotline_rtp_packets_late_total",
        "RTP packets sent more than 10 ms after their due time.",
        m.late,
    );
    counter(
        w,
        "hotline_rtp_frames_skipped_total",
        "RTP frames dropped because a media task fell far behind.",
        m.skipped,
    );
    w.family(
        "hotline_rtp_packets_relayed_total",
        Kind::Counter,
        "RTP packets relayed between a caller and an agent, by direction.",
    );
    w.count(&[("direction", "to_agent")], m.to_agents);
    w.count(&[("direction", "to_caller")], m.to_callers);
    w.family(
        "hotline_rtp_events_relayed_total",
        Kind::Counter,
        "RFC 4733 telephone-event packets (keys) passed through a bridge, by direction.",
    );
    w.count(&[("direction", "to_agent")], m.events_relayed[0]);
    w.count(&[("direction", "to_caller")], m.events_relayed[1]);
    w.family(
        "hotline_rtp_packets_not_relayed_total",
        Kind::Counter,
        "RTP packets of bridged calls not relayed, by reason.",
    );
    for (reason, n) in ["stale", "event_not_negotiated", "not_audio"]
        .into_iter()
        .zip(m.not_relayed)
    {
        w.count(&[("reason", reason)], n);
    }
    counter(
        w,
        "hotline_rtp_packets_lost_total",
        "RTP packets missing from the sequence numbers the legs received.",
        m.lost,
    );
    w.family(
        "hotline_rtp_refused_total",
        Kind::Counter,
        "RTP packets dropped before anything read them (never relayed, recorded or taken as keys), by reason.",
    );
    w.count(&[("reason", "foreign_source")], m.refused_foreign_source);
    counter(
        w,
        "hotline_rtp_inactive_legs_total",
        "Caller legs with no RTP for rtp.media_timeout (the call is ended unless on hold).",
        m.inactive_legs,
    );
    for (name, help, n) in [
        ("hotline_webrtc_legs_total", "Browser legs (WebRTC), agents' and extra parties', opened on the media tasks.", m.webrtc[0]),
        ("hotline_webrtc_legs_failed_total", "Browser agent legs failed: a DTLS certificate not matching the SDP fingerprint, ICE consent lost, media that never connected, or a browser that closed its session and sent no BYE.", m.webrtc[1]),
        ("hotline_webrtc_datagrams_refused_total", "Datagrams on browser legs refused: not STUN, DTLS or SRTP of the session (unauthenticated, undecryptable, malformed).", m.webrtc[2]),
        ("hotline_webrtc_datagrams_sent_total", "Datagrams (STUN, DTLS, SRTP) sent on browser agent legs.", m.webrtc[3]),
    ] {
        counter(w, name, help, n);
    }
    counter(
        w,
        "hotline_rtp_send_errors_total",
        "Relayed RTP packets the socket refused (lost towards a phone).",
        m.send_errors,
    );
    counter(
        w,
        "hotline_recording_frames_total",
        "20 ms stereo frames written to call recordings.",
        m.recording_frames,
    );
    counter(
        w,
        "hotline_recording_frames_filled_total",
        "Channel frames of recordings filled with silence between two frames of that side's audio.",
        m.recording_filled,
    );
    counter(
        w,
        "hotline_recording_frames_dropped_total",
        "Channel frames received but never written to a recording (the side ran ahead).",
        m.recording_dropped,
    );
    counter(
        w,
        "hotline_mixer_underruns_total",
        "20 ms ticks a conference party was streaming but had no frame (its packets came late or were lost).",
        m.mixer[0],
    );
    counter(
        w,
        "hotline_mixer_frames_dropped_total",
        "Frames a conference party sent beyond its 200 ms queue (faster than real time), oldest dropped.",
        m.mixer[1],
    );
    counter(
        w,
        "hotline_mixer_clipped_samples_total",
        "Mixed conference samples saturated at the 16-bit range (parties too loud together).",
        m.mixer[2],
    );
    histogram(
        w,
        "hotline_media_tick_lateness_seconds",
        "How late each media task's 20 ms tick ran after its instant.",
        &m.tick_late,
    );
    w.family(
        "hotline_media_queued_at_tick_max",
        Kind::Gauge,
        "The most commands (mostly packets) waiting in a media task's channel at a tick, since start.",
    );
    w.count(&[], m.queued_at_tick_max);
    histogram(
        w,
        "hotline_media_packet_delay_seconds",
        "Packets of bridged and conference calls: from the kernel's receipt to the media task.",
        &m.packet_delay,
    );
    histogram(
        w,
        "hotline_mixer_underrun_packet_delay_seconds",
        "The same, for the packets after which a conference party's underrun was counted (small: late on the wire; large: late in the engine).",
        &m.underrun_delay,
    );
    histogram(
        w,
        "hotline_mixer_underrun_arrival_gap_seconds",
        "For those packets, the kernel time since the party's previous packet (beyond 40-60 ms: the stream paused on the wire).",
        &m.underrun_gap,
    );
}
