//! Relevance of the knowledge search (issue 16): citizens' own wordings (none copied from an
//! item's question forms) → the demo item that answers them. Reports hit@1 and hit@3 and
//! fails below a floor. The demo set is `config/kb-demo.jsonl`; item n is its line n.

use chrono::NaiveDate;
use hotline::kb::search::{Search, SearchQuery, Synonyms};
use hotline::shell::kb_store::KbStore;

/// (what a citizen says, the demo item's line number)
const CASES: &[(&str, u64)] = &[
    ("我们楼今天一早就断水了，到现在也没来水", 1),
    ("停水了要等到几点才恢复", 1),
    ("住六楼，水龙头的水细得跟线一样", 2),
    ("放出来的自来水黄黄的还有股味道，能喝吗", 3),
    ("家里没电了，邻居家也黑着", 4),
    ("晚上灯老是一闪一闪，电压是不是有问题", 5),
    ("厨房里一股煤气味，我该怎么办", 6),
    ("这个月燃气费多了好几百，表是不是坏了", 7),
    ("屋里暖气摸着冰凉，温度才十几度", 8),
    ("今年几号开始供热", 9),
    ("我们这趟公交线路怎么突然改了", 10),
    ("公交车到站不停直接开走了", 11),
    ("地铁最晚一班几点", 12),
    ("被关在电梯里了半天没人来救", 13),
    ("换电梯能不能动用维修基金", 14),
    ("物业费照收，小区没人打扫", 15),
    ("租房子住可以把公积金取出来吗", 16),
    ("用公积金买房最多能贷多少钱", 17),
    ("旁边工地半夜还在打桩，吵得睡不着", 18),
    ("楼下烧烤店的油烟全飘进我家", 19),
    ("小河里的水又黑又臭，有人往里排污水", 20),
    ("在超市买的牛奶已经过期了", 21),
    ("点的外卖里吃出一只虫子", 22),
    ("办了健身卡没几天健身房就关门了", 23),
    ("网上买的衣服不合适想退，店家不给退", 24),
    ("医院的停车费一小时十块是不是太贵", 25),
    ("居民用电阶梯价格是怎么算的", 26),
    ("在工地干了半年活，包工头一分钱没给", 27),
    ("公司已经三个月没发工资了", 28),
    ("社保要交够多少年退休才能拿养老金", 29),
    ("被公司辞退了能领失业金吗", 30),
    ("在外省住院医保能不能报销", 31),
    ("医疗保险异地就医要先备案吗", 31),
    ("专家号一直挂不上", 32),
    ("医生给我看错了病，想投诉医院", 33),
    ("孩子明年上一年级，什么时候报名", 34),
    ("我们是外地户口，孩子在这边怎么上学", 35),
    ("门口的小贩占了人行道摆摊", 36),
    ("邻居在楼顶私自搭了个房子", 37),
    ("小区的垃圾三天没人来收了", 38),
    ("消防通道被私家车堵死了", 39),
    ("有人把电瓶车推到楼道里充电", 40),
    ("医保卡里的钱能给父母买药吗", 41),
    ("社保卡弄丢了去哪补", 42),
    ("马路上的水管爆了，水一直往外冒", 43),
    ("低保户的暖气费可以减免吗", 44),
];

fn store() -> (tempfile::TempDir, KbStore) {
    let dir = tempfile::tempdir().unwrap();
    let synonyms = Synonyms::new(
        toml::from_str::<toml::Value>(include_str!("../config/hotline.toml")).unwrap()["kb"]
            ["synonyms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                g.as_array()
                    .unwrap()
                    .iter()
                    .map(|w| w.as_str().unwrap().to_string())
                    .collect()
            }),
    );
    let mut store = KbStore::open(&dir.path().join("kb.sqlite"), synonyms).unwrap();
    let items = include_str!("../config/kb-demo.jsonl")
        .lines()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, 1, serde_json::from_str(l).unwrap()));
    store.bulk_index(items).unwrap();
    (dir, store)
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        area: None,
        category: None,
        unit: None,
        public_only: true,
        include_not_in_force: false,
        today: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
        limit: 3,
    }
}

#[test]
fn citizens_wordings_find_the_right_item_at_1_and_at_3() {
    assert!(CASES.len() >= 40);
    let (_dir, store) = store();
    let (mut at1, mut at3) = (0, 0);
    let mut misses = Vec::new();
    for (text, want) in CASES {
        let hits = store.search(&query(text)).unwrap();
        let ids: Vec<u64> = hits.iter().map(|h| h.id).collect();
        if ids.first() == Some(want) {
            at1 += 1;
        }
        if ids.contains(want) {
            at3 += 1;
        } else {
            misses.push(format!("{text} → {ids:?}, wanted {want}"));
        }
    }
    let n = CASES.len() as f64;
    let (h1, h3) = (at1 as f64 / n, at3 as f64 / n);
    println!(
        "kb relevance: {} wordings, hit@1 = {h1:.3} ({at1}), hit@3 = {h3:.3} ({at3})",
        CASES.len()
    );
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(h1 >= 0.70, "hit@1 {h1:.3} below 0.70; misses: {misses:#?}");
    assert!(h3 >= 0.85, "hit@3 {h3:.3} below 0.85; misses: {misses:#?}");
}

#[test]
fn filters_and_the_public_flag_narrow_the_results() {
    let (_dir, store) = store();
    let mut q = query("停水");
    q.limit = 10;
    q.public_only = false;
    let all = store.search(&q).unwrap();
    assert!(
        all.iter().any(|h| h.id == 45),
        "the internal item is found by staff"
    );
    q.public_only = true;
    assert!(store.search(&q).unwrap().iter().all(|h| h.id != 45));
    q.category = Some("heating".into());
    q.text = "暖气不热".into();
    let heating = store.search(&q).unwrap();
    assert!(!heating.is_empty() && heating.iter().all(|h| h.category == "heating"));
    q.category = None;
    q.unit = Some("market".into());
    q.text = "退款".into();
    assert!(store.search(&q).unwrap().iter().all(|h| h.unit == "market"));
    // Item 8 (heating complaints) takes effect on 2026-11-15: not served before unless asked.
    let mut q = query("暖气片是凉的");
    q.today = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    assert!(store.search(&q).unwrap().iter().all(|h| h.id != 8));
    q.include_not_in_force = true;
    assert!(store.search(&q).unwrap().iter().any(|h| h.id == 8));
}

#[test]
fn a_synonym_finds_the_other_word_and_the_snippet_marks_it() {
    let (_dir, store) = store();
    // The item says 住房公积金; the citizen says 公积金 — and the other way round.
    let hits = store.search(&query("公积金提取")).unwrap();
    assert_eq!(hits.first().map(|h| h.id), Some(16));
    assert!(
        hits[0].snippet.contains("<mark>住房公积金</mark>"),
        "{}",
        hits[0].snippet
    );
    let hits = store.search(&query("医疗保险卡里的钱")).unwrap();
    assert!(hits.iter().any(|h| h.id == 41), "{hits:?}");
}
