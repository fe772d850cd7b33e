//! Integrated numbers (issue 21) against the real engine: SIPp calls 12315 and 12333, each
//! hears its notice first (the RTP it receives is the notice prompt's frames, in order) and
//! waits in its configured queue without a menu; a baresip agent of the market skill answers
//! 12315; the record, the draft ticket and the per-number KPIs carry the number, also after
//! a restart; a call to 12345 still walks the entry menu.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::baresip::start_baresip;
use common::tone_calls::registered_and_ready;
use common::{http_request, sipp, wait_for, Engine};
use hotline::media::codec::Codec;
use hotline::media::prompt::Prompt;

/// The engine's config: SIPp stands for the carrier's trunk (it sends no RTP of its own, so
/// its SDP address must be believed), and the shipped integrated numbers.
const CONFIG: &str = r#"[sip]
trunks = ["127.0.0.1"]
service_numbers = ["12345", "12315", "12333"]

[numbers.12315]
name = "12315 市场监管"
queue = "market"
notice = { file = "notice-12315.wav", purpose = "information" }

[numbers.12333]
name = "12333 人社服务"
queue = "hrss"
notice = { file = "notice-12333.wav", purpose = "information" }
"#;

fn prompt(name: &str) -> std::sync::Arc<Prompt> {
    let path = common::root().join("ivr-menus/prompts").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Prompt::decode(name, &bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// The payloads of the RTP packets arriving on `socket` for `window`.
fn heard(socket: &UdpSocket, window: Duration) -> Vec<Vec<u8>> {
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let end = Instant::now() + window;
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            // 12-byte header, no CSRC or extension from the engine; PCMU only (pt 0).
            if n > 12 && buf[1] & 0x7f == 0 {
                out.push(buf[12..n].to_vec());
            }
        }
    }
    out
}

/// Asserts the caller heard `name` from its start: the first packet that carries any of the
/// prompt's opening frames is followed by the next `count` frames of it, in order.
fn assert_heard_first(payloads: &[Vec<u8>], name: &str, count: usize) {
    let p = prompt(name);
    let frames: Vec<&[u8]> = (0..p.frame_count())
        .filter_map(|i| p.frame(Codec::Pcmu, i))
        .collect();
    assert!(frames.len() > count + 10, "{name} is long enough");
    // The opening frames hold the 100 ms lead-in; start at the first that is heard.
    let (at, first) = payloads
        .iter()
        .enumerate()
        .find_map(|(i, got)| {
            frames[..10]
                .iter()
                .position(|f| *f == got.as_slice())
                .map(|j| (i, j))
        })
        .unwrap_or_else(|| {
            panic!(
                "none of {name}'s opening frames heard in {} packets",
                payloads.len()
            )
        });
    assert!(at < 25, "{name} started only after {at} packets");
    let same = payloads[at..]
        .iter()
        .zip(&frames[first..])
        .take(count)
        .filter(|(got, want)| got.as_slice() == **want)
        .count();
    assert_eq!(same, count, "the caller heard {name}, frame after frame");
}

fn json(engine: &Engine, path: &str) -> serde_json::Value {
    let (status, body) = engine.get(path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// The `last_24h` of `/api/stats?number=…`.
fn rates_of(engine: &Engine, number: &str) -> serde_json::Value {
    let board = json(engine, &format!("/api/stats?number={number}"));
    assert_eq!(board["number"], number, "{board}");
    board["last_24h"].clone()
}

/// SIPp calls `number`, listening on a fresh RTP socket, staying `hold_ms` after the answer.
fn call(
    engine: &Engine,
    number: &'static str,
    hold_ms: u32,
) -> (UdpSocket, std::thread::JoinHandle<common::SippRun>) {
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("rtp socket");
    let port = rtp.local_addr().expect("addr").port().to_string();
    let target = engine.sip;
    let hold = hold_ms.to_string();
    let run = std::thread::spawn(move || {
        sipp(
            target,
            "uac_listen.xml",
            &[
                "-s", number, "-m", "1", "-d", &hold, "-key", "rtp_port", &port,
            ],
            Duration::from_secs(40),
        )
    });
    (rtp, run)
}

#[test]
fn integrated_numbers_reach_their_queues_after_their_notice_and_are_counted_per_number() {
    let mut engine = Engine::start(CONFIG);
    let phone_dir = tempfile::tempdir().expect("temp dir");
    let _phone = start_baresip(phone_dir.path(), engine.sip);

    // 12315: the notice, then the market queue, no menu. The agent is not ready yet, so the
    // caller waits and hears the notice from its first frame.
    let (rtp, caller) = call(&engine, "12315", 9000);
    let audio = heard(&rtp, Duration::from_millis(2500));
    assert_heard_first(&audio, "notice-12315.wav", 60);
    let waiting = engine
        .call_where(Duration::from_secs(5), |c| c["called"] == "12315")
        .unwrap_or_else(|| panic!("no live call to 12315; log:\n{}", engine.log()));
    assert_eq!(waiting["state"], "queued", "{waiting}");
    assert_eq!(waiting["queue"], "market", "{waiting}");
    assert_eq!(waiting["called_name"], "12315 市场监管", "{waiting}");
    assert_eq!(waiting["menu_path"], serde_json::json!([]), "{waiting}");
    // The wallboard's waiting list names the number too.
    let board = json(&engine, "/api/wallboard");
    let listed = board["waiting_calls"]
        .as_array()
        .map(|a| a.iter().any(|c| c["called"] == "12315"));
    assert_eq!(listed, Some(true), "{board}");

    // Agent 1001 (high_frequency:market) goes ready and answers.
    registered_and_ready(&engine, "1001", || {
        std::fs::read_to_string(phone_dir.path().join("baresip.log")).unwrap_or_default()
    });
    let talking = engine
        .call_where(Duration::from_secs(15), |c| {
            c["called"] == "12315" && c["state"] == "talking"
        })
        .unwrap_or_else(|| panic!("1001 never answered 12315; log:\n{}", engine.log()));
    assert_eq!(talking["agent"], "1001");
    assert_eq!(talking["queue"], "market");
    let ticket = engine
        .call_where(Duration::from_secs(5), |c| {
            c["called"] == "12315" && c["ticket"].is_string()
        })
        .and_then(|c| c["ticket"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no draft ticket; log:\n{}", engine.log()));
    let (status, body) = http_request(
        engine.http,
        "GET",
        &format!("/api/tickets/{ticket}"),
        Some("demo-agent-1001"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let draft: serde_json::Value = serde_json::from_str(&body).expect("ticket json");
    assert_eq!(draft["number"], "12315", "{draft}");
    caller.join().expect("sipp thread").assert_ok();

    // 12333: its own notice, then the hrss queue, where nobody of that skill is ready; the
    // caller gives up after 4 s (an abandon of 12333's).
    let (rtp, caller) = call(&engine, "12333", 4000);
    let audio = heard(&rtp, Duration::from_millis(2000));
    assert_heard_first(&audio, "notice-12333.wav", 50);
    let waiting = engine
        .call_where(Duration::from_secs(5), |c| c["called"] == "12333")
        .unwrap_or_else(|| panic!("no live call to 12333; log:\n{}", engine.log()));
    assert_eq!(waiting["queue"], "hrss", "{waiting}");
    caller.join().expect("sipp thread").assert_ok();

    // 12345 still walks the entry menu: the greeting, no queue.
    let (rtp, caller) = call(&engine, "12345", 3000);
    let audio = heard(&rtp, Duration::from_millis(1500));
    assert_heard_first(&audio, "greeting.wav", 40);
    let menu = engine
        .call_where(Duration::from_secs(5), |c| c["called"] == "12345")
        .unwrap_or_else(|| panic!("no live call to 12345; log:\n{}", engine.log()));
    assert_eq!(menu["state"], "ivr", "{menu}");
    assert!(menu["queue"].is_null(), "{menu}");
    caller.join().expect("sipp thread").assert_ok();

    // Records and tickets carry the number.
    let records = wait_for(Duration::from_secs(10), || {
        let r = json(&engine, "/api/calls/recent");
        (r.as_array()?.len() >= 3).then_some(r)
    })
    .unwrap_or_else(|| panic!("three records; log:\n{}", engine.log()));
    let record = |n: &str| {
        records
            .as_array()
            .and_then(|a| a.iter().find(|r| r["called"] == n).cloned())
            .unwrap_or_else(|| panic!("no record of {n}: {records}"))
    };
    assert_eq!(record("12315")["answered_queue"], "market");
    assert_eq!(record("12315")["called_name"], "12315 市场监管");
    assert_eq!(record("12333")["queue"], "hrss");
    assert_eq!(record("12333")["outcome"], "abandoned_in_queue");
    let list = json(&engine, "/api/tickets?number=12315");
    let ids: Vec<&str> = list["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [ticket.as_str()], "{list}");
    assert_eq!(list["items"][0]["number"], "12315");
    let none = json(&engine, "/api/tickets?number=12333");
    assert_eq!(none["items"], serde_json::json!([]), "{none}");

    // Per-number KPIs: 12315 answered within 15 s, 12333 abandoned; 12345 never asked for a
    // person (still in the menu when it hung up), so it has no counted call.
    let check = |engine: &Engine, when: &str| {
        let market = rates_of(engine, "12315");
        assert_eq!(
            (market["answered"].as_u64(), market["counted"].as_u64()),
            (Some(1), Some(1)),
            "{when}: {market}"
        );
        assert_eq!(market["answer_rate_15s"], 1.0, "{when}: {market}");
        assert_eq!(market["connection_rate"], 1.0, "{when}: {market}");
        let hrss = rates_of(engine, "12333");
        assert_eq!(hrss["abandoned"], 1, "{when}: {hrss}");
        assert_eq!(hrss["connection_rate"], 0.0, "{when}: {hrss}");
        assert_eq!(rates_of(engine, "12345")["counted"], 0, "{when}");
        let overall = json(engine, "/api/stats");
        assert_eq!(overall["last_24h"]["counted"], 2, "{when}: {overall}");
        let numbers: Vec<&str> = overall["by_number"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["number"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(numbers, ["12315", "12333"], "{when}: {overall}");
        let (status, csv) = engine.get("/api/stats/numbers?format=csv");
        assert_eq!(status, 200, "{csv}");
        assert!(csv.contains("\n12315,1,1,1,0,"), "{when}: {csv}");
        assert!(csv.contains("\n12333,1,0,0,1,"), "{when}: {csv}");
        let (_, metrics) = engine.get("/metrics");
        assert!(
            metrics.contains(
                "hotline_kpi_calls_by_number{number=\"12315\",period=\"24h\",result=\"answered\"} 1"
            ),
            "{when}: {metrics}"
        );
    };
    check(&engine, "live");
    // The wallboard (Chromium) shows each number's two rates under the overall ones.
    let tmp = tempfile::tempdir().expect("temp dir");
    let page = common::pages::start_page(
        "numbers",
        &format!("http://{}", engine.http),
        "demo-wallboard",
        tmp.path(),
        &[],
    );
    let line = page.expect("BYNUMBER", Duration::from_secs(60), &engine);
    assert!(
        line.contains("12315 100.0% / 100.0%") && line.contains("12333 0.0% / 0.0%"),
        "{line}"
    );
    page.expect("A11Y", Duration::from_secs(30), &engine);

    // After a restart the per-number figures are rebuilt from the record files.
    assert_eq!(engine.terminate(), Some(0), "log:\n{}", engine.log());
    let data = std::mem::replace(&mut engine.data_dir, tempfile::tempdir().expect("temp dir"));
    std::fs::remove_dir_all(data.path().join("project")).expect("old project");
    let engine = Engine::start_in(data, CONFIG, &[], &[]);
    check(&engine, "after a restart");
    // The record and the ticket keep the number across the restart too.
    let recent = json(&engine, "/api/calls/recent");
    let kept = recent.as_array().is_some_and(|a| {
        a.iter()
            .any(|r| r["called"] == "12315" && r["called_name"] == "12315 市场监管")
    });
    assert!(kept, "{recent}");
    let list = json(&engine, "/api/tickets?number=12315");
    assert_eq!(list["items"][0]["id"], ticket.as_str(), "{list}");
    let (status, body) = engine.get("/api/stats?number=12%2015");
    assert_eq!(status, 400, "{body}");

    // SIGHUP: a number added to the configuration is answered at once, routed by its table.
    let path = engine.data_dir.path().join("project/config/hotline.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let text = text.replace("\"12333\"]", "\"12333\", \"12366\"]")
        + "\n[numbers.12366]\nname = \"12366 test\"\nqueue = \"general\"\n";
    std::fs::write(&path, text).expect("write config");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &engine.pid().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(status.success());
    wait_for(Duration::from_secs(10), || {
        engine.log().contains("reloaded: ").then_some(())
    })
    .unwrap_or_else(|| panic!("no reload; log:\n{}", engine.log()));
    let (_rtp, caller) = call(&engine, "12366", 2000);
    let added = engine
        .call_where(Duration::from_secs(5), |c| c["called"] == "12366")
        .unwrap_or_else(|| panic!("12366 not answered after SIGHUP; log:\n{}", engine.log()));
    assert_eq!(added["queue"], "general", "{added}");
    assert_eq!(added["called_name"], "12366 test", "{added}");
    caller.join().expect("sipp thread").assert_ok();
}
