//! One ACD routing decision with 2,000 agents and 20 queues (target ≤ 5 µs).
//!
//! - `call_arrives`: every agent is ready; a call arrives, is offered to the best agent
//!   (a decision over the queue's pools), and the caller hangs up, which puts the agent
//!   back to ready and looks for a waiting call for it across all 20 queues (a second
//!   decision). One element = both decisions plus their bookkeeping and outputs.
//! - `agent_ready`: 1,000 calls wait in 20 queues and every agent is not ready; one agent
//!   becomes ready and is offered the best call across the queues it may serve, then goes
//!   not ready again, which cancels the ring and puts the call back at the front of its
//!   queue (a second decision, finding nobody). One element = both.
//! - `item_arrives_offer_then_withdraw`: every agent is ready (web capacity 2); a web item
//!   arrives in the web queue (skill general ≥ 3) and is offered to the best agent (level,
//!   items in hand, idle), then is withdrawn, which frees the agent and looks for another
//!   waiting item for them. One element = both decisions.
//! - `item_declined_goes_to_next_agent`: the same, with a decline in between (a third
//!   decision, skipping the agent who declined).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline::acd::config::AcdConfig;
use hotline::acd::model::{NotReadyReason, StateRequest};
use hotline::acd::{Acd, ItemKey, ItemOutput};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const AGENTS: usize = 2000;

/// 20 queues: general, enterprise, sign, and six variants each of dialect, foreign, topic
/// (one dropped), each with three expansion steps.
fn queues() -> (String, Vec<String>) {
    let mut specs: Vec<(String, String)> = vec![
        ("general".into(), "skill = \"general\"".into()),
        ("enterprise".into(), "skill = \"enterprise\"".into()),
        ("sign".into(), "skill = \"sign\"".into()),
    ];
    for i in 0..6 {
        specs.push((
            format!("dialect{i}"),
            format!("skill = \"dialect\"\ndialect = \"d{i}\""),
        ));
        specs.push((
            format!("foreign{i}"),
            format!("skill = \"foreign\"\nlanguage = \"l{i}\""),
        ));
        if i < 5 {
            specs.push((
                format!("topic{i}"),
                format!("skill = \"high_frequency\"\ntopic = \"t{i}\""),
            ));
        }
    }
    assert_eq!(specs.len(), 20);
    // One web queue beside them (its items never reach the call tables).
    let mut text = String::from(
        "[[queue]]\nname = \"web\"\nchannel = \"web\"\nskill = \"general\"\nmin_level = 3\nexpand = [\n  { after = \"60s\", min_level = 1 },\n  { after = \"2m\", everyone = true },\n]\n\n",
    );
    for (name, skill) in &specs {
        text.push_str(&format!(
            "[[queue]]\nname = \"{name}\"\n{skill}\nmin_level = 3\nexpand = [\n  {{ after = \"5s\", min_level = 1 }},\n  {{ after = \"8s\", skill = \"general\", min_level = 3 }},\n  {{ after = \"10s\", everyone = true }},\n]\n\n"
        ));
    }
    (text, specs.into_iter().map(|(n, _)| n).collect())
}

fn agents() -> String {
    let mut rng = StdRng::seed_from_u64(42);
    let mut text = String::new();
    for i in 0..AGENTS {
        let mut skills = vec![format!(
            "{{ skill = \"general\", level = {} }}",
            rng.gen_range(1..=5)
        )];
        if i % 10 == 0 {
            skills.push(format!(
                "{{ skill = \"enterprise\", level = {} }}",
                rng.gen_range(1..=5)
            ));
        }
        if i % 50 == 0 {
            skills.push(format!(
                "{{ skill = \"sign\", level = {} }}",
                rng.gen_range(3..=5)
            ));
        }
        let v = rng.gen_range(0..6);
        skills.push(format!(
            "{{ skill = \"dialect\", dialect = \"d{v}\", level = {} }}",
            rng.gen_range(1..=5)
        ));
        let v = rng.gen_range(0..6);
        skills.push(format!(
            "{{ skill = \"foreign\", language = \"l{v}\", level = {} }}",
            rng.gen_range(1..=5)
        ));
        let v = rng.gen_range(0..5);
        skills.push(format!(
            "{{ skill = \"high_frequency\", topic = \"t{v}\", level = {} }}",
            rng.gen_range(1..=5)
        ));
        // Guarantee every variant has a level-5 holder.
        if i < 6 {
            skills.push(format!(
                "{{ skill = \"dialect\", dialect = \"d{i}x\", level = 5 }}"
            ));
        }
        text.push_str(&format!(
            "[[agent]]\nid = \"a{i}\"\nname = \"Agent {i}\"\nha1_md5 = \"939e7578ed9e3c518a452acee763bce9\"\nskills = [{}]\n\n",
            skills.join(", ")
        ));
    }
    text
}

fn setup() -> (AcdConfig, Vec<String>) {
    let (q, names) = queues();
    let cfg = AcdConfig::parse(
        &agents(),
        Path::new("agents.toml"),
        &q,
        Path::new("queues.toml"),
    );
    match cfg {
        Ok(c) => (c, names),
        Err(e) => panic!("bench config: {e:?}"),
    }
}

fn drain(acd: &mut Acd<u64>) -> usize {
    std::iter::from_fn(|| acd.poll_output()).count()
}

fn bench(c: &mut Criterion) {
    let (cfg, queues) = setup();
    let t0 = hotline::shell::clock::now();
    let mut g = c.benchmark_group("acd_routing");
    g.throughput(Throughput::Elements(1));

    {
        let mut acd: Acd<u64> = Acd::new(&cfg, t0);
        for a in &cfg.agents {
            let id = a.id.as_str();
            acd.handle_registration(id, true, t0).ok();
            acd.handle_agent_state(id, StateRequest::Ready, t0).ok();
        }
        drain(&mut acd);
        let mut n = 0u64;
        let now: Instant = t0 + Duration::from_secs(1);
        g.bench_function("call_arrives_offer_then_abandon", |b| {
            b.iter(|| {
                n += 1;
                let q = &queues[(n % queues.len() as u64) as usize];
                acd.handle_call_queued(n, q, now, 0, now).ok();
                acd.handle_caller_hung_up(&n, now).ok();
                black_box(drain(&mut acd))
            })
        });
        assert!(acd.check_invariants().is_ok());
    }

    {
        let mut acd: Acd<u64> = Acd::new(&cfg, t0);
        for a in &cfg.agents {
            let id = a.id.as_str();
            acd.handle_registration(id, true, t0).ok();
            acd.handle_agent_state(id, StateRequest::NotReady(NotReadyReason::Break), t0)
                .ok();
        }
        for i in 0..1000u64 {
            let q = &queues[(i % queues.len() as u64) as usize];
            acd.handle_call_queued(i, q, t0, (i % 7 == 0) as u8, t0)
                .ok();
        }
        drain(&mut acd);
        let ids: Vec<&str> = cfg.agents.iter().map(|a| a.id.as_str()).collect();
        let now = t0 + Duration::from_secs(2);
        // The measured step really offers a call and cancels it.
        acd.handle_agent_state(ids[1], StateRequest::Ready, now)
            .ok();
        let offered = std::iter::from_fn(|| acd.poll_output())
            .any(|o| matches!(o, hotline::acd::Output::Offer { .. }));
        assert!(offered, "a ready agent must be offered a waiting call");
        acd.handle_agent_state(ids[1], StateRequest::NotReady(NotReadyReason::Break), now)
            .ok();
        drain(&mut acd);
        let mut n = 0usize;
        g.bench_function("agent_ready_picks_call_then_not_ready", |b| {
            b.iter(|| {
                n += 1;
                let id = ids[n % ids.len()];
                acd.handle_agent_state(id, StateRequest::Ready, now).ok();
                acd.handle_agent_state(id, StateRequest::NotReady(NotReadyReason::Break), now)
                    .ok();
                black_box(drain(&mut acd))
            })
        });
        assert!(acd.check_invariants().is_ok());
    }

    {
        let mut acd: Acd<u64> = Acd::new(&cfg, t0);
        for a in &cfg.agents {
            let id = a.id.as_str();
            acd.handle_agent_state(id, StateRequest::Ready, t0).ok();
        }
        drain(&mut acd);
        let now = t0 + Duration::from_secs(1);
        let keys: Vec<ItemKey> = (0..4096).map(|i| ItemKey::from(format!("i{i}"))).collect();
        // The measured step really offers the item.
        acd.handle_item_queued(keys[0].clone(), "web", now, now)
            .ok();
        let offered = std::iter::from_fn(|| acd.poll_item_output())
            .any(|o| matches!(o, ItemOutput::OfferItem { .. }));
        assert!(offered, "a ready agent must be offered the item");
        acd.handle_item_withdrawn(&keys[0], now).ok();
        let mut n = 0usize;
        g.bench_function("item_arrives_offer_then_withdraw", |b| {
            b.iter(|| {
                n += 1;
                let k = &keys[n % keys.len()];
                acd.handle_item_queued(k.clone(), "web", now, now).ok();
                acd.handle_item_withdrawn(k, now).ok();
                black_box(std::iter::from_fn(|| acd.poll_item_output()).count())
            })
        });
        g.bench_function("item_declined_goes_to_next_agent", |b| {
            b.iter(|| {
                n += 1;
                let k = &keys[n % keys.len()];
                acd.handle_item_queued(k.clone(), "web", now, now).ok();
                if let Some(agent) = acd.item_agent(k).map(|a| a.to_string()) {
                    acd.handle_item_declined(k, &agent, now).ok();
                }
                acd.handle_item_withdrawn(k, now).ok();
                black_box(std::iter::from_fn(|| acd.poll_item_output()).count())
            })
        });
        assert!(acd.check_invariants().is_ok());
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
