//! The knowledge store on both backends (issue 19: one suite, two backends): each body runs
//! against `kb.sqlite` in a temp folder and against a throwaway PostgreSQL (`on_both!`):
//! versions, history and a rebuilt index after reopening; gaps, citations and listings; the
//! demo set loaded once. On PostgreSQL alone: a second engine's store sees the first's
//! changes at its next search (its in-memory index catches up from the change counter).

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use chrono::{DateTime, FixedOffset, TimeZone};
use common::store_backend::Backend;
use hotline::kb::usage::CiteKind;
use hotline::kb::{decide, Command, Item, ItemContent, KbEvent, Search, SearchQuery, Synonyms};
use hotline::shell::kb_store::{GapKept, KbStore};
use hotline::workflow::catalogue::DispatchCatalogue;
use hotline::workflow::model::{china, Actor, Role};

fn open(b: &Backend) -> KbStore {
    KbStore::open_at(&b.at(), Synonyms::default()).expect("open the knowledge store")
}

fn catalogue() -> DispatchCatalogue {
    DispatchCatalogue::from_toml_str(include_str!("../config/dispatch.toml")).expect("catalogue")
}

/// The demo set's `n`th item.
fn content(n: usize) -> ItemContent {
    let line = include_str!("../config/kb-demo.jsonl")
        .lines()
        .nth(n)
        .expect("a demo item");
    serde_json::from_str(line).expect("item")
}

fn at() -> DateTime<FixedOffset> {
    china()
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("time")
}

fn search(s: &KbStore, text: &str) -> Vec<(u64, u32)> {
    s.search(&SearchQuery {
        text: text.into(),
        area: None,
        category: None,
        unit: None,
        public_only: false,
        include_not_in_force: false,
        today: at().date_naive(),
        limit: 5,
    })
    .expect("search")
    .iter()
    .map(|h| (h.id, h.version))
    .collect()
}

/// Writes, submits and approves `c`: an item serving version 1.
fn approved(s: &mut KbStore, c: &ItemContent) -> Item {
    let (ed, cat) = (Actor::new("ed", Role::KbEditor), catalogue());
    let ev = decide(None, &ed, Command::Write(Box::new(c.clone())), at(), &cat).expect("write");
    let mut it = s.create(ev).expect("create");
    for cmd in [Command::Submit, Command::Approve] {
        let ev = decide(Some(&it), &ed, cmd, at(), &cat).expect("decide");
        s.append(&mut it, ev).expect("append");
    }
    it
}

fn reopen_body(b: &mut Backend) {
    let c = content(0);
    let id = {
        let mut s = open(b);
        let mut it = approved(&mut s, &c);
        let ed = Actor::new("ed", Role::KbEditor);
        let ev = decide(
            Some(&it),
            &ed,
            Command::Write(Box::new(c.clone())),
            at(),
            &catalogue(),
        )
        .expect("edit");
        s.append(&mut it, ev).expect("append");
        it.id
    };
    let mut s = open(b);
    let it = s.get(id).expect("get").expect("stored");
    assert_eq!((it.version(), it.served, it.history.len()), (2, Some(1), 4));
    assert_eq!(s.version(id, 1).expect("version"), Some(c));
    assert_eq!(s.version(id, 3).expect("version"), None);
    assert_eq!(search(&s, "停水通知").first(), Some(&(id, 1)));
    let listed = s.list(None, None, 10).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].version, listed[0].served), (2, Some(1)));
    assert_eq!(
        s.count_by_state().expect("count"),
        vec![(listed[0].state.clone(), 1)]
    );
    assert_eq!(s.latest_versions(None).expect("latest").len(), 1);
    assert!(!s.is_empty().expect("empty"));
}
on_both!(reopen_body: a_reopened_store_has_every_version_the_history_and_a_rebuilt_index, a_reopened_store_has_every_version_the_history_and_a_rebuilt_index_on_postgres);

fn usage_body(b: &mut Backend) {
    {
        let mut s = open(b);
        let at = "2026-03-02T09:00:00+08:00";
        assert_eq!(
            s.record_gap("电动车 上牌", false, at, 2).expect("gap"),
            GapKept::Counted { new: true }
        );
        assert_eq!(
            s.record_gap("电动车 上牌", true, "2026-03-02T10:00:00+08:00", 2)
                .expect("gap"),
            GapKept::Counted { new: false }
        );
        s.record_gap("宠物 狂犬疫苗", true, at, 2).expect("gap");
        assert_eq!(
            s.record_gap("第三个", true, at, 2).expect("gap"),
            GapKept::Full
        );
        // A known gap is still counted when the store is full.
        s.record_gap("宠物 狂犬疫苗", true, at, 2).expect("gap");
        let it = approved(&mut s, &content(1));
        let cite = [(it.id, 1, CiteKind::Answer), (8, 2, CiteKind::Reply)];
        assert_eq!(
            s.record_citations("20260302-000001", &cite, at)
                .expect("cite"),
            2
        );
        // The same action retried counts once.
        assert_eq!(
            s.record_citations("20260302-000001", &cite, at)
                .expect("cite"),
            0
        );
        s.record_citations("20260302-000002", &[(it.id, 1, CiteKind::Answer)], at)
            .expect("cite");
        s.add_shown(&[(it.id, 3), (8, 1)]).expect("shown");
        s.add_shown(&[(8, 1)]).expect("shown");
        s.add_shown(&[]).expect("nothing shown");
    }
    let mut s = open(b);
    let gaps = s.gaps(10).expect("gaps");
    let got: Vec<_> = gaps
        .iter()
        .map(|g| (g.query.as_str(), g.staff, g.public))
        .collect();
    // As often asked: the one asked last first.
    assert_eq!(got, [("电动车 上牌", 1, 1), ("宠物 狂犬疫苗", 0, 2)]);
    assert_eq!(gaps[0].last_at, "2026-03-02T10:00:00+08:00");
    assert_eq!(gaps[0].first_at, "2026-03-02T09:00:00+08:00");
    assert_eq!(s.gap_count().expect("count"), 2);
    assert_eq!(s.citation_totals().expect("totals"), (2, 1));
    // Item 8 does not exist in this store: most_used lists stored items only.
    let used = s.most_used(10).expect("most used");
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!((used[0].answers, used[0].replies, used[0].shown), (2, 0, 3));
}
on_both!(usage_body: gaps_citations_and_listings_survive_a_reopen_and_gaps_stop_at_their_limit, gaps_citations_and_listings_survive_a_reopen_and_gaps_stop_at_their_limit_on_postgres);

/// The events of a new, approved item.
fn approved_events(c: &ItemContent) -> Vec<KbEvent> {
    let (ed, cat) = (Actor::new("demo-set", Role::KbEditor), catalogue());
    let mut events =
        decide(None, &ed, Command::Write(Box::new(c.clone())), at(), &cat).expect("write");
    let mut it = Item::replay(0, events.clone()).expect("item");
    for cmd in [Command::Submit, Command::Approve] {
        for e in decide(Some(&it), &ed, cmd, at(), &cat).expect("decide") {
            it.apply(e.clone());
            events.push(e);
        }
    }
    events
}

fn demo_once_body(b: &mut Backend) {
    let set = || vec![approved_events(&content(0)), approved_events(&content(1))];
    let mut first = open(b);
    let mut second = open(b);
    assert!(first.is_empty().expect("empty") && second.is_empty().expect("empty"));
    let ids = first
        .create_many_if_empty(set())
        .expect("load")
        .expect("loaded");
    assert_eq!(ids.len(), 2);
    // The other engine saw an empty store a moment ago; inside its transaction it is not.
    assert_eq!(second.create_many_if_empty(set()).expect("load"), None);
    assert_eq!(second.list(None, None, 10).expect("list").len(), 2);
    // An import is not the demo set: it adds.
    assert_eq!(second.create_many(set()).expect("import").len(), 2);
    assert_eq!(first.list(None, None, 10).expect("list").len(), 4);
}
on_both!(demo_once_body: the_demo_set_is_loaded_once_by_two_stores, the_demo_set_is_loaded_once_by_two_stores_on_postgres);

#[test]
fn a_second_engines_index_catches_up_with_the_firsts_changes_on_postgres() {
    let b = Backend::postgres();
    let mut first = open(&b);
    let mut second = open(&b);
    let c = content(0);
    let mut it = approved(&mut first, &c);
    assert_eq!(search(&first, "停水通知").first(), Some(&(it.id, 1)));
    // Nothing until the second store catches up (as its next search does).
    assert!(search(&second, "停水通知").is_empty());
    second.sync().expect("sync");
    assert_eq!(search(&second, "停水通知").first(), Some(&(it.id, 1)));
    // A withdrawal on the first engine leaves the second's index at its next catch-up.
    let ev = decide(
        Some(&it),
        &Actor::new("ed", Role::KbEditor),
        Command::Withdraw {
            note: "政策废止".into(),
        },
        at(),
        &catalogue(),
    )
    .expect("withdraw");
    first.append(&mut it, ev).expect("append");
    assert!(search(&first, "停水通知").is_empty());
    second.sync().expect("sync");
    assert!(search(&second, "停水通知").is_empty());
    // The second engine's own change: the first sees it after catching up; nothing is
    // re-read when nothing changed.
    let other = approved(&mut second, &content(1));
    let words = content(1).title;
    first.sync().expect("sync");
    assert!(
        search(&first, &words).contains(&(other.id, 1)),
        "{words}: {:?}",
        search(&first, &words)
    );
    first.sync().expect("sync again");
}
