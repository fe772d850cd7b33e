//! RFC 3327 Path on the fake clock: a REGISTER relayed by a proxy (Kamailio's
//! `add_path_received`) keeps its Path with the binding, the 200 says `Supported: path` and
//! echoes the Path to a phone that supports it, a refresh replaces it, and a malformed Path
//! is refused before anything is bound.

use super::tests::{registrar, t0, Phone};
use super::*;

const KAMAILIO_PATH: &str = "<sip:127.0.0.1:5090;lr;received=sip:192.168.1.20:5062>";

fn path_values(resp: &Response) -> Vec<String> {
    resp.headers.get_all("Path").map(str::to_owned).collect()
}

#[test]
fn path_is_kept_with_the_binding_and_echoed_to_a_phone_that_supports_it() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "127.0.0.1:5090");
    let c = p.contact();
    let resp = p.register(
        &mut reg,
        &format!(
            "Contact: {c}\r\nExpires: 300\r\nSupported: path\r\nPath: {KAMAILIO_PATH}\r\nPath: <sip:edge.example;lr>\r\n"
        ),
        t0,
    );
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(resp.headers.supported.iter().any(|t| t == "path"));
    assert_eq!(
        path_values(&resp),
        vec![
            "<sip:127.0.0.1:5090;lr;received=sip:192.168.1.20:5062>".to_owned(),
            "<sip:edge.example;lr>".to_owned()
        ]
    );
    let b = reg.contacts("1001", t0);
    assert_eq!(b.len(), 1);
    let path: Vec<String> = b[0].path.iter().map(|p| p.uri.to_string()).collect();
    assert_eq!(
        path,
        vec![
            "sip:127.0.0.1:5090;lr;received=sip:192.168.1.20:5062".to_owned(),
            "sip:edge.example;lr".to_owned()
        ]
    );
    assert_eq!(
        b[0].flow.addr,
        "127.0.0.1:5090".parse().unwrap_or(b[0].flow.addr)
    );

    // A refresh that came direct (no proxy) drops the old Path: requests go straight.
    let resp = p.register(&mut reg, &format!("Contact: {c}\r\nExpires: 300\r\n"), t0);
    assert_eq!(resp.status, 200);
    assert!(reg.contacts("1001", t0)[0].path.is_empty());
}

#[test]
fn path_is_kept_but_not_echoed_to_a_phone_without_path_support() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1002", "demo-1002", "127.0.0.1:5090");
    let c = p.contact();
    let resp = p.register(
        &mut reg,
        &format!("Contact: {c}\r\nPath: {KAMAILIO_PATH}\r\n"),
        t0,
    );
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(path_values(&resp).is_empty());
    assert_eq!(reg.contacts("1002", t0)[0].path.len(), 1);
}

#[test]
fn a_path_that_is_not_a_sip_address_is_refused_and_binds_nothing() {
    let t0 = t0();
    let mut reg = registrar(RegistrarConfig::default(), t0);
    let mut p = Phone::new("1001", "demo-1001", "127.0.0.1:5090");
    let c = p.contact();
    for bad in ["<tel:+861012345>", "no brackets, <"] {
        let resp = p.register(&mut reg, &format!("Contact: {c}\r\nPath: {bad}\r\n"), t0);
        assert_eq!(resp.status, 400, "{bad}: {resp:?}");
    }
    assert!(!reg.is_registered("1001", t0));
}
