//! Fuzz the SDP parser and the call's offer/answer (`call::media_session`), as a caller's
//! INVITE body reaches them. Invariants: nothing panics; whatever parses re-encodes to
//! something that parses to the same description; whatever offer we accept we answer with an
//! SDP that parses, has one `m=` line per offered stream with exactly ours open, payload types
//! that fit the 7-bit RTP field, and a hold flag that agrees with both directions; what we
//! would read back from an answer agrees with our own reading of the same body.
#![no_main]

use std::net::{IpAddr, SocketAddr};

use hotline::call::media_session;
use hotline::sip::sdp::{self, Direction, SessionDescription};
use libfuzzer_sys::fuzz_target;

/// An INVITE body is bounded by the SIP parser's limits long before this.
const MAX_BODY: usize = 16 * 1024;
const PORT: u16 = 40_000;
const SESSION: u32 = 0x1234_5678;

fn check_answer(offer: &SessionDescription, body: &[u8], ip: IpAddr) {
    let Ok((ours, agreed)) = media_session::answer(body, ip, PORT, SESSION) else {
        return;
    };
    let ans = SessionDescription::parse(&ours).expect("our answer parses");
    assert_eq!(
        ans.media.len(),
        offer.media.len(),
        "one m= line per offered stream"
    );
    assert_eq!(ans.connection, Some(ip));
    assert_eq!(ans.origin.session_id, u64::from(SESSION));
    let open: Vec<usize> = (0..ans.media.len())
        .filter(|&i| ans.media[i].port != 0)
        .collect();
    assert_eq!(open.len(), 1, "exactly our audio stream is accepted");
    let (i, m) = (open[0], &ans.media[open[0]]);
    let offered = &offer.media[i];
    assert_eq!(m.port, PORT);
    assert_eq!(m.kind, "audio");
    assert_eq!(offered.kind, "audio");

    // The codec: the first format of our line, named as the codec we will send.
    let codec_pt: u8 = m.formats[0].parse().expect("numeric format");
    assert!(
        codec_pt <= 127,
        "payload type {codec_pt} does not fit RTP's 7 bits"
    );
    assert!(offered.formats.iter().any(|f| f.parse() == Ok(codec_pt)));
    let (name, rate) = m.encoding(codec_pt).expect("our codec has an rtpmap");
    assert!(name.eq_ignore_ascii_case(agreed.codec.name()) && rate == 8000);

    // telephone-event: only what they offered, echoed on our line.
    if let Some(te) = agreed.telephone_event {
        assert!(
            te <= 127,
            "telephone-event pt {te} does not fit RTP's 7 bits"
        );
        assert_ne!(te, codec_pt);
        assert!(m.formats.iter().any(|f| f.parse() == Ok(te)));
        let (n, r) = offered.encoding(te).expect("offered te has an rtpmap");
        assert!(n.eq_ignore_ascii_case("telephone-event") && r == 8000);
    } else {
        assert_eq!(m.formats.len(), 1);
    }

    // Where to send: their stream's address.
    let their_ip = offered.connection.or(offer.connection).expect("answered");
    assert_eq!(agreed.remote, SocketAddr::new(their_ip, offered.port));

    // Hold: our direction mirrors theirs, and the flag says they will not listen.
    let theirs = offered
        .direction
        .or(offer.direction)
        .unwrap_or(Direction::SendRecv);
    let our_dir = m.direction.expect("we always state a direction");
    assert_eq!(our_dir, theirs.reversed());
    assert_eq!(
        agreed.on_hold,
        matches!(theirs, Direction::SendOnly | Direction::Inactive)
    );
    assert_eq!(
        agreed.on_hold,
        matches!(our_dir, Direction::RecvOnly | Direction::Inactive)
    );

    // The caller reading our answer agrees with us on codec, events and direction.
    let back = sdp::negotiated(&ans).expect("our answer is usable");
    assert_eq!(back.codec_pt, codec_pt);
    assert_eq!(back.telephone_event_pt, agreed.telephone_event);
    assert_eq!(back.remote_rtp, SocketAddr::new(ip, PORT));
    assert_eq!(back.direction, theirs);
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_BODY {
        return;
    }
    let Ok(sd) = SessionDescription::parse(data) else {
        assert!(media_session::answer(data, IpAddr::from([192, 0, 2, 10]), PORT, SESSION).is_err());
        assert!(media_session::read_answer(data).is_err());
        return;
    };
    let again = SessionDescription::parse(&sd.to_bytes());
    assert_eq!(again.as_ref(), Ok(&sd), "encode/parse round trip");

    check_answer(&sd, data, IpAddr::from([192, 0, 2, 10]));
    check_answer(&sd, data, "2001:db8::10".parse().expect("literal"));

    // The same body as the answer to our offer (an INVITE without SDP, answered in the ACK).
    match (media_session::read_answer(data), sdp::negotiated(&sd)) {
        (Ok(a), Ok(b)) => {
            assert_eq!(
                a.codec.name(),
                match b.codec {
                    sdp::Codec::Pcmu => "PCMU",
                    sdp::Codec::Pcma => "PCMA",
                }
            );
            assert_eq!(a.telephone_event, b.telephone_event_pt);
            assert_eq!(a.remote, b.remote_rtp);
            assert!(b.codec_pt <= 127, "payload type does not fit RTP's 7 bits");
            assert!(b.telephone_event_pt.is_none_or(|t| t <= 127));
            assert_eq!(
                a.on_hold,
                matches!(b.direction, Direction::RecvOnly | Direction::Inactive)
            );
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!("read_answer {a:?} disagrees with negotiated {b:?}"),
    }
});
