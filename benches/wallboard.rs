//! What one refresh of the live pages costs: the wallboard (20 queues, a day of KPIs with its
//! 96-bar series) built and rendered to JSON, and the desks of 2,000 agents rendered to JSON.
//! The publisher does this twice a second while anybody watches, whatever the number of
//! open pages.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock to make its data

use std::hint::black_box;
use std::time::Duration;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use hotline::cti::agents::AgentView;
use hotline::cti::live::DeskView;
use hotline::stats::kpi::{Kpis, Outcome};
use hotline::stats::wallboard::{AgentCounts, QueueInput, Wallboard};

fn inputs() -> (Vec<QueueInput>, Kpis) {
    let queues = (0..20)
        .map(|i| QueueInput {
            name: format!("queue-{i}"),
            waiting: i * 3,
            ringing: i % 4,
            longest_wait: Some(Duration::from_secs(i as u64)),
            agents: AgentCounts {
                ready: 30,
                ready_no_phone: 1,
                talking: 50,
                assisting: 2,
                wrap_up: 10,
                not_ready: 5,
                reserved: 3,
                logged_out: 2,
            },
            unstaffed: i == 19,
        })
        .collect();
    // A busy day: 20,000 resolved calls spread over 24 h.
    let mut k = Kpis::new(Duration::from_secs(5), 20);
    let now = Utc::now();
    for i in 0..20_000i64 {
        let at = now - chrono::Duration::seconds(i * 4);
        let o = if i % 25 == 0 {
            Outcome::Abandoned {
                wait: Duration::from_secs(30),
            }
        } else {
            Outcome::Answered {
                wait: Duration::from_secs((i % 20) as u64),
            }
        };
        k.record(None, o, at);
    }
    (queues, k)
}

fn bench(c: &mut Criterion) {
    let (queues, kpis) = inputs();
    let now = Utc::now();
    c.bench_function("wallboard_build_and_render", |b| {
        b.iter(|| {
            let board = Wallboard::build(
                now,
                black_box(queues.clone()),
                AgentCounts::default(),
                kpis.snapshot(now),
            );
            black_box(serde_json::to_string(&board).map(|s| s.len()))
        })
    });
    let desks: Vec<DeskView> = (0..2000)
        .map(|i| DeskView {
            at: now,
            agent: AgentView {
                id: format!("{}", 10000 + i),
                name: format!("Agent {i}"),
                state: "talking",
                reason: None,
                in_state_s: 42.5,
                wrap_up_left_s: None,
                registered: true,
            },
            call: None,
            transfer_to: ["general", "enterprise", "dialect", "110", "water"]
                .map(String::from)
                .to_vec(),
            call_in_numbers: ["110", "water"].map(String::from).to_vec(),
            call_in_units: Vec::new(),
            web_offer: None,
            web_items: vec![format!("20261206-{:06}", i)],
            web_capacity: 2,
            surge: None,
        })
        .collect();
    c.bench_function("desks_2000_render", |b| {
        b.iter(|| {
            let n: usize = desks
                .iter()
                .filter_map(|d| serde_json::to_string(d).ok())
                .map(|s| s.len())
                .sum();
            black_box(n)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
