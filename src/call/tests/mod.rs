//! The call engine with a simulated caller in memory and a fake clock: every message goes in
//! as bytes parsed by the real parser, every answer comes out as bytes and is parsed back.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::TimeZone;

use super::engine::{CallEngine, EngineConfig, Link, MediaCommand, Output, Peer};
use super::record::{CallOutcome, CallRecord, CallState};
use crate::ivr::testutil::{shipped_tree, t0};
use crate::media::codec::Codec;
use crate::sip::message::{Message, Response};
use crate::sip::parse::parse_datagram;
use crate::sip::transaction::TimerConfig;

const T1: Duration = Duration::from_millis(500);

fn config(answer_delay: Duration) -> EngineConfig {
    EngineConfig {
        service_numbers: vec!["12345".into()],
        sip_addr: "127.0.0.1:5060".parse().unwrap(),
        timers: TimerConfig::default(),
        user_agent: "hotline-test".into(),
        rtp_address: "127.0.0.1".parse().unwrap(),
        opus_complexity: crate::media::webrtc::DEFAULT_OPUS_COMPLEXITY,
        rtp_port_min: 20000,
        rtp_port_max: 20010,
        rtp_agent_reserve: 1,
        max_in_ivr: Duration::from_secs(120),
        max_in_queue: Duration::from_secs(600),
        session_expires: Duration::from_secs(1800),
        min_se: Duration::from_secs(90),
        answer_delay,
        queue_notice_interval: Duration::from_secs(30),
        queues: acd_config().queue_names(),
        // Numbers listed, gateway unset: external transfers are refused until a test sets it.
        transfer_gateway: None,
        transfer_numbers: [("110".to_string(), "110".to_string())].into(),
        unit_numbers: [("water".to_string(), "96116".to_string())].into(),
        trunks: vec!["127.0.0.9".parse().unwrap()],
        max_setup_per_source: 3,
        trunk: None,
        trunk_caller_id: "12345".into(),
        outbound_ring_timeout: Duration::from_secs(30),
        call_me_back: crate::call::call_me_back::CallMeBackConfig {
            enabled: false,
            offer_above: Duration::from_secs(120),
            surge_offer_above: Duration::from_secs(45),
            assumed_handle_time: Duration::from_secs(240),
            surge_above: Duration::ZERO,
            max_attempts: 3,
            retry_gap: Duration::from_secs(120),
            rules: crate::outbound::rules::OutboundRules::default(),
        },
        trunk_credentials: None,
    }
}

fn acd_config() -> crate::acd::config::AcdConfig {
    crate::acd::config::AcdConfig::parse(
        include_str!("../../../config/agents.toml"),
        std::path::Path::new("agents.toml"),
        include_str!("../../../config/queues.toml"),
        std::path::Path::new("queues.toml"),
    )
    .expect("shipped ACD config")
}

fn registrar(now: std::time::Instant) -> crate::sip::registrar::Registrar<Link> {
    let creds = crate::sip::registrar::MemoryCredentials::new()
        .with_password("1001", "hotline", "demo-1001")
        .with_password("1002", "hotline", "demo-1002")
        .with_password("9001", "hotline", "demo-supervisor");
    crate::sip::registrar::Registrar::new(Default::default(), Box::new(creds), [7; 32], now)
        .expect("registrar")
}

/// The engine, a caller, and what came out so far.
struct Sim {
    engine: CallEngine,
    now: std::time::Instant,
    caller: Peer,
    sent: Vec<Message>,
    /// What went to anyone but the caller (agents' phones).
    to_others: Vec<(Peer, Message)>,
    media: Vec<MediaCommand>,
    records: Vec<CallRecord>,
    connected: Vec<crate::call::record::ConnectedCall>,
    /// Whether the simulated media shell fails to bind callers' ports (EMFILE), or never
    /// replies.
    ports_fail: bool,
    ports_silent: bool,
    /// C12 transfers out: (call, target).
    emergency: Vec<(String, String)>,
    journal: Vec<crate::call::record::JournalEntry>,
    /// Parties that joined or left (consult, conference, supervisor).
    parties: Vec<crate::call::record::PartyEvent>,
    activity: Vec<crate::stats::activity::AgentActivity>,
    kpis: Vec<crate::stats::kpi::KpiEvent>,
    /// Outbound tries' results: (attempt, outcome).
    outbound: Vec<(u64, crate::outbound::rules::Outcome)>,
    /// Outbound calls that ended (their trunk line freed).
    outbound_ended: Vec<u64>,
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

impl Sim {
    fn new() -> Sim {
        Sim::with_delay(Duration::ZERO)
    }

    fn with_delay(answer_delay: Duration) -> Sim {
        let now = t0();
        let wall = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .unwrap();
        Sim {
            engine: CallEngine::new(
                config(answer_delay),
                shipped_tree(),
                registrar(now),
                &acd_config(),
                now,
                wall,
                7,
            ),
            now,
            caller: Peer {
                addr: "127.0.0.1:5070".parse::<SocketAddr>().unwrap(),
                link: Link::Udp,
            },
            sent: Vec::new(),
            to_others: Vec::new(),
            media: Vec::new(),
            records: Vec::new(),
            connected: Vec::new(),
            ports_fail: false,
            ports_silent: false,
            emergency: Vec::new(),
            journal: Vec::new(),
            kpis: Vec::new(),
            parties: Vec::new(),
            activity: Vec::new(),
            outbound: Vec::new(),
            outbound_ended: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(out) = self.engine.poll_output() {
            match out {
                // The shell binds the port at once and says so, as `shell::engine` does.
                Output::Media(MediaCommand::Reserve { .. }) if self.ports_silent => {}
                Output::Media(MediaCommand::Reserve { call, .. }) if self.ports_fail => {
                    self.engine.handle_media_failed(call, self.now)
                }
                Output::Media(MediaCommand::Reserve { call, .. }) => {
                    self.engine.handle_media_ready(call, self.now)
                }
                Output::Transmit { to, data } => {
                    let msg = parse_datagram(&data).expect("the engine sends valid SIP");
                    if to == self.caller {
                        self.sent.push(msg);
                    } else {
                        self.to_others.push((to, msg));
                    }
                }
                Output::Media(cmd) => self.media.push(cmd),
                Output::Record(r) => self.records.push(*r),
                Output::Kpi(e) => self.kpis.push(e),
                Output::Connected(c) => self.connected.push(*c),
                Output::EmergencyTransfer { call, target } => self.emergency.push((call, target)),
                Output::Journal(j) => self.journal.push(*j),
                Output::Party(p) => self.parties.push(*p),
                Output::AgentActivity(a) => self.activity.push(*a),
                Output::Outbound { attempt, outcome } => self.outbound.push((attempt, outcome)),
                Output::OutboundEnded { attempt } => self.outbound_ended.push(attempt),
            }
        }
    }

    fn send(&mut self, text: &str) {
        let caller = self.caller;
        self.send_from(caller, text);
    }

    fn send_from(&mut self, from: Peer, text: &str) {
        let msg = parse_datagram(text.as_bytes()).expect("test message parses");
        self.engine.handle_message(msg, from, self.now);
        self.drain();
    }

    fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        while let Some(at) = self.engine.poll_timeout() {
            if at > until {
                break;
            }
            self.now = at.max(self.now);
            self.engine.handle_timeout(self.now);
            self.drain();
        }
        self.now = until;
    }

    fn responses(&self) -> Vec<&Response> {
        self.sent
            .iter()
            .filter_map(|m| match m {
                Message::Response(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn statuses(&self) -> Vec<u16> {
        self.responses().iter().map(|r| r.status).collect()
    }

    fn to_tag(&self) -> String {
        self.responses()
            .iter()
            .find(|r| r.status == 200)
            .and_then(|r| r.headers.to.tag().map(str::to_string))
            .expect("a 200 with a To tag")
    }

    fn invite(&mut self, number: &str, sdp: Option<&str>) {
        let body = sdp.unwrap_or("");
        let ct = if sdp.is_some() {
            "Content-Type: application/sdp\r\n"
        } else {
            ""
        };
        self.send(&format!(
            "INVITE sip:{number}@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv1;rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=caller1\r\nTo: <sip:{number}@127.0.0.1>\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\nContact: <sip:13812345678@127.0.0.1:5070>\r\nMax-Forwards: 70\r\n{ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    }

    fn in_dialog(&mut self, method: &str, cseq: u32, branch: &str, extra: &str, body: &str) {
        let tag = self.to_tag();
        self.send(&format!(
            "{method} sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-{branch};rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=caller1\r\nTo: <sip:12345@127.0.0.1>;tag={tag}\r\nCall-ID: call-1\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    }

    fn ack(&mut self) {
        self.in_dialog("ACK", 1, "ack1", "", "");
    }

    fn answered(&mut self) {
        self.invite("12345", Some(SDP));
        self.ack();
    }

    fn plays(&self) -> Vec<(Vec<String>, bool)> {
        self.media
            .iter()
            .filter_map(|m| match m {
                MediaCommand::Play {
                    prompts, loop_last, ..
                } => Some((prompts.clone(), *loop_last)),
                _ => None,
            })
            .collect()
    }

    fn last_play_token(&self) -> u64 {
        self.media
            .iter()
            .rev()
            .find_map(|m| match m {
                MediaCommand::Play { token, .. } => Some(*token),
                _ => None,
            })
            .expect("something played")
    }

    fn call_id(&self) -> super::session::CallId {
        self.media
            .iter()
            .find_map(|m| match m {
                MediaCommand::Open { call, .. } => Some(*call),
                _ => None,
            })
            .expect("media opened")
    }
}

/// The `Authorization` line (CRLF-terminated) answering `challenge`'s MD5 digest for
/// `method uri` as `user`/`password`, with nonce-count 1 and client nonce `cnonce`.
fn md5_authorization(
    challenge: &Response,
    (user, password): (&str, &str),
    method: &str,
    uri: &str,
    cnonce: &str,
) -> String {
    use md5::{Digest, Md5};
    let nonce = challenge
        .headers
        .www_authenticate
        .iter()
        .find(|a| {
            a.param("algorithm")
                .is_none_or(|al| al.eq_ignore_ascii_case("MD5"))
        })
        .and_then(|a| a.param("nonce"))
        .expect("an MD5 nonce")
        .to_string();
    let hex = |s: String| hex::encode(Md5::digest(s.as_bytes()));
    let ha1 = hex(format!("{user}:hotline:{password}"));
    let ha2 = hex(format!("{method}:{uri}"));
    let response = hex(format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"));
    format!("Authorization: Digest username=\"{user}\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"{cnonce}\"\r\n")
}

/// Where agent `agent` stands in the ACD now.
fn agent_state(sim: &Sim, agent: &str) -> crate::acd::model::AgentStateKind {
    sim.engine
        .acd_snapshot(sim.now)
        .agents
        .iter()
        .find(|a| a.id.as_str() == agent)
        .map(|a| a.state.kind())
        .expect("agent")
}

/// The port of an SDP body's `m=audio` line.
fn sdp_port(body: &str) -> u16 {
    body.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("an m=audio line")
}

#[test]
fn an_invite_gets_100_then_200_with_the_callers_first_codec() {
    let mut sim = Sim::new();
    sim.invite("12345", Some(SDP));
    assert_eq!(sim.statuses(), vec![100, 200]);
    let ok = sim.responses()[1].clone();
    let body = String::from_utf8_lossy(&ok.body);
    let port = sdp_port(&body);
    assert!((20000..=20010).contains(&port) && port % 2 == 0, "{body}");
    assert!(
        body.contains(&format!("m=audio {port} RTP/AVP 0 101")),
        "{body}"
    );
    assert!(ok.headers.contact.is_some(), "the 200 carries our Contact");
    assert!(sim.media.is_empty(), "no media before the ACK");
    sim.ack();
    // Not a trunk: the SDP's address is not believed; the caller's first packet decides.
    assert!(matches!(
        sim.media[0],
        MediaCommand::Open {
            port: p,
            codec: Codec::Pcmu,
            telephone_event: Some(101),
            remote: None,
            ..
        } if p == port
    ));
}

#[test]
fn a_retransmitted_invite_is_absorbed() {
    let mut sim = Sim::new();
    sim.invite("12345", Some(SDP));
    sim.invite("12345", Some(SDP));
    assert_eq!(sim.statuses(), vec![100, 200]);
    assert_eq!(sim.engine.live_calls().len(), 1);
}

#[test]
fn the_200_is_retransmitted_until_the_ack_then_the_menu_plays() {
    let mut sim = Sim::new();
    sim.invite("12345", Some(SDP));
    sim.advance(T1 * 3 + Duration::from_millis(10)); // retransmits at T1 and 3·T1
    assert_eq!(sim.statuses(), vec![100, 200, 200, 200]);
    assert!(sim.plays().is_empty(), "no menu before the ACK");
    sim.ack();
    assert_eq!(
        sim.plays()[0].0,
        vec!["greeting.wav".to_string(), "main-menu.wav".to_string()]
    );
    sim.advance(Duration::from_secs(4));
    assert_eq!(sim.statuses().len(), 4, "no retransmission after the ACK");
}

#[test]
fn no_ack_ends_the_call_with_a_bye_after_64_t1() {
    let mut sim = Sim::new();
    sim.invite("12345", Some(SDP));
    sim.advance(T1 * 64 - Duration::from_millis(1));
    assert!(sim.records.is_empty() && !sim.engine.is_idle());
    sim.advance(Duration::from_millis(2));
    let bye = sim
        .sent
        .iter()
        .find_map(|m| match m {
            Message::Request(r) if r.method.as_str() == "BYE" => Some(r.clone()),
            _ => None,
        })
        .expect("a BYE");
    assert_eq!(bye.headers.call_id, "call-1");
    assert_eq!(bye.headers.from.tag(), Some(sim.to_tag().as_str()));
    // Timer H released the call at once, without waiting for the BYE's answer: recorded as
    // failed, its port free, and no media was ever opened.
    assert_eq!(sim.records.len(), 1);
    assert_eq!(sim.records[0].outcome, CallOutcome::Failed);
    assert!(sim.engine.is_idle());
    assert!(!sim
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Open { .. })));
    // The caller's late answer to the BYE changes nothing.
    let resp = Response::for_request(&bye, 200, "OK");
    sim.engine
        .handle_message(Message::Response(resp), sim.caller, sim.now);
    sim.drain();
    assert_eq!(sim.records.len(), 1);
}

#[test]
fn keys_route_the_call_into_a_queue_with_hold_audio_and_position_notices() {
    let mut sim = Sim::new();
    sim.answered();
    let call = sim.call_id();
    sim.engine.handle_digit(call, '2', sim.now);
    sim.engine.handle_digit(call, '1', sim.now);
    sim.drain();
    let live = sim.engine.live_calls();
    assert_eq!(live[0].state, CallState::Queued);
    assert_eq!(live[0].queue.as_deref(), Some("dialect"));
    assert_eq!(live[0].menu_path, vec!["main:2", "special:1"]);
    assert_eq!(live[0].caller, "138******78");
    let (prompts, looped) = sim.plays().last().cloned().unwrap();
    assert_eq!(prompts, vec!["transfer.wav", "hold-music.ogg"]);
    assert!(looped, "hold music loops");
    // A second caller queues behind the first.
    let second = Peer {
        addr: "127.0.0.1:5072".parse::<SocketAddr>().unwrap(),
        link: Link::Udp,
    };
    let text = format!(
        "INVITE sip:12345@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-two;rport\r\nFrom: <sip:13900000002@127.0.0.1>;tag=two\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: call-2\r\nCSeq: 1 INVITE\r\nContact: <sip:x@127.0.0.1:5072>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    sim.send_from(second, &text);
    let tag = sim
        .to_others
        .iter()
        .rev()
        .find_map(|(p, m)| match m {
            Message::Response(r) if *p == second && r.status == 200 => {
                r.headers.to.tag().map(str::to_string)
            }
            _ => None,
        })
        .expect("the second call is answered");
    sim.send_from(second, &format!("ACK sip:12345@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-two-ack;rport\r\nFrom: <sip:13900000002@127.0.0.1>;tag=two\r\nTo: <sip:12345@127.0.0.1>;tag={tag}\r\nCall-ID: call-2\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"));
    let call2 = sim
        .media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Open { call: c, .. } if *c != call => Some(*c),
            _ => None,
        })
        .next()
        .expect("the second call's media");
    sim.engine.handle_digit(call2, '2', sim.now);
    sim.engine.handle_digit(call2, '1', sim.now);
    sim.drain();
    let plays_of = |sim: &Sim, c: super::session::CallId| -> Vec<Vec<String>> {
        sim.media
            .iter()
            .filter_map(|m| match m {
                MediaCommand::Play {
                    call: x, prompts, ..
                } if *x == c => Some(prompts.clone()),
                _ => None,
            })
            .collect()
    };
    let first_before = plays_of(&sim, call).len();
    sim.advance(Duration::from_secs(30));
    // The first in line hears no "zero callers ahead of you": its music simply goes on.
    assert_eq!(plays_of(&sim, call).len(), first_before);
    // The second hears that one caller is ahead of it, then the music again.
    assert_eq!(
        plays_of(&sim, call2).last().cloned().unwrap(),
        vec![
            "queue-position-prefix.wav",
            "digit-1.wav",
            "queue-position-suffix.wav",
            "hold-music.ogg"
        ]
    );
}

#[test]
fn silence_in_the_menu_ends_in_the_general_queue() {
    let mut sim = Sim::new();
    sim.answered();
    let call = sim.call_id();
    // The menu prompt ends, nobody presses anything, twice.
    for _ in 0..4 {
        let token = sim.last_play_token();
        sim.engine.handle_play_finished(call, token, sim.now);
        sim.drain();
        sim.advance(Duration::from_secs(6));
    }
    let live = sim.engine.live_calls();
    assert_eq!(live[0].queue.as_deref(), Some("general"));
}

#[test]
fn the_callers_bye_ends_the_call_with_one_record() {
    let mut sim = Sim::new();
    sim.answered();
    sim.in_dialog("BYE", 2, "bye1", "", "");
    assert_eq!(sim.statuses().last(), Some(&200));
    assert_eq!(sim.records.len(), 1);
    let r = &sim.records[0];
    assert_eq!(r.outcome, CallOutcome::AbandonedInIvr);
    assert_eq!(r.sip_call_id, "call-1");
    assert!(r.ended_at >= r.call.started_at);
    assert!(sim
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Close { .. })));
    // A BYE for a dialog that no longer exists gets 481.
    sim.in_dialog("BYE", 3, "bye2", "", "");
    assert_eq!(sim.statuses().last(), Some(&481));
}

#[test]
fn cancel_while_ringing_gets_200_and_the_invite_487() {
    let mut sim = Sim::with_delay(Duration::from_secs(2));
    sim.invite("12345", Some(SDP));
    assert_eq!(sim.statuses(), vec![100, 180]);
    sim.send("CANCEL sip:12345@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv1;rport\r\nFrom: <sip:13812345678@127.0.0.1>;tag=caller1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: call-1\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(sim.statuses(), vec![100, 180, 200, 487]);
    assert_eq!(sim.records[0].outcome, CallOutcome::CancelledBeforeAnswer);
    sim.advance(Duration::from_secs(3));
    assert!(
        !sim.statuses().contains(&403) && sim.statuses().iter().filter(|s| **s == 200).count() == 1
    );
}

#[test]
fn refusals_name_the_reason() {
    let mut sim = Sim::new();
    sim.invite("999", Some(SDP));
    assert_eq!(sim.statuses().last(), Some(&404));

    let mut sim = Sim::new();
    let video_only = SDP.replace("RTP/AVP 0 8 101", "RTP/AVP 18").replace(
        "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n",
        "a=rtpmap:18 G729/8000\r\n",
    );
    sim.invite("12345", Some(&video_only));
    assert_eq!(sim.statuses().last(), Some(&488));
    assert!(sim.engine.is_idle());

    let mut sim = Sim::new();
    sim.send("OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-o1\r\nFrom: <sip:mon@127.0.0.1>;tag=m\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: o-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    let ok = sim.responses()[0].clone();
    assert_eq!(ok.status, 200);
    assert!(ok.headers.allow.as_ref().is_some_and(|a| !a.is_empty()));
    let accept = ok.headers.accept.as_ref().expect("Accept");
    assert!(accept.iter().any(|a| a.is("application", "sdp")));

    sim.send("FOO sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-f1\r\nFrom: <sip:x@127.0.0.1>;tag=x\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: f-1\r\nCSeq: 1 FOO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(sim.statuses().last(), Some(&501));
    assert!(sim.responses().last().unwrap().headers.allow.is_some());

    sim.send("INVITE tel:12345 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-t1\r\nFrom: <sip:x@127.0.0.1>;tag=x\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: t-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(sim.statuses().last(), Some(&416));

    sim.send("INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r1\r\nFrom: <sip:x@127.0.0.1>;tag=x\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: r-1\r\nCSeq: 1 INVITE\r\nRequire: 100rel\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    let r = sim.responses().last().copied().cloned().unwrap();
    assert_eq!(r.status, 420);
    assert_eq!(r.headers.get("Unsupported"), Some("100rel"));
}

#[test]
fn an_invite_without_sdp_gets_our_offer_and_the_ack_answers_it() {
    let mut sim = Sim::new();
    sim.invite("12345", None);
    let ok = sim.responses()[1].clone();
    let offer = String::from_utf8_lossy(&ok.body).to_string();
    let port = sdp_port(&offer);
    assert!(
        offer.contains(&format!("m=audio {port} RTP/AVP 0 8 101")),
        "{offer}"
    );
    assert!(
        sim.media.is_empty(),
        "no media until we know where to send it"
    );
    let answer = SDP.replace("RTP/AVP 0 8 101", "RTP/AVP 8 101");
    sim.in_dialog(
        "ACK",
        1,
        "ack1",
        "Content-Type: application/sdp\r\n",
        &answer,
    );
    assert!(matches!(
        sim.media[0],
        MediaCommand::Open {
            codec: Codec::Pcma,
            ..
        }
    ));
    assert!(!sim.plays().is_empty(), "the menu starts");
}

#[test]
fn sip_info_dtmf_and_reinvite_inside_the_dialog() {
    let mut sim = Sim::new();
    sim.answered();
    sim.in_dialog(
        "INFO",
        2,
        "info1",
        "Content-Type: application/dtmf-relay\r\n",
        "Signal=0\r\nDuration=160\r\n",
    );
    assert_eq!(sim.statuses().last(), Some(&200));
    assert_eq!(sim.engine.live_calls()[0].queue.as_deref(), Some("general"));
    sim.in_dialog(
        "INVITE",
        3,
        "reinv",
        "Content-Type: application/sdp\r\n",
        SDP,
    );
    let r = sim.responses().last().copied().cloned().unwrap();
    assert_eq!(r.status, 200);
    assert!((20000..=20010).contains(&sdp_port(&String::from_utf8_lossy(&r.body))));
    // An out-of-order CSeq inside the dialog is refused.
    sim.in_dialog("INFO", 2, "info-old", "", "");
    assert_eq!(sim.statuses().last(), Some(&500));
}

#[test]
fn shutdown_refuses_new_calls_and_ends_live_ones() {
    let mut sim = Sim::new();
    sim.answered();
    sim.engine.begin_shutdown(sim.now);
    sim.drain();
    assert!(sim
        .sent
        .iter()
        .any(|m| matches!(m, Message::Request(r) if r.method.as_str() == "BYE")));
    let mut second = Sim::new();
    second.engine.begin_shutdown(second.now);
    second.invite("12345", Some(SDP));
    let r = second.responses().last().copied().cloned().unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.headers.get("Retry-After"), Some("30"));
    // A BYE that is never answered still ends the call once its transaction times out.
    sim.advance(T1 * 64 + Duration::from_secs(1));
    assert_eq!(sim.records.len(), 1);
    assert_eq!(sim.records[0].outcome, CallOutcome::EndedByEngine);
}

#[test]
fn register_is_challenged_and_scanners_are_refused() {
    let mut sim = Sim::new();
    sim.send("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-reg1;rport\r\nFrom: <sip:1001@127.0.0.1>;tag=r1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@127.0.0.1:5070>\r\nExpires: 600\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    let r = sim.responses().last().copied().cloned().unwrap();
    assert_eq!(r.status, 401);
    assert!(!r.headers.www_authenticate.is_empty());
    assert!(!sim.engine.is_registered("1001", sim.now));

    sim.send("OPTIONS sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-scan1\r\nFrom: <sip:100@127.0.0.1>;tag=s\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: scan-1\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(sim.statuses().last(), Some(&403));
    // One UDP datagram with a scanner's User-Agent blocks nothing: a call from the same
    // address (the carrier's, perhaps) is answered.
    sim.invite("12345", Some(SDP));
    assert_eq!(sim.statuses().last(), Some(&200));
    assert_eq!(sim.engine.snapshot().counters.refused_scanner, 1);
}

mod abuse;
mod agents;
mod call_me_back;
mod cluster;
mod conference;
mod liveness;
mod numbers;
mod outbound;
mod outbound_auth;
mod persist_reload;
mod robot_call;
mod side_line;
mod ws_agent;
mod ws_party;
