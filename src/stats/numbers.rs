//! The two numbers of the standard per service number dialled (integrated numbers, GB/T
//! 44190 4.2): for a period of call records, one row per number, counted exactly as the live
//! KPIs count them (`kpi::tally`, the same grace).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::kpi::{tally, KpiEvent, Rates};

/// One number's callers over a period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NumberStats {
    /// The service number dialled (`12345`, `12315`, …).
    pub number: String,
    pub calls: Rates,
}

/// One row per number that had an inbound call resolved in `calls` (events without a number
/// — a callback's later tries — are left out), in number order.
pub fn by_number(calls: &[KpiEvent], grace: Duration) -> Vec<NumberStats> {
    let mut groups: BTreeMap<&str, Vec<KpiEvent>> = BTreeMap::new();
    for e in calls {
        if let Some(n) = &e.number {
            groups.entry(n).or_default().push(e.clone());
        }
    }
    groups
        .into_iter()
        .map(|(number, events)| NumberStats {
            number: number.to_string(),
            calls: tally(&events, grace),
        })
        .collect()
}

/// The rows as CSV (RFC 4180, a header line), rates as fractions.
pub fn numbers_csv(rows: &[NumberStats]) -> String {
    let mut out = String::from("number,offered,answered,answered_within_15s,abandoned,abandoned_in_grace,refused_no_capacity,counted,answer_rate_15s,connection_rate,avg_wait_s,max_wait_s,waited_over_15s\n");
    let ratio = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
    let secs = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_default();
    for r in rows {
        let c = &r.calls;
        let fields = [
            super::agents::csv_field(&r.number),
            c.offered.to_string(),
            c.answered.to_string(),
            c.answered_within_15s.to_string(),
            c.abandoned.to_string(),
            c.abandoned_in_grace.to_string(),
            c.refused_no_capacity.to_string(),
            c.counted.to_string(),
            ratio(c.answer_rate_15s),
            ratio(c.connection_rate),
            secs(c.avg_wait_s),
            secs(c.max_wait_s),
            c.waited_over_15s.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::kpi::Outcome;
    use chrono::TimeZone;

    #[test]
    fn each_number_is_counted_apart_and_the_rows_add_up() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .unwrap();
        let e = |n: Option<&str>, outcome| KpiEvent {
            queue: Some("general".into()),
            number: n.map(str::to_string),
            outcome,
            at,
        };
        let s = Duration::from_secs;
        let calls = [
            e(Some("12345"), Outcome::Answered { wait: s(5) }),
            e(Some("12345"), Outcome::Abandoned { wait: s(30) }),
            e(Some("12315"), Outcome::Answered { wait: s(20) }),
            e(Some("12315"), Outcome::Answered { wait: s(3) }),
            e(None, Outcome::CallbackReached { after: s(60) }),
        ];
        let rows = by_number(&calls, Duration::ZERO);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].number, "12315");
        assert_eq!(rows[0].calls.answered, 2);
        assert_eq!(rows[0].calls.answer_rate_15s, Some(0.5));
        assert_eq!(rows[0].calls.connection_rate, Some(1.0));
        assert_eq!(rows[1].calls.connection_rate, Some(0.5));
        let csv = numbers_csv(&rows);
        assert!(csv.starts_with("number,offered,"));
        assert!(
            csv.contains("\n12315,2,2,1,0,0,0,2,0.5000,1.0000,"),
            "{csv}"
        );
    }
}
