//! The citizen's and the connector's rights, against the rules with a fixed clock.

use chrono::{DateTime, FixedOffset};

use super::*;
use crate::workflow::action::Rating;
use crate::workflow::calendar::{WorkCalendar, YearCalendar};
use crate::workflow::catalogue::DispatchCatalogue;
use crate::workflow::engine::Workflow;
use crate::workflow::memory::MemoryStore;
use crate::workflow::model::{Caller, Domain, OnlineIntake, RequestType, Urgency};
use crate::workflow::policy::Policy;
use crate::workflow::WorkflowError;

pub(crate) fn wf() -> Workflow {
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

pub(crate) fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-09-29T10:00:00+08:00").unwrap()
}

fn web(channel: Channel) -> Intake {
    Intake {
        number: None,
        channel,
        received_at: t0(),
        caller: Caller {
            name: None,
            phone: Some("13800138000".into()),
        },
        area: None,
        location: None,
        area_code: None,
        content: "小区路灯坏了一个月".into(),
        urgency: Urgency::NonUrgent,
        request_type: RequestType::Help,
        domain: Domain(UNCLASSIFIED_DOMAIN.into()),
        category: None,
        call_id: None,
        recording: None,
        callback_consent: Some(true),
        online: Some(OnlineIntake {
            query_code: "hmac-sha256:00".into(),
            external_id: None,
        }),
    }
}

fn citizen() -> Actor {
    Actor::new("citizen", Role::Citizen)
}

fn file(n: u8) -> CitizenFile {
    CitizenFile {
        name: format!("p{n}.jpg"),
        sha256: format!("{n:064}"),
        size: 10,
        media_type: "image/jpeg".into(),
    }
}

/// Drives a citizen's request to `AwaitingCallback` (reviewed, callback due); the minutes
/// used so far.
pub(crate) fn to_callback(w: &Workflow, s: &mut MemoryStore) -> (Ticket, i64) {
    let (t, n) = to_review(w, s);
    let r = Actor::new("r", Role::Reviewer);
    let pass = Action::ReviewPass { callback_by: None };
    let at = t0() + chrono::Duration::minutes(n + 1);
    let t = w.act(s, &t.id, None, &r, &pass, at).unwrap();
    assert_eq!(t.state.name(), "awaiting_callback");
    (t, n + 1)
}

/// Drives a citizen's request to `UnderReview` (the unit replied); the minutes used so far.
pub(crate) fn to_review(w: &Workflow, s: &mut MemoryStore) -> (Ticket, i64) {
    let t = w.create(s, web(Channel::Web), &citizen(), t0()).unwrap();
    let at = |m: i64| t0() + chrono::Duration::minutes(m);
    let a = Actor::new("a", Role::Agent);
    let h = Actor::new("h", Role::Unit(crate::workflow::model::UnitId::new("hrss")));
    let s_ = |v: &str| Some(v.to_string());
    let steps: Vec<(Actor, Action)> = vec![
        (a.clone(), Action::Accept { note: None }),
        (
            a.clone(),
            Action::Classify {
                urgency: None,
                request_type: None,
                domain: Some(Domain("social_management".into())),
                category: None,
                area_code: None,
            },
        ),
        (
            a,
            Action::Dispatch {
                category: s_("wage_arrears"),
                lead: None,
                assisting: None,
            },
        ),
        (h.clone(), Action::Sign),
        (
            h,
            Action::Feedback {
                contact: s_("c"),
                verification: s_("v"),
                legal_basis: s_("l"),
                result: s_("已修复"),
                attachments: vec![],
                caller_informed: true,
                staged_follow_up: None,
                cites: Vec::new(),
            },
        ),
    ];
    let n = steps.len() as i64;
    let mut t = t;
    for (i, (who, act)) in steps.into_iter().enumerate() {
        t = w.act(s, &t.id, None, &who, &act, at(i as i64 + 1)).unwrap();
    }
    assert_eq!(t.state.name(), "under_review");
    (t, n)
}

/// Drives a citizen's request to `AwaitingRating` by a callback of `method`.
fn to_rating(w: &Workflow, s: &mut MemoryStore, method: CallbackMethod) -> Ticket {
    let (t, n) = to_callback(w, s);
    let callback = Action::Callback {
        method,
        consent: true,
        contacted: None,
        solved: None,
        rating: None,
        reason: None,
        evidence: Default::default(),
    };
    let at = t0() + chrono::Duration::minutes(n + 1);
    let t = w
        .act(s, &t.id, None, &Actor::new("a", Role::Agent), &callback, at)
        .unwrap();
    assert_eq!(t.state.name(), "awaiting_rating");
    t
}

#[test]
fn an_unclassified_web_request_is_accepted_classified_then_dispatched() {
    let w = wf();
    let mut s = MemoryStore::new();
    let t = w
        .create(&mut s, web(Channel::Web), &citizen(), t0())
        .unwrap();
    assert_eq!(t.state.name(), "received");
    let a = Actor::new("a", Role::Agent);
    let t = w
        .act(
            &mut s,
            &t.id,
            None,
            &a,
            &Action::Accept { note: None },
            t0(),
        )
        .unwrap();
    let dispatch = Action::Dispatch {
        category: Some("wage_arrears".into()),
        lead: None,
        assisting: None,
    };
    let e = w.act(&mut s, &t.id, None, &a, &dispatch, t0()).unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::Unclassified)),
        "{e}"
    );
    assert_eq!(
        t.first_response_at(),
        Some(t0()),
        "the agent's accept is C13's response"
    );
}

#[test]
fn who_may_register_what() {
    let w = wf();
    let mut s = MemoryStore::new();
    let conn = Actor::new("wechat", Role::Channel);
    assert!(w
        .create(&mut s, web(Channel::PublicAccount), &conn, t0())
        .is_ok());
    for (intake, actor) in [
        (web(Channel::App), citizen()),
        (web(Channel::Phone), conn.clone()),
        (
            Intake {
                online: None,
                ..web(Channel::Web)
            },
            citizen(),
        ),
        (
            Intake {
                domain: Domain("social_management".into()),
                ..web(Channel::Web)
            },
            citizen(),
        ),
    ] {
        let e = w.create(&mut s, intake, &actor, t0()).unwrap_err();
        assert!(
            matches!(e, WorkflowError::Refused(Refusal::WrongRole { .. })),
            "{e}"
        );
    }
    let e = w
        .create(
            &mut s,
            Intake {
                content: " ".into(),
                ..web(Channel::Web)
            },
            &citizen(),
            t0(),
        )
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::MissingField { .. })),
        "{e}"
    );
}

#[test]
fn a_citizen_may_only_rate_a_web_callback() {
    let w = wf();
    let mut s = MemoryStore::new();
    let t = to_rating(&w, &mut s, CallbackMethod::Web);
    let rules = w.rules();
    assert_eq!(
        rules.available_actions(&t, &citizen(), t0()),
        vec!["record_rating"]
    );
    for p in crate::workflow::available::probes() {
        if p.name() == "record_rating" {
            continue;
        }
        let r = rules.decide(&t, &citizen(), &p, t0()).unwrap_err();
        assert!(
            matches!(r, Refusal::WrongRole { .. } | Refusal::EngineOnly { .. }),
            "{}: {r}",
            p.name()
        );
    }
    let conn = Actor::new("wechat", Role::Channel);
    assert!(rules.available_actions(&t, &conn, t0()).is_empty());
    let unsatisfied = Action::RecordRating {
        rating: Rating::Unsatisfied,
        solved: None,
        reason: None,
    };
    assert_eq!(
        rules
            .decide(&t, &citizen(), &unsatisfied, t0())
            .unwrap_err(),
        Refusal::RatingReasonRequired
    );
    let responded = t.first_response_at();
    let rate = Action::RecordRating {
        rating: Rating::Satisfied,
        solved: None,
        reason: None,
    };
    let t = w.act(&mut s, &t.id, None, &citizen(), &rate, t0()).unwrap();
    assert_eq!(t.state.name(), "closed");
    assert_eq!(t.rating, Some(Rating::Satisfied));
    assert_eq!(
        t.first_response_at(),
        responded,
        "a citizen never responds for the hotline"
    );

    // An SMS callback's rating is the hotline's to record, not the citizen's.
    let mut s = MemoryStore::new();
    let t = to_rating(&w, &mut s, CallbackMethod::Sms);
    assert!(rules.available_actions(&t, &citizen(), t0()).is_empty());
    assert!(matches!(
        rules.decide(&t, &citizen(), &rate, t0()),
        Err(Refusal::WrongRole { .. })
    ));
}

#[test]
fn files_attach_while_open_within_a_day_five_at_most() {
    let w = wf();
    let mut s = MemoryStore::new();
    let t = w
        .create(&mut s, web(Channel::Web), &citizen(), t0())
        .unwrap();
    let t = w
        .attach_files(
            &mut s,
            &t.id,
            &citizen(),
            &[file(1), file(2), file(3)],
            t0(),
        )
        .unwrap();
    assert_eq!(t.files.len(), 3);
    assert_eq!(t.first_response_at(), None);
    let e = w
        .attach_files(
            &mut s,
            &t.id,
            &citizen(),
            &[file(4), file(5), file(6)],
            t0(),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            WorkflowError::Refused(Refusal::TooManyAttachments { max: 5 })
        ),
        "{e}"
    );
    let late = t0() + chrono::Duration::hours(25);
    let e = w
        .attach_files(&mut s, &t.id, &citizen(), &[file(4)], late)
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Refused(Refusal::NotAllowed { .. })),
        "{e}"
    );
    let agent = Actor::new("a", Role::Agent);
    assert!(w
        .attach_files(&mut s, &t.id, &agent, &[file(4)], t0())
        .is_err());
    // Replayed from the log, the files are still there.
    let again = w.load(&mut s, &t.id).unwrap();
    assert_eq!(again.files, t.files);
}
