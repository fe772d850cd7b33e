//! Bounds on what a ticket may hold, so that one client cannot make a ticket so large that
//! every later action on it is slow (40 notes of 2 MB made a 78 MB ticket, 290 ms an action):
//! each text field of an intake or an action has a length limit, a ticket a number of events,
//! and names shown to people lose Unicode format characters (a right-to-left override, U+202E,
//! makes `invoice<U+202E>fdp.exe` read as a PDF).

use serde::Serialize;

use super::action::Refusal;

/// The longest text field (content, answers, notes, reasons), in characters: a long
/// citizen's letter fits, a dump does not.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// The longest short field (names, numbers, areas, ids, categories), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// Fields that are short by nature.
const SHORT_FIELDS: &[&str] = &[
    "name",
    "caller_name",
    "phone",
    "area",
    "area_code",
    "location",
    "category",
    "lead",
    "assisting",
    "unit",
    "service",
    "earlier",
    "sha256",
    "call_id",
    "method",
];
/// The most events one ticket may carry. A ticket's whole life (dispatch, returns,
/// extensions, replies, reviews, callbacks, reminders) is a few dozen; the bound stops a loop
/// of notes from growing one without end.
pub const MAX_EVENTS_PER_TICKET: u64 = 1_000;

/// Checks every string of `value` (an intake or an action) against its field's limit; the
/// refusal names the field.
pub fn check_sizes<T: Serialize>(value: &T) -> Result<(), Refusal> {
    let Ok(v) = serde_json::to_value(value) else {
        return Ok(());
    };
    walk(&v, "")
}

fn walk(v: &serde_json::Value, field: &str) -> Result<(), Refusal> {
    match v {
        serde_json::Value::String(s) => {
            let max = if SHORT_FIELDS.contains(&field) {
                MAX_SHORT_CHARS
            } else {
                MAX_TEXT_CHARS
            };
            // Bytes first: a cheap bound before counting characters.
            if s.len() > max && s.chars().count() > max {
                return Err(Refusal::FieldTooLong {
                    field: field.to_string(),
                    max,
                });
            }
            Ok(())
        }
        serde_json::Value::Array(items) => {
            if items.len() > MAX_SHORT_CHARS {
                return Err(Refusal::FieldTooLong {
                    field: field.to_string(),
                    max: MAX_SHORT_CHARS,
                });
            }
            items.iter().try_for_each(|i| walk(i, field))
        }
        serde_json::Value::Object(map) => map.iter().try_for_each(|(k, v)| walk(v, k)),
        _ => Ok(()),
    }
}

/// Whether `c` is a Unicode format character (category Cf) or another invisible that can
/// disguise a name: bidirectional overrides and isolates, zero-width characters, the byte
/// order mark, soft hyphen, and the interlinear and tag characters.
pub fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}'
        | '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{110BD}' | '\u{110CD}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}')
}

/// A name for people: no control or format characters, trimmed.
pub fn visible_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control() && !is_format_char(*c))
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::action::Action;

    #[test]
    fn long_fields_are_refused_by_name() {
        let ok = Action::Remind {
            note: Some("催".repeat(MAX_TEXT_CHARS)),
        };
        assert!(check_sizes(&ok).is_ok());
        let long = Action::Remind {
            note: Some("催".repeat(MAX_TEXT_CHARS + 1)),
        };
        assert_eq!(
            check_sizes(&long),
            Err(Refusal::FieldTooLong {
                field: "note".into(),
                max: MAX_TEXT_CHARS
            })
        );
        let v = serde_json::json!({"caller": {"name": "x".repeat(201)}});
        assert_eq!(check_sizes(&v).unwrap_err().code(), "field_too_long");
    }

    #[test]
    fn names_lose_their_disguise() {
        assert_eq!(visible_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(
            visible_name("\u{FEFF} 支付凭证\u{200B}.pdf "),
            "支付凭证.pdf"
        );
        assert_eq!(visible_name("a\u{2066}b\u{2069}\u{E0041}"), "ab");
    }
}
