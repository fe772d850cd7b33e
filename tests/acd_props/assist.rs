//! The assist inputs of the property test: a second agent brought onto a connected call
//! (a named agent or a queue's best), leaving again, or taking the call over.

use hotline::acd::model::AgentState;
use hotline::acd::AssistTarget;

use proptest::prelude::*;

use super::{op_mix, Harness, Op, AGENTS, QUEUES};

impl Harness {
    /// The assisting agents, in a stable order.
    pub(super) fn nth_assisting(&self, i: usize) -> Option<(usize, u32)> {
        let mut v: Vec<(usize, u32)> = self.assisting.iter().map(|(&a, &c)| (a, c)).collect();
        v.sort_unstable();
        (!v.is_empty()).then(|| v[i % v.len()])
    }

    pub(super) fn assist_step(&mut self, op: &Op) {
        let now = self.now;
        match *op {
            Op::Assist { call, agent, queue } => {
                let Some(c) = self.pick_talking(call) else {
                    return;
                };
                let target = match queue {
                    Some(q) => AssistTarget::Queue(QUEUES[q]),
                    None => AssistTarget::Agent(&self.ids[agent]),
                };
                let before = self.acd.snapshot(now);
                let Ok(who) = self.acd.handle_assist_requested(&c, target, now) else {
                    return;
                };
                let a = self.agent_ix[who.as_str()];
                let was = &before.agents[a];
                assert!(
                    was.state == AgentState::Ready && was.registered && !was.phone_busy,
                    "assist on {c} went to {who}, who was {:?}",
                    was.state
                );
                assert!(self.registered.contains(&a) && !self.talking.contains_key(&a));
                assert!(!self.offers.values().any(|&x| x == a));
                assert!(self.assisting.insert(a, c).is_none(), "{who} assists twice");
                match queue {
                    Some(q) => assert!(
                        self.elig[QUEUES[q]][0].1[a],
                        "{who} assists for {} without its skill",
                        QUEUES[q]
                    ),
                    None => assert_eq!(a, agent),
                }
                self.assists[0] += 1;
            }
            Op::AssistEnd(i, answered) => {
                let a = match self.nth_assisting(i) {
                    Some((a, _)) if i % 10 != 0 => a,
                    _ => i % self.ids.len(),
                };
                let r = self.acd.handle_assist_ended(&self.ids[a], answered, now);
                assert_eq!(r.is_ok(), self.assisting.remove(&a).is_some(), "{r:?}");
                if r.is_ok() {
                    self.assists[1] += 1;
                }
            }
            Op::TakeOver(i) => {
                let Some((a, c)) = self.nth_assisting(i) else {
                    return;
                };
                let r = self.acd.handle_call_taken_over(&c, &self.ids[a], now);
                // Refused only when the ACD no longer has the call connected.
                assert_eq!(
                    r.is_ok(),
                    self.talking.values().any(|&x| x == c),
                    "take over of {c} by {}: {r:?}",
                    self.ids[a]
                );
                if r.is_ok() {
                    self.talking.retain(|_, x| *x != c);
                    self.talking.insert(a, c);
                    self.assisting.remove(&a);
                    self.assists[2] += 1;
                }
            }
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, max_shrink_iters: 200, ..ProptestConfig::default() })]

    /// Under a light load agents are free, so assists are granted, ended and taken over
    /// between the other inputs (the busy mix of `op` refuses nearly all of them).
    #[test]
    fn assists_keep_the_invariants_under_light_load(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op_mix(3, 4, 1), 2000..3000),
    ) {
        let mut h = Harness::new(seed);
        // A staffed room: everyone starts online.
        for i in 0..AGENTS {
            h.step(&Op::Register(i, true));
            h.step(&Op::Ready(i));
        }
        for op in &ops {
            h.step(op);
        }
        h.finish();
        prop_assert!(
            h.assists[0] > 20 && h.assists[1] > 10 && h.assists[2] > 0,
            "too few assists exercised (granted, ended, taken over): {:?}",
            h.assists
        );
    }
}
