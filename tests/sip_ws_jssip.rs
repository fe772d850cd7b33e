//! Issue 18: a standard browser SIP client against the engine's SIP over WebSocket. JsSIP
//! (npm, pinned in `tests/browser/package.json`, tests only) in Debian's headless Chromium
//! (`tests/browser/jssip.mjs`) registers agent 1001 over `ws://127.0.0.1:<port>/ws` with its
//! password from `config/agents.toml` (digest, MD5 as JsSIP speaks it), a wrong password is
//! refused (`registrationFailed`), a page of another origin cannot open the socket, and the
//! ACD's INVITE for a SIPp citizen who pressed 1 reaches JsSIP down its WebSocket (it rings,
//! then declines: the answered call is `tests/webrtc_call_jssip.rs`).

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::pages::start_page;
use common::{http_request, shipped_password, sipp, wait_for, Engine};

fn registered(engine: &Engine, id: &str) -> Option<bool> {
    let (_, body) = http_request(
        engine.http,
        "GET",
        "/api/agents",
        Some("demo-supervisor"),
        None,
    );
    let list: serde_json::Value = serde_json::from_str(&body).ok()?;
    list.as_array()?
        .iter()
        .find(|a| a["id"] == id)?
        .get("registered")?
        .as_bool()
}

fn metric(engine: &Engine, series: &str) -> f64 {
    let (_, body) = engine.get("/metrics");
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{series} in /metrics:\n{body}"))
}

#[test]
fn jssip_in_chromium_registers_over_websocket_and_a_wrong_password_or_origin_is_refused() {
    let engine = Engine::start("");
    let base = format!("http://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let done = tmp.path().join("done");
    let password = shipped_password("1001");
    let page = start_page(
        "jssip",
        &base,
        "-",
        tmp.path(),
        &["1001", &password, done.to_str().expect("utf-8 path")],
    );
    let wrong = page.expect("WRONG", Duration::from_secs(60), &engine);
    let status: u16 = wrong
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(matches!(status, 401 | 403), "{wrong}");
    assert_eq!(registered(&engine, "1001"), Some(false));
    assert!(
        engine
            .log()
            .contains("authentication failed: 127.0.0.1 as \"1001\""),
        "the refusal is logged"
    );

    let origin = page.expect("ORIGIN", Duration::from_secs(20), &engine);
    assert_eq!(origin, "ORIGIN 1006", "the browser saw the handshake fail");
    assert_eq!(
        metric(
            &engine,
            "hotline_sip_ws_handshakes_refused_total{reason=\"origin\"}"
        ),
        1.0
    );

    let ok = page.expect("REGISTERED", Duration::from_secs(20), &engine);
    assert!(ok.contains(".invalid"), "JsSIP's Contact: {ok}");
    assert_eq!(
        wait_for(Duration::from_secs(5), || registered(&engine, "1001")
            .filter(|r| *r)),
        Some(true),
        "the engine holds 1001's binding; log:\n{}",
        engine.log()
    );
    assert!(metric(&engine, "hotline_connections_open{listener=\"sip_ws\"}") >= 1.0);

    // A citizen presses 1: the ACD's INVITE reaches JsSIP down its WebSocket and it rings.
    let (status, body) = http_request(
        engine.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");
    let target = engine.sip;
    let caller = std::thread::spawn(move || {
        sipp(
            target,
            "uac_ivr_enterprise.xml",
            &["-m", "1", "-d", "6000"],
            Duration::from_secs(40),
        )
    });
    let ringing = page.expect("RINGING", Duration::from_secs(30), &engine);
    assert!(
        ringing.contains("****"),
        "the caller's number is masked: {ringing}"
    );
    let call = engine
        .call_where(Duration::from_secs(5), |c| {
            c["state"] == "ringing" && c["offered_to"] == "1001"
        })
        .unwrap_or_else(|| panic!("the engine saw JsSIP ring; log:\n{}", engine.log()));
    // JsSIP declines: the 486 comes back up the WebSocket and the call goes back to waiting.
    std::fs::write(done.with_extension("decline"), "decline").expect("tell the page");
    page.expect("DECLINED", Duration::from_secs(10), &engine);
    engine
        .call_where(Duration::from_secs(5), |c| {
            c["id"] == call["id"] && c["state"] == "queued"
        })
        .unwrap_or_else(|| panic!("back in the queue after the 486; log:\n{}", engine.log()));
    caller.join().expect("sipp thread").assert_ok();
    std::fs::write(&done, "done").expect("tell the page");
    page.expect("UNREGISTERED", Duration::from_secs(20), &engine);
    assert_eq!(
        wait_for(Duration::from_secs(5), || registered(&engine, "1001")
            .filter(|r| !*r)),
        Some(false)
    );
}

#[test]
fn jssip_in_chromium_registers_over_wss_when_the_listener_has_a_certificate() {
    let certs = tempfile::tempdir().expect("temp dir");
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("self-signed certificate");
    let (cert_path, key_path) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, signing_key.serialize_pem()).expect("write key");
    let engine = Engine::start(&format!(
        "[http]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert_path.display(),
        key_path.display()
    ));
    let base = format!("https://{}", engine.http);
    let tmp = tempfile::tempdir().expect("temp dir");
    let done = tmp.path().join("done");
    let password = shipped_password("1001");
    let page = start_page(
        "jssip",
        &base,
        "-",
        tmp.path(),
        &[
            "1001",
            &password,
            done.to_str().expect("utf-8 path"),
            "only-register",
        ],
    );
    let ok = page.expect("REGISTERED", Duration::from_secs(60), &engine);
    assert!(ok.contains(".invalid"), "JsSIP's Contact: {ok}");
    page.expect("UNREGISTERED", Duration::from_secs(20), &engine);
    let log = engine.log();
    assert!(
        log.contains("registered user=1001") && log.contains("transport=ws"),
        "registered over WSS; log:\n{log}"
    );
}
