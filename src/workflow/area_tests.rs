//! Dispatch by area (网格化) and hand-on to a sub-unit (下派) through the pure workflow core,
//! on the shipped catalogue and area tree, with a fake clock.

use chrono::{DateTime, FixedOffset};

use crate::workflow::action::{Action, Refusal};
use crate::workflow::areas::AreaTree;
use crate::workflow::calendar::{WorkCalendar, YearCalendar};
use crate::workflow::catalogue::{CatalogueError, DispatchCatalogue, UnitKind};
use crate::workflow::engine::{Workflow, WorkflowError};
use crate::workflow::event::EventKind;
use crate::workflow::memory::MemoryStore;
use crate::workflow::model::{
    Actor, Caller, Channel, Domain, Intake, RequestType, Role, UnitId, Urgency,
};
use crate::workflow::policy::Policy;
use crate::workflow::ticket::TicketState;

const DISPATCH: &str = include_str!("../../config/dispatch.toml");
const AREAS: &str = include_str!("../../config/areas.toml");

fn catalogue() -> DispatchCatalogue {
    DispatchCatalogue::from_toml_str(DISPATCH)
        .unwrap()
        .with_areas(AreaTree::from_toml_str(AREAS).unwrap())
        .unwrap()
}

fn wf() -> Workflow {
    Workflow {
        policy: Policy::default(),
        calendar: WorkCalendar::new([YearCalendar::from_toml_str(include_str!(
            "../../config/calendar/2026.toml"
        ))
        .unwrap()]),
        catalogue: catalogue(),
    }
}

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-06-01T09:00:00+08:00").unwrap()
}

fn intake(area_code: Option<&str>, category: &str) -> Intake {
    Intake {
        channel: Channel::Phone,
        received_at: t0(),
        caller: Caller {
            name: None,
            phone: Some("13900001111".into()),
        },
        area: None,
        location: Some("小区东门外".into()),
        area_code: area_code.map(str::to_string),
        content: "小区门口长期占道摆摊，垃圾无人清理".into(),
        urgency: Urgency::NonUrgent,
        request_type: RequestType::Complaint,
        domain: Domain("social_management".into()),
        category: Some(category.into()),
        call_id: None,
        recording: None,
        callback_consent: None,
        online: None,
        number: None,
    }
}

fn unit(id: &str) -> Actor {
    Actor::new(id, Role::Unit(UnitId::new(id)))
}

fn lead_of(c: &DispatchCatalogue, category: &str, area: Option<&str>) -> String {
    c.resolve(category, area).unwrap().lead.0
}

#[test]
fn a_category_resolves_up_the_tree_to_the_street_the_district_then_the_city() {
    let c = catalogue();
    // A community of 滨江街道 (临江区): the street office's rule.
    assert_eq!(
        lead_of(&c, "city_appearance", Some("351002001001")),
        "lj-binjiang"
    );
    assert_eq!(
        lead_of(&c, "city_appearance", Some("351002002002")),
        "lj-wangjiang"
    );
    // A community of 东湖区: no street rule, the district's.
    let r = c.resolve("city_appearance", Some("351003001002")).unwrap();
    assert_eq!(
        (r.lead.0.as_str(), r.by_area.as_deref()),
        ("dh-hub", Some("351003"))
    );
    // A village of 云溪县: no rule below the city, the category's own unit.
    let r = c.resolve("city_appearance", Some("351022101202")).unwrap();
    assert_eq!((r.lead.0.as_str(), r.by_area), ("urban", None));
    // No area at all: the city's.
    assert_eq!(lead_of(&c, "city_appearance", None), "urban");
    // Assisting units come the same way, and a rule's lead is never also assisting.
    let noise = c
        .resolve("construction_noise", Some("351002002001"))
        .unwrap();
    assert_eq!(noise.lead, UnitId::new("lj-urban"));
    assert_eq!(noise.assisting, vec![UnitId::new("environment")]);
    let noise = c
        .resolve("construction_noise", Some("351022100001"))
        .unwrap();
    assert_eq!(noise.lead, UnitId::new("environment"));
    assert_eq!(noise.assisting, vec![UnitId::new("urban")]);
    // Every category resolves in every area (what `with_areas` proved at load).
    for cat in c.categories() {
        for a in c.areas().iter() {
            assert!(
                c.resolve(&cat.id, Some(&a.code)).is_some(),
                "{} {}",
                cat.id,
                a.code
            );
        }
    }
}

#[test]
fn units_form_a_tree_and_utilities_are_marked() {
    let c = catalogue();
    let id = UnitId::new;
    assert!(c.is_sub_unit(&id("dh-hubin"), &id("dh-hub")));
    assert!(c.is_sub_unit(&id("lj-urban"), &id("urban")));
    assert!(
        !c.is_sub_unit(&id("dh-hubin"), &id("lj-hub")),
        "another district's street"
    );
    assert!(!c.is_sub_unit(&id("dh-hub"), &id("dh-hubin")), "upwards");
    assert!(!c.is_sub_unit(&id("dh-hub"), &id("dh-hub")), "itself");
    assert_eq!(c.sub_units(&id("dh-hub")).count(), 2);
    let utilities: Vec<_> = c
        .units()
        .filter(|u| u.kind == UnitKind::Utility)
        .map(|u| u.id.0.as_str())
        .collect();
    assert_eq!(utilities, ["gas", "heating", "power", "telecom", "water"]);
    assert!(c
        .units()
        .filter(|u| u.kind == UnitKind::Utility)
        .all(|u| u.phone.is_some()));
}

/// A small catalogue: `city` leads nothing at city level for `x`; rules must cover the tree.
const TREE: &str = "[[area]]\ncode = \"351000\"\nname = \"江临市\"\n\n[[area]]\ncode = \"351002\"\nname = \"甲区\"\nparent = \"351000\"\n\n[[area]]\ncode = \"351003\"\nname = \"乙区\"\nparent = \"351000\"\n";

fn small(extra: &str) -> Result<DispatchCatalogue, CatalogueError> {
    let text = format!(
        "[[unit]]\nid = \"city\"\nname = \"市局\"\n\n[[unit]]\nid = \"a\"\nname = \"甲区局\"\nparent = \"city\"\narea = \"351002\"\n\n[[category]]\nid = \"x\"\nname = \"X\"\ndomain = \"public_service\"\n{extra}"
    );
    DispatchCatalogue::from_toml_str(&text)?.with_areas(AreaTree::from_toml_str(TREE).unwrap())
}

#[test]
fn a_category_that_resolves_to_no_unit_somewhere_is_refused_at_its_line() {
    // No city-level lead, a rule for 甲区 only: 乙区 (and the city itself) resolve to nothing.
    let e = small("\n[[rule]]\ncategory = \"x\"\narea = \"351002\"\nlead = \"a\"\n").unwrap_err();
    assert_eq!(e.line(), Some(12), "{e}");
    assert!(e.to_string().contains("resolves to no unit"), "{e}");
    // With a lead the same catalogue loads and 乙区 falls back to it.
    let c =
        small("lead = \"city\"\n\n[[rule]]\ncategory = \"x\"\narea = \"351002\"\nlead = \"a\"\n")
            .unwrap();
    assert_eq!(
        c.resolve("x", Some("351003")).unwrap().lead,
        UnitId::new("city")
    );
    assert_eq!(
        c.resolve("x", Some("351002")).unwrap().lead,
        UnitId::new("a")
    );
    // A rule for an area that is not in the tree, at the rule's line.
    let e =
        small("lead = \"city\"\n\n[[rule]]\ncategory = \"x\"\narea = \"351099\"\nlead = \"a\"\n")
            .unwrap_err();
    assert_eq!(e.line(), Some(18), "{e}");
    assert!(e.to_string().contains("351099"), "{e}");
}

#[test]
fn unit_parents_must_exist_and_not_loop() {
    let text = "[[unit]]\nid = \"a\"\nname = \"A\"\nparent = \"b\"\n\n[[unit]]\nid = \"b\"\nname = \"B\"\nparent = \"a\"\n";
    let e = DispatchCatalogue::from_toml_str(text).unwrap_err();
    assert!(e.to_string().contains("loop"), "{e}");
    assert_eq!(e.line(), Some(2));
    let e =
        DispatchCatalogue::from_toml_str("[[unit]]\nid = \"a\"\nname = \"A\"\nparent = \"z\"\n")
            .unwrap_err();
    assert!(e.to_string().contains("parent `z` is not a unit"), "{e}");
}

#[test]
fn an_unknown_area_code_is_refused_and_a_known_one_names_its_district() {
    let w = wf();
    let mut s = MemoryStore::default();
    let agent = Actor::new("a", Role::Agent);
    let e = w
        .create(
            &mut s,
            intake(Some("351099001001"), "city_appearance"),
            &agent,
            t0(),
        )
        .unwrap_err();
    assert!(
        matches!(&e, WorkflowError::Refused(r @ Refusal::UnknownArea { .. }) if r.is_bad_request()),
        "{e}"
    );
    let t = w
        .create(
            &mut s,
            intake(Some("351002001002"), "city_appearance"),
            &agent,
            t0(),
        )
        .unwrap();
    assert_eq!(t.intake.area_code.as_deref(), Some("351002001002"));
    assert_eq!(
        t.intake.area.as_deref(),
        Some("临江区"),
        "trends group by district"
    );
    assert_eq!(
        t.intake.location.as_deref(),
        Some("小区东门外"),
        "free text kept"
    );
    // Words given as the area were the caller's: kept as the location when there is none.
    let mut words = intake(Some("351002001002"), "city_appearance");
    words.area = Some("江岸小区".into());
    words.location = None;
    let w2 = w.create(&mut s, words, &agent, t0()).unwrap();
    assert_eq!(w2.intake.area.as_deref(), Some("临江区"));
    assert_eq!(w2.intake.location.as_deref(), Some("江岸小区"));
    // The agent corrects the area before dispatch: the new district's name follows.
    let classify = Action::Classify {
        urgency: None,
        request_type: None,
        domain: None,
        category: None,
        area_code: Some("351003002001".into()),
    };
    let t = w.act(&mut s, &t.id, None, &agent, &classify, t0()).unwrap();
    assert_eq!(t.intake.area.as_deref(), Some("东湖区"));
    let dispatch = Action::Dispatch {
        category: None,
        lead: None,
        assisting: None,
    };
    let t = w.act(&mut s, &t.id, None, &agent, &dispatch, t0()).unwrap();
    assert_eq!(t.state.work().unwrap().lead, UnitId::new("dh-hub"));
}

#[test]
fn a_district_office_hands_on_to_its_street_office_and_the_deadlines_stay() {
    let w = wf();
    let mut s = MemoryStore::default();
    let agent = Actor::new("a", Role::Agent);
    let t = w
        .create(
            &mut s,
            intake(Some("351003001001"), "city_appearance"),
            &agent,
            t0(),
        )
        .unwrap();
    let dispatch = Action::Dispatch {
        category: None,
        lead: None,
        assisting: None,
    };
    let t = w.act(&mut s, &t.id, None, &agent, &dispatch, t0()).unwrap();
    let TicketState::Dispatched { work, sign_due } = &t.state else {
        panic!("{:?}", t.state)
    };
    let (first_sign, first_feedback) = (sign_due.clone(), work.feedback_due.clone());
    let at = |h: i64| t0() + chrono::Duration::hours(h);
    let hand = |to: &str| Action::HandOn {
        unit: Some(UnitId::new(to)),
        reason: Some("属地街道处置".into()),
    };
    // Not before signing.
    let e = w
        .act(
            &mut s,
            &t.id,
            None,
            &unit("dh-hub"),
            &hand("dh-hubin"),
            at(1),
        )
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::NotAllowed { .. })),
        "{e}"
    );
    w.act(&mut s, &t.id, None, &unit("dh-hub"), &Action::Sign, at(2))
        .unwrap();
    // Not to another district's street office, nor by a unit not handling it.
    let e = w
        .act(
            &mut s,
            &t.id,
            None,
            &unit("dh-hub"),
            &hand("lj-binjiang"),
            at(3),
        )
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::NotSubUnit { .. })),
        "{e}"
    );
    let e = w
        .act(
            &mut s,
            &t.id,
            None,
            &unit("lj-hub"),
            &hand("lj-binjiang"),
            at(3),
        )
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::NotYourTicket { .. })),
        "{e}"
    );
    let no_reason = Action::HandOn {
        unit: Some(UnitId::new("dh-hubin")),
        reason: None,
    };
    let e = w
        .act(&mut s, &t.id, None, &unit("dh-hub"), &no_reason, at(3))
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::MissingField { .. })),
        "{e}"
    );
    let t = w
        .act(
            &mut s,
            &t.id,
            None,
            &unit("dh-hub"),
            &hand("dh-hubin"),
            at(30),
        )
        .unwrap();
    let TicketState::Dispatched { work, sign_due } = &t.state else {
        panic!("{:?}", t.state)
    };
    assert_eq!(work.lead, UnitId::new("dh-hubin"));
    assert_eq!(work.handed_from, vec![UnitId::new("dh-hub")]);
    assert_eq!(*sign_due, first_sign, "W7 runs from the first receipt");
    assert_eq!(
        work.feedback_due, first_feedback,
        "W10 runs from the first receipt"
    );
    // The whole chain sees it; the street office signs; the district may no longer act.
    assert!(t.visible_units().contains(&&UnitId::new("dh-hub")));
    let e = w
        .act(&mut s, &t.id, None, &unit("dh-hub"), &Action::Sign, at(31))
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::NotYourTicket { .. })),
        "{e}"
    );
    let t = w
        .act(
            &mut s,
            &t.id,
            None,
            &unit("dh-hubin"),
            &Action::Sign,
            at(31),
        )
        .unwrap();
    assert!(matches!(t.state, TicketState::Handling { .. }));
    assert!(t
        .history
        .iter()
        .any(|e| matches!(&e.kind, EventKind::HandedOn { from, to, .. } if from.0 == "dh-hub" && to.0 == "dh-hubin")));
    // A street office has no sub-units: hand-on is not offered to it.
    let offered = w.rules().available_actions(&t, &unit("dh-hubin"), at(32));
    assert!(!offered.contains(&"hand_on"), "{offered:?}");
    assert!(offered.contains(&"feedback"), "{offered:?}");
}

#[test]
fn only_the_engine_records_a_hand_over_and_only_to_a_utility() {
    let w = wf();
    let mut s = MemoryStore::default();
    let agent = Actor::new("a", Role::Agent);
    let t = w
        .create(&mut s, intake(None, "city_appearance"), &agent, t0())
        .unwrap();
    let to = |u: &str| Action::UtilityTransferred {
        unit: UnitId::new(u),
    };
    let e = w
        .act(&mut s, &t.id, None, &agent, &to("water"), t0())
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::EngineOnly { .. })),
        "{e}"
    );
    let sys = Actor::system();
    let e = w
        .act(&mut s, &t.id, None, &sys, &to("urban"), t0())
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::NotUtility { .. })),
        "{e}"
    );
    let t = w.act(&mut s, &t.id, None, &sys, &to("gas"), t0()).unwrap();
    assert!(matches!(
        &t.history.last().unwrap().kind,
        EventKind::HandedToUtility { unit, number: Some(n), .. } if unit.0 == "gas" && n == "96777"
    ));
    assert_eq!(t.state.name(), "received", "no state change");
}
