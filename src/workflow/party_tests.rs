//! W3 participation on the ticket, against the rules with a fixed clock: the engine's party
//! events, the list derived from them, and direct closing by `three_way_transfer`.

use chrono::{DateTime, Duration, FixedOffset};

use super::*;
use crate::workflow::action::{Action, DirectMethod, Refusal};
use crate::workflow::calendar::{WorkCalendar, YearCalendar};
use crate::workflow::catalogue::DispatchCatalogue;
use crate::workflow::engine::Workflow;
use crate::workflow::memory::MemoryStore;
use crate::workflow::model::{Actor, CallDraft, Domain, RequestType, Role, Urgency};
use crate::workflow::policy::Policy;
use crate::workflow::store::StoreError;
use crate::workflow::{Ticket, WorkflowError};

fn wf() -> Workflow {
    Workflow {
        policy: Policy::default(),
        calendar: WorkCalendar::new([YearCalendar::from_toml_str(include_str!(
            "../../config/calendar/2026.toml"
        ))
        .unwrap()]),
        catalogue: DispatchCatalogue::from_toml_str(include_str!("../../config/dispatch.toml"))
            .unwrap(),
    }
}

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-09-29T10:00:00+08:00").unwrap()
}

const CALL: &str = "20260929T020000-00000000000000aa";

fn water() -> CallParty {
    CallParty::Unit {
        unit: UnitId::new("water"),
    }
}

fn joined(party: CallParty, at: DateTime<FixedOffset>) -> Action {
    Action::PartyJoined {
        call: CALL.into(),
        party,
        joined_at: at,
    }
}

fn left(party: CallParty, from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> Action {
    Action::PartyLeft {
        call: CALL.into(),
        party,
        joined_at: from,
        left_at: to,
    }
}

/// The call's draft, as the engine opens it when the agent answers.
fn draft(wf: &Workflow, store: &mut MemoryStore) -> Ticket {
    let call = CallDraft {
        number: None,
        call_id: CALL.into(),
        received_at: t0(),
        caller_phone: Some("13800138000".into()),
        queue: Some("general".into()),
        menu_path: vec![],
    };
    wf.open_draft(store, &call, &Actor::system(), t0() + Duration::seconds(5))
        .unwrap()
}

fn complete() -> Action {
    Action::Complete {
        content: Some("小区停水三天了，自来水公司说马上派人".into()),
        caller_name: None,
        area: None,
        location: None,
        area_code: None,
        urgency: Some(Urgency::NonUrgent),
        request_type: Some(RequestType::Consultation),
        domain: Some(Domain("public_service".into())),
        category: Some("water_supply".into()),
    }
}

fn three_way(answer: &str) -> Action {
    Action::DirectClose {
        method: DirectMethod::ThreeWayTransfer,
        answer: Some(answer.into()),
        knowledge: None,
    }
}

#[test]
fn the_engine_records_every_party_and_the_list_pairs_joining_and_leaving() {
    let wf = wf();
    let mut s = MemoryStore::new();
    let t = draft(&wf, &mut s);
    let sys = Actor::system();
    let j = t0() + Duration::seconds(60);
    let agent = CallParty::Agent {
        agent: "1002".into(),
    };
    let police = CallParty::External {
        target: "110".into(),
    };
    for (a, at) in [
        (joined(water(), j), j),
        (joined(agent.clone(), j + Duration::seconds(10)), j),
        (left(water(), j, j + Duration::seconds(90)), j),
        (
            left(
                agent.clone(),
                j + Duration::seconds(10),
                j + Duration::seconds(20),
            ),
            j,
        ),
        // A leaving whose joining the ticket never saw still counts, with both times.
        (
            left(
                police.clone(),
                j + Duration::seconds(30),
                j + Duration::seconds(40),
            ),
            j,
        ),
    ] {
        wf.act(&mut s, &t.id, None, &sys, &a, at).unwrap();
    }
    let t = wf.load(&mut s, &t.id).unwrap();
    let names: Vec<String> = t.history.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        names[1..],
        [
            "party_joined",
            "party_joined",
            "party_left",
            "party_left",
            "party_left"
        ]
    );
    assert_eq!(t.state.name(), "draft", "a party changes no state");
    let p = participation(&t.history);
    assert_eq!(p.len(), 3);
    assert_eq!(
        (&p[0].party, p[0].left_at),
        (&water(), Some(j + Duration::seconds(90)))
    );
    assert_eq!(p[1].party, agent);
    assert_eq!(p[1].left_at, Some(j + Duration::seconds(20)));
    assert_eq!(p[2].party, police);
    assert_eq!(p[2].joined_at, j + Duration::seconds(30));
    // The JSON the ticket view shows.
    let v = serde_json::to_value(&p[0]).unwrap();
    assert_eq!(v["kind"], "unit");
    assert_eq!(v["unit"], "water");
    assert_eq!(v["call"], CALL);
    assert!(v["joined_at"].is_string() && v["left_at"].is_string());
}

#[test]
fn only_the_engine_records_a_party_and_the_desk_never_offers_it() {
    let wf = wf();
    let mut s = MemoryStore::new();
    let t = draft(&wf, &mut s);
    for role in [Role::Agent, Role::Supervisor] {
        let e = wf
            .act(
                &mut s,
                &t.id,
                None,
                &Actor::new("p", role),
                &joined(water(), t0()),
                t0(),
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                WorkflowError::Refused(Refusal::EngineOnly { field: "party" })
            ),
            "{e:?}"
        );
    }
    let rules = wf.rules();
    for role in [Role::Agent, Role::Supervisor, Role::Reviewer] {
        let offered = rules.available_actions(&t, &Actor::new("p", role), t0());
        assert!(
            !offered.contains(&"party_joined") && !offered.contains(&"party_left"),
            "{offered:?}"
        );
    }
}

#[test]
fn three_way_transfer_closes_only_with_a_unit_on_the_call_and_cites_it() {
    let wf = wf();
    let mut s = MemoryStore::new();
    let a = Actor::new("demo-1001", Role::Agent);
    let t = draft(&wf, &mut s);
    let at = t0() + Duration::seconds(120);
    let t = wf
        .act(&mut s, &t.id, Some(t.version), &a, &complete(), at)
        .unwrap();
    // No unit on the call: refused, with a reason the API answers as 422.
    let e = wf
        .act(&mut s, &t.id, Some(t.version), &a, &three_way("已答复"), at)
        .unwrap_err();
    let WorkflowError::Refused(r) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(r, &Refusal::NoUnitOnCall);
    assert_eq!(r.code(), "no_unit_on_call");
    assert!(r.is_invalid_input() && !r.is_forbidden());
    assert!(r.to_string().contains("handling unit"), "{r}");
    // Another agent or 110 on the call is not a unit.
    let sys = Actor::system();
    wf.act(
        &mut s,
        &t.id,
        None,
        &sys,
        &joined(
            CallParty::External {
                target: "110".into(),
            },
            at,
        ),
        at,
    )
    .unwrap();
    let e = wf
        .act(&mut s, &t.id, None, &a, &three_way("已答复"), at)
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::NoUnitOnCall)),
        "{e:?}"
    );
    // The knowledge base needs no participation.
    let kb = Action::DirectClose {
        method: DirectMethod::KnowledgeBase,
        answer: Some("按知识库答复".into()),
        knowledge: None,
    };
    let mut probe = s.clone();
    wf.act(&mut probe, &t.id, None, &a, &kb, at).unwrap();
    // The unit joined and left: the closing cites both times.
    let (j, l) = (at + Duration::seconds(5), at + Duration::seconds(95));
    wf.act(&mut s, &t.id, None, &sys, &joined(water(), j), j)
        .unwrap();
    wf.act(&mut s, &t.id, None, &sys, &left(water(), j, l), l)
        .unwrap();
    let t = wf
        .act(
            &mut s,
            &t.id,
            None,
            &a,
            &three_way("自来水集团在线答复：今晚恢复供水"),
            l,
        )
        .unwrap();
    assert_eq!(t.state.name(), "closed");
    let last = t.history.last().unwrap();
    let crate::workflow::EventKind::DirectlyClosed { participation, .. } = &last.kind else {
        panic!("{last:?}")
    };
    assert_eq!(participation.len(), 1);
    assert_eq!(participation[0].party, water());
    assert_eq!(
        (participation[0].joined_at, participation[0].left_at),
        (j, Some(l))
    );
    let v = serde_json::to_value(last).unwrap();
    assert_eq!(v["participation"][0]["unit"], "water");
}

/// W3 "in the same step": the agent saw the ticket before the unit joined, and saves while
/// the unit is still on the line. The engine's join is no edit the agent could overwrite.
#[test]
fn the_desk_saves_while_the_unit_is_on_the_line_and_the_join_never_makes_it_stale() {
    let wf = wf();
    let mut s = MemoryStore::new();
    let a = Actor::new("demo-1001", Role::Agent);
    let t = draft(&wf, &mut s);
    let seen = t.version;
    let j = t0() + Duration::seconds(30);
    wf.act(
        &mut s,
        &t.id,
        None,
        &Actor::system(),
        &joined(water(), j),
        j,
    )
    .unwrap();
    let at = j + Duration::seconds(20);
    let t = wf
        .act(&mut s, &t.id, Some(seen), &a, &complete(), at)
        .unwrap();
    let seen = t.version;
    // The unit's leaving lands between the agent's two saves: still not stale.
    let other = CallParty::Agent {
        agent: "1002".into(),
    };
    wf.act(
        &mut s,
        &t.id,
        None,
        &Actor::system(),
        &joined(other, at),
        at,
    )
    .unwrap();
    let t = wf
        .act(
            &mut s,
            &t.id,
            Some(seen),
            &a,
            &three_way("水务集团在线答复"),
            at,
        )
        .unwrap();
    let crate::workflow::EventKind::DirectlyClosed {
        participation: cited,
        ..
    } = &t.history.last().unwrap().kind
    else {
        panic!()
    };
    assert_eq!(cited[0].left_at, None, "still on the line");
    // After the ticket closed, the unit's leaving is still recorded (any state but archived).
    let l = at + Duration::seconds(60);
    let t = wf
        .act(
            &mut s,
            &t.id,
            None,
            &Actor::system(),
            &left(water(), j, l),
            l,
        )
        .unwrap();
    assert_eq!(participation(&t.history)[0].left_at, Some(l));
    // A person's change since the version seen is still a conflict.
    let e = wf
        .act(
            &mut s,
            &t.id,
            Some(seen),
            &a,
            &Action::Remind { note: None },
            l,
        )
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Store(StoreError::Conflict { .. })),
        "{e:?}"
    );
}
