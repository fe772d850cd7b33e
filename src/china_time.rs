//! Every time the API and the records show is written in China time (`+08:00`), as the
//! tickets' are: an operator reading a call record, a wallboard and a ticket side by side
//! sees one clock. Instants stay `DateTime<Utc>` inside; only their text changes, and reading
//! accepts any RFC 3339 offset (records written before, in `Z`, read back the same).

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::Serializer;

/// China Standard Time.
fn cst() -> FixedOffset {
    crate::workflow::model::china()
}

/// RFC 3339 in China time, to the microsecond when there are fractions.
pub fn text(t: &DateTime<Utc>) -> String {
    t.with_timezone(&cst())
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// `#[serde(serialize_with = "crate::china_time::serialize")]`
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&text(t))
}

/// `#[serde(serialize_with = "crate::china_time::serialize_opt")]`
pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&text(t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_instants_read_in_china_time_and_back() {
        let t: DateTime<Utc> = "2026-12-06T16:47:40Z".parse().unwrap();
        assert_eq!(
            text(&t),
            "2026-12-06T16:47:40+08:00"
                .replace("16:47", "00:47")
                .replace("12-06", "12-07")
        );
        let back: DateTime<Utc> = text(&t).parse().unwrap();
        assert_eq!(back, t);
    }
}
