//! A byte cursor over one unfolded header value or start-line element, and the RFC 3261
//! character classes. All delimiters are ASCII, so slicing at them keeps UTF-8 intact.

/// RFC 3261 `token` characters.
pub(crate) fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c)
}

/// `unreserved` = alphanum / mark.
pub(crate) fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&c)
}

pub(crate) fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Checks that `s` is non-empty, made of `allowed` bytes and well-formed `%HH` escapes.
pub(crate) fn valid_escaped(s: &str, allowed: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() {
                return false;
            }
            if !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
        } else if allowed(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Parses 1*DIGIT (leading zeros allowed, as RFC 4475 `wsinv` has) into a u64 bounded by
/// `max`; `None` on anything else or overflow.
pub(crate) fn digits(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 40 {
        return None;
    }
    let mut v: u64 = 0;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    (v <= max).then_some(v)
}

pub(crate) struct Cur<'a> {
    pub(crate) s: &'a str,
    pub(crate) pos: usize,
}

impl<'a> Cur<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Cur { s, pos: 0 }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips SP/HT; returns whether any was skipped.
    pub(crate) fn ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        self.pos > start
    }

    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        // Only ASCII predicates are used, so both ends are char boundaries.
        self.s.get(start..self.pos).unwrap_or("")
    }

    pub(crate) fn token(&mut self) -> Option<&'a str> {
        let t = self.take_while(is_token);
        (!t.is_empty()).then_some(t)
    }

    /// A quoted-string starting at `"`; returns its unescaped content.
    pub(crate) fn quoted(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let b = self.s.as_bytes();
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = *b.get(self.pos)?;
            self.pos += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let n = *b.get(self.pos)?;
                    if n >= 0x80 || n == b'\r' || n == b'\n' {
                        return None;
                    }
                    out.push(n);
                    self.pos += 1;
                }
                b'\t' | b' ' | 0x21..=0x7e | 0x80..=0xff => out.push(c),
                _ => return None,
            }
        }
    }

    /// A quoted-string kept verbatim (quotes included) — for parameter values that must be
    /// re-encoded exactly.
    pub(crate) fn quoted_raw(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.quoted()?;
        self.s.get(start..self.pos)
    }
}
