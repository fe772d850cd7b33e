use super::*;
use crate::sip::message::Message;
use crate::sip::registrar::{parse_credentials, Parsed};

/// A 401/407 with the given challenge lines (`Name: value`), as a trunk would send it.
fn challenged(status: u16, lines: &[&str]) -> Response {
    let mut text = format!(
        "SIP/2.0 {status} Challenge\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n\
         From: <sip:12345@127.0.0.1>;tag=a\r\nTo: <sip:139@127.0.0.1>;tag=b\r\n\
         Call-ID: c@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
    );
    for l in lines {
        text.push_str(l);
        text.push_str("\r\n");
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    match crate::sip::parse::parse_datagram(text.as_bytes()) {
        Ok(Message::Response(r)) => r,
        other => panic!("not a response: {other:?}"),
    }
}

fn mufasa(password: &str) -> ClientCredentials {
    ClientCredentials::new("Mufasa", Secret::new(password), None)
}

#[test]
fn rfc2617_example_md5_qop_auth() {
    // RFC 2617 §3.5: the challenge offers "auth,auth-int"; we answer auth.
    let resp = challenged(
        401,
        &["WWW-Authenticate: Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
           nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""],
    );
    let creds = mufasa("Circle Of Life");
    let ch = pick(&resp, &creds).expect("answerable");
    assert_eq!(ch.kind, ChallengeKind::Www);
    assert_eq!(
        (ch.algorithm, ch.qop_auth, ch.sess),
        (Algorithm::Md5, true, false)
    );
    let auth = authorization(&creds, &ch, "GET", "/dir/index.html", "0a4f113b", 1);
    assert_eq!(
        auth.param("response"),
        Some("6629fae49393a05397450978507c4ef1")
    );
    assert_eq!(auth.param("nc"), Some("00000001"));
    assert_eq!(auth.param("qop"), Some("auth"));
    assert_eq!(
        auth.param("opaque"),
        Some("5ccc069c403ebaf9f0171e9517f40e41")
    );
    assert!(auth.raw.contains("nc=00000001") && auth.raw.contains("qop=auth,"));
    assert!(auth
        .raw
        .contains("response=\"6629fae49393a05397450978507c4ef1\""));
}

const RFC7616_SHA256: &str = "Proxy-Authenticate: Digest realm=\"http-auth@example.org\", \
    qop=\"auth, auth-int\", algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
const RFC7616_MD5: &str = "Proxy-Authenticate: Digest realm=\"http-auth@example.org\", \
    qop=\"auth, auth-int\", algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

#[test]
fn rfc7616_example_the_strongest_of_two_challenges_is_answered() {
    // RFC 7616 §3.9.1 sends SHA-256 then MD5; listed the other way round, SHA-256 still wins.
    let resp = challenged(407, &[RFC7616_MD5, RFC7616_SHA256]);
    let creds = mufasa("Circle of Life");
    let ch = pick(&resp, &creds).expect("answerable");
    assert_eq!(
        (ch.kind, ch.algorithm),
        (ChallengeKind::Proxy, Algorithm::Sha256)
    );
    let auth = authorization(&creds, &ch, "GET", "/dir/index.html", RFC7616_CNONCE, 1);
    assert_eq!(
        auth.param("response"),
        Some("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    );
    assert_eq!(auth.param("algorithm"), Some("SHA-256"));
    // The MD5 one alone gives the RFC's MD5 response.
    let md5 = pick(&challenged(407, &[RFC7616_MD5]), &creds).expect("md5");
    let auth = authorization(&creds, &md5, "GET", "/dir/index.html", RFC7616_CNONCE, 1);
    assert_eq!(
        auth.param("response"),
        Some("8ca523f5e9506fed4657c9700eebdbec")
    );
}

#[test]
fn several_challenges_in_one_header_line_are_told_apart() {
    let md5 = RFC7616_MD5.trim_start_matches("Proxy-Authenticate: ");
    let sha = RFC7616_SHA256.trim_start_matches("Proxy-Authenticate: ");
    let resp = challenged(407, &[&format!("Proxy-Authenticate: {md5}, {sha}")]);
    let all = challenges(&resp);
    assert_eq!(all.len(), 2, "{all:?}");
    let ch = pick(&resp, &mufasa("Circle of Life")).expect("answerable");
    assert_eq!(ch.algorithm, Algorithm::Sha256);
    assert_eq!(
        ch.opaque.as_deref(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
}

#[test]
fn no_qop_gives_the_rfc2069_form() {
    // Vectors computed by SIPp's own digest code (its auth.cpp unit tests), no qop.
    let creds = ClientCredentials::new("testuser", Secret::new("secret"), None);
    let resp = challenged(
        401,
        &["WWW-Authenticate: Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\""],
    );
    let ch = pick(&resp, &creds).expect("answerable");
    assert!(!ch.qop_auth);
    let auth = authorization(&creds, &ch, "REGISTER", "sip:sip:example.com", "ignored", 1);
    assert_eq!(
        auth.param("response"),
        Some("db94e01e92f2b09a52a234eeca8b90f7")
    );
    assert_eq!(
        (auth.param("qop"), auth.param("nc"), auth.param("cnonce")),
        (None, None, None)
    );
    let resp = challenged(
        401,
        &["WWW-Authenticate: Digest realm=\"testrealm@host.com\", nonce=\"ZaGxV2WhsCtREI2EsiD1LR0RYd\", algorithm=SHA-256"],
    );
    let ch = pick(&resp, &creds).expect("answerable");
    let auth = authorization(&creds, &ch, "REGISTER", "sip:sip:example.com", "ignored", 1);
    assert_eq!(
        auth.param("response"),
        Some("91b58523b983191b52d14455a2599631990110c974ed2e4b4b49bc6053af04ce")
    );
}

#[test]
fn md5_sess_hashes_nonce_and_cnonce_into_ha1() {
    use md5::{Digest, Md5};
    let h = |s: String| hex::encode(Md5::digest(s.as_bytes()));
    let resp = challenged(
        401,
        &["WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", algorithm=MD5-sess, qop=\"auth\""],
    );
    let creds = ClientCredentials::new("u", Secret::new("p"), None);
    let ch = pick(&resp, &creds).expect("answerable");
    assert!(ch.sess);
    let auth = authorization(&creds, &ch, "INVITE", "sip:1@h", "c1", 1);
    let ha1 = h(format!("{}:n1:c1", h("u:r:p".into())));
    let expected = h(format!(
        "{ha1}:n1:00000001:c1:auth:{}",
        h("INVITE:sip:1@h".into())
    ));
    assert_eq!(auth.param("response"), Some(expected.as_str()));
    assert_eq!(auth.param("algorithm"), Some("MD5-sess"));
    // Without a qop a -sess algorithm cannot be answered (no cnonce).
    let resp = challenged(
        401,
        &["WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", algorithm=MD5-sess"],
    );
    assert!(matches!(
        pick(&resp, &creds),
        Err(ChallengeError::Unsupported { .. })
    ));
}

#[test]
fn what_cannot_be_answered_says_why() {
    let creds = ClientCredentials::new("u", Secret::new("p"), Some("carrier".into()));
    let resp = challenged(401, &["WWW-Authenticate: Basic realm=\"carrier\""]);
    assert_eq!(pick(&resp, &creds), Err(ChallengeError::NoDigest));
    let resp = challenged(
        401,
        &["WWW-Authenticate: Digest realm=\"evil\", nonce=\"n\", qop=\"auth\""],
    );
    assert_eq!(
        pick(&resp, &creds),
        Err(ChallengeError::OtherRealm {
            offered: vec!["evil".into()],
            configured: "carrier".into()
        })
    );
    for line in [
        "WWW-Authenticate: Digest realm=\"carrier\", nonce=\"n\", algorithm=SHA-512-256",
        "WWW-Authenticate: Digest realm=\"carrier\", nonce=\"n\", qop=\"auth-int\"",
        "WWW-Authenticate: Digest realm=\"carrier\", qop=\"auth\"",
    ] {
        let err = pick(&challenged(401, &[line]), &creds).unwrap_err();
        assert!(
            matches!(err, ChallengeError::Unsupported { .. }),
            "{line}: {err:?}"
        );
    }
    // The configured realm is picked among others; an unknown algorithm beside it is skipped.
    let resp = challenged(
        407,
        &[
            "Proxy-Authenticate: Digest realm=\"other\", nonce=\"a\", algorithm=SHA-256, qop=\"auth\"",
            "Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"b\", algorithm=SHA-512-256",
            "Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"c\", qop=\"auth\", stale=TRUE",
        ],
    );
    let ch = pick(&resp, &creds).expect("the carrier's");
    assert_eq!(
        (ch.nonce.as_str(), ch.algorithm, ch.stale),
        ("c", Algorithm::Md5, true)
    );
}

#[test]
fn quoted_strings_keep_their_commas_quotes_and_escapes() {
    let resp = challenged(
        401,
        &[r#"WWW-Authenticate: Digest realm="a, Digest b=\"c\"", nonce="x,y", qop="auth""#],
    );
    let creds = ClientCredentials::new("us\"er", Secret::new("p"), None);
    let ch = pick(&resp, &creds).expect("one challenge");
    assert_eq!(ch.realm, r#"a, Digest b="c""#);
    assert_eq!(ch.nonce, "x,y");
    let auth = authorization(&creds, &ch, "INVITE", "sip:1@h", "c", 1);
    assert!(auth.raw.contains(r#"username="us\"er""#), "{}", auth.raw);
    // What we send reads back as what we meant.
    let back = crate::sip::parse::parse_auth(&auth.raw).expect("parses");
    assert_eq!(back.params, auth.params);
}

#[test]
fn the_registrar_accepts_what_the_client_builds() {
    // The server side of the same crate checks our answer (SHA-256, qop=auth).
    let resp = challenged(
        401,
        &["WWW-Authenticate: Digest realm=\"hotline\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth\""],
    );
    let creds = ClientCredentials::new("1001", Secret::new("pw"), None);
    let ch = pick(&resp, &creds).expect("answerable");
    let auth = authorization(&creds, &ch, "REGISTER", "sip:hotline", "cn", 1);
    let Parsed::Ok(c) = parse_credentials(&auth, "hotline", &[Algorithm::Sha256]) else {
        panic!("the registrar does not read {}", auth.raw);
    };
    let ha1 = crate::sip::registrar::ha1("1001", "hotline", "pw", Algorithm::Sha256);
    let expected = crate::sip::registrar::expected_response(
        Algorithm::Sha256,
        &ha1,
        &c.nonce,
        &c.nc,
        &c.cnonce,
        "auth",
        "REGISTER",
        &c.uri,
    );
    assert_eq!(c.response, expected);
}

#[test]
fn the_password_never_prints() {
    let creds = ClientCredentials::new("u", Secret::new("hunter2"), Some("r".into()));
    let shown = format!("{creds:?} {:?}", Secret::new("hunter2"));
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("\"u\""), "{shown}");
}

proptest::proptest! {
    /// Whatever a trunk puts in its challenge headers, reading and answering them never
    /// panics (quotes, escapes and commas anywhere, non-ASCII included).
    #[test]
    fn any_challenge_text_is_read_without_panicking(raw in "[ -~\u{80}-\u{10FFFF}]{0,80}") {
        let mut resp = challenged(401, &[]);
        resp.headers.www_authenticate.push(Auth {
            scheme: "Digest".into(),
            params: Vec::new(),
            raw: raw.clone(),
        });
        resp.headers.proxy_authenticate.push(Auth {
            scheme: "Digest".into(),
            params: Vec::new(),
            raw: format!("Digest realm=\"r\", nonce=\"n\", {raw}"),
        });
        let creds = ClientCredentials::new("u", Secret::new("p"), None);
        if let Ok(ch) = pick(&resp, &creds) {
            let auth = authorization(&creds, &ch, "INVITE", "sip:1@h", "c", 1);
            proptest::prop_assert!(!auth.raw.contains('\r') && !auth.raw.contains('\n'));
        }
    }
}
