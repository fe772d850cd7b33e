//! Abuse of the signalling path with a fake clock: blocked sources still reach the service
//! number, nothing is streamed before the ACK (reflection), calls in set-up are limited per
//! source, and call names never repeat.

use std::collections::HashSet;

use super::*;

fn peer(addr: &str) -> Peer {
    Peer {
        addr: addr.parse().unwrap(),
        link: Link::Udp,
    }
}

/// An INVITE to 12345 from `from` with its own Call-ID and branch, naming `rtp` in its SDP.
fn invite_from(sim: &mut Sim, from: Peer, n: u32, rtp: &str) {
    let (ip, port) = rtp.split_once(':').unwrap();
    let sdp = SDP
        .replace("c=IN IP4 127.0.0.1", &format!("c=IN IP4 {ip}"))
        .replace("m=audio 6000", &format!("m=audio {port}"));
    let text = format!(
        "INVITE sip:12345@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch=z9hG4bK-flood{n};rport\r\nFrom: <sip:1380000{n:04}@127.0.0.1>;tag=f{n}\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: flood-{n}\r\nCSeq: 1 INVITE\r\nContact: <sip:x@{a}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        a = from.addr,
    );
    sim.send_from(from, &text);
}

/// The last response sent to `to`.
fn last_status_to(sim: &Sim, to: Peer) -> u16 {
    let msgs: Vec<&Message> = if to == sim.caller {
        sim.sent.iter().collect()
    } else {
        sim.to_others
            .iter()
            .filter(|(p, _)| *p == to)
            .map(|(_, m)| m)
            .collect()
    };
    msgs.iter()
        .rev()
        .find_map(|m| match m {
            Message::Response(r) => Some(r.status),
            _ => None,
        })
        .expect("a response")
}

/// A REGISTER for 1001 from the caller's address with a wrong password (a real nonce).
fn failed_register(sim: &mut Sim, i: u32) {
    let reg = |cseq: u32, auth: &str| {
        format!("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-bad{i}-{cseq};rport\r\nFrom: <sip:1001@127.0.0.1>;tag=r{i}\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: bad-{i}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:1001@127.0.0.1:5070>\r\n{auth}Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    };
    sim.send(&reg(1, ""));
    let challenge = sim.responses().last().copied().cloned().unwrap();
    assert_eq!(challenge.status, 401);
    let auth = md5_authorization(
        &challenge,
        ("1001", "guess"),
        "REGISTER",
        "sip:127.0.0.1",
        "c0ffee",
    );
    sim.send(&reg(2, &auth));
    assert_eq!(sim.statuses().last(), Some(&403));
}

#[test]
fn five_failed_registers_block_registration_but_not_calls_from_that_address() {
    let mut sim = Sim::new();
    for i in 0..5 {
        failed_register(&mut sim, i);
    }
    // Registration from the address is refused now …
    sim.send("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-again;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=ra\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: again\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@127.0.0.1:5070>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    let r = sim.responses().last().copied().cloned().unwrap();
    assert_eq!(r.status, 403);
    assert!(
        r.headers.www_authenticate.is_empty(),
        "blocked: no challenge"
    );
    assert!(sim.engine.snapshot().counters.refused_blocked >= 1);
    // … but a citizen's call from it is answered, ACKed and walks the menu, and its BYE works.
    sim.answered();
    assert_eq!(sim.statuses().iter().filter(|s| **s == 200).count(), 1);
    assert!(!sim.plays().is_empty());
    sim.in_dialog("BYE", 2, "bye1", "", "");
    assert_eq!(sim.statuses().last(), Some(&200));
    assert_eq!(sim.records.len(), 1);
}

#[test]
fn an_unacked_invite_reflects_nothing_and_is_released_at_timer_h() {
    let mut sim = Sim::new();
    let caller = sim.caller;
    invite_from(&mut sim, caller, 1, "192.0.2.77:4000");
    assert_eq!(last_status_to(&sim, sim.caller), 200);
    sim.advance(T1 * 64 + Duration::from_millis(1));
    assert!(
        !sim.media
            .iter()
            .any(|m| matches!(m, MediaCommand::Open { .. })),
        "nothing opened, so nothing streamed at the SDP's address: {:?}",
        sim.media
    );
    assert_eq!(sim.records.len(), 1);
    assert_eq!(sim.records[0].outcome, CallOutcome::Failed);
    assert!(sim.engine.is_idle(), "port and call released at Timer H");
}

#[test]
fn only_a_trunk_gets_media_at_its_sdp_address() {
    let mut sim = Sim::new();
    let trunk = peer("127.0.0.9:5060");
    invite_from(&mut sim, trunk, 1, "127.0.0.9:30000");
    let tag = sim
        .to_others
        .iter()
        .find_map(|(_, m)| match m {
            Message::Response(r) if r.status == 200 => r.headers.to.tag().map(str::to_string),
            _ => None,
        })
        .expect("200 to the trunk");
    sim.send_from(trunk, &format!("ACK sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK-tack\r\nFrom: <sip:13800000001@127.0.0.1>;tag=f1\r\nTo: <sip:12345@127.0.0.1>;tag={tag}\r\nCall-ID: flood-1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"));
    let want: SocketAddr = "127.0.0.9:30000".parse().unwrap();
    assert!(matches!(sim.media[0], MediaCommand::Open { remote: Some(r), .. } if r == want));
}

#[test]
fn calls_in_set_up_are_limited_per_source_but_not_for_others_or_trunks() {
    let mut sim = Sim::new();
    let flood = peer("127.0.0.3:5999");
    for n in 0..5 {
        invite_from(&mut sim, flood, n, "127.0.0.3:4000");
    }
    let answered = sim
        .to_others
        .iter()
        .filter(|(_, m)| matches!(m, Message::Response(r) if r.status == 200))
        .count();
    assert_eq!(answered, 3, "max_setup_per_source = 3 in the test config");
    let refused: Vec<&Response> = sim
        .to_others
        .iter()
        .filter_map(|(_, m)| match m {
            Message::Response(r) if r.status == 503 => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[0].headers.get("Retry-After"), Some("5"));
    assert_eq!(sim.engine.snapshot().counters.refused_setup_limit, 2);
    // Another source is answered meanwhile.
    sim.invite("12345", Some(SDP));
    assert_eq!(last_status_to(&sim, sim.caller), 200);
    // At Timer H the flood's calls are gone and the source may call again.
    sim.advance(T1 * 64 + Duration::from_millis(1));
    invite_from(&mut sim, flood, 99, "127.0.0.3:4000");
    assert_eq!(last_status_to(&sim, flood), 200);

    // A trunk is not held to the limit (five caller ports in the test config: six, one kept
    // for agents' legs).
    let mut sim = Sim::new();
    let trunk = peer("127.0.0.9:5060");
    for n in 10..15 {
        invite_from(&mut sim, trunk, n, "127.0.0.9:30000");
        assert_eq!(last_status_to(&sim, trunk), 200, "trunk call {n}");
    }
    assert_eq!(sim.engine.snapshot().counters.refused_setup_limit, 0);
}

#[test]
fn call_names_carry_the_whole_64_bit_id() {
    let mut sim = Sim::new();
    for n in 0..5u32 {
        invite_from(
            &mut sim,
            peer(&format!("127.0.1.{}:5070", n + 1)),
            n,
            "127.0.0.1:4000",
        );
    }
    let names: HashSet<String> = sim.engine.live_calls().into_iter().map(|c| c.id).collect();
    assert_eq!(names.len(), 5, "five calls in the same second, five names");
    for name in &names {
        let (second, id) = name.split_once('-').unwrap();
        assert_eq!(second, "20261122T100000");
        assert!(
            id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
    }
}

/// Issue 11 item 7: a call refused with 503 because the hotline had no room asked for the
/// hotline and got nobody: it has a record (`no_capacity`) and counts against the rates.
#[test]
fn a_call_refused_for_lack_of_capacity_is_recorded_and_counts_against_the_rates() {
    let mut sim = Sim::new();
    let trunk = peer("127.0.0.9:5060");
    // Five caller ports in the test config (six, one kept for agents' legs).
    for n in 0..5 {
        invite_from(&mut sim, trunk, n, "127.0.0.9:30000");
        assert_eq!(last_status_to(&sim, trunk), 200, "call {n}");
    }
    invite_from(&mut sim, trunk, 5, "127.0.0.9:30000");
    assert_eq!(last_status_to(&sim, trunk), 503);
    let r = sim.records.last().expect("a record of the refused call");
    assert_eq!(r.outcome, CallOutcome::NoCapacity);
    assert!(r.call.id.len() > 16, "{}", r.call.id);
    let refused: Vec<_> = sim
        .kpis
        .iter()
        .filter(|e| e.outcome == crate::stats::kpi::Outcome::Refused)
        .collect();
    assert_eq!(refused.len(), 1);
    // The same from the record, as after a restart.
    assert_eq!(
        crate::shell::records::kpi_outcome(r).map(|e| e.outcome),
        Some(crate::stats::kpi::Outcome::Refused)
    );
    let mut k = crate::stats::kpi::Kpis::new(Duration::ZERO, 1);
    k.record_event(refused[0]);
    let s = k.snapshot(r.ended_at);
    assert_eq!(s.last_24h.refused_no_capacity, 1);
    assert_eq!(s.last_24h.counted, 1);
    assert_eq!(s.last_24h.connection_rate, Some(0.0));
}
