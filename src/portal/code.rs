//! Query codes (查询码): 8 characters from an alphabet without look-alikes (no 0/O, 1/I),
//! drawn from random bytes the shell hands in. Only a keyed hash is stored with the ticket:
//! HMAC-SHA-256 under a per-install secret kept outside the database (`DATA/portal.key`,
//! 0600). Why keyed: 32⁸ ≈ 2⁴⁰ codes are few enough to try offline in minutes against a plain
//! SHA-256, so a leaked database or backup alone must not let anyone test codes.

use sha2::{Digest, Sha256};

/// The code's alphabet: 32 symbols, so a random byte maps to one without bias (`b & 31`).
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Length of a query code.
pub const CODE_LEN: usize = 8;

/// A query code as shown to the citizen.
#[derive(Clone, PartialEq, Eq)]
pub struct QueryCode(String);

impl std::fmt::Debug for QueryCode {
    /// Never the code itself: it is a credential.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueryCode(****)")
    }
}

impl QueryCode {
    /// A code from 8 random bytes (the shell draws them from the OS).
    pub fn from_random(bytes: [u8; CODE_LEN]) -> Self {
        Self(
            bytes
                .iter()
                .map(|b| ALPHABET[usize::from(b & 31)] as char)
                .collect(),
        )
    }

    /// A code as typed by a person: case-insensitive, spaces and dashes ignored; `None` when
    /// it cannot be a code at all.
    pub fn parse(input: &str) -> Option<Self> {
        let s: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (s.len() == CODE_LEN && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(Self(s))
    }

    /// The code's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The per-install secret the codes are hashed under.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(****)")
    }
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut k = [0u8; 64];
    k[..32].copy_from_slice(key);
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

impl CodeKey {
    /// Wraps the secret's 32 bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// What is stored with the ticket: `hmac-sha256:<hex>`.
    pub fn hash(&self, code: &QueryCode) -> String {
        format!(
            "hmac-sha256:{}",
            hex::encode(hmac(&self.0, &[b"query-code:", code.0.as_bytes()]))
        )
    }

    /// Whether `input` is the code whose hash is `stored`, compared in constant time (no
    /// early exit on the first differing byte).
    pub fn verify(&self, input: &str, stored: Option<&str>) -> bool {
        let code = QueryCode::parse(input);
        // Hash something even for a malformed input, so both take about as long.
        let mine = self.hash(code.as_ref().unwrap_or(&QueryCode("22222222".into())));
        let theirs = stored.unwrap_or("");
        let same = constant_eq(mine.as_bytes(), theirs.as_bytes());
        same && code.is_some() && stored.is_some()
    }

    /// The code of a connector's request with an `external_id`: derived, not drawn, so a
    /// retry of the same request gets the same receipt without the code being stored.
    pub fn derived_code(&self, channel: &str, external_id: &str) -> QueryCode {
        let mac = hmac(
            &self.0,
            &[
                b"external:",
                channel.as_bytes(),
                b"\0",
                external_id.as_bytes(),
            ],
        );
        let mut b = [0u8; CODE_LEN];
        b.copy_from_slice(&mac[..CODE_LEN]);
        QueryCode::from_random(b)
    }
}

/// Equal length and bytes, in time that depends on the length only.
fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_and_are_read_forgivingly() {
        let c = QueryCode::from_random([0, 31, 32, 255, 7, 8, 100, 200]);
        assert_eq!(c.as_str().len(), 8);
        assert!(c.as_str().bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(c.as_str(), "2Z2Z9A6A");
        let typed = "2z2z-9a6 a";
        assert_eq!(QueryCode::parse(typed), Some(c));
        assert_eq!(
            QueryCode::parse("2Z2Z9A60"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(QueryCode::parse("2Z2Z9A6"), None);
    }

    #[test]
    fn only_the_keyed_hash_verifies() {
        let key = CodeKey::new([9; 32]);
        let code = QueryCode::from_random([1, 2, 3, 4, 5, 6, 7, 8]);
        let stored = key.hash(&code);
        assert!(!stored.contains(code.as_str()));
        assert!(key.verify(&code.as_str().to_lowercase(), Some(&stored)));
        assert!(!key.verify("22222222", Some(&stored)));
        assert!(!key.verify(code.as_str(), None));
        assert!(!key.verify("nonsense", Some(&stored)));
        let other = CodeKey::new([8; 32]);
        assert!(
            !other.verify(code.as_str(), Some(&stored)),
            "another install's key"
        );
        assert_eq!(format!("{code:?}"), "QueryCode(****)");
    }

    #[test]
    fn a_connector_retry_derives_the_same_code() {
        let key = CodeKey::new([3; 32]);
        assert_eq!(
            key.derived_code("app", "x-1"),
            key.derived_code("app", "x-1")
        );
        assert_ne!(
            key.derived_code("app", "x-1"),
            key.derived_code("mini_program", "x-1")
        );
    }
}
