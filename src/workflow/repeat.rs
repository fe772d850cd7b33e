//! Repeat detection (W6): a new request from the same caller number stating the same facts
//! as an earlier one (open or closed) is linked to it instead of being dispatched again.
//!
//! The rule, chosen to be explainable to a caller and an auditor:
//! 1. the same caller number after normalisation (digits only, `+86`/`0086`/`86` prefix
//!    removed) — an anonymous request is never a repeat;
//! 2. the earlier request was received within the look-back window (default 180 days) and
//!    was not refused or itself linked as a repeat (we link to the original);
//! 3. the contents share at least `repeat_threshold` (default 0.6) of their character bigrams
//!    (Dice coefficient over letters/digits/CJK, punctuation and spaces dropped). Bigrams suit
//!    Chinese, which has no spaces, and tolerate re-ordered or slightly re-worded sentences.
//!
//! The best score wins (ties: the most recent). The agent sees the match and its score and can
//! still clear it with a reason ("new facts"); nothing is linked silently.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::model::TicketId;
use super::policy::Policy;

/// What the store keeps about an earlier request for repeat matching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatCandidate {
    pub id: TicketId,
    pub received_at: DateTime<FixedOffset>,
    pub content: String,
    /// Refused or itself a repeat: never the "earlier" request.
    pub excluded: bool,
}

/// A found repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatMatch {
    pub earlier: TicketId,
    pub score: f64,
}

/// The caller number as compared: digits only, country prefix dropped.
pub fn normalize_phone(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let d = digits
        .strip_prefix("0086")
        .or_else(|| {
            (digits.len() == 13)
                .then(|| digits.strip_prefix("86"))
                .flatten()
        })
        .unwrap_or(&digits);
    (!d.is_empty()).then(|| d.to_string())
}

fn bigrams(text: &str) -> BTreeSet<(char, char)> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if chars.len() == 1 {
        return BTreeSet::from([(chars[0], chars[0])]);
    }
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Dice coefficient of the two texts' character bigrams, 0.0–1.0.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (bigrams(a), bigrams(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = a.intersection(&b).count();
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

/// The earlier request this one repeats, if any. `candidates` are the store's requests from
/// the same normalised number.
pub fn find_repeat(
    content: &str,
    received_at: DateTime<FixedOffset>,
    candidates: &[RepeatCandidate],
    policy: &Policy,
) -> Option<RepeatMatch> {
    let since = received_at - chrono::Duration::days(i64::from(policy.repeat_lookback_days));
    candidates
        .iter()
        .filter(|c| !c.excluded && c.received_at >= since && c.received_at <= received_at)
        .map(|c| (similarity(content, &c.content), c))
        .filter(|(s, _)| *s >= policy.repeat_threshold)
        .max_by(|(sa, a), (sb, b)| sa.total_cmp(sb).then(a.received_at.cmp(&b.received_at)))
        .map(|(score, c)| RepeatMatch {
            earlier: c.id.clone(),
            score: (score * 1000.0).round() / 1000.0,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn cand(id: &str, at: &str, content: &str) -> RepeatCandidate {
        RepeatCandidate {
            id: TicketId(id.into()),
            received_at: t(at),
            content: content.into(),
            excluded: false,
        }
    }

    #[test]
    fn phone_numbers_are_normalised() {
        assert_eq!(
            normalize_phone("+86 138-0013-8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("008613800138000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("13800138000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("010-12345678").as_deref(),
            Some("01012345678")
        );
        assert_eq!(normalize_phone("anonymous"), None);
    }

    #[test]
    fn reworded_same_facts_match_and_different_facts_do_not() {
        let p = Policy::default();
        let earlier = [cand(
            "20260901-000001",
            "2026-09-01T09:00:00+08:00",
            "幸福小区3号楼从昨天开始停水，至今没有恢复供水。",
        )];
        let same = find_repeat(
            "幸福小区3号楼停水，从昨天开始至今没有恢复供水！",
            t("2026-09-03T09:00:00+08:00"),
            &earlier,
            &p,
        );
        assert_eq!(
            same.as_ref().map(|m| m.earlier.0.as_str()),
            Some("20260901-000001")
        );
        assert!(same.unwrap().score >= 0.6);
        let other = find_repeat(
            "幸福小区门口夜间施工噪音扰民，希望处理。",
            t("2026-09-03T09:00:00+08:00"),
            &earlier,
            &p,
        );
        assert_eq!(other, None);
    }

    #[test]
    fn outside_the_window_or_excluded_is_not_a_repeat() {
        let p = Policy::default();
        let mut c = cand(
            "20260101-000001",
            "2026-01-05T09:00:00+08:00",
            "幸福小区停水",
        );
        assert_eq!(
            find_repeat(
                "幸福小区停水",
                t("2026-09-03T09:00:00+08:00"),
                &[c.clone()],
                &p
            ),
            None
        );
        c.received_at = t("2026-09-01T09:00:00+08:00");
        c.excluded = true;
        assert_eq!(
            find_repeat("幸福小区停水", t("2026-09-03T09:00:00+08:00"), &[c], &p),
            None
        );
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        assert_eq!(similarity("abc", "abc"), 1.0);
        assert_eq!(similarity("", "abc"), 0.0);
        let (a, b) = ("小区停水三天", "停水三天了小区");
        assert_eq!(similarity(a, b), similarity(b, a));
    }
}
