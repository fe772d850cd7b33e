//! The knowledge base's rules with a fake clock: no store, no index, no sleep.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

use super::lifecycle::{decide, sweep, Command};
use super::model::*;
use super::search::{is_search_word, snippet, Synonyms};
use super::transfer;
use super::KbError;
use crate::workflow::calendar::{WorkCalendar, YearCalendar};
use crate::workflow::catalogue::DispatchCatalogue;
use crate::workflow::model::{china, Actor, Role, UnitId};

fn catalogue() -> DispatchCatalogue {
    DispatchCatalogue::from_toml_str(include_str!("../../config/dispatch.toml")).unwrap()
}

fn calendar() -> WorkCalendar {
    WorkCalendar::new([YearCalendar::from_toml_str(include_str!(
        "../../config/calendar/2026.toml"
    ))
    .unwrap()])
}

fn at(y: i32, m: u32, d: u32) -> DateTime<FixedOffset> {
    china().with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn content(unit: &str) -> ItemContent {
    ItemContent {
        title: "停水通知查询".into(),
        questions: vec!["我家停水了怎么回事".into(), "什么时候来水".into()],
        answer: "计划停水会提前24小时公告，可拨打96116查询。".into(),
        source: Some(Source {
            name: "城市供水条例".into(),
            number: Some("国务院令第158号".into()),
            issuer: "国务院".into(),
            link: None,
        }),
        unit: UnitId::new(unit),
        category: "water_supply".into(),
        area: "全市".into(),
        effective: day(2026, 1, 1),
        expires: Some(day(2026, 6, 30)),
        public: true,
    }
}

fn water() -> Actor {
    Actor::new("water-clerk", Role::Unit(UnitId::new("water")))
}
fn power() -> Actor {
    Actor::new("power-clerk", Role::Unit(UnitId::new("power")))
}
fn editor() -> Actor {
    Actor::new("kb-editor", Role::KbEditor)
}

/// Runs commands in order, each a day later, from 2026-03-02.
fn run(item: Option<Item>, steps: Vec<(Actor, Command)>) -> Result<Item, KbError> {
    let mut item = item;
    for (n, (who, cmd)) in steps.into_iter().enumerate() {
        let evs = decide(
            item.as_ref(),
            &who,
            cmd,
            at(2026, 3, 2 + n as u32),
            &catalogue(),
        )?;
        for e in evs {
            match item.as_mut() {
                Some(it) => it.apply(e),
                None => item = Item::replay(7, [e]),
            }
        }
    }
    item.ok_or(KbError::NotFound(7))
}

#[test]
fn a_unit_drafts_the_editor_approves_and_the_item_is_served_with_its_history() {
    let it = run(
        None,
        vec![
            (water(), Command::Write(Box::new(content("water")))),
            (water(), Command::Submit),
            (editor(), Command::Approve),
        ],
    )
    .unwrap();
    assert_eq!(it.state, ItemState::Approved);
    assert_eq!(it.served_content().map(|(v, _)| v), Some(1));
    let who: Vec<_> = it.history.iter().map(|e| (e.by.as_str(), e.at)).collect();
    assert_eq!(
        who,
        [
            ("water-clerk", at(2026, 3, 2)),
            ("water-clerk", at(2026, 3, 3)),
            ("kb-editor", at(2026, 3, 4))
        ]
    );
    assert_eq!(it.history[2].role, "kb_editor");
    // Replaying the stored events gives the same item.
    assert_eq!(Item::replay(7, it.history.clone()), Some(it));
}

#[test]
fn sent_back_with_a_reason_then_fixed_and_approved_keeps_every_version() {
    let mut fixed = content("water");
    fixed.answer.push_str("停水超过24小时可申请送水。");
    let it = run(
        None,
        vec![
            (water(), Command::Write(Box::new(content("water")))),
            (water(), Command::Submit),
            (
                editor(),
                Command::SendBack {
                    reason: "补充送水安排".into(),
                },
            ),
            (water(), Command::Write(Box::new(fixed.clone()))),
            (water(), Command::Submit),
            (editor(), Command::Approve),
        ],
    )
    .unwrap();
    assert_eq!(it.version(), 2);
    assert_eq!(it.get(1), Some(&content("water")));
    assert_eq!(it.served_content(), Some((2, &fixed)));
    assert!(it.history.iter().any(
        |e| matches!(&e.kind, KbEventKind::SentBack { reason, version: 1 } if reason == "补充送水安排")
    ));
}

#[test]
fn an_edit_of_an_approved_item_keeps_serving_the_approved_version_until_review() {
    let mut v2 = content("water");
    v2.title = "停水查询（新）".into();
    let it = run(
        None,
        vec![
            (water(), Command::Write(Box::new(content("water")))),
            (water(), Command::Submit),
            (editor(), Command::Approve),
            (water(), Command::Write(Box::new(v2))),
        ],
    )
    .unwrap();
    assert_eq!(it.state, ItemState::Draft);
    assert_eq!(
        it.served_content().map(|(v, c)| (v, c.title.as_str())),
        Some((1, "停水通知查询"))
    );
}

#[test]
fn units_touch_only_their_own_items_and_never_review() {
    let e = run(
        None,
        vec![(power(), Command::Write(Box::new(content("water"))))],
    )
    .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let it = run(
        None,
        vec![(water(), Command::Write(Box::new(content("water"))))],
    )
    .unwrap();
    for cmd in [Command::Submit, Command::Write(Box::new(content("water")))] {
        let e = run(Some(it.clone()), vec![(power(), cmd)]).unwrap_err();
        assert_eq!(e.code(), "forbidden");
    }
    // A unit cannot give its item away.
    let e = run(
        Some(it.clone()),
        vec![(water(), Command::Write(Box::new(content("power"))))],
    )
    .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = run(
        Some(it.clone()),
        vec![(water(), Command::Submit), (water(), Command::Approve)],
    )
    .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    // An agent neither writes nor reviews.
    let agent = Actor::new("a", Role::Agent);
    assert_eq!(
        run(
            None,
            vec![(agent, Command::Write(Box::new(content("water"))))]
        )
        .unwrap_err()
        .code(),
        "forbidden"
    );
    // The editor writes for any unit, and for the hotline itself.
    run(
        None,
        vec![(editor(), Command::Write(Box::new(content("hotline"))))],
    )
    .unwrap();
}

#[test]
fn illegal_steps_are_refused_with_the_state() {
    let it = run(
        None,
        vec![(water(), Command::Write(Box::new(content("water"))))],
    )
    .unwrap();
    let e = run(Some(it.clone()), vec![(editor(), Command::Approve)]).unwrap_err();
    assert_eq!(e.code(), "wrong_state");
    assert!(e.to_string().contains("draft"), "{e}");
    let e = run(
        Some(it.clone()),
        vec![
            (water(), Command::Submit),
            (editor(), Command::SendBack { reason: " ".into() }),
        ],
    )
    .unwrap_err();
    assert_eq!(e, KbError::NoReason);
    let e = run(
        Some(it),
        vec![
            (water(), Command::Submit),
            (water(), Command::Write(Box::new(content("water")))),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code(), "wrong_state");
}

#[test]
fn an_item_without_a_source_or_expiring_before_it_takes_effect_is_refused_with_a_code() {
    let mut c = content("water");
    c.source = None;
    let e = run(None, vec![(water(), Command::Write(Box::new(c)))]).unwrap_err();
    assert_eq!(e.code(), "missing_source");
    let mut c = content("water");
    c.expires = Some(c.effective);
    let e = run(None, vec![(water(), Command::Write(Box::new(c)))]).unwrap_err();
    assert_eq!(e.code(), "expiry_before_effect");
    let mut c = content("water");
    c.category = "astrology".into();
    assert_eq!(
        c.validate(&catalogue()).unwrap_err().code(),
        "unknown_category"
    );
    let mut c = content("water");
    c.questions = vec![" ".into()];
    assert_eq!(c.validate(&catalogue()).unwrap_err().code(), "empty_field");
}

fn approved(expires: NaiveDate) -> Item {
    let mut c = content("water");
    c.expires = Some(expires);
    run(
        None,
        vec![
            (water(), Command::Write(Box::new(c))),
            (water(), Command::Submit),
            (editor(), Command::Approve),
        ],
    )
    .unwrap()
}

#[test]
fn the_sweep_reminds_the_unit_n_working_days_ahead_once_and_withdraws_on_the_expiry_date() {
    let cal = calendar();
    // Expires Monday 2026-03-16; 3 working days ahead is from Wednesday 2026-03-11 on.
    let mut it = approved(day(2026, 3, 16));
    assert!(sweep([&it], at(2026, 3, 10), &cal, 3).is_empty());
    let evs = sweep([&it], at(2026, 3, 11), &cal, 3);
    assert_eq!(evs.len(), 1);
    assert!(matches!(
        evs[0].1.kind,
        KbEventKind::ExpiryReminded {
            working_days_left: 3,
            ..
        }
    ));
    it.apply(evs[0].1.clone());
    // Once only.
    assert!(sweep([&it], at(2026, 3, 13), &cal, 3).is_empty());
    // Still served the day before; withdrawn on the day.
    assert!(it.served_content().unwrap().1.in_force(day(2026, 3, 15)));
    let evs = sweep([&it], at(2026, 3, 16), &cal, 3);
    assert_eq!(evs.len(), 1);
    it.apply(evs[0].1.clone());
    assert_eq!(
        it.state,
        ItemState::Withdrawn {
            reason: WithdrawReason::Expired {
                on: day(2026, 3, 16)
            }
        }
    );
    assert_eq!(it.served_content(), None);
    assert_eq!(it.history.last().map(|e| e.by.as_str()), Some("sweep"));
    assert!(sweep([&it], at(2026, 3, 17), &cal, 3).is_empty());
}

#[test]
fn the_reminder_counts_working_days_across_a_holiday() {
    // 2026-10-01..07 are the National Day holiday and Saturday 10-10 is worked: from
    // 2026-09-30 to 2026-10-12 there are 4 working days (weekends only would count 8).
    let cal = calendar();
    let it = approved(day(2026, 10, 12));
    assert!(sweep([&it], at(2026, 9, 29), &cal, 4).is_empty());
    let evs = sweep([&it], at(2026, 9, 30), &cal, 4);
    assert!(
        matches!(
            evs[..],
            [(
                _,
                KbEvent {
                    kind: KbEventKind::ExpiryReminded {
                        working_days_left: 4,
                        ..
                    },
                    ..
                }
            )]
        ),
        "{evs:?}"
    );
}

#[test]
fn a_repealed_source_withdraws_the_item_and_a_new_version_can_be_approved_again() {
    let it = approved(day(2026, 12, 31));
    let it = run(
        Some(it),
        vec![(
            water(),
            Command::Withdraw {
                note: "条例已废止".into(),
            },
        )],
    )
    .unwrap();
    assert_eq!(it.served_content(), None);
    let it = run(
        Some(it),
        vec![
            (water(), Command::Write(Box::new(content("water")))),
            (water(), Command::Submit),
            (editor(), Command::Approve),
        ],
    )
    .unwrap();
    assert_eq!(it.served_content().map(|(v, _)| v), Some(2));
}

#[test]
fn synonyms_expand_both_ways_and_stop_words_are_dropped() {
    let s = Synonyms::new([
        vec!["医保".to_string(), "医疗保险".to_string()],
        vec!["公积金".to_string(), "住房公积金".to_string()],
        vec!["孤".to_string()],
    ]);
    assert_eq!(s.expand("医保"), ["医保", "医疗保险"]);
    assert_eq!(s.expand("住房公积金"), ["住房公积金", "公积金"]);
    assert_eq!(s.expand("停水"), ["停水"]);
    assert!(!is_search_word("怎么办"));
    assert!(!is_search_word("？"));
    assert!(is_search_word("停水"));
}

#[test]
fn a_snippet_marks_the_words_and_escapes_the_rest() {
    let s = snippet(
        "本市<职工>医疗保险报销比例为90%，医保卡可在药店使用。",
        &["医保".into(), "医疗保险".into()],
        60,
    );
    assert_eq!(
        s,
        "本市&lt;职工&gt;<mark>医疗保险</mark>报销比例为90%，<mark>医保</mark>卡可在药店使用。"
    );
    let long = "甲".repeat(100) + "停水" + &"乙".repeat(100);
    let s = snippet(&long, &["停水".into()], 20);
    assert!(
        s.starts_with('…') && s.ends_with('…') && s.contains("<mark>停水</mark>"),
        "{s}"
    );
}

#[test]
fn imports_name_the_bad_line_and_round_trip() {
    let c = catalogue();
    let one = serde_json::to_string(&content("water")).unwrap();
    let mut no_source = content("water");
    no_source.source = None;
    let bad = serde_json::to_string(&no_source).unwrap();
    let text = format!("{one}\n\n{one}\n{bad}\n");
    let e = transfer::parse_jsonl(&text, &c).unwrap_err();
    assert_eq!((e.line, e.code), (4, "missing_source"));
    let e = transfer::parse_jsonl(&format!("{one}\n{{not json\n"), &c).unwrap_err();
    assert_eq!((e.line, e.code), (2, "malformed"));
    let items = vec![content("water"), content("power")];
    let back = transfer::parse_jsonl(&transfer::to_jsonl(&items), &c).unwrap();
    assert_eq!(back, items);
    let csv = transfer::to_csv(&items);
    assert_eq!(transfer::parse_csv(&csv, &c).unwrap(), items);
    // A CSV date that is not a date: the line is named (the header is line 1).
    let broken =
        csv.replacen("2026-06-30", "30/06/2026", 2)
            .replacen("30/06/2026", "2026-06-30", 1);
    let e = transfer::parse_csv(&broken, &c).unwrap_err();
    assert_eq!((e.line, e.code), (3, "malformed"), "{e}");
    let e = transfer::parse_csv("title,answer\nx,y\n", &c).unwrap_err();
    assert_eq!(e.line, 1);
}
