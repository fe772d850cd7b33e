//! What the pages need of a call's parties beyond `LiveCall` (issue 14's desk and wallboard):
//! the handling units an agent can call in (those with a phone, by name), and the
//! supervisors' live-calls panel on the wallboard (each call with a person on it, its agent,
//! wait and parties; the caller's number masked as everywhere else).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::call::record::{CallState, LiveCall, PartySpan};
use crate::stats::wallboard::Wallboard;
use crate::workflow::catalogue::DispatchCatalogue;
use crate::workflow::model::UnitId;

/// A handling unit the desk offers to consult or conference in: it has a phone number the
/// engine dials through the `[transfer]` gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CallInUnit {
    /// The unit's id in `config/dispatch.toml` (the `unit` of `POST /api/calls/{id}/parties`).
    pub id: String,
    /// Its name in the dispatch catalogue (the id when the catalogue does not know it).
    pub name: String,
}

/// The units of `catalogue` with a phone (what the engine's `unit_numbers` are built from),
/// by name, in id order; none without a gateway to dial them through.
pub fn call_in_units(catalogue: &DispatchCatalogue, gateway: bool) -> Vec<CallInUnit> {
    if !gateway {
        return Vec::new();
    }
    catalogue
        .unit_numbers()
        .into_keys()
        .map(|id| CallInUnit {
            name: catalogue
                .unit(&UnitId::new(id.clone()))
                .map_or_else(|| id.clone(), |u| u.name.clone()),
            id,
        })
        .collect()
}

/// A call with a person on it, as the wallboard's live-calls panel shows it: a supervisor
/// picks one to listen to, whisper on or barge into.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallOnBoard {
    /// The call's id (the `{id}` of `POST /api/calls/{id}/monitor`).
    pub id: String,
    /// Masked caller number, e.g. `138******78`.
    pub caller: String,
    pub queue: Option<String>,
    /// The agent on the call (`null` once a unit or an outside service carries it alone).
    pub agent: Option<String>,
    /// When a person answered.
    #[serde(serialize_with = "crate::china_time::serialize_opt")]
    pub connected_at: Option<DateTime<Utc>>,
    /// Seconds from asking for a person to the answer.
    pub wait_s: Option<f64>,
    /// The caller hears hold music (held, or a consultation going on).
    pub on_hold: bool,
    /// Everyone beyond the caller and the first agent, supervisors included (their `mode`).
    pub parties: Vec<PartySpan>,
}

/// The wallboard's document with the live calls beside the figures (`/api/wallboard` and
/// its stream).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WallboardView {
    #[serde(flatten)]
    pub board: Wallboard,
    /// The calls with a person on them now, oldest first.
    pub calls: Vec<CallOnBoard>,
    /// Every agent, the waiting calls and the waiting web requests (wallboard v2).
    #[serde(flatten)]
    pub people: crate::cti::board_people::BoardPeople,
    /// The newest early warnings (W19) of the last 24 h, newest first; risk words among them.
    pub warnings: Vec<crate::analytics::warnings::Warning>,
    /// Surge mode and the callbacks kept (C8); `null` only before the engine answered.
    pub surge: Option<crate::call::call_me_back::SurgeView>,
}

impl WallboardView {
    /// The board with the talking calls of `calls`.
    pub fn new(board: Wallboard, calls: &[LiveCall]) -> WallboardView {
        WallboardView {
            board,
            calls: calls
                .iter()
                .filter(|c| c.state == CallState::Talking)
                .map(|c| CallOnBoard {
                    id: c.id.clone(),
                    caller: c.caller.clone(),
                    queue: c.queue.clone(),
                    agent: c.agent.clone(),
                    connected_at: c.connected_at,
                    wait_s: c.wait_s,
                    on_hold: c.on_hold,
                    parties: c.parties.clone(),
                })
                .collect(),
            people: Default::default(),
            warnings: Vec::new(),
            surge: None,
        }
    }

    /// Adds the board's lists of agents, waiting calls and waiting web requests.
    pub fn with_people<C>(
        mut self,
        acd: &crate::acd::core::Snapshot<C>,
        calls: &[LiveCall],
    ) -> Self {
        self.people = crate::cti::board_people::BoardPeople::of(acd, calls, self.board.at);
        self
    }

    /// The board with surge mode and the callbacks kept.
    pub fn with_surge(mut self, surge: crate::call::call_me_back::SurgeView) -> Self {
        self.surge = Some(surge);
        self
    }
}

/// The call as its agent's desk shows it: a supervisor listening in silence is not on it (C16
/// logs every use; the agent hears a whisper or a barge, and sees those).
pub fn for_agent_desk(mut call: LiveCall) -> LiveCall {
    call.parties.retain(|p| {
        !matches!(
            p.party,
            crate::call::record::PartyKind::Supervisor {
                mode: crate::call::record::MonitorMode::Listen,
                ..
            }
        )
    });
    call
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::record::{MonitorMode, PartyKind, PartyRole, PartyState};
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0)
            .single()
            .expect("a time")
    }

    fn catalogue() -> DispatchCatalogue {
        DispatchCatalogue::from_toml_str(include_str!("../../config/dispatch.toml"))
            .expect("the shipped catalogue")
    }

    #[test]
    fn the_desk_offers_the_units_with_a_phone_by_name_and_none_without_a_gateway() {
        let catalogue = catalogue();
        let units = call_in_units(&catalogue, true);
        let ids: Vec<&str> = units.iter().map(|u| u.id.as_str()).collect();
        let phones = catalogue.unit_numbers();
        assert_eq!(ids, phones.keys().map(String::as_str).collect::<Vec<_>>());
        assert!(
            units.contains(&CallInUnit {
                id: "water".into(),
                name: "市自来水集团".into()
            }),
            "{units:?}"
        );
        assert!(call_in_units(&catalogue, false).is_empty());
    }

    fn live(id: &str, state: CallState) -> LiveCall {
        LiveCall {
            callback_offered: false,
            id: id.into(),
            caller: "138******78".into(),
            called: "12345".into(),
            called_name: None,
            state,
            menu_path: vec![],
            queue: Some("general".into()),
            started_at: at(),
            answered_at: None,
            queued_at: None,
            offered_to: None,
            agent: Some("1001".into()),
            connected_at: None,
            wait_s: Some(3.0),
            recording: Some("rec/x.wav".into()),
            transfers: vec![],
            ticket: Some("20261206-000001".into()),
            answered_queue: None,
            on_hold: false,
            parties: vec![PartySpan {
                id: 2,
                party: PartyKind::Supervisor {
                    user: "supervisor".into(),
                    mode: MonitorMode::Listen,
                },
                role: PartyRole::Monitor,
                state: PartyState::Talking,
                joined_at: None,
                left_at: None,
            }],
            direction: Default::default(),
            outbound: None,
        }
    }

    #[test]
    fn the_wallboard_lists_talking_calls_masked_with_their_parties_and_nothing_private() {
        let board = WallboardView::new(
            crate::stats::wallboard::Wallboard::build(
                at(),
                vec![],
                Default::default(),
                crate::stats::kpi::Kpis::new(std::time::Duration::from_secs(5), 20).snapshot(at()),
            ),
            &[live("a", CallState::Talking), live("b", CallState::Queued)],
        );
        assert_eq!(board.calls.len(), 1);
        let json = serde_json::to_value(&board).expect("json");
        let call = &json["calls"][0];
        assert_eq!(call["caller"], "138******78");
        assert_eq!(call["parties"][0]["party"]["mode"], "listen");
        // The board's own figures stay where the page reads them.
        assert!(json["waiting"].is_number(), "{json}");
        // Neither the ticket nor the recording is shown on a wall screen.
        assert!(call.get("ticket").is_none() && call.get("recording").is_none());
    }

    #[test]
    fn the_agents_desk_does_not_show_a_silent_listener_but_shows_a_whisper() {
        let call = live("a", CallState::Talking);
        assert!(for_agent_desk(call.clone()).parties.is_empty());
        let mut whisper = call;
        whisper.parties[0].party = PartyKind::Supervisor {
            user: "supervisor".into(),
            mode: MonitorMode::Whisper,
        };
        assert_eq!(for_agent_desk(whisper).parties.len(), 1);
    }
}
