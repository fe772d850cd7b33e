//! Issue 15, the callback robot against real peers: SIPp plays the carrier's trunk and the
//! citizen behind it (answers, presses RFC 4733 keys, speaks), the engine runs the shipped
//! robot script, and the ticket ends as the citizen answered — 基本满意 with the call's
//! recording, or 不满意 with the spoken reason attached and the ticket in `checking_rating`;
//! a busy line is tried as often as `[outbound]` says and then left for a rating by other
//! means; a do-not-call number is never dialled.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::callback::{
    awaiting_callback, citizen, engine, engine_at, event, free_port, settled, trunk,
};
use common::{root, sipp, Engine};
use serde_json::json;

#[test]
fn the_robot_calls_back_and_the_ticket_closes_basically_satisfied_with_the_recording() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    // Consent 1, the unit was in contact 1, solved 1, 基本满意 2 — each while its question
    // plays (keys barge in).
    let scenario = citizen(
        dir.path(),
        &[(2500, 1), (1500, 1), (1500, 1), (1500, 2)],
        None,
    );
    let sipp_run = trunk(port, &scenario, 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    let engine = engine(port, "");
    let id = awaiting_callback(&engine, "13900001111");
    let t = settled(&engine, &id, Duration::from_secs(60));
    assert_eq!(t["state"], "closed", "{t}");
    assert_eq!(t["rating"], "basically_satisfied", "{t}");
    let made = event(&t, "callback_made");
    assert_eq!(made["method"], "robot", "{made}");
    assert_eq!(made["consent"], true);
    assert_eq!(
        (made["contacted"].clone(), made["solved"].clone()),
        (json!(true), json!(true))
    );
    let call = made["evidence"]["call"]
        .as_str()
        .expect("the callback's call");
    let recording = made["evidence"]["recording"]["path"]
        .as_str()
        .expect("its recording");
    assert_eq!(
        made["evidence"]["tries"][0]["outcome"], "answered",
        "{made}"
    );
    // The stereo file is there with the hash the ticket names.
    let file = engine.data_dir.path().join(recording);
    let bytes = std::fs::read(&file).expect("recording file");
    assert!(bytes.len() > 44 + 8000 * 4, "{} bytes", bytes.len());
    let record = engine
        .latest_record(Duration::from_secs(5))
        .expect("the call's record");
    assert_eq!(record["id"], call);
    assert_eq!(record["direction"], "outbound");
    assert_eq!(
        record["outbound"]["robot"]["ended"], "completed",
        "{record}"
    );
    assert_eq!(
        record["recording_sha256"],
        made["evidence"]["recording"]["sha256"]
    );
    sipp_run.join().expect("sipp").assert_ok();
}

#[test]
fn an_unsatisfied_citizen_s_spoken_reason_is_attached_and_the_ticket_is_checked() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    // Consent, contacted, not solved (2), 不满意 (3); then, once the reason's question has
    // played (~9 s), 7 s of speech; the robot ends the reason after its silence.
    let scenario = citizen(
        dir.path(),
        &[(2500, 1), (1500, 1), (1500, 2), (1500, 3)],
        Some(10_500),
    );
    let sipp_run = trunk(port, &scenario, 1, Duration::from_secs(90));
    std::thread::sleep(Duration::from_millis(300));
    let engine = engine(port, "");
    let id = awaiting_callback(&engine, "13900002222");
    let t = settled(&engine, &id, Duration::from_secs(80));
    assert_eq!(t["state"], "checking_rating", "{t}");
    assert_eq!(t["rating"], "unsatisfied", "{t}");
    let made = event(&t, "callback_made");
    let reason = made["evidence"]["reason_recording"]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("no reason recording in {made}; log:\n{}", engine.log()));
    let wav = hound::WavReader::open(engine.data_dir.path().join(reason)).expect("reason wav");
    let seconds = wav.duration() as f64 / 8000.0;
    assert!((4.0..=8.0).contains(&seconds), "reason of {seconds} s");
    assert_eq!(made["solved"], false);
    sipp_run.join().expect("sipp").assert_ok();
}

#[test]
fn a_busy_citizen_is_tried_as_often_as_the_rules_say_and_a_do_not_call_number_never() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let busy = dir.path().join("busy.xml");
    std::fs::write(
        &busy,
        std::fs::read_to_string(root().join("tests/sipp/uas_busy.xml")).expect("busy scenario"),
    )
    .expect("write");
    let sipp_run = trunk(port, &busy, 2, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let engine = engine(port, "do_not_call = [\"13900004444\"]\n");
    let dnc = awaiting_callback(&engine, "13900004444");
    let id = awaiting_callback(&engine, "13900003333");
    let t = settled(&engine, &id, Duration::from_secs(30));
    assert_eq!(t["state"], "awaiting_rating", "{t}");
    let missed = event(&t, "callback_missed");
    assert_eq!(missed["why"], "not_reached", "{missed}");
    let tries: Vec<&str> = missed["evidence"]["tries"]
        .as_array()
        .expect("tries")
        .iter()
        .filter_map(|t| t["outcome"].as_str())
        .collect();
    assert_eq!(tries, ["busy", "busy"], "{missed}");
    assert!(
        missed["rating_due"].is_object() || missed["rating_due"].is_string(),
        "{missed}"
    );
    let t = settled(&engine, &dnc, Duration::from_secs(10));
    assert_eq!(event(&t, "callback_missed")["why"], "do_not_call", "{t}");
    // SIPp saw exactly the two busy tries: the do-not-call number was never dialled.
    let run = sipp_run.join().expect("sipp");
    run.assert_ok();
    let (_, recent) = engine.get("/api/calls/recent");
    assert!(
        !recent.contains("13900004444") && !recent.contains("139****4444"),
        "{recent}"
    );
}

/// libfaketime, as Debian's `faketime` package installs it.
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

#[test]
fn a_callback_due_before_08_00_waits_for_the_window_to_open() {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "libfaketime is missing: run ./.ci/test (it installs Debian's faketime)"
    );
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let busy = dir.path().join("busy.xml");
    std::fs::copy(root().join("tests/sipp/uas_busy.xml"), &busy).expect("copy");
    let sipp_run = trunk(port, &busy, 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    // The engine starts at 07:59:40 China time (23:59:40 UTC) on the shipped window,
    // 08:00–21:00; its monotonic clock is the real one, so its timers run as usual.
    let engine = engine_at(
        port,
        "max_attempts = 1\n",
        "",
        &[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME", "@2026-12-07 23:59:40"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ("TZ", "UTC"),
        ],
    );
    let id = awaiting_callback(&engine, "13900005555");
    let t = settled(&engine, &id, Duration::from_secs(45));
    let missed = event(&t, "callback_missed");
    let at = missed["evidence"]["tries"][0]["at"]
        .as_str()
        .expect("the try's time");
    // Dialled when the window opened, not at the first scan (07:59:4x).
    assert!(
        ("2026-12-08T08:00:00".."2026-12-08T08:00:05").contains(&at),
        "dialled at {at}: {missed}"
    );
    assert_eq!(missed["evidence"]["tries"][0]["outcome"], "busy");
    sipp_run.join().expect("sipp").assert_ok();
}

// ---- A trunk that wants digest credentials (issue 15) ----

/// SIPp's trunk with its messages traced to `messages` (to count and read the INVITEs).
fn traced_trunk(
    port: SocketAddr,
    scenario: &Path,
    messages: &Path,
    timeout: Duration,
) -> std::thread::JoinHandle<common::SippRun> {
    let (scenario, messages) = (scenario.to_path_buf(), messages.to_path_buf());
    std::thread::spawn(move || {
        sipp(
            "127.0.0.1:9".parse().expect("addr"),
            scenario.to_str().expect("path"),
            &[
                "-m",
                "1",
                "-p",
                &port.port().to_string(),
                "-mi",
                "127.0.0.1",
                "-trace_msg",
                "-message_file",
                messages.to_str().expect("path"),
            ],
            timeout,
        )
    })
}

/// The engine with SIPp as a trunk that wants credentials; `trunk_auth` goes into `[trunk]`.
fn engine_with_credentials(trunk: SocketAddr, trunk_auth: &str, max_attempts: u32) -> Engine {
    Engine::start_with_env(
        &format!(
            "[trunk]\naddress = \"{trunk}\"\n{trunk_auth}\n[callback]\nscan_every = \"1s\"\n\n[outbound]\nwindow_start = \"00:00:00\"\nwindow_end = \"23:59:59\"\nmax_attempts = {max_attempts}\nretry_gap = \"2s\"\nring_timeout = \"5s\"\n"
        ),
        &[],
        &[],
    )
}

/// The INVITEs SIPp received, as their start line and headers (retransmissions once).
fn invites_received(messages: &Path) -> Vec<String> {
    requests_received(messages, "INVITE")
}

/// The `method` requests SIPp received, as their start line and headers (retransmissions
/// once).
fn requests_received(messages: &Path, method: &str) -> Vec<String> {
    let log = std::fs::read_to_string(messages)
        .unwrap_or_default()
        .replace('\r', "");
    let mut out: Vec<String> = Vec::new();
    for block in log.split("message received") {
        let Some(start) = block.find(&format!("\n{method} sip:")) else {
            continue;
        };
        let head = block[start + 1..]
            .split("\n\n")
            .next()
            .unwrap_or("")
            .to_string();
        if !out.contains(&head) {
            out.push(head);
        }
    }
    out
}

/// `name=value` pairs of a Digest credentials value (our values hold no commas).
fn digest_params(value: &str) -> std::collections::HashMap<String, String> {
    value
        .trim_start_matches("Digest ")
        .split(", ")
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim_matches('"').to_string()))
        .collect()
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(s.as_bytes()))
}

/// `citizen`'s scenario behind a proxy that first answers 407 (Proxy-Authenticate, MD5,
/// qop=auth) and wants the INVITE sent again with Proxy-Authorization for `hotline` in
/// `carrier` with the challenge's nonce and opaque (SIPp checks the form; the test checks the
/// hash from SIPp's trace, SIPp 3.6's verifyauth reading Authorization only); the robot's
/// closing BYE is challenged likewise and must come again with credentials.
fn citizen_behind_proxy_auth(citizen: &Path) -> PathBuf {
    let xml = std::fs::read_to_string(citizen).expect("citizen scenario");
    let first_invite = "  <recv request=\"INVITE\" crlf=\"true\">\n    <action>\n";
    let challenge = r#"  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[

      SIP/2.0 407 Proxy Authentication Required
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpSbc[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Proxy-Authenticate: Digest realm="carrier", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", algorithm=MD5, opaque="5ccc069c403ebaf9f0171e9517f40e41"
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
"#;
    let checks: String = [
        r#"username=\"hotline\""#,
        r#"realm=\"carrier\""#,
        r#"nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\""#,
        r#"response=\"[0-9a-f]{32}\""#,
        r#"cnonce=\"[0-9a-f]+\""#,
        "qop=auth,",
        "nc=00000001",
        r#"opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""#,
    ]
    .iter()
    .enumerate()
    .map(|(i, re)| {
        format!(
            "      <ereg regexp=\"{re}\" search_in=\"hdr\" header=\"Proxy-Authorization:\" check_it=\"true\" assign_to=\"p{i}\"/>\n"
        )
    })
    .collect();
    let refs = "  <Reference variables=\"p0,p1,p2,p3,p4,p5,p6,p7\"/>\n";
    assert!(xml.contains(first_invite), "{xml}");
    let xml = xml.replacen(
        first_invite,
        &format!("{challenge}{first_invite}{checks}"),
        1,
    );
    let xml = xml.replacen(
        "  <Reference variables=\"uri\"/>\n",
        &format!("  <Reference variables=\"uri\"/>\n{refs}"),
        1,
    );
    // The BYE that ends the call is challenged too, and must come again with credentials.
    let bye = "  <recv request=\"BYE\" timeout=\"90000\"/>\n";
    let bye_challenge = r#"  <recv request="BYE" timeout="90000"/>
  <send>
    <![CDATA[

      SIP/2.0 407 Proxy Authentication Required
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Proxy-Authenticate: Digest realm="carrier", nonce="0a4f113b0a4f113b", qop="auth", algorithm=MD5
      Content-Length: 0

    ]]>
  </send>
  <recv request="BYE">
    <action>
      <ereg regexp="nonce=\"0a4f113b0a4f113b\"" search_in="hdr" header="Proxy-Authorization:" check_it="true" assign_to="b0"/>
    </action>
  </recv>
  <Reference variables="b0"/>
"#;
    assert!(xml.contains(bye), "{xml}");
    let xml = xml.replacen(bye, bye_challenge, 1);
    let path = citizen.with_file_name("citizen_behind_proxy_auth.xml");
    std::fs::write(&path, xml).expect("scenario");
    path
}

#[test]
fn behind_a_trunk_that_answers_407_the_robot_calls_with_credentials_and_the_ticket_closes() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let citizen = citizen(
        dir.path(),
        &[(2500, 1), (1500, 1), (1500, 1), (1500, 2)],
        None,
    );
    let scenario = citizen_behind_proxy_auth(&citizen);
    let messages = dir.path().join("messages.log");
    let sipp_run = traced_trunk(port, &scenario, &messages, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    let secret = dir.path().join("trunk.secret");
    std::fs::write(&secret, "trunk-secret\n").expect("secret");
    let engine = engine_with_credentials(
        port,
        &format!(
            "username = \"hotline\"\npassword_file = \"{}\"\nrealm = \"carrier\"\n",
            secret.display()
        ),
        1,
    );
    let id = awaiting_callback(&engine, "13900006666");
    let t = settled(&engine, &id, Duration::from_secs(60));
    assert_eq!(t["state"], "closed", "{t}\n{}", engine.log());
    assert_eq!(t["rating"], "basically_satisfied", "{t}");
    let made = event(&t, "callback_made");
    assert_eq!(made["method"], "robot", "{made}");
    assert_eq!(
        made["evidence"]["tries"][0]["outcome"], "answered",
        "{made}"
    );
    sipp_run.join().expect("sipp").assert_ok();
    // Two INVITEs on one call: the second with CSeq 2 and credentials whose response is
    // RFC 2617's, computed here from the password with MD5 alone.
    let invites = invites_received(&messages);
    assert_eq!(invites.len(), 2, "{invites:#?}");
    let call_id = |m: &str| {
        m.lines()
            .find(|l| l.starts_with("Call-ID:"))
            .map(str::to_owned)
    };
    assert_eq!(call_id(&invites[0]), call_id(&invites[1]));
    assert!(invites[1].contains("CSeq: 2 INVITE"), "{}", invites[1]);
    let request_uri = invites[1]
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .expect("request-uri")
        .to_string();
    let value = invites[1]
        .lines()
        .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
        .expect("Proxy-Authorization");
    let p = digest_params(value);
    assert_eq!(p["uri"], request_uri);
    let ha1 = md5_hex("hotline:carrier:trunk-secret");
    let ha2 = md5_hex(&format!("INVITE:{request_uri}"));
    let expected = md5_hex(&format!(
        "{ha1}:{}:{}:{}:auth:{ha2}",
        p["nonce"], p["nc"], p["cnonce"]
    ));
    assert_eq!(p["response"], expected, "{value}");
    // The challenged BYE came again, CSeq + 1, with the answer to its own challenge.
    let byes = requests_received(&messages, "BYE");
    assert_eq!(byes.len(), 2, "{byes:#?}");
    let value = byes[1]
        .lines()
        .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
        .expect("Proxy-Authorization on the second BYE");
    let b = digest_params(value);
    let ha2 = md5_hex(&format!("BYE:{}", b["uri"]));
    let bye_response = md5_hex(&format!(
        "{ha1}:0a4f113b0a4f113b:{}:{}:auth:{ha2}",
        b["nc"], b["cnonce"]
    ));
    assert_eq!(b["response"], bye_response, "{value}");
    // Neither the password nor the response is in the engine's log.
    let log = engine.log();
    assert!(
        !log.contains("trunk-secret") && !log.contains(&expected),
        "{log}"
    );
}

#[test]
fn right_credentials_pass_sipp_s_own_digest_check() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let messages = dir.path().join("messages.log");
    let scenario = root().join("tests/sipp/uas_trunk_auth.xml");
    let sipp_run = traced_trunk(port, &scenario, &messages, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let engine = engine_with_credentials(
        port,
        "username = \"hotline\"\npassword = \"trunk-secret\"\n",
        1,
    );
    let id = awaiting_callback(&engine, "13900007777");
    let t = settled(&engine, &id, Duration::from_secs(30));
    // SIPp's verifyauth took the credentials: the citizen's line was reached, and busy.
    let missed = event(&t, "callback_missed");
    assert_eq!(
        missed["evidence"]["tries"][0]["outcome"], "busy",
        "{missed}"
    );
    sipp_run.join().expect("sipp").assert_ok();
    assert_eq!(invites_received(&messages).len(), 2);
}

#[test]
fn a_wrong_trunk_password_ends_the_try_as_refused_after_exactly_one_retry_and_is_counted() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let messages = dir.path().join("messages.log");
    let scenario = root().join("tests/sipp/uas_trunk_auth.xml");
    let sipp_run = traced_trunk(port, &scenario, &messages, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let engine = engine_with_credentials(
        port,
        "username = \"hotline\"\npassword = \"not-the-secret\"\n",
        1,
    );
    let id = awaiting_callback(&engine, "13900008888");
    let t = settled(&engine, &id, Duration::from_secs(30));
    assert_eq!(t["state"], "awaiting_rating", "{t}");
    let missed = event(&t, "callback_missed");
    let tries = missed["evidence"]["tries"].as_array().expect("tries");
    assert_eq!(tries.len(), 1, "{missed}");
    assert_eq!(tries[0]["outcome"], "rejected", "{missed}");
    // SIPp's verifyauth refused the credentials (403) and saw no third INVITE.
    let run = sipp_run.join().expect("sipp");
    assert!(
        run.success,
        "{}\n{}\nmessages:\n{}\nengine:\n{}",
        run.stdout,
        run.stderr,
        std::fs::read_to_string(&messages).unwrap_or_default(),
        engine.log()
    );
    let invites = invites_received(&messages);
    assert_eq!(invites.len(), 2, "{invites:#?}");
    assert!(invites[1].contains("Authorization: Digest username=\"hotline\""));
    let (_, metrics) = engine.get("/metrics");
    assert!(
        metrics.contains("hotline_outbound_auth_failures_total{reason=\"rejected\"} 1"),
        "{metrics}"
    );
    assert!(
        engine
            .log()
            .contains("the trunk refused the hotline's credentials"),
        "{}",
        engine.log()
    );
}

#[test]
fn without_credentials_a_challenge_refuses_the_try_and_the_log_says_what_to_set() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let messages = dir.path().join("messages.log");
    let scenario = root().join("tests/sipp/uas_trunk_challenge.xml");
    let sipp_run = traced_trunk(port, &scenario, &messages, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let engine = engine_with_credentials(port, "", 1);
    let id = awaiting_callback(&engine, "13900009999");
    let t = settled(&engine, &id, Duration::from_secs(30));
    let missed = event(&t, "callback_missed");
    assert_eq!(
        missed["evidence"]["tries"][0]["outcome"], "rejected",
        "{missed}"
    );
    sipp_run.join().expect("sipp").assert_ok();
    assert_eq!(invites_received(&messages).len(), 1);
    assert!(
        engine
            .log()
            .contains("the trunk asks for credentials: set [trunk] username and password"),
        "{}",
        engine.log()
    );
    let (_, metrics) = engine.get("/metrics");
    assert!(
        metrics.contains("hotline_outbound_auth_failures_total{reason=\"no_credentials\"} 1"),
        "{metrics}"
    );
}
