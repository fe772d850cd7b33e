//! Knowledge search over 100,000 items (issue 16; target p99 ≤ 10 ms on the 2-core machine).
//! The items are generated from the demo set (`config/kb-demo.jsonl`): each takes one demo
//! item's title, question forms and answer, a district, and sentences of two other items, so
//! common words (拨打, 热线, 办理…) are in most items as in a real knowledge base. The queries
//! are the relevance set's citizens' wordings. Besides criterion's figures, a first pass over
//! every query prints p50/p99/max of single searches.
//! `cargo test --all-targets` runs this once on 2,000 items.

use std::time::Duration;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use hotline::kb::search::{Search, SearchQuery, Synonyms};
use hotline::kb::ItemContent;
use hotline::shell::kb_store::KbStore;
use rand::{Rng, SeedableRng};

fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

const QUERIES: &[&str] = &[
    "我们楼今天一早就断水了，到现在也没来水",
    "住六楼，水龙头的水细得跟线一样",
    "家里没电了，邻居家也黑着",
    "厨房里一股煤气味，我该怎么办",
    "屋里暖气摸着冰凉，温度才十几度",
    "公交车到站不停直接开走了",
    "被关在电梯里了半天没人来救",
    "租房子住可以把公积金取出来吗",
    "旁边工地半夜还在打桩，吵得睡不着",
    "在超市买的牛奶已经过期了",
    "办了健身卡没几天健身房就关门了",
    "在工地干了半年活，包工头一分钱没给",
    "在外省住院医保能不能报销",
    "孩子明年上一年级，什么时候报名",
    "消防通道被私家车堵死了",
    "社保卡弄丢了去哪补",
    "拨打热线办理",
    "停水",
];

const DISTRICTS: &[&str] = &[
    "全市",
    "东城区",
    "西城区",
    "南湖区",
    "北山区",
    "高新区",
    "经开区",
    "滨江新区",
    "临港区",
    "青云县",
];

fn synonyms() -> Synonyms {
    Synonyms::new([
        vec!["医保".into(), "医疗保险".into(), "基本医疗保险".into()],
        vec!["公积金".into(), "住房公积金".into()],
        vec!["社保".into(), "社会保险".into()],
        vec!["停水".into(), "断水".into(), "没水".into()],
    ])
}

fn generate(n: u64) -> impl Iterator<Item = (u64, u32, ItemContent)> {
    let demo: Vec<ItemContent> = include_str!("../config/kb-demo.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("demo item"))
        .collect();
    let sentences: Vec<String> = demo
        .iter()
        .flat_map(|c| c.answer.split('。').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    (1..=n).map(move |id| {
        let base = &demo[rng.gen_range(0..demo.len())];
        let district = DISTRICTS[rng.gen_range(0..DISTRICTS.len())];
        let mut c = base.clone();
        c.title = format!("{}（{district}第{id}号）", base.title);
        c.area = district.to_string();
        c.answer = format!(
            "{}{}。{}。",
            base.answer,
            sentences[rng.gen_range(0..sentences.len())],
            sentences[rng.gen_range(0..sentences.len())]
        );
        c.public = rng.gen_bool(0.9);
        (id, 1, c)
    })
}

fn build(n: u64) -> (tempfile::TempDir, KbStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = KbStore::open(&dir.path().join("kb.sqlite"), synonyms()).expect("open");
    let began = hotline::shell::clock::now();
    s.bulk_index(generate(n)).expect("index");
    eprintln!(
        "kb_search: stored and indexed {n} items in {:?}",
        began.elapsed()
    );
    (dir, s)
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        area: None,
        category: None,
        unit: None,
        public_only: false,
        include_not_in_force: false,
        today: NaiveDate::from_ymd_opt(2026, 12, 10).expect("date"),
        limit: 10,
    }
}

fn bench(c: &mut Criterion) {
    let n = if full_run() { 100_000 } else { 2_000 };
    let (_dir, store) = build(n);
    // Percentiles of single searches: every query, several rounds, cold first round included.
    let rounds = if full_run() { 30 } else { 1 };
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..rounds {
        for q in QUERIES {
            let began = hotline::shell::clock::now();
            let hits = store.search(&query(q)).expect("search");
            times.push(began.elapsed());
            assert!(!hits.is_empty(), "{q}");
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    eprintln!(
        "kb_search over {n} items: {} searches, p50 {:?}, p99 {:?}, max {:?}",
        times.len(),
        pct(0.50),
        pct(0.99),
        times[times.len() - 1]
    );
    let mut g = c.benchmark_group("kb_search");
    g.sample_size(20);
    for (name, text) in [
        ("citizen_wording", QUERIES[0]),
        ("one_rare_word", "公积金"),
        ("common_words", "拨打热线办理"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| store.search(&query(text)).expect("search"))
        });
    }
    g.bench_function("filtered_area_category", |b| {
        let mut q = query(QUERIES[4]);
        q.area = Some("高新区".into());
        q.category = Some("heating".into());
        b.iter(|| store.search(&q).expect("search"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
