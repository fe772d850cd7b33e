//! Two engines behind Kamailio (issue 19): a phone registered through the proxy is rung
//! back through it (RFC 3327 Path as the INVITE's Route set), also after its binding was
//! saved and restored on another engine.

use super::agents::{connect_agent, last_request_to};
use super::*;

/// Kamailio's address: the phone's REGISTER arrives from here, with a Path naming it.
const PROXY: &str = "127.0.0.1:5090";
const PATH: &str = "<sip:127.0.0.1:5090;lr;received=sip:127.0.0.1:5080>";

/// Agent 1001's phone at 127.0.0.1:5080 registers through the proxy (Path added by it)
/// and goes ready; answers the proxy's address, where requests to the phone are sent.
fn register_through_proxy(sim: &mut Sim) -> Peer {
    let proxy = Peer {
        addr: PROXY.parse().unwrap(),
        link: Link::Udp,
    };
    let reg = |cseq: u32, auth: &str| {
        format!("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-kreg{cseq}\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-reg{cseq};rport=5080\r\nFrom: <sip:1001@127.0.0.1>;tag=a1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: reg-1001\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:1001@127.0.0.1:5080>\r\nExpires: 600\r\nPath: {PATH}\r\n{auth}User-Agent: test-phone\r\nMax-Forwards: 69\r\nContent-Length: 0\r\n\r\n")
    };
    sim.send_from(proxy, &reg(1, ""));
    let challenge = match &sim.to_others.last().expect("a challenge").1 {
        Message::Response(r) => r.clone(),
        other => panic!("expected 401, got {other:?}"),
    };
    let auth = md5_authorization(
        &challenge,
        ("1001", "demo-1001"),
        "REGISTER",
        "sip:127.0.0.1",
        "c0ffee",
    );
    sim.send_from(proxy, &reg(2, &auth));
    match &sim.to_others.last().expect("an answer").1 {
        Message::Response(r) => assert_eq!(r.status, 200, "{r:?}"),
        other => panic!("expected 200, got {other:?}"),
    }
    sim.engine
        .set_agent_state("1001", crate::acd::model::StateRequest::Ready, sim.now)
        .expect("ready");
    sim.drain();
    proxy
}

fn routes(req: &crate::sip::message::Request) -> Vec<String> {
    req.headers
        .route
        .iter()
        .map(|r| r.uri.to_string())
        .collect()
}

#[test]
fn a_phone_registered_through_kamailio_is_rung_through_it_with_its_path_as_route() {
    let mut sim = Sim::new();
    let proxy = register_through_proxy(&mut sim);
    let invite = connect_agent(&mut sim, proxy);
    // Request-URI: the phone's contact; first hop: the proxy, named by the Route.
    assert_eq!(invite.uri.to_string(), "sip:1001@127.0.0.1:5080");
    assert_eq!(
        routes(&invite),
        vec!["sip:127.0.0.1:5090;lr;received=sip:127.0.0.1:5080".to_owned()]
    );
    assert_eq!(sim.engine.live_calls()[0].state, CallState::Talking);
    // The ACK of the 2xx follows the dialog's route set, to the same proxy.
    let ack = last_request_to(&sim, proxy, "ACK");
    assert_eq!(ack.headers.call_id, invite.headers.call_id);
}

#[test]
fn the_path_survives_a_save_and_a_restore_on_another_engine() {
    let mut first = Sim::new();
    register_through_proxy(&mut first);
    let saved = first.engine.saved_state(first.now);
    assert_eq!(
        saved.registrations[0].path,
        vec!["<sip:127.0.0.1:5090;lr;received=sip:127.0.0.1:5080>".to_owned()]
    );
    // The JSON form (what the cluster store keeps) carries it too.
    let json = serde_json::to_string(&saved).expect("serialises");
    let saved: crate::call::persist::SavedState = serde_json::from_str(&json).expect("reads");

    let mut second = Sim::new();
    let done = second.engine.restore(&saved, second.now);
    assert_eq!(done.registrations, 1);
    assert_eq!(done.agents, 1);
    second.drain();
    let proxy = Peer {
        addr: PROXY.parse().unwrap(),
        link: Link::Udp,
    };
    let invite = connect_agent(&mut second, proxy);
    assert_eq!(
        routes(&invite),
        vec!["sip:127.0.0.1:5090;lr;received=sip:127.0.0.1:5080".to_owned()]
    );
}

#[test]
fn a_standby_answers_every_new_request_503_so_kamailio_skips_it_and_takes_them_once_active() {
    let mut sim = Sim::new();
    sim.engine.set_standby(true, sim.now);
    assert!(sim.engine.is_standby());
    let options = "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-opt1\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: probe-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    sim.send(options);
    sim.invite("12345", Some(SDP));
    // The retransmitted INVITE gets the same answer (no transaction was kept).
    sim.invite("12345", Some(SDP));
    assert_eq!(sim.statuses(), vec![503, 503, 503]);
    assert!(sim.responses().iter().all(|r| r.reason == "Standby"));
    assert!(sim.engine.live_calls().is_empty());
    assert!(sim.records.is_empty(), "a standby keeps no call records");
    assert!(sim.media.is_empty());
    assert_eq!(sim.engine.snapshot().counters.refused_standby, 3);
    // Registration too: the phone is registered on the active engine only.
    let proxy = Peer {
        addr: PROXY.parse().unwrap(),
        link: Link::Udp,
    };
    sim.send_from(proxy, "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-r1\r\nFrom: <sip:1001@127.0.0.1>;tag=a1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: reg-1001\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@127.0.0.1:5080>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    match &sim.to_others.last().expect("an answer").1 {
        Message::Response(r) => assert_eq!(r.status, 503),
        other => panic!("expected 503, got {other:?}"),
    }

    sim.engine.set_standby(false, sim.now);
    sim.sent.clear();
    sim.send(
        &options
            .replace("opt1", "opt2")
            .replace("probe-1", "probe-2"),
    );
    assert_eq!(sim.statuses(), vec![200]);
}
