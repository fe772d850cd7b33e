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

    /// The masked form: `13812345678` → `138****5678`; short values keep only their ends.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks a number or name: keeps the first 3 and last 4 characters of long values
/// (`138****5678`), the first and last of short ones, and hides one-character values.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        0 => return String::new(),
        1 => return "*".to_string(),
        2 => (1, 0),
        3..=7 => (1, 1),
        _ => (3, 4),
    };
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
        assert_eq!(mask("13812345678"), "138****5678");
        assert_eq!(format!("{}", Masked::new("13800138000")), "138****8000");
        assert_eq!(
            format!("{:?}", Masked::new("13800138000")),
            "Masked(138****8000)"
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
}
