//! The trunk's digest challenge to a citizen's INVITE (issue 15), with a simulated trunk and
//! a fake clock: answered once on a new transaction that the call then follows (its answer,
//! its CANCEL); a second challenge, a 403 to our credentials, no credentials or a realm we
//! must not answer end the try as refused and are counted.

use super::agents::last_request_to;
use super::*;
use crate::call::outbound::OutboundCall;
use crate::outbound::dialler::Purpose;
use crate::outbound::rules::Outcome;
use crate::sip::digest_client::{ClientCredentials, Secret};
use crate::sip::message::Request;

fn trunk(sim: &mut Sim, creds: Option<ClientCredentials>) -> Peer {
    let trunk = Peer {
        addr: "127.0.0.1:5099".parse::<SocketAddr>().unwrap(),
        link: Link::Udp,
    };
    sim.engine.cfg.trunk = Some(trunk.addr);
    sim.engine.cfg.trunk_credentials = creds;
    trunk
}

fn creds(realm: Option<&str>) -> Option<ClientCredentials> {
    Some(ClientCredentials::new(
        "hotline",
        Secret::new("s3cret"),
        realm.map(str::to_owned),
    ))
}

fn call(sim: &mut Sim, attempt: u64) {
    sim.engine
        .place_outbound(
            OutboundCall {
                attempt,
                try_no: 1,
                number: "13812345678".into(),
                purpose: Purpose::AgentCallback,
                reference: "20261207-000042".into(),
                queue: "general".into(),
                robot: None,
            },
            sim.now,
        )
        .expect("placed");
    sim.drain();
}

/// Every INVITE that went to the trunk, in order (retransmissions once).
fn invites(sim: &Sim, trunk: Peer) -> Vec<Request> {
    let mut out: Vec<Request> = Vec::new();
    for (to, m) in &sim.to_others {
        if let Message::Request(r) = m {
            if *to == trunk
                && r.method.as_str() == "INVITE"
                && !out.iter().any(|o| o.headers.via == r.headers.via)
            {
                out.push(r.clone());
            }
        }
    }
    out
}

/// The trunk answers our last INVITE with `status` and a challenge header line (if any).
fn challenge(sim: &mut Sim, trunk: Peer, status: u16, line: Option<&str>) {
    let invite = last_request_to(sim, trunk, "INVITE");
    let mut resp = Response::for_request(&invite, status, "Auth").with_to_tag("sbc1");
    if let Some(line) = line {
        let auth = crate::sip::parse::parse_auth(line).expect("challenge");
        match status {
            401 => resp.headers.www_authenticate.push(auth),
            _ => resp.headers.proxy_authenticate.push(auth),
        }
    }
    sim.engine
        .handle_message(Message::Response(resp), trunk, sim.now);
    sim.drain();
}

fn respond(sim: &mut Sim, trunk: Peer, resp: Response) {
    sim.engine
        .handle_message(Message::Response(resp), trunk, sim.now);
    sim.drain();
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(s.as_bytes()))
}

const PROXY_MD5: &str =
    "Digest realm=\"carrier\", nonce=\"n1\", qop=\"auth\", algorithm=MD5, opaque=\"op\"";

#[test]
fn a_407_is_answered_once_on_a_new_transaction_and_the_call_follows_it() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim, creds(Some("carrier")));
    call(&mut sim, 3);
    let first = last_request_to(&sim, trunk, "INVITE");
    assert!(first.headers.proxy_authorization.is_empty());
    challenge(&mut sim, trunk, 407, Some(PROXY_MD5));
    // The transaction layer ACKed the 407 on the first INVITE's branch.
    let ack = last_request_to(&sim, trunk, "ACK");
    assert_eq!(ack.headers.via, first.headers.via);
    assert_eq!(ack.headers.cseq.seq, 1);
    let sent = invites(&sim, trunk);
    assert_eq!(sent.len(), 2, "one INVITE again");
    let second = &sent[1];
    assert_eq!(second.headers.cseq.seq, 2);
    assert_eq!(second.headers.call_id, first.headers.call_id);
    assert_eq!(second.headers.from.tag(), first.headers.from.tag());
    assert_ne!(
        second.client_transaction_key(),
        first.client_transaction_key()
    );
    assert_eq!(second.body, first.body, "the same offer");
    assert!(second.headers.authorization.is_empty());
    let auth = &second.headers.proxy_authorization[0];
    // Checked with the RFC 2617 formula, computed here with MD5 alone.
    let p = |n: &str| auth.param(n).unwrap_or_default().to_owned();
    assert_eq!(
        (p("username"), p("realm"), p("nonce"), p("qop"), p("nc")),
        (
            "hotline".into(),
            "carrier".into(),
            "n1".into(),
            "auth".into(),
            "00000001".into()
        )
    );
    assert_eq!(p("uri"), second.uri.to_string());
    assert_eq!(p("opaque"), "op");
    let ha1 = md5_hex("hotline:carrier:s3cret");
    let ha2 = md5_hex(&format!("INVITE:{}", second.uri));
    let expected = md5_hex(&format!("{ha1}:n1:00000001:{}:auth:{ha2}", p("cnonce")));
    assert_eq!(p("response"), expected);
    assert!(
        sim.outbound.is_empty(),
        "the try goes on: {:?}",
        sim.outbound
    );
    // The citizen answers the second INVITE: the call is answered, ACKed with CSeq 2.
    let ok = Response::for_request(second, 200, "OK")
        .with_to_tag("citizen1")
        .with_body(
            crate::sip::message::MediaType::new("application", "sdp"),
            SDP.replace("6000", "7300"),
        );
    respond(&mut sim, trunk, ok);
    assert_eq!(sim.outbound, vec![(3, Outcome::Answered)]);
    let ack = last_request_to(&sim, trunk, "ACK");
    assert_eq!(ack.headers.cseq.seq, 2);
    assert_eq!(
        sim.engine.counters.outbound_auth_failures,
        Default::default()
    );
}

#[test]
fn the_ring_timeout_cancels_the_invite_that_carries_the_credentials() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim, creds(None));
    call(&mut sim, 4);
    challenge(&mut sim, trunk, 407, Some(PROXY_MD5));
    let second = invites(&sim, trunk)[1].clone();
    let ringing = Response::for_request(&second, 180, "Ringing").with_to_tag("citizen1");
    respond(&mut sim, trunk, ringing);
    sim.advance(Duration::from_secs(31));
    let cancel = last_request_to(&sim, trunk, "CANCEL");
    assert_eq!(cancel.headers.cseq.seq, 2);
    assert_eq!(cancel.headers.via, second.headers.via);
    let terminated =
        Response::for_request(&second, 487, "Request Terminated").with_to_tag("citizen1");
    respond(&mut sim, trunk, terminated);
    assert_eq!(sim.outbound, vec![(4, Outcome::NoAnswer)]);
}

#[test]
fn a_second_challenge_refuses_the_try_after_exactly_one_retry_and_is_counted() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim, creds(None));
    call(&mut sim, 5);
    let www = "Digest realm=\"carrier\", nonce=\"n1\", qop=\"auth\", algorithm=SHA-256";
    challenge(&mut sim, trunk, 401, Some(www));
    let second = last_request_to(&sim, trunk, "INVITE");
    assert_eq!(
        second.headers.authorization[0].param("algorithm"),
        Some("SHA-256")
    );
    challenge(&mut sim, trunk, 401, Some(&www.replace("n1", "n2")));
    assert_eq!(invites(&sim, trunk).len(), 2);
    assert_eq!(sim.outbound, vec![(5, Outcome::Rejected { status: 401 })]);
    assert_eq!(sim.engine.counters.outbound_auth_failures.rejected, 1);
    assert_eq!(
        sim.records.last().map(|r| r.outcome),
        Some(CallOutcome::NotReached)
    );
    assert!(sim.engine.live_calls().is_empty());
    // The second challenge was ACKed too.
    assert_eq!(last_request_to(&sim, trunk, "ACK").headers.cseq.seq, 2);
}

#[test]
fn a_stale_nonce_is_answered_once_more_then_refused() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim, creds(None));
    call(&mut sim, 6);
    challenge(&mut sim, trunk, 407, Some(PROXY_MD5));
    let stale = "Digest realm=\"carrier\", nonce=\"n2\", qop=\"auth\", stale=true";
    challenge(&mut sim, trunk, 407, Some(stale));
    let sent = invites(&sim, trunk);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].headers.cseq.seq, 3);
    assert_eq!(
        sent[2].headers.proxy_authorization.len(),
        1,
        "only the fresh answer"
    );
    assert_eq!(
        sent[2].headers.proxy_authorization[0].param("nonce"),
        Some("n2")
    );
    assert!(sim.outbound.is_empty());
    challenge(&mut sim, trunk, 407, Some(&stale.replace("n2", "n3")));
    assert_eq!(invites(&sim, trunk).len(), 3);
    assert_eq!(sim.outbound, vec![(6, Outcome::Rejected { status: 407 })]);
    assert_eq!(sim.engine.counters.outbound_auth_failures.rejected, 1);
}

#[test]
fn a_403_to_our_credentials_is_counted_as_refused_credentials() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim, creds(None));
    call(&mut sim, 7);
    challenge(&mut sim, trunk, 407, Some(PROXY_MD5));
    challenge(&mut sim, trunk, 403, None);
    assert_eq!(sim.outbound, vec![(7, Outcome::Rejected { status: 403 })]);
    assert_eq!(sim.engine.counters.outbound_auth_failures.rejected, 1);
    // A 403 to an INVITE without credentials is the trunk's refusal, not ours to count.
    call(&mut sim, 8);
    challenge(&mut sim, trunk, 403, None);
    assert_eq!(sim.engine.counters.outbound_auth_failures.rejected, 1);
}

#[test]
fn no_credentials_or_another_realm_refuse_the_try_without_a_retry() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim, None);
    call(&mut sim, 9);
    challenge(&mut sim, trunk, 407, Some(PROXY_MD5));
    assert_eq!(invites(&sim, trunk).len(), 1);
    assert_eq!(sim.outbound, vec![(9, Outcome::Rejected { status: 407 })]);
    assert_eq!(sim.engine.counters.outbound_auth_failures.no_credentials, 1);
    sim.engine.cfg.trunk_credentials = creds(Some("our-carrier"));
    call(&mut sim, 10);
    challenge(&mut sim, trunk, 407, Some(PROXY_MD5));
    assert_eq!(invites(&sim, trunk).len(), 2, "no INVITE with credentials");
    assert_eq!(sim.outbound[1], (10, Outcome::Rejected { status: 407 }));
    assert_eq!(sim.engine.counters.outbound_auth_failures.unusable, 1);
    // A 401 without any challenge cannot be answered either.
    call(&mut sim, 11);
    challenge(&mut sim, trunk, 401, None);
    assert_eq!(sim.engine.counters.outbound_auth_failures.unusable, 2);
}

#[test]
fn a_bye_the_trunk_challenges_goes_once_more_with_credentials() {
    let mut sim = Sim::new();
    let trunk = trunk(&mut sim, creds(None));
    call(&mut sim, 12);
    challenge(&mut sim, trunk, 407, Some(PROXY_MD5));
    let second = last_request_to(&sim, trunk, "INVITE");
    let ok = Response::for_request(&second, 200, "OK")
        .with_to_tag("citizen1")
        .with_body(
            crate::sip::message::MediaType::new("application", "sdp"),
            SDP.replace("6000", "7300"),
        );
    respond(&mut sim, trunk, ok);
    assert_eq!(sim.outbound, vec![(12, Outcome::Answered)]);
    sim.engine.begin_shutdown(sim.now);
    sim.drain();
    let bye = last_request_to(&sim, trunk, "BYE");
    assert_eq!(bye.headers.cseq.seq, 3);
    assert!(bye.headers.proxy_authorization.is_empty());
    let records = sim.records.len();
    let line = "Digest realm=\"carrier\", nonce=\"b1\", qop=\"auth\"";
    let mut resp = Response::for_request(&bye, 407, "Auth");
    resp.headers
        .proxy_authenticate
        .push(crate::sip::parse::parse_auth(line).expect("challenge"));
    respond(&mut sim, trunk, resp);
    let again = last_request_to(&sim, trunk, "BYE");
    assert_eq!(again.headers.cseq.seq, 4);
    assert_eq!(again.headers.call_id, bye.headers.call_id);
    let auth = &again.headers.proxy_authorization[0];
    let p = |n: &str| auth.param(n).unwrap_or_default().to_owned();
    let ha1 = md5_hex("hotline:carrier:s3cret");
    let ha2 = md5_hex(&format!("BYE:{}", again.uri));
    let expected = md5_hex(&format!("{ha1}:b1:00000001:{}:auth:{ha2}", p("cnonce")));
    assert_eq!(p("response"), expected);
    assert_eq!(
        sim.records.len(),
        records,
        "the call waits for the BYE's answer"
    );
    // Refused again: no third BYE, the call is over all the same.
    let mut resp = Response::for_request(&again, 407, "Auth");
    resp.headers
        .proxy_authenticate
        .push(crate::sip::parse::parse_auth(line).expect("challenge"));
    respond(&mut sim, trunk, resp);
    let byes = sim
        .to_others
        .iter()
        .filter_map(|(to, m)| match m {
            Message::Request(r) if *to == trunk && r.method.as_str() == "BYE" => {
                Some(r.headers.cseq.seq)
            }
            _ => None,
        })
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(byes.into_iter().collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(sim.records.len(), records + 1);
    assert!(sim.engine.live_calls().is_empty());
}
