//! How the knowledge base is used, for the supervisors' knowledge page and `/metrics`: which
//! words found nothing (kept as a gap to write, without a citizen's number in them), which
//! items a ticket cites, which served items expire within the reminder window. Sans-IO: the
//! store keeps the rows, this decides what a row is.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::workflow::calendar::WorkCalendar;
use crate::workflow::model::china;

use super::{Item, ItemId};

/// Digits in a row from which a search's words are taken to hold a number (a phone, an ID
/// card, an account) and are masked before they are kept.
const MASK_DIGITS_FROM: usize = 6;

/// Where an item was cited: a W3 direct answer or a unit's W11 reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CiteKind {
    Answer,
    Reply,
}

impl CiteKind {
    /// The wire and label name.
    pub fn name(self) -> &'static str {
        match self {
            CiteKind::Answer => "answer",
            CiteKind::Reply => "reply",
        }
    }
}

/// A search's words as kept among the searches that found nothing: trimmed, spaces
/// collapsed, ASCII lower-cased, runs of 6 or more digits masked (a citizen may type a phone
/// or ID number into the public search; it must not be stored). `None`: nothing to keep.
pub fn gap_text(query: &str) -> Option<String> {
    let mut out = String::with_capacity(query.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.chars().count() >= MASK_DIGITS_FROM {
            out.push_str("***");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    let mut space = false;
    for c in query.trim().chars() {
        if c.is_ascii_digit() {
            if space {
                out.push(' ');
                space = false;
            }
            digits.push(c);
            continue;
        }
        flush(&mut digits, &mut out);
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c.to_ascii_lowercase());
    }
    flush(&mut digits, &mut out);
    (!out.is_empty()).then_some(out)
}

/// A served item whose expiry date falls within the reminder window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Expiring {
    pub id: ItemId,
    #[schema(value_type = String, format = Date)]
    pub expires: NaiveDate,
    /// Working days from today to the expiry date (0: it expires on the next working day or
    /// sooner).
    pub working_days_left: u32,
}

/// The served items that expire within `window` working days of `at` (the same window as the
/// owning unit's reminder), soonest first; expired ones are the sweep's to withdraw.
pub fn near_expiry<'a>(
    items: impl IntoIterator<Item = &'a Item>,
    at: DateTime<FixedOffset>,
    calendar: &WorkCalendar,
    window: u32,
) -> Vec<Expiring> {
    let today = at.with_timezone(&china()).date_naive();
    let mut out: Vec<Expiring> = items
        .into_iter()
        .filter_map(|item| {
            let (_, content) = item.served_content()?;
            let expires = content.expires?;
            if expires <= today {
                return None;
            }
            let left =
                calendar.working_days_between(at, crate::workflow::calendar::start_of_day(expires));
            (left <= window).then_some(Expiring {
                id: item.id,
                expires,
                working_days_left: left,
            })
        })
        .collect();
    out.sort_by_key(|e| (e.expires, e.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::lifecycle::{decide, Command};
    use crate::workflow::model::{Actor, Role};
    use chrono::TimeZone;

    #[test]
    fn a_gap_keeps_the_words_and_masks_a_number() {
        assert_eq!(
            gap_text("  我的电话13800138000  怎么   查 ").as_deref(),
            Some("我的电话*** 怎么 查")
        );
        assert_eq!(gap_text("ETC 办理 2026").as_deref(), Some("etc 办理 2026"));
        assert_eq!(
            gap_text("身份证11010519491231002X").as_deref(),
            Some("身份证***x")
        );
        assert_eq!(gap_text("   "), None);
    }

    #[test]
    fn near_expiry_lists_served_items_within_the_window_soonest_first() {
        let cat = crate::workflow::catalogue::DispatchCatalogue::from_toml_str(include_str!(
            "../../config/dispatch.toml"
        ))
        .unwrap();
        let cal = WorkCalendar::new([]);
        let ed = Actor::new("ed", Role::KbEditor);
        let at = china().with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(); // a Monday
        let line = include_str!("../../config/kb-demo.jsonl")
            .lines()
            .next()
            .unwrap();
        let item = |id: ItemId, expires: Option<&str>, approve: bool| {
            let mut c: crate::kb::ItemContent = serde_json::from_str(line).unwrap();
            c.expires = expires.map(|d| d.parse().unwrap());
            let ev = decide(None, &ed, Command::Write(Box::new(c)), at, &cat).unwrap();
            let mut it = Item::replay(id, ev).unwrap();
            if approve {
                for cmd in [Command::Submit, Command::Approve] {
                    for e in decide(Some(&it), &ed, cmd, at, &cat).unwrap() {
                        it.apply(e);
                    }
                }
            }
            it
        };
        let items = [
            item(1, Some("2026-03-09"), true), // 5 working days on
            item(2, Some("2026-03-04"), true), // 2
            item(3, Some("2026-06-01"), true), // far
            item(4, None, true),
            item(5, Some("2026-03-03"), false), // not served
            item(6, Some("2026-03-02"), true),  // expires today: the sweep's
        ];
        let got = near_expiry(&items, at, &cal, 5);
        let ids: Vec<(ItemId, u32)> = got.iter().map(|e| (e.id, e.working_days_left)).collect();
        assert_eq!(ids, [(2, 2), (1, 5)]);
        assert!(near_expiry(&items, at, &cal, 4).iter().all(|e| e.id == 2));
    }
}
