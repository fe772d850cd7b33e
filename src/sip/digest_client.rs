//! The client side of HTTP Digest for SIP (RFC 3261 §22.2, RFC 2617, RFC 7616): reads the
//! challenges of a 401 (`WWW-Authenticate`) or 407 (`Proxy-Authenticate`), picks the
//! strongest one we can answer, and builds the `Authorization` / `Proxy-Authorization` for
//! the request sent again. Used when the hotline calls out through a trunk that wants
//! credentials. The hashing is the registrar's (`registrar::digest`); nothing here keeps
//! state, reads a clock or draws randomness (the caller hands in the cnonce).

use std::fmt;

use crate::sip::message::{Auth, Response};
use crate::sip::registrar::{self as digest, Algorithm};

/// A secret (a trunk password) that never shows in a log, a `Debug` print or an error.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What we answer challenges with.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The user name the trunk knows us by.
    pub username: String,
    password: Secret,
    /// Only challenges of this realm are answered; `None`: whatever realm the trunk names.
    pub realm: Option<String>,
}

impl ClientCredentials {
    /// Credentials for `username`; `realm` restricts which challenges are answered.
    pub fn new(username: impl Into<String>, password: Secret, realm: Option<String>) -> Self {
        ClientCredentials {
            username: username.into(),
            password,
            realm,
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("username", &self.username)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

/// Who challenged: the header the challenge came in decides the header the answer goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// 401, `WWW-Authenticate` → `Authorization`.
    Www,
    /// 407, `Proxy-Authenticate` → `Proxy-Authorization`.
    Proxy,
}

/// One Digest challenge we can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The header it came in.
    pub kind: ChallengeKind,
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `opaque`, echoed back unchanged.
    pub opaque: Option<String>,
    /// The hash (`algorithm`, MD5 when absent).
    pub algorithm: Algorithm,
    /// A `-sess` algorithm: HA1 also covers the nonce and cnonce (RFC 7616 §3.4.2).
    pub sess: bool,
    /// The server offered `qop=auth` (we then answer with it, a cnonce and nc); `false`:
    /// no `qop` at all (RFC 2069 form).
    pub qop_auth: bool,
    /// `stale=true`: our last credentials were right but the nonce had expired.
    pub stale: bool,
}

/// Why none of a response's challenges can be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// No `Digest` challenge at all (none, or only other schemes).
    #[error("the response carries no Digest challenge")]
    NoDigest,
    /// Only challenges of realms other than the configured one.
    #[error("the challenge is for realm {offered:?}, not the configured {configured:?}")]
    OtherRealm {
        /// The realms offered.
        offered: Vec<String>,
        /// The one we may answer.
        configured: String,
    },
    /// Digest challenges, but none we can compute (an unknown algorithm, only
    /// `qop=auth-int`, a `-sess` algorithm without qop, no nonce or realm).
    #[error("no Digest challenge we can answer: {detail}")]
    Unsupported {
        /// What the last one lacked or asked for.
        detail: String,
    },
}

/// Reads one challenge value; `Err` says why it cannot be answered.
fn parse_one(auth: &Auth, kind: ChallengeKind) -> Result<Challenge, String> {
    let realm = auth.param("realm").ok_or("no realm")?.to_owned();
    let nonce = auth.param("nonce").ok_or("no nonce")?.to_owned();
    let (algorithm, sess) = match auth.param("algorithm") {
        None => (Algorithm::Md5, false),
        Some(token) => {
            let (base, sess) = match token.len().checked_sub(5) {
                Some(cut)
                    if token.is_char_boundary(cut)
                        && token[cut..].eq_ignore_ascii_case("-sess") =>
                {
                    (&token[..cut], true)
                }
                _ => (token, false),
            };
            let algorithm = Algorithm::from_token(base)
                .ok_or_else(|| format!("algorithm {token:?} is not supported"))?;
            (algorithm, sess)
        }
    };
    let qop_auth = match auth.param("qop") {
        None => false,
        Some(list) => {
            if list
                .split(',')
                .any(|q| q.trim().eq_ignore_ascii_case("auth"))
            {
                true
            } else {
                return Err(format!("qop {list:?} lacks auth"));
            }
        }
    };
    if sess && !qop_auth {
        return Err("a -sess algorithm without qop has no cnonce".into());
    }
    let stale = auth
        .param("stale")
        .is_some_and(|s| s.eq_ignore_ascii_case("true"));
    Ok(Challenge {
        kind,
        realm,
        nonce,
        opaque: auth.param("opaque").map(str::to_owned),
        algorithm,
        sess,
        qop_auth,
        stale,
    })
}

/// The challenges in one header value: usually one, but a server may put several in one
/// line, comma-separated (`Digest …, Digest …`); each starts where, past a comma outside a
/// quoted string, a token is followed by whitespace rather than by `=`.
fn split_challenges(raw: &str) -> Vec<&str> {
    let b = raw.as_bytes();
    let mut starts = vec![0];
    let (mut i, mut quoted) = (0, false);
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                let start = i
                    + 1
                    + b[i + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_whitespace())
                        .count();
                let end = start
                    + b[start..]
                        .iter()
                        .take_while(|c| crate::sip::parse::is_token(**c))
                        .count();
                let gap = b[end..]
                    .iter()
                    .take_while(|c| c.is_ascii_whitespace())
                    .count();
                if end > start && gap > 0 && !matches!(b.get(end + gap), None | Some(b'=' | b',')) {
                    starts.push(start);
                }
            }
            _ => {}
        }
        i += 1;
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| {
            let e = starts.get(n + 1).map_or(raw.len(), |&next| next);
            raw[s..e].trim_end_matches([',', ' ', '\t'])
        })
        .collect()
}

/// Every Digest challenge of a response, answerable or not (`Err` says why not), in order.
pub fn challenges(resp: &Response) -> Vec<Result<Challenge, String>> {
    let lists = [
        (ChallengeKind::Www, &resp.headers.www_authenticate),
        (ChallengeKind::Proxy, &resp.headers.proxy_authenticate),
    ];
    let mut out = Vec::new();
    for (kind, list) in lists {
        for auth in list.iter() {
            for one in split_challenges(&auth.raw) {
                let Ok(parsed) = crate::sip::parse::parse_auth(one) else {
                    out.push(Err("a challenge that does not parse".into()));
                    continue;
                };
                if parsed.scheme.eq_ignore_ascii_case("Digest") {
                    out.push(parse_one(&parsed, kind));
                }
            }
        }
    }
    out
}

/// The challenge to answer: of the configured realm (if one is set), the strongest hash
/// (SHA-256 over MD5), `qop=auth` over none; the first among equals (the server's order).
pub fn pick(resp: &Response, creds: &ClientCredentials) -> Result<Challenge, ChallengeError> {
    let all = challenges(resp);
    if all.is_empty() {
        return Err(ChallengeError::NoDigest);
    }
    let mut offered = Vec::new();
    let mut best: Option<Challenge> = None;
    let mut why = String::new();
    for c in all {
        let c = match c {
            Ok(c) => c,
            Err(e) => {
                why = e;
                continue;
            }
        };
        if creds.realm.as_ref().is_some_and(|r| *r != c.realm) {
            offered.push(c.realm);
            continue;
        }
        let rank = |c: &Challenge| (c.algorithm == Algorithm::Sha256, c.qop_auth);
        if best.as_ref().is_none_or(|b| rank(&c) > rank(b)) {
            best = Some(c);
        }
    }
    match (best, &creds.realm) {
        (Some(c), _) => Ok(c),
        (None, Some(configured)) if !offered.is_empty() => Err(ChallengeError::OtherRealm {
            offered,
            configured: configured.clone(),
        }),
        (None, _) => Err(ChallengeError::Unsupported { detail: why }),
    }
}

/// The `response` for `challenge` (RFC 7616 §3.4.1), with qop=auth when the challenge
/// offered it (then `cnonce` and `nc` enter the hash), else the RFC 2069 form.
pub fn response(
    creds: &ClientCredentials,
    challenge: &Challenge,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> String {
    let alg = challenge.algorithm;
    let mut ha1 = digest::ha1(
        &creds.username,
        &challenge.realm,
        creds.password.expose(),
        alg,
    );
    if challenge.sess {
        ha1 = alg.hex(&[
            ha1.as_bytes(),
            b":",
            challenge.nonce.as_bytes(),
            b":",
            cnonce.as_bytes(),
        ]);
    }
    if challenge.qop_auth {
        digest::expected_response(
            alg,
            &ha1,
            &challenge.nonce,
            &format!("{nc:08x}"),
            cnonce,
            "auth",
            method,
            uri,
        )
    } else {
        let ha2 = alg.hex(&[method.as_bytes(), b":", uri.as_bytes()]);
        alg.hex(&[
            ha1.as_bytes(),
            b":",
            challenge.nonce.as_bytes(),
            b":",
            ha2.as_bytes(),
        ])
    }
}

/// The credentials header value answering `challenge` for a request `method` to `uri` (the
/// Request-URI exactly as sent). `cnonce` must be unpredictable; `nc` counts this nonce's
/// uses (1 for a fresh one). Put it in `Proxy-Authorization` for a [`ChallengeKind::Proxy`].
pub fn authorization(
    creds: &ClientCredentials,
    challenge: &Challenge,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> Auth {
    let resp = response(creds, challenge, method, uri, cnonce, nc);
    let algorithm = format!(
        "{}{}",
        challenge.algorithm.as_str(),
        if challenge.sess { "-sess" } else { "" }
    );
    let mut params = vec![
        ("username".to_owned(), creds.username.clone()),
        ("realm".to_owned(), challenge.realm.clone()),
        ("nonce".to_owned(), challenge.nonce.clone()),
        ("uri".to_owned(), uri.to_owned()),
        ("response".to_owned(), resp),
        ("algorithm".to_owned(), algorithm),
    ];
    if challenge.qop_auth {
        params.push(("cnonce".to_owned(), cnonce.to_owned()));
        params.push(("qop".to_owned(), "auth".to_owned()));
        params.push(("nc".to_owned(), format!("{nc:08x}")));
    }
    if let Some(o) = &challenge.opaque {
        params.push(("opaque".to_owned(), o.clone()));
    }
    // RFC 7616 §3.4: algorithm, qop and nc are tokens; everything else is quoted.
    let raw = params
        .iter()
        .map(|(n, v)| match n.as_str() {
            "algorithm" | "qop" | "nc" => format!("{n}={v}"),
            _ => format!("{n}=\"{}\"", quote(v)),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Auth {
        scheme: "Digest".to_owned(),
        params,
        raw: format!("Digest {raw}"),
    }
}

/// A quoted-string's content: `"` and `\` escaped, line breaks dropped (they would end the
/// header).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "digest_client_tests.rs"]
mod tests;
