//! The routing core: which waiting call goes to which ready agent, and when. Calls and agents
//! come in through `handle_*(…, now)`; offers, cancellations, state changes and alarms go out
//! through [`Acd::poll_output`]; [`Acd::poll_timeout`] says when the next ring timeout,
//! expansion step, 15-second deadline or wrap-up end is due.
//!
//! It knows nothing of SIP: the call engine turns `Offer` into an INVITE to the agent's
//! registered contact, `CancelOffer` into a CANCEL, and reports the ring's outcome back.
//!
//! Invariant kept after every input: no waiting call has an available agent it may go to
//! (available = ready, registered, phone free). So each input needs at most one routing
//! decision: for the one call that changed (arrived, came back, widened), or for the one
//! agent that became available.
//!
//! Web work items (internet requests, issue 13) share the queues file, the skills, levels,
//! expansion and idle order, but not the calls' tables: they wait in web queues, are
//! offered on the agent's desk (not the phone) to one agent at a time, and come out of
//! their own [`Acd::poll_item_output`] so the call engine's handling of [`Output`] is
//! untouched. See [`items`] for their rules.

mod assist;
mod forecast;
mod inputs;
pub mod items;
mod items_route;
mod items_view;
mod reconfigure;
mod route;
mod snapshot;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_assist;
#[cfg(test)]
mod tests_forecast;
#[cfg(test)]
mod tests_items;
#[cfg(test)]
mod tests_items_more;
#[cfg(test)]
mod tests_reconfigure;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::acd::config::{AcdConfig, QueueChannel, Widen};
use crate::acd::model::{AgentId, AgentState, AgentStateKind, NotReadyReason, SkillNeed};

pub use assist::AssistTarget;
pub use forecast::{WaitForecast, MIN_SAMPLES, RATE_WINDOW};
pub use items::{ItemCancelReason, ItemKey, ItemOutput};
pub use items_view::WebQueueSnapshot;
pub use reconfigure::Reconfigured;
pub use snapshot::{AgentSnapshot, QueueSnapshot, Snapshot, StateCounts};

/// A call id the engine hands in: any small clonable key (the engine's `CallId`, a string in
/// tests).
pub trait CallKey: Clone + Eq + Hash + Debug {}
impl<T: Clone + Eq + Hash + Debug> CallKey for T {}

/// Why an input was refused. The core's state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    #[error("unknown agent {0:?}")]
    UnknownAgent(String),
    #[error("call {0} is not known to the ACD")]
    UnknownCall(String),
    #[error("call {0} is already queued or connected")]
    CallAlreadyKnown(String),
    #[error("call {call} is not ringing an agent (it is {status})")]
    NotRinging { call: String, status: &'static str },
    #[error("call {call} is not connected to an agent (it is {status})")]
    NotTalking { call: String, status: &'static str },
    #[error("agent {agent} is on call {call}: end the call first")]
    AgentOnCall { agent: String, call: String },
    #[error("agent {agent} is not in wrap-up (it is {state})")]
    NotInWrapUp {
        agent: String,
        state: AgentStateKind,
    },
    #[error("queue {0:?} is a web queue: calls go to voice queues")]
    NotAVoiceQueue(String),
    #[error("queue {0:?} is a voice queue: web items go to web queues")]
    NotAWebQueue(String),
    #[error("web item {0} is not known to the ACD")]
    UnknownItem(String),
    #[error("web item {0} is already queued, offered or accepted")]
    ItemAlreadyKnown(String),
    #[error("web item {item} is not offered to agent {agent} (it is {status})")]
    ItemNotOffered {
        item: String,
        agent: String,
        status: &'static str,
    },
    #[error("web item {item} is not accepted by an agent (it is {status})")]
    ItemNotAccepted { item: String, status: &'static str },
    /// A named agent cannot be brought onto a call: not ready, or ready without a
    /// registered (or with a busy) phone.
    #[error("agent {agent} cannot assist on a call: it is {state} (it must be ready with a registered, free phone)")]
    AgentNotAvailable {
        agent: String,
        state: AgentStateKind,
    },
    /// Nobody in the queue's own skill is ready for an assist.
    #[error("nobody is ready in queue {queue:?} to assist on a call")]
    NobodyReady { queue: String },
    /// The agent is not on a call as a further agent.
    #[error("agent {agent} is not assisting on a call (it is {state})")]
    NotAssisting {
        agent: String,
        state: AgentStateKind,
    },
    /// The agent is not assisting on the call it is to take over.
    #[error("agent {agent} is not assisting on call {call} (it is {state})")]
    NotAssistingOn {
        agent: String,
        call: String,
        state: AgentStateKind,
    },
}

/// Why a ring was stopped; the engine sends CANCEL to the agent's phone for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The ring timeout passed; the agent goes not-ready (`no_answer`).
    NoAnswer,
    /// The caller hung up while the agent's phone rang.
    CallerHungUp,
    /// The engine took the call away (transfer, shutdown).
    Withdrawn,
    /// The agent (or a supervisor) switched to not-ready while being rung.
    AgentNotReady,
    /// The agent logged out while being rung.
    AgentLoggedOut,
    /// The agent's phone lost its registration while ringing.
    RegistrationLost,
}

impl CancelReason {
    /// Log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::NoAnswer => "no_answer",
            CancelReason::CallerHungUp => "caller_hung_up",
            CancelReason::Withdrawn => "withdrawn",
            CancelReason::AgentNotReady => "agent_not_ready",
            CancelReason::AgentLoggedOut => "agent_logged_out",
            CancelReason::RegistrationLost => "registration_lost",
        }
    }
}

/// How an agent's phone refused a ring (the engine maps SIP final responses onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingFailure {
    /// 486 / 600: on another call the engine does not know about.
    Busy,
    /// 603: the agent rejected it.
    Declined,
    /// 408 / 480 / 503 / transport error: the phone is gone.
    Unreachable,
    /// The engine had no RTP port for the agent's leg: not the agent's doing. The agent
    /// stays ready (keeping its place) but is not offered a call for [`NO_PORT_PAUSE`], so
    /// the call goes on to someone else instead of bouncing back at once.
    NoPort,
}

/// How long an agent is skipped after the engine found no port for its leg.
pub const NO_PORT_PAUSE: Duration = Duration::from_secs(2);

impl RingFailure {
    /// The not-ready reason, for failures that are the agent's phone's.
    fn reason(self) -> Option<NotReadyReason> {
        match self {
            RingFailure::Busy => Some(NotReadyReason::Busy),
            RingFailure::Declined => Some(NotReadyReason::Declined),
            RingFailure::Unreachable => Some(NotReadyReason::Unreachable),
            RingFailure::NoPort => None,
        }
    }
}

/// A condition a supervisor must see (rule C1: the line is staffed 7×24).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alarm {
    /// Nobody who holds the queue's skill is logged in with a registered phone. Calls keep
    /// waiting (and expansion may still serve them); the engine never hangs up on a citizen.
    QueueUnstaffed { queue: Arc<str> },
}

impl std::fmt::Display for Alarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Alarm::QueueUnstaffed { queue } => write!(f, "queue {queue} unstaffed"),
        }
    }
}

/// What the ACD tells the engine, the wallboard and the statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<C> {
    /// Ring `agent` for `call`; report the outcome, or get `CancelOffer` after `ring_timeout`.
    Offer {
        call: C,
        agent: AgentId,
        queue: Arc<str>,
        ring_timeout: Duration,
    },
    /// Stop ringing `agent` for `call` (send CANCEL).
    CancelOffer {
        call: C,
        agent: AgentId,
        reason: CancelReason,
    },
    /// `agent` answered; `wait` is from t₀, the figure rule C2 measures.
    CallAnswered {
        call: C,
        agent: AgentId,
        queue: Arc<str>,
        wait: Duration,
    },
    /// The caller hung up before anyone answered (counted, never dropped).
    CallAbandoned {
        call: C,
        queue: Arc<str>,
        wait: Duration,
    },
    /// The call's wait passed the answer deadline (15 s) without an answer: an alarm and a
    /// miss for the KPI. The call keeps waiting.
    CallWaitExceeded {
        call: C,
        queue: Arc<str>,
        waited: Duration,
    },
    /// The call reached expansion step `step` (1-based) of its queue.
    CallExpanded {
        call: C,
        queue: Arc<str>,
        step: usize,
    },
    /// An agent's state changed (the wallboard and the agent's page follow these).
    AgentStateChanged {
        agent: AgentId,
        from: AgentStateKind,
        state: AgentState<C>,
    },
    AlarmRaised(Alarm),
    AlarmCleared(Alarm),
}

/// Where a waiting call stands in its queue: calls that come back after a failed ring go
/// to the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lane {
    Front,
    Back,
}

type Slot = u32;
type AgentIx = u32;
type QueueIx = u16;
type PoolIx = u16;

/// The pool of every agent, whatever their skills.
const EVERYONE: PoolIx = 0;

/// Who may take a call once it has waited `at`: (pool, minimum level) in preference order.
#[derive(Debug)]
struct Stage {
    at: Duration,
    pools: Vec<(PoolIx, u8)>,
}

/// Queue order key inside one (priority, lane) segment.
type LineKey = (Instant, u64, Slot);
type SegmentKey = (Reverse<u8>, Lane);

#[derive(Debug)]
struct QueueRt {
    name: Arc<str>,
    ring_timeout: Duration,
    wrap_up: Duration,
    priority: u8,
    stages: Vec<Stage>,
    /// Web queues only: their items' line and the agents who may serve them.
    web: Option<items::WebQueueRt>,
    /// Waiting calls (not ringing): by priority, lane, then t₀.
    lines: BTreeMap<SegmentKey, BTreeSet<LineKey>>,
    waiting: usize,
    /// Agents holding the queue's skill who are logged in with a registered phone (web
    /// queues: logged in with a web capacity; no phone needed for the desk).
    staffed: u32,
    alarm: bool,
    /// Recent answers and handle times, for the wait forecast.
    service: forecast::QueueService,
}

#[derive(Debug)]
struct AgentRt<C> {
    id: AgentId,
    name: String,
    state: AgentState<C>,
    since: Instant,
    registered: bool,
    phone_busy: bool,
    /// Not offered calls until then (the engine had no port for its leg).
    paused_until: Option<Instant>,
    /// When the agent last became ready: longest idle goes first.
    idle_since: Instant,
    /// The key under which the agent sits in its pools while available.
    indexed: Option<Instant>,
    /// (pool, level) for each pool the agent belongs to.
    pools: Vec<(PoolIx, u8)>,
    /// The queues the agent may serve, and from which stage on.
    stage_in: Vec<(QueueIx, u8)>,
    /// The voice queues whose staffing counts this agent.
    staffs: Vec<QueueIx>,
    counted: bool,
    /// The agent's web items: capacity, load, pending offer, the web queues served.
    web: items::AgentWeb,
    /// Removed from `agents.toml` by a reload while on a call: finishes it, is offered
    /// nothing more and is logged out (and gone at the next reload) when it ends.
    retired: bool,
    /// While assisting: the wrap-up of the assisted call's queue when the assist began, for
    /// an assist that ends after the ACD forgot the call.
    assist_wrap_up: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallStatus {
    Waiting { lane: Lane },
    Ringing { agent: AgentIx, until: Instant },
    Talking { agent: AgentIx },
}

impl CallStatus {
    fn name(&self) -> &'static str {
        match self {
            CallStatus::Waiting { .. } => "waiting",
            CallStatus::Ringing { .. } => "ringing",
            CallStatus::Talking { .. } => "talking",
        }
    }
}

#[derive(Debug)]
struct CallRt<C> {
    id: C,
    queue: QueueIx,
    t0: Instant,
    /// Queue priority plus the call's own.
    priority: u8,
    seq: u64,
    stage: u8,
    status: CallStatus,
    stage_timer: Option<Instant>,
    deadline_timer: Option<Instant>,
    /// The caller left the line and is called back at the call's turn.
    kept: bool,
}

/// What a timer is for; (instant, timer) keys are unique because slots are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// An agent skipped after a failure of ours (no port) is offered calls again.
    Resume(AgentIx),
    Ring(Slot),
    WrapUp(AgentIx),
    Stage(Slot),
    Deadline(Slot),
    /// A web item reaches its next expansion step (before an offer timeout at the same
    /// instant, so the timed-out item sees the widened stage).
    ItemStage(items::ItemSlot),
    /// A web item's offer on an agent's desk expires.
    ItemOffer(items::ItemSlot),
    /// A web item has waited `alarm_after` without being accepted.
    ItemAlarm(items::ItemSlot),
}

/// The ACD. `C` is the engine's call id.
#[derive(Debug)]
pub struct Acd<C> {
    deadline: Duration,
    queues: Vec<QueueRt>,
    queue_ix: HashMap<String, QueueIx>,
    agents: Vec<AgentRt<C>>,
    agent_ix: HashMap<String, AgentIx>,
    /// Available agents per pool, best first: highest level, then idle longest.
    pools: Vec<BTreeSet<(Reverse<u8>, Instant, AgentIx)>>,
    pool_names: Vec<String>,
    calls: Vec<Option<CallRt<C>>>,
    free: Vec<Slot>,
    call_ix: HashMap<C, Slot>,
    seq: u64,
    timers: BTreeSet<(Instant, Timer)>,
    outputs: VecDeque<Output<C>>,
    /// Web work items, in tables of their own.
    items: items::ItemTable,
    /// When the ACD started: the observed answer rate is not taken over time it was down.
    started: Instant,
}

impl<C: CallKey> Acd<C> {
    /// Builds the ACD from a validated config. Every agent starts logged out with no
    /// registration, so every queue starts with its "unstaffed" alarm raised.
    pub fn new(config: &AcdConfig, now: Instant) -> Self {
        let mut pool_names = vec!["*".to_string()];
        let pool_of = |key: String, names: &mut Vec<String>| -> PoolIx {
            match names.iter().position(|n| *n == key) {
                Some(i) => i as PoolIx,
                None => {
                    names.push(key);
                    (names.len() - 1) as PoolIx
                }
            }
        };
        let mut queues = Vec::new();
        for q in &config.queues {
            let base = pool_of(q.need.key(), &mut pool_names);
            let mut pools = vec![(base, q.min_level)];
            let mut stages = vec![Stage {
                at: Duration::ZERO,
                pools: pools.clone(),
            }];
            for step in &q.expand {
                let (pool, min) = match &step.widen {
                    Widen::Level { min_level } => (base, *min_level),
                    Widen::Skill { need, min_level } => {
                        (pool_of(need.key(), &mut pool_names), *min_level)
                    }
                    Widen::Everyone => (EVERYONE, 0),
                };
                match pools.iter_mut().find(|(p, _)| *p == pool) {
                    Some(entry) => entry.1 = entry.1.min(min),
                    None => pools.push((pool, min)),
                }
                stages.push(Stage {
                    at: step.after,
                    pools: pools.clone(),
                });
            }
            let web = (q.channel == QueueChannel::Web).then(|| items::WebQueueRt::new(q));
            queues.push(QueueRt {
                web,
                name: Arc::from(q.name.as_str()),
                ring_timeout: q.ring_timeout,
                wrap_up: q.wrap_up,
                priority: q.priority,
                stages,
                lines: BTreeMap::new(),
                waiting: 0,
                staffed: 0,
                alarm: false,
                service: Default::default(),
            });
        }
        let mut agents = Vec::new();
        let mut web_cands: Vec<(QueueIx, u8, u8, AgentIx)> = Vec::new();
        for a in &config.agents {
            let mut levels: Vec<(PoolIx, u8)> = vec![(EVERYONE, 0)];
            for s in &a.skills {
                let kind = SkillNeed {
                    kind: s.kind,
                    variant: None,
                };
                let mut keys = vec![kind.key()];
                if s.variant.is_some() {
                    keys.push(
                        SkillNeed {
                            kind: s.kind,
                            variant: s.variant.clone(),
                        }
                        .key(),
                    );
                }
                for key in keys {
                    let p = pool_of(key, &mut pool_names);
                    match levels.iter_mut().find(|(q, _)| *q == p) {
                        Some(e) => e.1 = e.1.max(s.level),
                        None => levels.push((p, s.level)),
                    }
                }
            }
            let level_in = |p: PoolIx| levels.iter().find(|(q, _)| *q == p).map(|(_, l)| *l);
            let mut stage_in = Vec::new();
            let mut staffs = Vec::new();
            let mut web = items::AgentWeb::new(a.web_capacity, now);
            for (qi, q) in queues.iter().enumerate() {
                let first = q.stages.iter().position(|st| {
                    st.pools
                        .iter()
                        .any(|&(p, min)| level_in(p).is_some_and(|l| l >= min))
                });
                let skilled = a.skills.iter().any(|s| s.meets(&config.queues[qi].need));
                if q.web.is_some() {
                    if let Some(s) = first {
                        // Rank inside the stage: the level in the stage's first pool the
                        // agent qualifies for (0 when only `everyone` lets them in).
                        let level = q.stages[s]
                            .pools
                            .iter()
                            .find_map(|&(p, min)| level_in(p).filter(|l| *l >= min))
                            .unwrap_or(0);
                        web.stage_in.push((qi as QueueIx, s as u8));
                        web_cands.push((qi as QueueIx, s as u8, level, agents.len() as AgentIx));
                    }
                    if skilled {
                        web.staffs.push(qi as QueueIx);
                    }
                    continue;
                }
                if let Some(s) = first {
                    stage_in.push((qi as QueueIx, s as u8));
                }
                if skilled {
                    staffs.push(qi as QueueIx);
                }
            }
            agents.push(AgentRt {
                id: a.id.clone(),
                name: a.name.clone(),
                state: AgentState::LoggedOut,
                since: now,
                registered: false,
                phone_busy: false,
                paused_until: None,
                idle_since: now,
                indexed: None,
                pools: levels,
                stage_in,
                staffs,
                counted: false,
                web,
                retired: false,
                assist_wrap_up: Duration::ZERO,
            });
        }
        for (q, stage, level, a) in web_cands {
            if let Some(wq) = queues[q as usize].web.as_mut() {
                wq.cands.push((stage, Reverse(level), a));
            }
        }
        for wq in queues.iter_mut().filter_map(|q| q.web.as_mut()) {
            wq.cands.sort_unstable();
        }
        let mut acd = Acd {
            deadline: config.answer_deadline,
            queue_ix: queues
                .iter()
                .enumerate()
                .map(|(i, q)| (q.name.to_string(), i as QueueIx))
                .collect(),
            agent_ix: agents
                .iter()
                .enumerate()
                .map(|(i, a)| (a.id.as_str().to_string(), i as AgentIx))
                .collect(),
            pools: vec![BTreeSet::new(); pool_names.len()],
            pool_names,
            queues,
            agents,
            calls: Vec::new(),
            free: Vec::new(),
            call_ix: HashMap::new(),
            seq: 0,
            timers: BTreeSet::new(),
            outputs: VecDeque::new(),
            items: items::ItemTable::new(config),
            started: now,
        };
        for qi in 0..acd.queues.len() {
            acd.update_alarm(qi as QueueIx);
        }
        acd
    }

    /// The next output; drain until `None` after every input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output<C>> {
        self.outputs.pop_front()
    }

    /// When to call [`Acd::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(t, _)| *t)
    }

    /// Whether a queue a call may be put in exists: the same as [`Acd::has_voice_queue`].
    /// The IVR and transfers ask this, so a caller (or an agent's transfer) can never land
    /// in a web queue; [`Acd::has_web_queue`] is the web side's question.
    pub fn has_queue(&self, queue: &str) -> bool {
        self.has_voice_queue(queue)
    }

    /// Whether a voice queue of that name exists: the IVR's and transfers' targets must be
    /// one (a caller is never put in a web queue).
    pub fn has_voice_queue(&self, queue: &str) -> bool {
        self.queue_ix
            .get(queue)
            .is_some_and(|&q| self.queues[q as usize].web.is_none())
    }

    /// Whether a web queue of that name exists (where web items may be queued).
    pub fn has_web_queue(&self, queue: &str) -> bool {
        self.queue_ix
            .get(queue)
            .is_some_and(|&q| self.queues[q as usize].web.is_some())
    }

    /// The queue a call waits, rings or talks in.
    pub fn queue_of(&self, call: &C) -> Option<&str> {
        let c = self.call(*self.call_ix.get(call)?)?;
        Some(&self.queues[c.queue as usize].name)
    }

    /// 1-based position among the calls waiting in its queue (1 = next); `None` when the call
    /// is ringing an agent, connected or unknown.
    pub fn position(&self, call: &C) -> Option<usize> {
        let slot = *self.call_ix.get(call)?;
        let c = self.call(slot)?;
        if !matches!(c.status, CallStatus::Waiting { .. }) {
            return None;
        }
        let q = &self.queues[c.queue as usize];
        q.lines
            .values()
            .flat_map(|set| set.iter())
            .position(|&(_, _, s)| s == slot)
            .map(|p| p + 1)
    }

    /// An agent's state, for the API.
    pub fn agent_state(&self, agent: &str) -> Option<&AgentState<C>> {
        let a = *self.agent_ix.get(agent)?;
        Some(&self.agents[a as usize].state)
    }

    /// The agent a call is ringing or talking to.
    pub fn agent_of(&self, call: &C) -> Option<&AgentId> {
        let c = self.call(*self.call_ix.get(call)?)?;
        match c.status {
            CallStatus::Ringing { agent, .. } | CallStatus::Talking { agent } => {
                Some(&self.agents[agent as usize].id)
            }
            CallStatus::Waiting { .. } => None,
        }
    }

    fn call(&self, slot: Slot) -> Option<&CallRt<C>> {
        self.calls.get(slot as usize).and_then(Option::as_ref)
    }
}
