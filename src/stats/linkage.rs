//! C12's emergency linkage timing: how long after the citizen's request (the call's start) a
//! request was linked to 110/119/120/122 or a utility hotline — count, median and maximum per
//! service, over the same two windows as the call KPIs ("today" from China midnight, and any
//! continuous 24 h ending now, in whole minutes). Fed the linkages as rows; reads no clock
//! (`now` is an argument) and no database.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde::Serialize;

/// One linkage, as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linkage {
    /// The service's wire name (`"110"`, `water`, …).
    pub service: String,
    pub at: DateTime<Utc>,
    /// Seconds from the request's receipt to the linkage.
    pub after_secs: u64,
}

/// One service's linkages over a window.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceLinkage {
    /// `"110"`, `"119"`, `"120"`, `"122"`, `water`, `power`, `gas`, `heating`.
    pub service: String,
    pub count: u64,
    /// Median seconds from the request to the linkage (the mean of the middle two for an
    /// even count).
    pub median_s: f64,
    pub max_s: u64,
}

/// C12 over the two windows of `GET /api/stats`, per service (services without a linkage
/// in a window are left out of it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LinkageFigures {
    pub today: Vec<ServiceLinkage>,
    pub last_24h: Vec<ServiceLinkage>,
}

const MINUTES: i64 = 24 * 60;

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

fn minute_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

/// The first minute of today (China time) at `now`.
fn today_start(now: DateTime<Utc>) -> i64 {
    let local = now.with_timezone(&china());
    let midnight = local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|d| china().from_local_datetime(&d).single())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(now);
    minute_of(midnight)
}

/// Per service, the linkages whose minute is in `[from, to)`.
fn per_service(rows: &[Linkage], from: i64, to: i64) -> Vec<ServiceLinkage> {
    let mut by: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
    for r in rows {
        let m = minute_of(r.at);
        if m >= from && m < to {
            by.entry(&r.service).or_default().push(r.after_secs);
        }
    }
    by.into_iter()
        .map(|(service, mut secs)| {
            secs.sort_unstable();
            let n = secs.len();
            let median_s = if n % 2 == 1 {
                secs[n / 2] as f64
            } else {
                (secs[n / 2 - 1] as f64 + secs[n / 2] as f64) / 2.0
            };
            ServiceLinkage {
                service: service.to_string(),
                count: n as u64,
                median_s,
                max_s: secs[n - 1],
            }
        })
        .collect()
}

impl LinkageFigures {
    /// The figures at `now` from the linkages of (at least) the last 24 h.
    pub fn at(rows: &[Linkage], now: DateTime<Utc>) -> LinkageFigures {
        let end = minute_of(now) + 1;
        let from_24h = end - MINUTES;
        LinkageFigures {
            today: per_service(rows, today_start(now).max(from_24h), end),
            last_24h: per_service(rows, from_24h, end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        china()
            .with_ymd_and_hms(2026, 12, 6, h, m, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn l(service: &str, when: DateTime<Utc>, secs: u64) -> Linkage {
        Linkage {
            service: service.into(),
            at: when,
            after_secs: secs,
        }
    }

    #[test]
    fn median_and_max_per_service_over_today_and_the_last_24_hours() {
        let yesterday = at(23, 0) - chrono::Duration::days(1);
        let rows = vec![
            l("110", yesterday, 100),
            l("110", at(9, 0), 12),
            l("110", at(9, 5), 30),
            l("110", at(9, 10), 20),
            l("water", at(9, 20), 40),
            l("water", at(9, 30), 50),
            // Two days ago: outside both windows.
            l("119", at(9, 0) - chrono::Duration::days(2), 5),
        ];
        let f = LinkageFigures::at(&rows, at(10, 0));
        assert_eq!(
            f.today,
            vec![
                ServiceLinkage {
                    service: "110".into(),
                    count: 3,
                    median_s: 20.0,
                    max_s: 30
                },
                ServiceLinkage {
                    service: "water".into(),
                    count: 2,
                    median_s: 45.0,
                    max_s: 50
                },
            ]
        );
        let police = &f.last_24h[0];
        assert_eq!((police.count, police.max_s), (4, 100));
        assert_eq!(police.median_s, 25.0);
        assert_eq!(f.last_24h.len(), 2, "119 is two days old");
        // A linkage in the current minute counts; nothing is made up for an empty window.
        let f = LinkageFigures::at(&[l("120", at(10, 0), 7)], at(10, 0));
        assert_eq!(f.today[0].count, 1);
        assert_eq!(
            LinkageFigures::at(&[], at(10, 0)),
            LinkageFigures::default()
        );
    }
}
