//! Property tests of the ACD: 300 agents with random skills, up to 1,000 calls, and every
//! input in random order (arrivals, answers, refusals, hang-ups, state changes,
//! registrations, time passing). After every step:
//! - the core's own indexes agree with its states (`check_invariants`);
//! - no call is offered to two agents, no agent holds two offers, every offer goes to an
//!   agent who was ready, registered and free (tracked here from the outputs alone);
//! - no waiting call has an available agent it may go to at its current expansion stage
//!   (eligibility recomputed here from the config, independently of the core's tables).
//!
//! Web work items are interleaved with the calls (queued, accepted, declined, done,
//! withdrawn, offers timing out), and after every step, from the item outputs alone:
//! - no item is offered to two agents at once, no agent holds two item offers, and no agent
//!   is over their web capacity (accepted plus offered);
//! - every pending offer's agent is logged in, not not-ready, and may serve the item's queue
//!   at its stage; no waiting item has an agent it could be offered to;
//! - no agent ever holds two calls (an offer to an agent on a call is refused above).
//!
//! A second agent is brought onto connected calls (a named agent or a queue's best; issue
//! 14), leaves again (answered or not) or takes the call over; after every step, from the
//! return values and outputs alone: an assist goes only to an agent who was ready,
//! registered and on no call (and for a queue, eligible at its first stage), an assisting
//! agent is offered neither a call nor a web item, and the core's assisting agents are
//! exactly those tracked here.
//!
//! Now and then the same configuration is reloaded (SIGHUP): calls and items carry over.
//!
//! At the end everyone comes online and every remaining call and item must be served.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use hotline::acd::config::{AcdConfig, Widen};
use hotline::acd::model::{AgentState, NotReadyReason, StateRequest};
use hotline::acd::{Acd, ItemOutput, Output, RingFailure};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The assist inputs (issue 14) and what they must do.
#[path = "acd_props/assist.rs"]
mod assist;

const AGENTS: usize = 300;
const MAX_CALLS: u32 = 1000;
const MAX_ITEMS: u32 = 400;
const WEB_QUEUES: [&str; 2] = ["web", "web_enterprise"];
const QUEUES: [&str; 6] = [
    "general",
    "enterprise",
    "dialect",
    "foreign",
    "sign",
    "high_frequency",
];

fn agents_toml(seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let kinds = [
        ("general", ""),
        ("enterprise", ""),
        ("dialect", "dialect = \"cantonese\", "),
        ("dialect", "dialect = \"minnan\", "),
        ("foreign", "language = \"en\", "),
        ("sign", ""),
        ("high_frequency", "topic = \"housing\", "),
        // The integrated numbers' queues (12315 market, 12333 social security).
        ("high_frequency", "topic = \"market\", "),
        ("high_frequency", "topic = \"social-security\", "),
    ];
    let mut out = String::new();
    for i in 0..AGENTS {
        let mut skills = Vec::new();
        for (k, (kind, variant)) in kinds.iter().enumerate() {
            // The first agents cover every skill at level 5 so every queue is servable.
            let level = if i < kinds.len() && i == k {
                5
            } else if rng.gen_bool(0.3) {
                rng.gen_range(1..=5)
            } else {
                continue;
            };
            skills.push(format!(
                "{{ skill = \"{kind}\", {variant}level = {level} }}"
            ));
        }
        if skills.is_empty() {
            skills.push("{ skill = \"general\", level = 1 }".into());
        }
        // Web capacity 0..=3; the level-5 holders always take some.
        let cap = if i < kinds.len() {
            rng.gen_range(1..=3)
        } else {
            rng.gen_range(0..=3)
        };
        out.push_str(&format!(
            "[[agent]]\nid = \"a{i}\"\nname = \"Agent {i}\"\nha1_md5 = \"939e7578ed9e3c518a452acee763bce9\"\nweb_capacity = {cap}\nskills = [{}]\n\n",
            skills.join(", ")
        ));
    }
    out
}

fn config(seed: u64) -> AcdConfig {
    let queues =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/queues.toml"))
            .expect("shipped queues.toml");
    AcdConfig::parse(
        &agents_toml(seed),
        Path::new("agents.toml"),
        &queues,
        Path::new("queues.toml"),
    )
    .expect("generated config is valid")
}

/// For each queue and stage: (stage start, which agents may take the call), from the config.
fn eligibility(cfg: &AcdConfig) -> HashMap<String, Vec<(Duration, Vec<bool>)>> {
    let mut out = HashMap::new();
    for q in &cfg.queues {
        let mut rules = vec![(q.need.clone(), q.min_level, false)];
        let mut stages = Vec::new();
        let mut at = Duration::ZERO;
        for i in 0..=q.expand.len() {
            if i > 0 {
                let step = &q.expand[i - 1];
                at = step.after;
                rules.push(match &step.widen {
                    Widen::Level { min_level } => (q.need.clone(), *min_level, false),
                    Widen::Skill { need, min_level } => (need.clone(), *min_level, false),
                    Widen::Everyone => (q.need.clone(), 0, true),
                });
            }
            let ok = cfg
                .agents
                .iter()
                .map(|a| {
                    rules.iter().any(|(need, min, everyone)| {
                        *everyone || a.skills.iter().any(|s| s.meets(need) && s.level >= *min)
                    })
                })
                .collect();
            stages.push((at, ok));
        }
        out.insert(q.name.clone(), stages);
    }
    out
}

#[derive(Debug, Clone)]
enum Op {
    Call {
        queue: usize,
        urgent: bool,
    },
    Advance(u64),
    Ready(usize),
    NotReady(usize),
    Logout(usize),
    Register(usize, bool),
    PhoneBusy(usize, bool),
    WrapDone(usize),
    Answer(usize),
    Fail(usize, u8),
    Hangup(usize),
    Withdraw(usize),
    End(usize),
    Item {
        queue: usize,
        age: u64,
    },
    ItemAccept(usize),
    ItemDecline(usize),
    ItemDone(usize),
    ItemWithdraw(usize),
    /// A reload of the same configuration (SIGHUP): everything must carry over.
    Reload,
    /// The agent of a connected call asks for agent `agent`, or for the best of `queue`.
    Assist {
        call: usize,
        agent: usize,
        queue: Option<usize>,
    },
    /// An assisting agent leaves, answered or not.
    AssistEnd(usize, bool),
    /// An assisting agent takes the call over (consult transfer).
    TakeOver(usize),
}

/// The busy mix: calls arrive faster than they are served, so a backlog builds up and
/// nearly every assist is refused (nobody is free: the backlog takes every ready agent).
fn op() -> impl Strategy<Value = Op> {
    op_mix(6, 1, 2)
}

/// `calls`: the weight of call arrivals; `assists`: of assist requests and ends; `ends`: of
/// connected calls ending.
fn op_mix(calls: u32, assists: u32, ends: u32) -> impl Strategy<Value = Op> {
    let a = 0..AGENTS;
    prop_oneof![
        calls => (0..QUEUES.len(), proptest::bool::weighted(0.1)).prop_map(|(queue, urgent)| Op::Call { queue, urgent }),
        3 => (0u64..3000).prop_map(Op::Advance),
        5 => a.clone().prop_map(Op::Ready),
        1 => a.clone().prop_map(Op::NotReady),
        1 => a.clone().prop_map(Op::Logout),
        3 => (a.clone(), proptest::bool::weighted(0.85)).prop_map(|(i, r)| Op::Register(i, r)),
        1 => (a.clone(), any::<bool>()).prop_map(|(i, b)| Op::PhoneBusy(i, b)),
        2 => a.clone().prop_map(Op::WrapDone),
        4 => any::<usize>().prop_map(Op::Answer),
        1 => (any::<usize>(), 0u8..3).prop_map(|(i, k)| Op::Fail(i, k)),
        1 => any::<usize>().prop_map(Op::Hangup),
        1 => any::<usize>().prop_map(Op::Withdraw),
        ends => any::<usize>().prop_map(Op::End),
        2 => (0..WEB_QUEUES.len(), prop_oneof![9 => Just(0u64), 1 => 0u64..200_000]).prop_map(|(queue, age)| Op::Item { queue, age }),
        2 => any::<usize>().prop_map(Op::ItemAccept),
        1 => any::<usize>().prop_map(Op::ItemDecline),
        1 => any::<usize>().prop_map(Op::ItemDone),
        1 => any::<usize>().prop_map(Op::ItemWithdraw),
        1 => Just(Op::Reload),
        assists => (any::<usize>(), a.clone(), proptest::option::weighted(0.5, 0..QUEUES.len())).prop_map(|(call, agent, queue)| Op::Assist { call, agent, queue }),
        assists => (any::<usize>(), any::<bool>()).prop_map(|(i, answered)| Op::AssistEnd(i, answered)),
        assists.div_ceil(2) => any::<usize>().prop_map(Op::TakeOver),
    ]
}

struct Harness {
    acd: Acd<u32>,
    now: Instant,
    origin: Instant,
    ids: Vec<String>,
    elig: HashMap<String, Vec<(Duration, Vec<bool>)>>,
    agent_ix: HashMap<String, usize>,
    registered: HashSet<usize>,
    live: Vec<u32>,
    next_call: u32,
    /// Outstanding offers, call → agent, from the outputs alone.
    offers: HashMap<u32, usize>,
    answered: HashSet<u32>,
    /// Call → (queue, t₀), to check each offer's eligibility.
    calls: HashMap<u32, (usize, Instant)>,
    /// Agent → the call it talks on, from `CallAnswered` until the call ends.
    talking: HashMap<usize, u32>,
    /// Agent → the call it assists on, from the assist's return value until it ends.
    assisting: HashMap<usize, u32>,
    /// Assists granted, ended, taken over.
    assists: [u32; 3],
    stats: [u32; 5],
    web: Web,
    cfg: AcdConfig,
}

/// The web items as seen from the item outputs.
#[derive(Default)]
struct Web {
    capacity: Vec<u32>,
    next: u32,
    /// Item → (queue, t₀), for every live item.
    live: HashMap<String, (usize, Instant)>,
    /// Item → agent of each pending offer.
    offers: HashMap<String, usize>,
    /// Item → agent of each accepted item.
    accepted: HashMap<String, usize>,
    held: Vec<u32>,
    served: u32,
}

impl Harness {
    fn new(seed: u64) -> Self {
        let cfg = config(seed);
        let now = hotline::shell::clock::now();
        let ids: Vec<String> = cfg.agents.iter().map(|a| a.id.to_string()).collect();
        let mut h = Harness {
            acd: Acd::new(&cfg, now),
            now,
            origin: now,
            agent_ix: ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), i))
                .collect(),
            ids,
            elig: eligibility(&cfg),
            registered: HashSet::new(),
            live: Vec::new(),
            next_call: 0,
            offers: HashMap::new(),
            answered: HashSet::new(),
            calls: HashMap::new(),
            talking: HashMap::new(),
            assisting: HashMap::new(),
            assists: [0; 3],
            stats: [0; 5],
            web: Web {
                capacity: cfg
                    .agents
                    .iter()
                    .map(|a| u32::from(a.web_capacity))
                    .collect(),
                held: vec![0; cfg.agents.len()],
                ..Web::default()
            },
            cfg,
        };
        h.drain();
        h
    }

    fn pick(&self, i: usize) -> Option<u32> {
        (!self.live.is_empty()).then(|| self.live[i % self.live.len()])
    }

    /// A ringing call (most answers and refusals go to one; a few to any call).
    fn pick_ringing(&self, i: usize) -> Option<u32> {
        let mut ringing: Vec<u32> = self.offers.keys().copied().collect();
        ringing.sort_unstable();
        if ringing.is_empty() || i % 10 == 0 {
            return self.pick(i);
        }
        Some(ringing[i % ringing.len()])
    }

    /// A connected call, or any call now and then.
    fn pick_talking(&self, i: usize) -> Option<u32> {
        let talking: Vec<u32> = self
            .live
            .iter()
            .copied()
            .filter(|c| self.answered.contains(c))
            .collect();
        if talking.is_empty() || i % 10 == 0 {
            return self.pick(i);
        }
        Some(talking[i % talking.len()])
    }

    fn drain(&mut self) {
        while let Some(o) = self.acd.poll_output() {
            match o {
                Output::Offer { call, agent, .. } => {
                    let a = self.agent_ix[agent.as_str()];
                    assert!(
                        !self.offers.contains_key(&call),
                        "call {call} offered twice"
                    );
                    assert!(
                        !self.offers.values().any(|&x| x == a),
                        "agent {agent} holds two offers"
                    );
                    assert!(
                        self.registered.contains(&a),
                        "offer to unregistered {agent}"
                    );
                    assert!(
                        !self.talking.contains_key(&a),
                        "offer to {agent} who is on a call"
                    );
                    assert!(
                        !self.assisting.contains_key(&a),
                        "offer to {agent} who assists on a call"
                    );
                    let (q, t0) = self.calls[&call];
                    let waited = self.now.saturating_duration_since(t0);
                    let stages = &self.elig[QUEUES[q]];
                    let s = stages.iter().take_while(|(at, _)| *at <= waited).count() - 1;
                    assert!(
                        stages[s].1[a],
                        "call {call} offered to {agent}, not eligible at stage {s}"
                    );
                    self.stats[s.min(3)] += 1;
                    if !stages[0].1[a] {
                        self.stats[4] += 1;
                    }
                    self.offers.insert(call, a);
                }
                Output::CancelOffer { call, agent, .. } => {
                    assert_eq!(
                        self.offers.remove(&call),
                        Some(self.agent_ix[agent.as_str()])
                    );
                }
                Output::CallAnswered { call, agent, .. } => {
                    assert_eq!(
                        self.offers.remove(&call),
                        Some(self.agent_ix[agent.as_str()])
                    );
                    self.answered.insert(call);
                    self.talking.insert(self.agent_ix[agent.as_str()], call);
                }
                _ => {}
            }
        }
        while let Some(o) = self.acd.poll_item_output() {
            let w = &mut self.web;
            match o {
                ItemOutput::OfferItem { item, agent, .. } => {
                    let a = self.agent_ix[agent.as_str()];
                    let item = item.to_string();
                    assert!(!w.offers.contains_key(&item), "item {item} offered twice");
                    assert!(
                        !w.offers.values().any(|&x| x == a),
                        "agent {agent} holds two item offers"
                    );
                    assert!(
                        w.held[a] < w.capacity[a],
                        "agent {agent} offered {item} at capacity {}",
                        w.capacity[a]
                    );
                    assert!(w.live.contains_key(&item) && !w.accepted.contains_key(&item));
                    assert!(
                        !self.assisting.contains_key(&a),
                        "item {item} offered to {agent} who assists on a call"
                    );
                    w.offers.insert(item, a);
                }
                ItemOutput::CancelItemOffer { item, agent, .. } => {
                    assert_eq!(w.offers.remove(&*item), Some(self.agent_ix[agent.as_str()]));
                }
                ItemOutput::ItemAccepted { item, agent, .. } => {
                    let a = self.agent_ix[agent.as_str()];
                    assert_eq!(w.offers.remove(&*item), Some(a));
                    w.held[a] += 1;
                    assert!(w.held[a] <= w.capacity[a], "agent {agent} over capacity");
                    w.accepted.insert(item.to_string(), a);
                    w.served += 1;
                }
                _ => {}
            }
        }
    }

    /// The n-th of some items, in a stable order.
    fn nth(items: impl Iterator<Item = String>, n: usize) -> Option<String> {
        let mut v: Vec<String> = items.collect();
        v.sort_unstable();
        (!v.is_empty()).then(|| v[n % v.len()].clone())
    }

    fn item_step(&mut self, op: &Op) -> Result<(), hotline::acd::AcdError> {
        let now = self.now;
        match *op {
            Op::Item { queue, age } => {
                if self.web.next >= MAX_ITEMS {
                    return Ok(());
                }
                self.web.next += 1;
                let id = format!("i{}", self.web.next);
                // Now and then received earlier (a restart): its clock has been running.
                let t0 = now
                    .checked_sub(Duration::from_millis(age))
                    .filter(|t| *t >= self.origin)
                    .unwrap_or(now);
                self.web.live.insert(id.clone(), (queue, t0));
                self.acd
                    .handle_item_queued(id.as_str().into(), WEB_QUEUES[queue], t0, now)
            }
            Op::ItemAccept(i) | Op::ItemDecline(i) => {
                let Some(item) = Self::nth(self.web.offers.keys().cloned(), i) else {
                    return Ok(());
                };
                let agent = self.ids[self.web.offers[&item]].clone();
                if matches!(op, Op::ItemAccept(_)) {
                    self.acd.handle_item_accepted(&item, &agent, now)
                } else {
                    let r = self.acd.handle_item_declined(&item, &agent, now);
                    if r.is_ok() {
                        // The cancel output says so too; it is checked against this.
                        assert!(self.web.offers.contains_key(&item));
                    }
                    r
                }
            }
            Op::ItemDone(i) | Op::ItemWithdraw(i) => {
                let pool: Vec<String> = if matches!(op, Op::ItemDone(_)) && i % 10 != 0 {
                    self.web.accepted.keys().cloned().collect()
                } else {
                    self.web.live.keys().cloned().collect()
                };
                let Some(item) = Self::nth(pool.into_iter(), i) else {
                    return Ok(());
                };
                let r = if matches!(op, Op::ItemDone(_)) {
                    self.acd.handle_item_done(&item, now)
                } else {
                    self.acd.handle_item_withdrawn(&item, now)
                };
                if r.is_ok() {
                    self.web.live.remove(&item);
                    if let Some(a) = self.web.accepted.remove(&item) {
                        self.web.held[a] -= 1;
                    }
                }
                r
            }
            _ => Ok(()),
        }
    }

    fn step(&mut self, op: &Op) {
        let now = self.now;
        let id = |i: usize| self.ids[i].clone();
        let r = match *op {
            Op::Reload => {
                let report = self.acd.reconfigure(&self.cfg, now);
                assert!(report.items_dropped.is_empty() && report.removed.is_empty());
                self.drain();
                self.check();
                return;
            }
            Op::Assist { .. } | Op::AssistEnd(..) | Op::TakeOver(_) => {
                self.assist_step(op);
                self.drain();
                self.check();
                return;
            }
            Op::Item { .. }
            | Op::ItemAccept(_)
            | Op::ItemDecline(_)
            | Op::ItemDone(_)
            | Op::ItemWithdraw(_) => {
                let r = self.item_step(op);
                self.drain();
                self.check();
                let _ = r;
                return;
            }
            Op::Call { queue, urgent } => {
                if self.next_call >= MAX_CALLS {
                    return;
                }
                self.next_call += 1;
                self.live.push(self.next_call);
                self.calls.insert(self.next_call, (queue, now));
                self.acd.handle_call_queued(
                    self.next_call,
                    QUEUES[queue],
                    now,
                    if urgent { 3 } else { 0 },
                    now,
                )
            }
            Op::Advance(ms) => {
                self.now += Duration::from_millis(ms);
                self.acd.handle_timeout(self.now);
                Ok(())
            }
            Op::Ready(i) => self
                .acd
                .handle_agent_state(&id(i), StateRequest::Ready, now),
            Op::NotReady(i) => self.acd.handle_agent_state(
                &id(i),
                StateRequest::NotReady(NotReadyReason::Break),
                now,
            ),
            Op::Logout(i) => self
                .acd
                .handle_agent_state(&id(i), StateRequest::LoggedOut, now),
            Op::Register(i, r) => {
                if r {
                    self.registered.insert(i);
                } else {
                    self.registered.remove(&i);
                }
                self.acd.handle_registration(&id(i), r, now)
            }
            Op::PhoneBusy(i, b) => self.acd.handle_agent_phone_busy(&id(i), b, now),
            Op::WrapDone(i) => self.acd.handle_wrap_up_done(&id(i), now),
            Op::Answer(i) => match self.pick_ringing(i) {
                Some(c) => self.acd.handle_ring_answered(&c, now),
                None => Ok(()),
            },
            Op::Fail(i, k) => match self.pick_ringing(i) {
                Some(c) => {
                    let f = [
                        RingFailure::Busy,
                        RingFailure::Declined,
                        RingFailure::Unreachable,
                    ][k as usize];
                    let r = self.acd.handle_ring_failed(&c, f, now);
                    if r.is_ok() {
                        self.offers.remove(&c);
                    }
                    r
                }
                None => Ok(()),
            },
            Op::Hangup(i) | Op::Withdraw(i) => match self.pick(i) {
                Some(c) => {
                    let r = match op {
                        Op::Hangup(_) => self.acd.handle_caller_hung_up(&c, now),
                        _ => self.acd.handle_call_withdrawn(&c, now),
                    };
                    if r.is_ok() {
                        self.live.retain(|x| *x != c);
                        self.talking.retain(|_, x| *x != c);
                    }
                    r
                }
                None => Ok(()),
            },
            Op::End(i) => match self.pick_talking(i) {
                Some(c) => {
                    let r = self.acd.handle_call_ended(&c, now);
                    if r.is_ok() {
                        self.live.retain(|x| *x != c);
                        self.talking.retain(|_, x| *x != c);
                    }
                    r
                }
                None => Ok(()),
            },
        };
        // Refusals are fine (answering a waiting call, ...); they must change nothing.
        let _ = r;
        self.drain();
        self.check();
    }

    fn check(&self) {
        if let Err(e) = self.acd.check_invariants() {
            panic!("invariant broken: {e}");
        }
        let snap = self.acd.snapshot(self.now);
        let available: Vec<usize> = snap
            .agents
            .iter()
            .enumerate()
            .filter(|(_, a)| a.registered && !a.phone_busy && a.state == AgentState::Ready)
            .map(|(i, _)| i)
            .collect();
        for a in &snap.agents {
            let i = self.agent_ix[a.id.as_str()];
            let assisting = match &a.state {
                AgentState::Assisting { call } => Some(call),
                _ => None,
            };
            assert_eq!(assisting, self.assisting.get(&i), "{} assisting", a.id);
            if let AgentState::Reserved { call } = &a.state {
                assert_eq!(
                    self.offers.get(call),
                    Some(&i),
                    "reserved without an offer seen"
                );
            }
        }
        self.check_items(&snap);
        for q in &snap.queues {
            let stages = &self.elig[&*q.name];
            for (call, waited) in &q.waiting {
                let s = stages.iter().take_while(|(at, _)| at <= waited).count() - 1;
                let ok = &stages[s].1;
                if let Some(&a) = available.iter().find(|&&a| ok[a]) {
                    panic!("call {call} waits {waited:?} in {} at stage {s} while {} is available and eligible", q.name, self.ids[a]);
                }
            }
        }
    }

    /// Web items against the agents' states, from the outputs and the config alone.
    fn check_items(&self, snap: &hotline::acd::Snapshot<u32>) {
        let w = &self.web;
        let stage_ok = |item: &str, a: usize| {
            let (q, t0) = w.live[item];
            let waited = self.now.saturating_duration_since(t0);
            let stages = &self.elig[WEB_QUEUES[q]];
            let s = stages.iter().take_while(|(at, _)| *at <= waited).count() - 1;
            stages[s].1[a]
        };
        // Logged in, not not-ready and not assisting on a colleague's call.
        let present = |a: usize| {
            !matches!(
                snap.agents[a].state,
                AgentState::LoggedOut | AgentState::NotReady { .. } | AgentState::Assisting { .. }
            )
        };
        for (item, &a) in &w.offers {
            assert!(present(a), "item {item} offered to absent {}", self.ids[a]);
            assert!(
                stage_ok(item, a),
                "item {item} offered to unskilled {}",
                self.ids[a]
            );
            assert_eq!(snap.agents[a].web_offer.as_deref(), Some(item.as_str()));
        }
        let offered: HashSet<usize> = w.offers.values().copied().collect();
        for a in 0..self.ids.len() {
            let pending = u32::from(offered.contains(&a));
            assert!(
                w.held[a] + pending <= w.capacity[a],
                "{} over capacity",
                self.ids[a]
            );
            assert_eq!(snap.agents[a].web_items, w.held[a]);
        }
        let free: Vec<usize> = (0..self.ids.len())
            .filter(|&a| present(a) && !offered.contains(&a) && w.held[a] < w.capacity[a])
            .collect();
        for item in w.live.keys() {
            if w.offers.contains_key(item) || w.accepted.contains_key(item) {
                continue;
            }
            let free = free.iter().copied().find(|&a| stage_ok(item, a));
            if let Some(a) = free {
                panic!("item {item} waits while {} may take it", self.ids[a]);
            }
        }
    }

    /// Everyone comes online; every remaining call must then be answered.
    fn finish(&mut self) {
        let mut assisting: Vec<usize> = self.assisting.keys().copied().collect();
        assisting.sort_unstable();
        for a in assisting {
            assert!(self
                .acd
                .handle_assist_ended(&self.ids[a], true, self.now)
                .is_ok());
            self.assisting.remove(&a);
            self.drain();
            self.check();
        }
        for i in 0..self.ids.len() {
            self.step(&Op::Register(i, true));
            self.step(&Op::PhoneBusy(i, false));
            self.step(&Op::WrapDone(i));
            self.step(&Op::Ready(i));
        }
        for _ in 0..200 {
            let ringing: Vec<u32> = self.offers.keys().copied().collect();
            for c in ringing {
                assert!(self.acd.handle_ring_answered(&c, self.now).is_ok());
                self.drain();
            }
            let talking: Vec<u32> = self
                .live
                .iter()
                .copied()
                .filter(|c| self.answered.contains(c))
                .collect();
            for c in talking {
                assert!(self.acd.handle_call_ended(&c, self.now).is_ok());
                self.live.retain(|x| *x != c);
                self.talking.retain(|_, x| *x != c);
                self.drain();
            }
            let offered: Vec<String> = self.web.offers.keys().cloned().collect();
            for item in offered {
                let agent = self.ids[self.web.offers[&item]].clone();
                assert!(self
                    .acd
                    .handle_item_accepted(&item, &agent, self.now)
                    .is_ok());
                self.drain();
            }
            let accepted: Vec<String> = self.web.accepted.keys().cloned().collect();
            for item in accepted {
                self.step(&Op::ItemDone(1));
                let _ = item;
            }
            if self.live.is_empty() && self.web.live.is_empty() {
                break;
            }
            self.step(&Op::Advance(1000));
        }
        assert!(
            self.live.is_empty(),
            "calls never answered: {:?}",
            self.live
        );
        assert!(
            self.web.live.is_empty(),
            "items never served: {:?}",
            self.web.live.keys().collect::<Vec<_>>()
        );
        self.check();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn routing_invariants_hold_under_random_inputs(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 3800..5200),
    ) {
        let mut h = Harness::new(seed);
        for op in &ops {
            h.step(op);
        }
        h.finish();
        prop_assert!(h.next_call > 500, "too few calls exercised: {}", h.next_call);
        prop_assert!(h.web.next > 150, "too few items exercised: {}", h.web.next);
    }
}

/// A seeded long run: exactly 1,000 calls through 300 agents.
#[test]
fn thousand_calls_three_hundred_agents() {
    let mut rng = StdRng::seed_from_u64(12345);
    let mut h = Harness::new(7);
    let runner = &mut proptest::test_runner::TestRunner::deterministic();
    let strat = op();
    while h.next_call < MAX_CALLS {
        let op = strat.new_tree(runner).expect("strategy").current();
        h.step(&op);
        if rng.gen_bool(0.05) {
            h.step(&Op::Advance(rng.gen_range(0..500)));
        }
    }
    let answered_before_finish = h.answered.len();
    h.finish();
    assert_eq!(h.next_call, MAX_CALLS);
    // The random run itself must route a good share of the calls, not only the final sweep.
    assert!(
        answered_before_finish > 200,
        "only {answered_before_finish} answered during the run"
    );
    eprintln!(
        "answered during the run: {answered_before_finish}, in all: {}; offers by stage {:?}; web items: {} queued, {} accepted; assists granted/ended/taken over {:?}",
        h.answered.len(),
        h.stats,
        h.web.next,
        h.web.served,
        h.assists
    );
}
