//! Interop: a real baresip registers against the pure registrar core, driven by a tiny UDP
//! loop on 127.0.0.1 (no engine). Account 1001 has the right password and must end up
//! bound; 1002 has a wrong one and must get 403 after the challenge. On SIGINT baresip
//! unregisters (`Expires: 0`) and the binding goes. Bounded in time; baresip is stopped by
//! its PID. Skipped (with a note) when baresip is not installed.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hotline::shell::clock::now;
use hotline::sip::message::{stamp_received, Message};
use hotline::sip::parse::parse_datagram;
use hotline::sip::registrar::{
    Flow, MemoryCredentials, Registrar, RegistrarConfig, RegistrarEvent,
};

/// Kills baresip by PID when the test ends, however it ends.
struct Baresip(Child);

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn baresip_available() -> bool {
    Command::new("baresip")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
        && Path::new("/usr/lib/baresip/modules/account.so").exists()
}

fn write_config(dir: &Path, listen: u16, registrar: SocketAddr) {
    let config = format!(
        "poll_method\t\tepoll\n\
         sip_listen\t\t127.0.0.1:{listen}\n\
         sip_trans_def\t\tudp\n\
         net_interface\t\t127.0.0.1\n\
         module_path\t\t/usr/lib/baresip/modules\n\
         module\t\t\tg711.so\n\
         module_app\t\taccount.so\n"
    );
    std::fs::write(dir.join("config"), config).expect("write baresip config");
    let accounts = format!(
        "<sip:1001@{registrar};transport=udp>;auth_pass=demo-1001;regint=60\n\
         <sip:1002@{registrar};transport=udp>;auth_pass=not-the-password;regint=60\n"
    );
    std::fs::write(dir.join("accounts"), accounts).expect("write baresip accounts");
}

/// Feeds every REGISTER from the socket into the registrar until `done` says so or
/// `limit` passes; collects the events. The registrar gets the shell's clock, as it would
/// in the engine.
fn pump(
    sock: &UdpSocket,
    reg: &mut Registrar<()>,
    limit: Duration,
    events: &mut Vec<RegistrarEvent>,
    done: impl Fn(&[RegistrarEvent]) -> bool,
) {
    let deadline = now() + limit;
    let mut buf = vec![0u8; 65_535];
    while !done(events) && now() < deadline {
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => panic!("recv: {e}"),
        };
        let now = now();
        let Ok(Message::Request(mut req)) = parse_datagram(&buf[..n]) else {
            continue;
        };
        stamp_received(&mut req, from);
        let resp = reg.handle_register(
            &req,
            Flow {
                addr: from,
                link: (),
            },
            now,
        );
        sock.send_to(&resp.to_bytes(), from).expect("send response");
        reg.handle_timeout(now);
        events.extend(std::iter::from_fn(|| reg.poll_event()));
    }
}

#[test]
fn baresip_registers_with_digest_wrong_password_is_refused_and_it_unregisters() {
    if !baresip_available() {
        eprintln!("baresip not installed: skipping the interop test");
        return;
    }
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind registrar socket");
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let registrar_addr = sock.local_addr().expect("local addr");
    let dir = tempfile::tempdir().expect("temp dir");
    let phone_port = free_udp_port();
    write_config(dir.path(), phone_port, registrar_addr);

    let t0 = now();
    let store = MemoryCredentials::new()
        .with_password("1001", "hotline", "demo-1001")
        .with_password("1002", "hotline", "demo-1002");
    let mut reg: Registrar<()> =
        Registrar::new(RegistrarConfig::default(), Box::new(store), [9; 32], t0)
            .expect("registrar");

    let child = Command::new("baresip")
        .arg("-f")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start baresip");
    let baresip = Baresip(child);

    let mut events = Vec::new();
    let registered_and_refused = |ev: &[RegistrarEvent]| {
        ev.iter()
            .any(|e| matches!(e, RegistrarEvent::BindingAdded { user, .. } if user == "1001"))
            && ev.iter().any(
                |e| matches!(e, RegistrarEvent::AuthFailed { username, .. } if username == "1002"),
            )
    };
    pump(
        &sock,
        &mut reg,
        Duration::from_secs(15),
        &mut events,
        registered_and_refused,
    );
    assert!(registered_and_refused(&events), "events: {events:?}");
    let bindings = reg.contacts("1001", now());
    assert_eq!(bindings.len(), 1, "{bindings:?}");
    assert_eq!(bindings[0].flow.addr.port(), phone_port);
    assert!(bindings[0]
        .user_agent
        .as_deref()
        .is_some_and(|ua| ua.starts_with("baresip")));
    assert!(!reg.is_registered("1002", now()));
    assert!(reg.counters().challenges >= 2);

    // SIGINT makes baresip unregister (Expires: 0) before it exits.
    let pid = baresip.0.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let removed = |ev: &[RegistrarEvent]| {
        ev.iter().any(
            |e| matches!(e, RegistrarEvent::BindingRemoved { user, live: 0, .. } if user == "1001"),
        )
    };
    pump(
        &sock,
        &mut reg,
        Duration::from_secs(20),
        &mut events,
        removed,
    );
    assert!(removed(&events), "events: {events:?}");
    assert!(!reg.is_registered("1001", now()));
    eprintln!("baresip interop events: {events:?}");
    drop(baresip);
}
