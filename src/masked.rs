//! Privacy is typed (rule C16): caller numbers and names pass through [`Masked`], whose
//! `Display` and `Debug` hide the middle, so logs, the wallboard and metrics never show them.

use std::fmt;

/// A caller's number or name that must be shown masked everywhere outside the ticket itself.
#[derive(Clone, PartialEq, Eq, Hash, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Masked(String);

impl Masked {
    /// Wraps a value that must not leak into logs.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The whole value, for the ticket itself and for routing decisions only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The masked form: `13812345678` → `138******78`; never more than half is shown.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks a number or name so that at most half of its characters show, whatever its length
/// (rule C16): up to the first 3 (the carrier or area prefix a supervisor may need) and the
/// rest of that half at the end (`138******78`, `13****41`, `欧**娜`); one-character values are
/// hidden.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if n <= 1 {
        return "*".repeat(n);
    }
    let shown = n / 2;
    let head = shown.div_ceil(2).min(3);
    let tail = shown - head;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

impl fmt::Display for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Masked({})", self.masked())
    }
}

impl serde::Serialize for Masked {
    /// Serializes masked: anything that leaves the process through serde is a view, not the ticket.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_mobile_numbers_like_the_standard_examples() {
        assert_eq!(mask("13812345678"), "138******78");
        assert_eq!(format!("{}", Masked::new("13800138000")), "138******00");
        assert_eq!(
            format!("{:?}", Masked::new("13800138000")),
            "Masked(138******00)"
        );
    }

    #[test]
    fn masks_short_values_and_names() {
        assert_eq!(mask(""), "");
        assert_eq!(mask("张"), "*");
        assert_eq!(mask("张三"), "张*");
        assert_eq!(mask("欧阳娜娜"), "欧**娜");
        assert_eq!(mask("1001"), "1**1");
    }

    #[test]
    fn never_shows_more_than_half_whatever_the_length() {
        assert_eq!(mask("12345678"), "12****78");
        assert_eq!(mask("01012345678"), "010******78");
        assert_eq!(mask("+8613812345678"), "+86*******5678");
        for n in 1..40 {
            let v: String = (0..n).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
            let m = mask(&v);
            assert_eq!(m.chars().count(), n);
            let shown = m.chars().filter(|c| *c != '*').count();
            assert!(shown * 2 <= n, "{v} → {m}");
        }
    }
}
