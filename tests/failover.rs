//! Issue 19: two engines behind Kamailio, leadership and shared state in PostgreSQL. Agent
//! 1001's baresip registers through Kamailio and is made ready; SIPp callers reach 1001
//! through Kamailio; the active engine is killed with SIGKILL while calls are live; new calls
//! are answered by the other engine within 5 s (the gap is measured and printed), and 1001
//! rings there without registering again; every ticket acknowledged before the kill is on the
//! other engine, the cut calls are closed there as `lost_in_failover`, and its wallboard shows
//! the same figures for the earlier calls. Every process is on 127.0.0.1 and stopped by PID.

mod common;

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::ports::{lease, PortBlock};
use common::postgres::Postgres;
use common::proc::{callers, project, Callers, Proc};
use common::ticket_writers::TicketWriters;
use common::{http_request, root, sipp, wait_for};

/// Kamailio from `deploy/kamailio/kamailio.cfg`, on the test's own port and dispatcher list,
/// killed by PID when dropped.
struct Kamailio {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _ports: PortBlock,
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // Kamailio forks its workers even with -DD: stop the whole process group it leads,
        // or they outlive the test.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let stopped = wait_for(Duration::from_secs(3), || {
            self.child.try_wait().ok().flatten()
        });
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        if stopped.is_none() {
            let _ = self.child.wait();
        }
    }
}

impl Kamailio {
    fn start(dir: &Path, engines: &[(SocketAddr, u32)]) -> Kamailio {
        assert!(
            Command::new("kamailio").arg("-v").output().is_ok(),
            "kamailio is not installed: run ./.ci/test (it installs Debian's kamailio)"
        );
        let ports = lease();
        let addr: SocketAddr = format!("127.0.0.1:{}", ports.first).parse().expect("addr");
        let list = dir.join("engines.list");
        let lines: String = engines
            .iter()
            .map(|(a, prio)| format!("1 sip:{a} 0 {prio}\n"))
            .collect();
        std::fs::write(&list, lines).expect("dispatcher list");
        let log = dir.join("kamailio.log");
        let child = Command::new("kamailio")
            .arg("-f")
            .arg(root().join("deploy/kamailio/kamailio.cfg"))
            .arg("-A")
            .arg(format!("KAM_DS_LIST=\"{}\"", list.display()))
            .arg("-A")
            .arg(format!("KAM_LISTEN=udp:{addr}"))
            .arg("-A")
            .arg(format!("KAM_CTL=\"unix:{}\"", dir.join("ctl").display()))
            .arg("-Y")
            .arg(dir)
            .arg("-P")
            .arg(dir.join("kamailio.pid"))
            .args(["-DD", "-E", "-m", "64", "-M", "8"])
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start kamailio");
        Kamailio {
            child,
            addr,
            log,
            _ports: ports,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// One engine's project folder, clustered on `url` as `node`.
fn engine(dir: &Path, node: &str, url: &str) -> Proc {
    let ports = lease();
    let config = project(dir, ports.first);
    let mut toml = std::fs::read_to_string(&config).expect("config");
    toml.push_str(&format!(
        "[storage]\nurl = \"{url}\"\n[cluster]\nenabled = true\nnode = \"{node}\"\n"
    ));
    std::fs::write(&config, toml).expect("config");
    let data = dir.join("data");
    let proc = Proc::start(&config, &data, dir.join("engine.log"));
    std::mem::forget(ports); // the block stays leased for the test process's life
    proc
}

fn role(p: &Proc) -> Option<String> {
    let (status, body) = http_request(p.http, "GET", "/api/health", None, None);
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    v["cluster"]["role"].as_str().map(str::to_owned)
}

/// Whether `p` has a live call talking to agent 1001.
fn talking_to_1001(p: &Proc) -> bool {
    let (status, body) = http_request(p.http, "GET", "/api/calls", Some("demo-supervisor"), None);
    status == 200
        && serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .is_some_and(|calls| {
                calls
                    .iter()
                    .any(|c| c["agent"] == "1001" && c["state"] == "talking")
            })
}

/// The wallboard's counts over the last 24 h (the rates follow from them).
fn counts_24h(p: &Proc) -> Vec<(&'static str, u64)> {
    let board = p.get("/api/wallboard");
    let day = &board["last_24h"];
    [
        "offered",
        "answered",
        "answered_within_15s",
        "abandoned",
        "counted",
    ]
    .into_iter()
    .map(|k| {
        let n = day[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in the wallboard: {board}"));
        (k, n)
    })
    .collect()
}

/// The tickets of the web requests on the wallboard (waiting, or offered to a desk).
fn web_items_of(p: &Proc) -> Vec<String> {
    p.get("/api/wallboard")["waiting_web"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["ticket"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn registers_received(p: &Proc) -> f64 {
    p.metric("hotline_sip_requests_total{direction=\"received\",method=\"REGISTER\"}")
}

#[test]
fn the_standby_takes_calls_within_5_s_of_a_kill_9_and_rings_1001_without_a_new_register() {
    let _turn = common::ports::turn("failover");
    let pg = Postgres::start();
    let url = pg.create_database("hotline");
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir_a, dir_b, dir_k) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("k"),
    );
    for d in [&dir_a, &dir_b, &dir_k] {
        std::fs::create_dir_all(d).expect("mkdir");
    }

    let mut a = engine(&dir_a, "hotline-a", &url);
    wait_for(Duration::from_secs(10), || {
        (role(&a).as_deref() == Some("active")).then_some(())
    })
    .unwrap_or_else(|| panic!("A becomes active; log:\n{}", a.log()));
    let b = engine(&dir_b, "hotline-b", &url);
    wait_for(Duration::from_secs(10), || {
        (role(&b).as_deref() == Some("standby")).then_some(())
    })
    .unwrap_or_else(|| panic!("B stays standby; log:\n{}", b.log()));
    // B answers even its probes 503, so Kamailio never picks it while A is up.
    assert_eq!(role(&a).as_deref(), Some("active"));

    let kam = Kamailio::start(&dir_k, &[(a.sip, 10), (b.sip, 5)]);
    // Two probe rounds: A up, B marked inactive.
    std::thread::sleep(Duration::from_millis(2500));

    // Agent 1001's phone registers through Kamailio (its Path names Kamailio) to A.
    let phone_dir = tempfile::tempdir().expect("tmp");
    let phone = common::baresip::start_baresip_with(
        phone_dir.path(),
        &format!(
            "<sip:1001@{};transport=udp>;auth_pass=demo-1001;regint=600;answermode=auto\n",
            kam.addr
        ),
    );
    wait_for(Duration::from_secs(15), || {
        let agents = a.get("/api/agents");
        let one = agents
            .as_array()?
            .iter()
            .find(|x| x["id"] == "1001")?
            .clone();
        (one["registered"] == true).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "1001 registers on A through Kamailio; A:\n{}\nkamailio:\n{}",
            a.log(),
            kam.log()
        )
    });
    let (status, body) = http_request(
        a.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");

    // An earlier call: a citizen talks to 1001 and hangs up (an answered call on the board).
    let earlier = sipp(
        kam.addr,
        "uac_ivr_enterprise.xml",
        &["-m", "1", "-d", "1000"],
        Duration::from_secs(30),
    );
    assert!(earlier.success, "the earlier call; A:\n{}", a.log());
    let (status, body) = http_request(
        a.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");

    // A citizen reaches 1001 through Kamailio: the INVITE to the phone went back through it.
    let mut live = Callers(Vec::new());
    live.0
        .push(callers(kam.addr, "uac_ivr_enterprise.xml", 1, 60_000));
    wait_for(Duration::from_secs(20), || {
        talking_to_1001(&a).then_some(())
    })
    .unwrap_or_else(|| panic!("1001 talks on A; A:\n{}\nkamailio:\n{}", a.log(), kam.log()));
    // More callers in the menu while the kill comes; the state reaches PostgreSQL.
    live.0.push(callers(kam.addr, "uac_call.xml", 3, 60_000));
    std::thread::sleep(Duration::from_millis(1500));
    let b_registers_before = registers_received(&b);
    let board_before = counts_24h(&a);
    assert_eq!(board_before[1], ("answered", 2), "{board_before:?}");
    // A citizen's web request waits on A; the standby holds no web items.
    let (status, receipt) = http_request(
        a.http,
        "POST",
        "/api/public/requests",
        None,
        Some(r#"{"content":"路灯坏了","type":"help","callback_consent":false}"#),
    );
    assert_eq!(status, 201, "{receipt}");
    let web_request = serde_json::from_str::<serde_json::Value>(&receipt).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_for(Duration::from_secs(5), || {
        web_items_of(&a).contains(&web_request).then_some(())
    })
    .unwrap_or_else(|| panic!("the web request waits on A: {}", a.get("/api/wallboard")));
    assert_eq!(web_items_of(&b), Vec::<String>::new());

    // SIGKILL the active engine with calls live and tickets being written.
    let writers = TicketWriters::start(a.http, 2);
    wait_for(Duration::from_secs(30), || {
        (writers.acknowledged() >= 20).then_some(())
    })
    .unwrap_or_else(|| panic!("20 tickets on A; log:\n{}", a.log()));
    a.kill_9();
    let killed = hotline::shell::clock::now();
    let mut answered_after = None;
    let mut tries = 0;
    while killed.elapsed() < Duration::from_secs(15) {
        tries += 1;
        let run = sipp(
            kam.addr,
            "uac_call.xml",
            &["-m", "1", "-d", "200"],
            Duration::from_secs(4),
        );
        if run.success {
            answered_after = Some(killed.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let gap = answered_after.unwrap_or_else(|| {
        panic!(
            "no call answered after the kill ({tries} tries); B:\n{}\nkamailio:\n{}",
            b.log(),
            kam.log()
        )
    });
    println!(
        "failover gap: first new call answered {:.2} s after SIGKILL of the active engine ({tries} tries)",
        gap.as_secs_f64()
    );
    assert!(gap <= Duration::from_secs(5), "gap {gap:?} > 5 s");
    assert_eq!(role(&b).as_deref(), Some("active"));
    assert_eq!(b.metric("hotline_cluster_failovers_total"), 1.0);

    // Every ticket A acknowledged is on B.
    let acked = writers.join();
    for id in &acked {
        let (status, body) = http_request(
            b.http,
            "GET",
            &format!("/api/tickets/{id}"),
            Some("demo-supervisor"),
            None,
        );
        assert_eq!(status, 200, "{id} acknowledged by A, lost: {body}");
    }
    // The calls A was serving are closed on B as lost_in_failover: 1001's (answered, so
    // still an answered call on the board) and the three in the menu (not counted).
    let recent = b.get("/api/calls/recent?limit=100");
    let lost: Vec<_> = recent
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["outcome"] == "lost_in_failover")
        .cloned()
        .collect();
    assert_eq!(lost.len(), 4, "lost calls on B: {recent}");
    assert!(
        lost.iter()
            .any(|r| r["agent"] == "1001" && !r["connected_at"].is_null()),
        "1001's call among the lost: {lost:?}"
    );
    assert_eq!(
        b.metric(r#"hotline_calls_ended_total{outcome="lost_in_failover"}"#),
        4.0
    );
    assert_eq!(b.metric("hotline_shared_calls_dropped_total"), 0.0);
    // The records A wrote are read on B: the earlier call is in B's period query.
    let now = hotline::shell::clock::wall_now();
    let period = format!(
        "/api/calls/recent?from={}&to={}",
        (now - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (now + chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let in_period = b.get(&period);
    assert!(
        in_period
            .as_array()
            .expect("records")
            .iter()
            .any(|r| r["outcome"] == "answered" && r["agent"] == "1001"),
        "A's earlier call read on B: {in_period}"
    );
    // The wallboard on B shows what A showed for the calls before the kill, and the web
    // request waiting on A waits on B.
    assert_eq!(
        counts_24h(&b),
        board_before,
        "B's board vs A's before the kill"
    );
    wait_for(Duration::from_secs(5), || {
        web_items_of(&b).contains(&web_request).then_some(())
    })
    .unwrap_or_else(|| panic!("the web request waits on B; B:\n{}", b.log()));
    println!(
        "{} tickets acknowledged by A before the kill, all on B; 4 calls lost_in_failover; board {board_before:?} on both",
        acked.len()
    );

    // 1001 is registered and ready on B from the shared state: a new caller reaches it
    // without the phone registering again.
    let agent = wait_for(Duration::from_secs(5), || {
        let agents = b.get("/api/agents");
        let one = agents
            .as_array()?
            .iter()
            .find(|x| x["id"] == "1001")?
            .clone();
        (one["registered"] == true).then_some(one)
    })
    .unwrap_or_else(|| panic!("1001 registered on B; B:\n{}", b.log()));
    // 1001 was talking when A died: back as not ready (paperwork), as after a restart
    // (call::persist); the supervisor makes them ready once the dead call is hung up.
    assert_eq!(agent["state"], "not_ready", "{agent}");
    assert_eq!(agent["reason"], "paperwork", "{agent}");
    phone.command("hangup", "");
    let (status, body) = http_request(
        b.http,
        "POST",
        "/api/agents/1001/state",
        Some("demo-supervisor"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(status, 204, "{body}");
    live.0
        .push(callers(kam.addr, "uac_ivr_enterprise.xml", 1, 60_000));
    wait_for(Duration::from_secs(20), || {
        talking_to_1001(&b).then_some(())
    })
    .unwrap_or_else(|| panic!("1001 talks on B; B:\n{}\nkamailio:\n{}", b.log(), kam.log()));
    assert_eq!(
        registers_received(&b),
        b_registers_before,
        "the phone registered again"
    );
    drop(live);
}

/// The status line of the answer to one OPTIONS sent to `to`.
fn options_status(to: SocketAddr) -> Option<String> {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
    sock.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let me = sock.local_addr().ok()?;
    let req = format!(
        "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-probe{}\r\nFrom: <sip:probe@{me}>;tag=p\r\nTo: <sip:{to}>\r\nCall-ID: probe-{}@{me}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        me.port(),
        me.port()
    );
    sock.send_to(req.as_bytes(), to).ok()?;
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    text.lines().next().map(str::to_owned)
}

#[test]
fn an_active_engine_that_loses_its_database_session_stops_taking_calls_and_comes_back() {
    let mut pg = Postgres::start();
    let url = pg.create_database("hotline");
    let tmp = tempfile::tempdir().expect("tmp");
    let a = engine(tmp.path(), "hotline-a", &url);
    wait_for(Duration::from_secs(10), || {
        (role(&a).as_deref() == Some("active")).then_some(())
    })
    .unwrap_or_else(|| panic!("A becomes active; log:\n{}", a.log()));
    assert_eq!(options_status(a.sip).as_deref(), Some("SIP/2.0 200 OK"));

    // The database dies: the session that held the lock is gone, so A can no longer know it
    // is the only active engine and must stop taking calls at once.
    pg.kill_9();
    let lost = hotline::shell::clock::now();
    wait_for(Duration::from_secs(5), || {
        (role(&a).as_deref() == Some("standby")).then_some(())
    })
    .unwrap_or_else(|| panic!("A steps down; log:\n{}", a.log()));
    println!(
        "stepped down {:.2} s after the database was killed",
        lost.elapsed().as_secs_f64()
    );
    assert_eq!(
        options_status(a.sip).as_deref(),
        Some("SIP/2.0 503 Standby")
    );
    let (_, health) = http_request(a.http, "GET", "/api/health", None, None);
    assert!(health.contains("\"store\":\"unreachable\""), "{health}");
    assert_eq!(a.metric("hotline_cluster_step_downs_total"), 1.0);

    // The database is back: A takes the free lock again (not a failover: nobody else held it).
    pg.restart();
    wait_for(Duration::from_secs(15), || {
        (role(&a).as_deref() == Some("active")).then_some(())
    })
    .unwrap_or_else(|| panic!("A active again; log:\n{}", a.log()));
    assert_eq!(options_status(a.sip).as_deref(), Some("SIP/2.0 200 OK"));
    assert_eq!(a.metric("hotline_cluster_failovers_total"), 0.0);
}
