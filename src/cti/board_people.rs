//! The wallboard's lists (issue 17, wallboard v2): every agent with its state, reason, time
//! in state, current call and phone; every call waiting for a person with its wait colour,
//! IVR path and masked number; every web request waiting for an agent. Built from the ACD's
//! snapshot and the live calls; decides nothing but how a wait is coloured.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::acd::core::{AgentSnapshot, Snapshot};
use crate::call::record::{CallState, LiveCall};
use crate::stats::wallboard::WaitLevel;

/// One agent on the board.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgentOnBoard {
    pub id: String,
    pub name: String,
    /// The state as the board shows it: the ACD's (`ready`, `not_ready`, `reserved`,
    /// `talking`, `assisting`, `wrap_up`, `logged_out`), except that a ready agent whose phone
    /// is not registered is `ready_no_phone`: never shown as available.
    pub state: &'static str,
    /// Why not ready, when not ready.
    pub reason: Option<&'static str>,
    /// Seconds in the current state.
    pub in_state_s: u64,
    /// Whether the phone has a live registration.
    pub registered: bool,
    /// Whether a call may be offered to the agent now (ready, registered, phone free): the
    /// ACD's own rule.
    pub available: bool,
    /// The voice queues the agent staffs (the board's queue filter).
    pub queues: Vec<String>,
    /// The call the agent is on or is offered (its queue and seconds since it connected).
    pub call_id: Option<String>,
    pub call_queue: Option<String>,
    pub call_s: Option<u64>,
}

/// A caller waiting for a person (queued, or an agent's phone ringing for them).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WaitingCall {
    pub id: String,
    /// Masked caller number, e.g. `138******78`.
    pub caller: String,
    /// The service number dialled (`12315`), and its configured name when it has one.
    pub called: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub called_name: Option<String>,
    pub queue: Option<String>,
    /// Seconds since the caller asked for a person (t₀ of the 15-second clock).
    pub wait_s: u64,
    /// Amber from 10 s, red past 15 s.
    pub level: WaitLevel,
    /// The menu keys pressed, e.g. `["main:2", "special:1"]`.
    pub menu_path: Vec<String>,
    /// The agent whose phone rings for it, if one does.
    pub ringing_agent: Option<String>,
}

/// A web request waiting for an agent's acceptance (C13).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WaitingWebRequest {
    /// The ticket id.
    pub ticket: String,
    pub queue: String,
    pub wait_s: u64,
    /// Amber from `[web] alarm_after`, red past the 3-minute response (C13).
    pub level: WaitLevel,
}

/// The three lists of the board.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BoardPeople {
    pub agent_list: Vec<AgentOnBoard>,
    /// Oldest wait first.
    pub waiting_calls: Vec<WaitingCall>,
    /// Oldest wait first.
    pub waiting_web: Vec<WaitingWebRequest>,
}

/// C13: an internet request is answered within 3 minutes.
const WEB_TARGET: Duration = Duration::from_secs(180);

fn board_state<C>(a: &AgentSnapshot<C>) -> &'static str {
    let kind = a.state.kind();
    match kind {
        crate::acd::model::AgentStateKind::Ready if !a.registered => "ready_no_phone",
        _ => kind.as_str(),
    }
}

impl BoardPeople {
    /// The lists from the ACD's snapshot and the live calls at `at`.
    pub fn of<C>(acd: &Snapshot<C>, calls: &[LiveCall], at: DateTime<Utc>) -> BoardPeople {
        let secs =
            |since: Option<DateTime<Utc>>| since.map(|t| (at - t).num_seconds().max(0) as u64);
        let agent_list = acd
            .agents
            .iter()
            .map(|a| {
                let id = a.id.as_str();
                let call = calls.iter().find(|c| {
                    c.state != CallState::Ended
                        && (c.agent.as_deref() == Some(id) || c.offered_to.as_deref() == Some(id))
                });
                AgentOnBoard {
                    id: id.to_string(),
                    name: a.name.clone(),
                    state: board_state(a),
                    reason: match &a.state {
                        crate::acd::model::AgentState::NotReady { reason, .. } => {
                            Some(reason.as_str())
                        }
                        _ => None,
                    },
                    in_state_s: a.in_state.as_secs(),
                    registered: a.registered,
                    available: a.registered
                        && !a.phone_busy
                        && matches!(a.state, crate::acd::model::AgentState::Ready),
                    queues: a.queues.iter().map(|q| q.to_string()).collect(),
                    call_id: call.map(|c| c.id.clone()),
                    call_queue: call.and_then(|c| c.queue.clone()),
                    call_s: call.and_then(|c| secs(c.connected_at)),
                }
            })
            .collect();
        let mut waiting_calls: Vec<WaitingCall> = calls
            .iter()
            .filter(|c| matches!(c.state, CallState::Queued | CallState::Ringing))
            .map(|c| {
                let wait_s = secs(c.queued_at).unwrap_or(0);
                WaitingCall {
                    id: c.id.clone(),
                    caller: c.caller.clone(),
                    called: c.called.clone(),
                    called_name: c.called_name.clone(),
                    queue: c.queue.clone(),
                    wait_s,
                    level: WaitLevel::of(c.queued_at.map(|_| Duration::from_secs(wait_s))),
                    menu_path: c.menu_path.clone(),
                    ringing_agent: c.offered_to.clone(),
                }
            })
            .collect();
        waiting_calls.sort_by_key(|c| std::cmp::Reverse(c.wait_s));
        let mut waiting_web: Vec<WaitingWebRequest> = acd
            .web_queues
            .iter()
            .flat_map(|q| {
                q.items.iter().map(|(id, wait)| WaitingWebRequest {
                    ticket: id.to_string(),
                    queue: q.name.to_string(),
                    wait_s: wait.as_secs(),
                    level: if *wait > WEB_TARGET {
                        WaitLevel::Red
                    } else if *wait >= acd.web_alarm_after {
                        WaitLevel::Amber
                    } else {
                        WaitLevel::Ok
                    },
                })
            })
            .collect();
        waiting_web.sort_by_key(|w| std::cmp::Reverse(w.wait_s));
        BoardPeople {
            agent_list,
            waiting_calls,
            waiting_web,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acd::model::{AgentId, AgentState};
    use chrono::TimeZone;

    fn agent(id: &str, state: AgentState<String>, registered: bool) -> AgentSnapshot<String> {
        AgentSnapshot {
            id: AgentId::new(id),
            name: format!("Agent {id}"),
            state,
            in_state: Duration::from_secs(42),
            wrap_up_left: None,
            registered,
            phone_busy: false,
            web_items: 0,
            web_offer: None,
            web_capacity: 2,
            web_held: vec![],
            queues: vec!["general".into()],
        }
    }

    #[test]
    fn a_ready_agent_without_a_registered_phone_is_never_shown_available() {
        let acd = Snapshot {
            queues: vec![],
            agents: vec![
                agent("1", AgentState::Ready, true),
                agent("2", AgentState::Ready, false),
            ],
            totals: Default::default(),
            web_queues: vec![],
            web_alarm_after: Duration::from_secs(150),
        };
        let at = Utc
            .with_ymd_and_hms(2026, 12, 7, 2, 0, 0)
            .single()
            .expect("time");
        let p = BoardPeople::of(&acd, &[], at);
        assert_eq!(p.agent_list[0].state, "ready");
        assert!(p.agent_list[0].available);
        assert_eq!(p.agent_list[1].state, "ready_no_phone");
        assert!(!p.agent_list[1].available);
        assert_eq!(p.agent_list[1].in_state_s, 42);
        assert_eq!(p.agent_list[1].queues, vec!["general".to_string()]);
    }
}
