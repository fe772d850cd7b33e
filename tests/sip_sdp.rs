//! SDP parsing, building and the audio offer/answer.

use hotline::sip::sdp::{
    answer, negotiated, offer, Codec, Direction, Local, SdpError, SessionDescription,
};
use std::net::{IpAddr, SocketAddr};

fn local() -> Local {
    Local {
        ip: IpAddr::from([192, 0, 2, 10]),
        port: 40000,
        session_id: 42,
        session_version: 1,
    }
}

const LINPHONE_OFFER: &str = "v=0\r\n\
o=caller 123 456 IN IP4 198.51.100.7\r\n\
s=Talk\r\n\
c=IN IP4 198.51.100.7\r\n\
t=0 0\r\n\
a=rtcp-xr:rcvr-rtt=all:10000\r\n\
m=audio 7078 RTP/AVP 96 8 0 97 101\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 useinbandfec=1\r\n\
a=rtpmap:97 speex/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=sendonly\r\n\
m=video 9078 RTP/AVP 96\r\n\
a=rtpmap:96 VP8/90000\r\n";

#[test]
fn parse_encode_round_trip_keeps_unknown_lines() {
    let sd = SessionDescription::parse(LINPHONE_OFFER.as_bytes()).expect("valid SDP");
    assert_eq!(sd.media.len(), 2);
    assert_eq!(sd.media[0].formats, ["96", "8", "0", "97", "101"]);
    assert_eq!(sd.media[0].direction, Some(Direction::SendOnly));
    assert_eq!(sd.attributes[0].name, "rtcp-xr");
    let again = SessionDescription::parse(&sd.to_bytes()).expect("own output parses");
    assert_eq!(again, sd);
}

#[test]
fn answer_keeps_caller_preference_echoes_te_and_mirrors_hold() {
    let sd = SessionDescription::parse(LINPHONE_OFFER.as_bytes()).expect("valid SDP");
    let (ans, neg) = answer(&sd, &local()).expect("PCMA is common");
    assert_eq!(neg.codec, Codec::Pcma, "caller lists 8 before 0");
    assert_eq!(neg.codec_pt, 8);
    assert_eq!(neg.telephone_event_pt, Some(101));
    assert_eq!(neg.remote_rtp, SocketAddr::from(([198, 51, 100, 7], 7078)));
    assert_eq!(neg.direction, Direction::RecvOnly);
    assert_eq!(ans.media.len(), 2, "one answer line per offered stream");
    assert_eq!(ans.media[0].port, 40000);
    assert_eq!(ans.media[0].formats, ["8", "101"]);
    assert_eq!(ans.media[0].fmtps, vec![(101, "0-15".to_owned())]);
    assert_eq!(ans.media[0].ptime, Some(20));
    assert_eq!(ans.media[0].direction, Some(Direction::RecvOnly));
    assert_eq!(ans.media[1].port, 0, "video rejected");
    let text = String::from_utf8(ans.to_bytes()).expect("utf-8");
    assert!(text.contains("a=rtpmap:8 PCMA/8000\r\n"));
    assert!(text.contains("c=IN IP4 192.0.2.10\r\n"));
}

#[test]
fn dynamic_payload_type_for_pcmu_is_honoured() {
    let text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 5004 RTP/AVP 112\r\na=rtpmap:112 pcmu/8000\r\n";
    let sd = SessionDescription::parse(text.as_bytes()).expect("valid");
    let (_, neg) = answer(&sd, &local()).expect("pcmu");
    assert_eq!((neg.codec, neg.codec_pt), (Codec::Pcmu, 112));
    assert_eq!(neg.telephone_event_pt, None);
    assert_eq!(neg.direction, Direction::SendRecv);
}

#[test]
fn payload_types_beyond_seven_bits_are_never_chosen() {
    // A check of the `sdp` fuzz target: RTP carries 7 bits of payload type, so pt 201 would go
    // out as 73 and the phone's events would never match it.
    let text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 5004 RTP/AVP 200 8 201 101\r\na=rtpmap:200 PCMU/8000\r\n\
a=rtpmap:201 telephone-event/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
    let sd = SessionDescription::parse(text.as_bytes()).expect("valid");
    let (ans, neg) = answer(&sd, &local()).expect("PCMA is common");
    assert_eq!((neg.codec, neg.codec_pt), (Codec::Pcma, 8));
    assert_eq!(neg.telephone_event_pt, Some(101));
    assert_eq!(ans.media[0].formats, ["8", "101"]);
    // The same offer read as an answer to ours.
    let neg = negotiated(&sd).expect("usable");
    assert_eq!((neg.codec_pt, neg.telephone_event_pt), (8, Some(101)));
    // Only an out-of-range codec: nothing in common.
    let text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 5004 RTP/AVP 200\r\na=rtpmap:200 PCMU/8000\r\n";
    let sd = SessionDescription::parse(text.as_bytes()).expect("valid");
    assert_eq!(answer(&sd, &local()).err(), Some(SdpError::NoCommonCodec));
}

#[test]
fn no_common_codec_is_a_typed_error() {
    let text = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 5004 RTP/AVP 18 96\r\na=rtpmap:96 opus/48000/2\r\n";
    let sd = SessionDescription::parse(text.as_bytes()).expect("valid");
    assert_eq!(answer(&sd, &local()).err(), Some(SdpError::NoCommonCodec));
}

#[test]
fn our_offer_and_the_peers_answer() {
    let o = offer(&local());
    let text = String::from_utf8(o.to_bytes()).expect("utf-8");
    assert!(text.starts_with("v=0\r\no=- 42 1 IN IP4 192.0.2.10\r\n"));
    assert!(text.contains("m=audio 40000 RTP/AVP 0 8 101\r\n"));
    assert!(text.contains("a=fmtp:101 0-16\r\n"));
    assert!(text.contains("a=ptime:20\r\n"));
    // The peer answers our offer with its own (here: the same shape from its address).
    let peer = Local {
        ip: IpAddr::from([203, 0, 113, 5]),
        port: 30000,
        session_id: 9,
        session_version: 9,
    };
    let (their_answer, _) = answer(&o, &peer).expect("peer speaks PCMU");
    let neg = negotiated(&their_answer).expect("usable");
    assert_eq!(neg.codec, Codec::Pcmu);
    assert_eq!(neg.telephone_event_pt, Some(101));
    assert_eq!(neg.remote_rtp, SocketAddr::from(([203, 0, 113, 5], 30000)));
}

#[test]
fn malformed_sdp_is_an_error_never_a_panic() {
    for bad in [
        &b""[..],
        b"v=1\r\n",
        b"v=0\r\ns=x\r\n",
        b"v=0\r\no=- x 1 IN IP4 1.2.3.4\r\ns=-\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 99999 RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\na=fmtp:x y\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 host.example\r\n",
        b"\xff\xfe",
        b"garbage",
    ] {
        assert!(SessionDescription::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn torture_sdp_bodies_parse() {
    // RFC 4475 sdp01/invut bodies are plain SDP with an unknown codec line.
    let text = "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\n\
c=IN IP4 192.0.2.4\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\n\
a=rtpmap:31 LPC\r\n";
    // `a=rtpmap:31 LPC` has no clock rate: kept as an opaque attribute, call still works.
    let sd = SessionDescription::parse(text.as_bytes()).expect("tolerated");
    assert_eq!(sd.media[1].attributes[0].value.as_deref(), Some("31 LPC"));
    assert_eq!(SessionDescription::parse(&sd.to_bytes()).as_ref(), Ok(&sd));
    let (_, neg) = answer(&sd, &local()).expect("PCMU offered");
    assert_eq!((neg.codec, neg.remote_rtp.port()), (Codec::Pcmu, 49217));
}
