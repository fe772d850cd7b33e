//! HTTP Digest for SIP (RFC 3261 §22, RFC 2617 `qop=auth`, RFC 8760 SHA-256): the hash
//! algorithms, HA1, the expected `response`, stateless nonces (HMAC-SHA-256 over a
//! timestamp with a secret), the credential store the ACD config implements, and the
//! parsing of an `Authorization` value into typed credentials. Owns no binding and no
//! per-source state; the registrar decides what a result means.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::sip::message::Auth;

/// A digest hash algorithm. RFC 8760 adds SHA-256 to the MD5 of RFC 2617; `-sess`
/// variants are not offered (no softphone we target needs them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// `SHA-256` (RFC 8760), offered first.
    Sha256,
    /// `MD5`, the RFC 2617 default when `algorithm` is absent.
    Md5,
}

impl Algorithm {
    /// The token written in `algorithm=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Md5 => "MD5",
        }
    }

    /// Parses an `algorithm=` token (case-insensitive); `None` for anything we do not do.
    pub fn from_token(t: &str) -> Option<Algorithm> {
        if t.eq_ignore_ascii_case("SHA-256") {
            Some(Algorithm::Sha256)
        } else if t.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else {
            None
        }
    }

    /// Lower-case hex of the hash of the parts joined by nothing (callers put the colons).
    pub fn hex(self, parts: &[&[u8]]) -> String {
        match self {
            Algorithm::Sha256 => {
                let mut h = Sha256::new();
                for p in parts {
                    h.update(p);
                }
                hex::encode(h.finalize())
            }
            Algorithm::Md5 => {
                let mut h = Md5::new();
                for p in parts {
                    h.update(p);
                }
                hex::encode(h.finalize())
            }
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HA1 = H(user ":" realm ":" password) — what the agents' config stores instead of the
/// password, so a leaked config or log never holds a usable plain-text password.
pub fn ha1(user: &str, realm: &str, password: &str, algorithm: Algorithm) -> String {
    algorithm.hex(&[
        user.as_bytes(),
        b":",
        realm.as_bytes(),
        b":",
        password.as_bytes(),
    ])
}

/// The `response` a client must send for `qop=auth` (RFC 2617 §3.2.2.1):
/// H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri)).
#[allow(clippy::too_many_arguments)]
pub fn expected_response(
    algorithm: Algorithm,
    ha1: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
    qop: &str,
    method: &str,
    uri: &str,
) -> String {
    let ha2 = algorithm.hex(&[method.as_bytes(), b":", uri.as_bytes()]);
    algorithm.hex(&[
        ha1.as_bytes(),
        b":",
        nonce.as_bytes(),
        b":",
        nc.as_bytes(),
        b":",
        cnonce.as_bytes(),
        b":",
        qop.as_bytes(),
        b":",
        ha2.as_bytes(),
    ])
}

/// Where the registrar gets HA1s. The ACD's agent config implements it; HA1s are per
/// algorithm because an MD5 HA1 cannot be turned into a SHA-256 one.
pub trait CredentialStore {
    /// The hex HA1 of `user` in `realm` for `algorithm`, or `None` for an unknown user
    /// (which the registrar answers exactly like a wrong password).
    fn ha1(&self, user: &str, realm: &str, algorithm: Algorithm) -> Option<String>;
}

/// A small in-memory [`CredentialStore`] for tests and demos.
#[derive(Debug, Clone, Default)]
pub struct MemoryCredentials {
    ha1s: HashMap<(String, String, Algorithm), String>,
}

impl MemoryCredentials {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores the HA1s of a password for both algorithms (the password is not kept).
    pub fn with_password(mut self, user: &str, realm: &str, password: &str) -> Self {
        for alg in [Algorithm::Sha256, Algorithm::Md5] {
            self.insert_ha1(user, realm, alg, &ha1(user, realm, password, alg));
        }
        self
    }

    /// Stores one precomputed HA1 (as the agents' config will hold it).
    pub fn insert_ha1(&mut self, user: &str, realm: &str, algorithm: Algorithm, ha1: &str) {
        self.ha1s.insert(
            (user.to_owned(), realm.to_owned(), algorithm),
            ha1.to_ascii_lowercase(),
        );
    }
}

impl CredentialStore for MemoryCredentials {
    fn ha1(&self, user: &str, realm: &str, algorithm: Algorithm) -> Option<String> {
        self.ha1s
            .get(&(user.to_owned(), realm.to_owned(), algorithm))
            .cloned()
    }
}

impl<T: CredentialStore + ?Sized> CredentialStore for std::sync::Arc<T> {
    fn ha1(&self, user: &str, realm: &str, algorithm: Algorithm) -> Option<String> {
        (**self).ha1(user, realm, algorithm)
    }
}

/// HMAC-SHA-256 (RFC 2104) over the concatenated parts. Written here (20 lines, checked
/// against RFC 4231) rather than adding the `hmac` crate for one use.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// Equality that takes the same time wherever the first difference is, so a wrong
/// `response` does not leak how many leading characters were right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| {
        acc | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
    }) == 0
}

/// What a nonce says about itself once its MAC is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceState {
    /// Ours and younger than the lifetime.
    Fresh,
    /// Ours but too old: a correct digest over it earns `stale=true`.
    Stale,
    /// Not ours (bad MAC, bad form, from before a restart, or from the future).
    Invalid,
}

/// Mints and checks stateless nonces: `hex(ts) || hex(serial) || hex(HMAC(secret, ts,
/// serial, realm)[..16])`, `ts` being whole seconds since the registrar's epoch and
/// `serial` a per-challenge counter, so two phones challenged in the same second never
/// share a nonce (and so never share a nonce-count). Nothing is stored per nonce.
#[derive(Clone)]
pub(crate) struct NonceMint {
    secret: [u8; 32],
    lifetime: Duration,
}

impl fmt::Debug for NonceMint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("NonceMint")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

const NONCE_TS_HEX: usize = 16;
const NONCE_SERIAL_HEX: usize = 16;
const NONCE_MAC_BYTES: usize = 16;

impl NonceMint {
    pub(crate) fn new(secret: [u8; 32], lifetime: Duration) -> Self {
        NonceMint { secret, lifetime }
    }

    fn mac(&self, ts: u64, serial: u64, realm: &str) -> [u8; 32] {
        hmac_sha256(
            &self.secret,
            &[
                b"nonce\0",
                &ts.to_be_bytes(),
                &serial.to_be_bytes(),
                realm.as_bytes(),
            ],
        )
    }

    /// A nonce minted `since_epoch` after the epoch, with a serial unique to it.
    pub(crate) fn mint(&self, since_epoch: Duration, serial: u64, realm: &str) -> String {
        let ts = since_epoch.as_secs();
        let mac = self.mac(ts, serial, realm);
        format!(
            "{ts:016x}{serial:016x}{}",
            hex::encode(&mac[..NONCE_MAC_BYTES])
        )
    }

    /// The seconds-since-epoch a valid-looking nonce carries, checked against its MAC.
    pub(crate) fn timestamp(&self, nonce: &str, realm: &str) -> Option<u64> {
        if nonce.len() != NONCE_TS_HEX + NONCE_SERIAL_HEX + 2 * NONCE_MAC_BYTES || !nonce.is_ascii()
        {
            return None;
        }
        let (ts_hex, rest) = nonce.split_at(NONCE_TS_HEX);
        let (serial_hex, mac_hex) = rest.split_at(NONCE_SERIAL_HEX);
        let ts = u64::from_str_radix(ts_hex, 16).ok()?;
        let serial = u64::from_str_radix(serial_hex, 16).ok()?;
        let expected = hex::encode(&self.mac(ts, serial, realm)[..NONCE_MAC_BYTES]);
        constant_time_eq(expected.as_bytes(), mac_hex.as_bytes()).then_some(ts)
    }

    /// Checks a nonce at `since_epoch`.
    pub(crate) fn check(&self, nonce: &str, realm: &str, since_epoch: Duration) -> NonceState {
        let Some(ts) = self.timestamp(nonce, realm) else {
            return NonceState::Invalid;
        };
        let now = since_epoch.as_secs();
        if ts > now {
            return NonceState::Invalid;
        }
        if Duration::from_secs(now - ts) >= self.lifetime {
            NonceState::Stale
        } else {
            NonceState::Fresh
        }
    }

    /// When a nonce minted at `ts` stops being fresh, as time since the epoch.
    pub(crate) fn fresh_until(&self, ts: u64) -> Duration {
        Duration::from_secs(ts).saturating_add(self.lifetime)
    }

    /// Bytes derived from the secret for other uses (To tags, dummy HA1s), so they are
    /// unpredictable to a client but stable for one request.
    pub(crate) fn derive(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len() + 1);
        all.push(label);
        all.extend_from_slice(parts);
        hmac_sha256(&self.secret, &all)
    }
}

/// Why an `Authorization` value cannot be used at all (→ 400, RFC 2617 §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// A directive the exchange needs is missing.
    #[error("Digest credentials lack {name}")]
    Missing {
        /// The directive (`username`, `nonce`, …).
        name: &'static str,
    },
    /// `qop` is absent or not `auth`: without it there is no nonce-count, so no replay
    /// protection; we require it.
    #[error("Digest qop=auth required, got {qop:?}")]
    Qop {
        /// What the client sent, if anything.
        qop: Option<String>,
    },
    /// `nc` is not eight hex digits.
    #[error("Digest nc {nc:?} is not 8 hex digits")]
    NonceCount {
        /// As sent.
        nc: String,
    },
    /// The `uri` directive is not the Request-URI (RFC 2617 §3.2.2.5).
    #[error("Digest uri {uri:?} does not match the Request-URI")]
    UriMismatch {
        /// As sent.
        uri: String,
    },
}

/// Digest credentials from one `Authorization` header, checked for form only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `username`.
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `uri` (the digest-uri).
    pub uri: String,
    /// `response`.
    pub response: String,
    /// `algorithm` (MD5 when absent).
    pub algorithm: Algorithm,
    /// `cnonce`.
    pub cnonce: String,
    /// `nc` as sent (eight hex digits; it enters the hash as written).
    pub nc: String,
    /// `nc` as a number, for replay checks.
    pub nc_value: u32,
}

/// What one `Authorization` header holds for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not Digest, another realm, or an algorithm we do not offer: ignore it.
    NotOurs,
    /// Ours but unusable.
    Bad(CredentialsError),
    /// Usable.
    Ok(Credentials),
}

/// Reads one `Authorization` value for `realm`, accepting only `offered` algorithms.
pub fn parse_credentials(auth: &Auth, realm: &str, offered: &[Algorithm]) -> Parsed {
    if !auth.scheme.eq_ignore_ascii_case("Digest") {
        return Parsed::NotOurs;
    }
    match auth.param("realm") {
        Some(r) if r == realm => {}
        _ => return Parsed::NotOurs,
    }
    let algorithm = match auth.param("algorithm") {
        None => Algorithm::Md5,
        Some(t) => match Algorithm::from_token(t) {
            Some(a) => a,
            None => return Parsed::NotOurs,
        },
    };
    if !offered.contains(&algorithm) {
        return Parsed::NotOurs;
    }
    let need = |name: &'static str| {
        auth.param(name)
            .map(str::to_owned)
            .ok_or(CredentialsError::Missing { name })
    };
    let build = || -> Result<Credentials, CredentialsError> {
        let username = need("username")?;
        let nonce = need("nonce")?;
        let uri = need("uri")?;
        let response = need("response")?;
        match auth.param("qop") {
            Some(q) if q.eq_ignore_ascii_case("auth") => {}
            other => {
                return Err(CredentialsError::Qop {
                    qop: other.map(str::to_owned),
                })
            }
        }
        let cnonce = need("cnonce")?;
        let nc = need("nc")?;
        let nc_value = if nc.len() == 8 && nc.bytes().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&nc, 16)
                .map_err(|_| CredentialsError::NonceCount { nc: nc.clone() })?
        } else {
            return Err(CredentialsError::NonceCount { nc });
        };
        Ok(Credentials {
            username,
            realm: realm.to_owned(),
            nonce,
            uri,
            response,
            algorithm,
            cnonce,
            nc,
            nc_value,
        })
    };
    match build() {
        Ok(c) => Parsed::Ok(c),
        Err(e) => Parsed::Bad(e),
    }
}

/// Builds a `WWW-Authenticate` challenge value.
pub fn challenge(realm: &str, nonce: &str, algorithm: Algorithm, stale: bool) -> Auth {
    let mut params = vec![
        ("realm".to_owned(), realm.to_owned()),
        ("nonce".to_owned(), nonce.to_owned()),
        ("algorithm".to_owned(), algorithm.as_str().to_owned()),
        ("qop".to_owned(), "auth".to_owned()),
    ];
    let mut raw = format!(
        "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"",
        quote_safe(realm),
        algorithm.as_str()
    );
    if stale {
        params.push(("stale".to_owned(), "true".to_owned()));
        raw.push_str(", stale=true");
    }
    Auth {
        scheme: "Digest".to_owned(),
        params,
        raw,
    }
}

/// The realm comes from our own config, but a quote or CR/LF in it must still not break
/// the header.
fn quote_safe(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_long_key_matches_rfc4231_case_6() {
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn rfc2617_example_response() {
        // RFC 2617 §3.5 (HTTP, MD5, qop=auth).
        let h = ha1(
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            Algorithm::Md5,
        );
        let r = expected_response(
            Algorithm::Md5,
            &h,
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "00000001",
            "0a4f113b",
            "auth",
            "GET",
            "/dir/index.html",
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn rfc7616_sha256_example_response() {
        // RFC 7616 §3.9.1 (SHA-256, qop=auth).
        let h = ha1(
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
            Algorithm::Sha256,
        );
        let r = expected_response(
            Algorithm::Sha256,
            &h,
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "00000001",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            "auth",
            "GET",
            "/dir/index.html",
        );
        assert_eq!(
            r,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn nonce_fresh_stale_invalid() {
        let mint = NonceMint::new([7; 32], Duration::from_secs(30));
        let n = mint.mint(Duration::from_secs(100), 1, "hotline");
        assert_ne!(n, mint.mint(Duration::from_secs(100), 2, "hotline"));
        assert_eq!(
            mint.check(&n, "hotline", Duration::from_secs(129)),
            NonceState::Fresh
        );
        assert_eq!(
            mint.check(&n, "hotline", Duration::from_secs(130)),
            NonceState::Stale
        );
        assert_eq!(
            mint.check(&n, "other", Duration::from_secs(100)),
            NonceState::Invalid
        );
        assert_eq!(
            mint.check(&n, "hotline", Duration::from_secs(99)),
            NonceState::Invalid
        );
        let other = NonceMint::new([8; 32], Duration::from_secs(30));
        assert_eq!(
            other.check(&n, "hotline", Duration::from_secs(100)),
            NonceState::Invalid
        );
        let mut forged = n.clone();
        forged.replace_range(0..16, &format!("{:016x}", 120));
        assert_eq!(
            mint.check(&forged, "hotline", Duration::from_secs(125)),
            NonceState::Invalid
        );
        assert_eq!(
            mint.check("zz", "hotline", Duration::ZERO),
            NonceState::Invalid
        );
        assert_eq!(
            mint.check("é", "hotline", Duration::ZERO),
            NonceState::Invalid
        );
    }
}
