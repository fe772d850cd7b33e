//! A synthetic month (November 2026, with October as its history and last year's autumn for
//! the seasons) of quiet requests, with planted spikes: two hot spots, one burst of alike
//! requests, one season (a heating rush in the same ISO week last year) and two requests
//! with risk words. Scanned every hour as the shell would, keeping what was raised: every
//! planted spike is warned exactly once and no quiet series is.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, TimeZone};

use super::trends::{china, RequestRow};
use super::warnings::*;

const CATEGORIES: [&str; 4] = ["water", "noise", "traffic", "heating"];
const AREAS: [&str; 3] = ["A", "B", "C"];
/// Characters no risk word uses: random texts from them are never alike and never risky.
const ALPHABET: &str = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥春夏秋冬东南西北";

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn text(&mut self) -> String {
        let chars: Vec<char> = ALPHABET.chars().collect();
        (0..16)
            .map(|_| chars[self.next() as usize % chars.len()])
            .collect()
    }
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<FixedOffset> {
    china()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("time")
}

struct Month {
    rows: Vec<RequestRow>,
    n: u32,
    rng: Lcg,
}

impl Month {
    fn add(&mut self, t: DateTime<FixedOffset>, category: &str, area: &str, content: Option<&str>) {
        self.n += 1;
        let content = content
            .map(str::to_string)
            .unwrap_or_else(|| self.rng.text());
        self.rows.push(RequestRow {
            id: format!("T{:06}", self.n),
            received_at: t,
            request_type: "complaint".into(),
            domain: "public_service".into(),
            category: Some(category.into()),
            area: Some(area.into()),
            channel: "phone".into(),
            unit: None,
            content,
        });
    }

    /// 1–3 requests a day in every category and area, at daytime hours.
    fn quiet(&mut self, from: DateTime<FixedOffset>, days: i64) {
        for day in 0..days {
            for c in CATEGORIES {
                for a in AREAS {
                    let n = 1 + self.rng.next() % 3;
                    for k in 0..n {
                        let t = from
                            + Duration::days(day)
                            + Duration::hours(8 + (k as i64 * 4) + (self.rng.next() % 3) as i64);
                        self.add(t, c, a, None);
                    }
                }
            }
        }
    }
}

fn synthetic() -> Vec<RequestRow> {
    let mut m = Month {
        rows: Vec::new(),
        n: 0,
        rng: Lcg(17),
    };
    // Last autumn, with a heating rush in ISO week 47 of 2025 (17–23 November).
    m.quiet(at(2025, 10, 1, 0, 0), 92);
    for i in 0..60 {
        m.add(
            at(2025, 11, 17, 8, 0) + Duration::minutes(i * 150),
            "heating",
            AREAS[i as usize % 3],
            None,
        );
    }
    // This October (history) and November (the month scanned).
    m.quiet(at(2026, 10, 1, 0, 0), 61);
    // Hot spot 1: noise in B on 12 November; hot spot 2: water in C on 24 November.
    for i in 0..15 {
        m.add(
            at(2026, 11, 12, 9, 0) + Duration::minutes(i * 40),
            "noise",
            "B",
            None,
        );
    }
    for i in 0..12 {
        m.add(
            at(2026, 11, 24, 13, 0) + Duration::minutes(i * 30),
            "water",
            "C",
            None,
        );
    }
    // High frequency: 8 alike requests in an hour on 18 November, spread over every series.
    for i in 0..8 {
        let text = format!(
            "幸福小区北门井盖丢失，晚上很危险，请尽快处理{}",
            ["", "。", "！", "，谢谢"][i % 4]
        );
        m.add(
            at(2026, 11, 18, 14, 0) + Duration::minutes(i as i64 * 7),
            CATEGORIES[i % 4],
            AREAS[i % 3],
            Some(&text),
        );
    }
    // Risk words.
    m.add(
        at(2026, 11, 5, 10, 30),
        "traffic",
        "A",
        Some("工地欠薪不发，工人说要集体上访"),
    );
    m.add(
        at(2026, 11, 20, 16, 10),
        "noise",
        "C",
        Some("邻居噪音整夜不停，我真的不想活了"),
    );
    m.rows.sort_by_key(|r| r.received_at);
    m.rows
}

#[test]
fn a_synthetic_month_raises_each_planted_spike_once_and_nothing_else() {
    let rules = WarningRules::default();
    let rows = synthetic();
    let data_since = rows.first().map(|r| r.received_at);
    let mut kept: BTreeMap<String, Warning> = BTreeMap::new();
    let mut raised = Vec::new();
    // Hourly scans through November, as the shell would run them (at :59).
    for hour in 0..30 * 24 {
        let now = at(2026, 11, 1, 0, 59) + Duration::hours(hour);
        let ranges = needed_ranges(&rules, now);
        let fed: Vec<RequestRow> = rows
            .iter()
            .filter(|r| {
                r.received_at <= now
                    && ranges
                        .iter()
                        .any(|(f, t)| r.received_at >= *f && r.received_at < *t)
            })
            .cloned()
            .collect();
        let recent: Vec<Warning> = kept
            .values()
            .filter(|w| w.kind.rule() == "high_frequency")
            .cloned()
            .collect();
        let known = |k: &str| kept.contains_key(k);
        let new = scan(
            &rules,
            &ScanInput {
                now,
                data_since,
                rows: &fed,
                known: &known,
                recent_high_frequency: &recent,
            },
        );
        for w in new {
            raised.push(w.key.clone());
            assert!(kept.insert(w.key.clone(), w).is_none(), "raised twice");
        }
        // Risk words at intake: the requests received in this hour.
        for r in rows
            .iter()
            .filter(|r| r.received_at <= now && r.received_at > now - Duration::hours(1))
        {
            if let Some(w) = risk_check(&rules, r, now) {
                raised.push(w.key.clone());
                assert!(kept.insert(w.key.clone(), w).is_none(), "raised twice");
            }
        }
    }
    let keys: Vec<&str> = kept.keys().map(String::as_str).collect();
    assert_eq!(raised.len(), kept.len());
    assert_eq!(
        kept.values()
            .map(|w| w.kind.rule())
            .fold(BTreeMap::new(), |mut m, r| {
                *m.entry(r).or_insert(0) += 1;
                m
            }),
        BTreeMap::from([
            ("high_frequency", 1),
            ("hot_spot", 2),
            ("risk_words", 2),
            ("seasonal_due", 1)
        ]),
        "{keys:#?}"
    );
    assert!(keys.contains(&"hot_spot:noise|B|2026-11-12"), "{keys:#?}");
    assert!(keys.contains(&"hot_spot:water|C|2026-11-24"), "{keys:#?}");
    assert!(keys.contains(&"seasonal_due:heating:2026-W47"), "{keys:#?}");
    let hf = kept
        .values()
        .find(|w| w.kind.rule() == "high_frequency")
        .expect("hf");
    assert_eq!(hf.requests.len(), 8, "{hf:?}");
    let hot = &kept["hot_spot:noise|B|2026-11-12"];
    match &hot.kind {
        WarningKind::HotSpot {
            count,
            expected,
            p_value,
            ..
        } => {
            // Raised during the day, as soon as the count crossed the test (not at midnight).
            assert!(
                *count >= 5 && *expected < 3.0 && *p_value < 0.001,
                "{hot:?}"
            );
            assert_eq!(hot.raised_at.date_naive().to_string(), "2026-11-12");
            assert_eq!(hot.requests.len() as u64, *count);
        }
        other => panic!("{other:?}"),
    }
    let self_harm = kept.values().find(|w| matches!(&w.kind, WarningKind::RiskWords { groups, .. } if groups == &["self_harm"])).expect("self-harm");
    assert_eq!(self_harm.raised_at.date_naive().to_string(), "2026-11-20");
}

#[test]
fn the_poisson_tail_matches_hand_values() {
    assert!((poisson_tail(0, 2.0) - 1.0).abs() < 1e-12);
    // P(X ≥ 1 | 2) = 1 − e⁻²
    assert!((poisson_tail(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
    // P(X ≥ 5 | 1) = 1 − e⁻¹(1 + 1 + 1/2 + 1/6 + 1/24)
    let p5 = 1.0 - (-1.0f64).exp() * (1.0 + 1.0 + 0.5 + 1.0 / 6.0 + 1.0 / 24.0);
    assert!((poisson_tail(5, 1.0) - p5).abs() < 1e-12);
    assert!(poisson_tail(2000, 1000.0) < 1e-100);
}

#[test]
fn the_shipped_rules_are_valid_and_bad_ones_are_named() {
    let mut errors = Vec::new();
    WarningRules::default().check(&mut |k, m| errors.push(format!("{k}: {m}")));
    assert!(errors.is_empty(), "{errors:?}");
    let bad = WarningRules {
        hot_spot_p_value: 1.5,
        risk_words: BTreeMap::from([("x".into(), vec![" ".into()])]),
        ..WarningRules::default()
    };
    bad.check(&mut |k, _| errors.push(k.to_string()));
    assert_eq!(errors, vec!["hot_spot_p_value", "risk_words"]);
}
