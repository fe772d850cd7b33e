use super::*;

fn mode(lang: Lang, elderly: bool) -> PageMode {
    PageMode { lang, elderly }
}

const MODES: [(Lang, bool); 4] = [
    (Lang::Zh, false),
    (Lang::Zh, true),
    (Lang::En, false),
    (Lang::En, true),
];

#[test]
fn the_strings_file_is_json_with_the_same_keys_in_both_languages() {
    let s = parse_strings(STRINGS_JS).expect("web/request-i18n.js parses");
    let (zh, en) = (&s["zh"], &s["en"]);
    let missing: Vec<_> = zh
        .keys()
        .filter(|k| !en.contains_key(*k))
        .chain(en.keys().filter(|k| !zh.contains_key(*k)))
        .collect();
    assert!(missing.is_empty(), "in one language only: {missing:?}");
}

#[test]
fn every_key_of_both_pages_has_words_in_every_mode() {
    let receipt = serde_json::json!({"id": "20261206-000001", "query_code": "ABCD2345",
        "received_at": "2026-12-06T19:21:00+08:00", "respond_by": "2026-12-06T19:24:00+08:00"});
    for (lang, elderly) in MODES {
        let m = mode(lang, elderly);
        for page in [
            request_page(m, None),
            receipt_page(m, &receipt, None),
            status_page(m, "", "", Lookup::NotAsked),
        ] {
            assert!(!page.contains("{{"), "an unfilled key");
            assert_eq!(page.matches("<html").count(), 1, "one frame");
            assert_eq!(page.matches(r#"class="skip""#).count(), 1);
            // A key without words would show as itself: `req.title`, `f.content.hint`…
            for word in page.split(['>', '<', '"']) {
                let dotted = word.contains('.')
                    && word
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                assert!(
                    !dotted || word.starts_with('.') || word.ends_with('.'),
                    "no words for {word}"
                );
            }
            let lang_attr = if lang == Lang::En {
                r#"<html lang="en""#
            } else {
                r#"<html lang="zh-CN""#
            };
            assert!(page.contains(lang_attr));
            assert_eq!(page.contains(r#"class="elderly""#), elderly);
        }
    }
}

#[test]
fn the_language_is_the_query_then_the_first_preference_then_chinese() {
    assert_eq!(Lang::choose(Some("en"), Some("zh-CN")), Lang::En);
    assert_eq!(Lang::choose(Some("zh"), Some("en-US")), Lang::Zh);
    assert_eq!(
        Lang::choose(None, Some("en-GB,en;q=0.9,zh;q=0.5")),
        Lang::En
    );
    assert_eq!(
        Lang::choose(None, Some("zh-CN,zh;q=0.9,en;q=0.8")),
        Lang::Zh
    );
    assert_eq!(Lang::choose(None, Some("zh;q=0.5, en;q=0.9")), Lang::En);
    assert_eq!(Lang::choose(Some("fr"), None), Lang::Zh);
    assert_eq!(Lang::choose(None, Some("")), Lang::Zh);
}

#[test]
fn elderly_mode_uses_the_simpler_words_and_the_switches_keep_the_mode() {
    let plain = request_page(mode(Lang::Zh, false), None);
    let elderly = request_page(mode(Lang::Zh, true), None);
    assert!(plain.contains("1. 您的诉求"));
    assert!(elderly.contains("第一步：说说您的事情"));
    // The English link keeps elderly mode; the mode switch keeps the language.
    assert!(elderly.contains(r#"href="/request?lang=en&amp;elderly=1""#));
    assert!(elderly.contains(r#"href="/request?lang=zh" data-elderly="0""#));
    assert!(plain.contains(r#"href="/request?lang=zh&amp;elderly=1" data-elderly="1""#));
    let en = request_page(mode(Lang::En, false), None);
    assert!(en.contains(r#"href="/request/status?lang=en""#));
    assert!(en.contains(r#"<span class="switch current" aria-current="true" lang="en">English"#));
}

#[test]
fn a_refused_form_post_keeps_the_fields_escaped_and_shows_the_challenge() {
    let r = Refusal {
        code: "challenge_required",
        message: "",
        fields: HashMap::from([
            ("content", "路灯不亮 <script>alert(1)</script>"),
            ("type", "help"),
            ("phone", "13900001111"),
            ("callback_consent", "on"),
        ]),
        challenge: Some(("c-17", "7 + 5 = ?")),
    };
    let page = request_page(mode(Lang::Zh, false), Some(&r));
    assert!(page.contains("路灯不亮 &lt;script&gt;alert(1)&lt;/script&gt;</textarea>"));
    assert!(!page.contains("<script>alert"));
    assert!(page.contains(r#"value="help" checked"#));
    assert!(page.contains(r#"name="callback_consent" checked"#));
    assert!(
        page.contains(r#"value="c-17" >"#),
        "the challenge is posted with the form"
    );
    assert!(request_page(mode(Lang::Zh, false), None).contains(r#"value="" disabled>"#));
    assert!(page.contains("7 + 5 = ?"));
    assert!(page.contains(r##"<a href="#challenge_answer">请先回答下面的算术题，再提交。</a>"##));
    assert!(!page.contains(r#"id="challenge" aria-labelledby="challenge-h" hidden"#));
}

#[test]
fn a_receipt_says_the_number_the_code_and_the_time_promise_in_words() {
    let receipt = serde_json::json!({"id": "20261206-000001", "query_code": "ABCD2345",
        "received_at": "2026-12-06T11:21:00Z", "respond_by": "2026-12-06T11:24:00Z"});
    let page = receipt_page(mode(Lang::Zh, false), &receipt, None);
    assert!(page.contains(">20261206-000001</dd>"));
    assert!(page.contains(">ABCD2345</dd>"));
    assert!(page.contains("2026年12月06日 19:21"));
    assert!(page.contains("我们将在3分钟内（19:24之前）响应您的诉求"));
    assert!(
        page.contains(r#"href="/request/status?lang=zh&amp;id=20261206-000001&amp;code=ABCD2345""#)
    );
    let en = receipt_page(mode(Lang::En, false), &receipt, None);
    assert!(en.contains("We will respond to your request within 3 minutes (by 19:24)"));
}

#[test]
fn the_server_rendered_view_shows_state_reply_timeline_and_the_rating_form() {
    let view = serde_json::json!({"id": "20261206-000001", "state": "awaiting_rating",
        "state_text": "等待您的评价", "received_at": "2026-12-06T19:21:00+08:00",
        "respond_by": "2026-12-06T19:24:00+08:00", "responded_at": "2026-12-06T19:22:10+08:00",
        "unit": "市自来水集团", "reply": "已抢修 <b>恢复</b>", "can_rate": true,
        "files": [{"name": "照片.jpg", "size": 2048}],
        "timeline": [{"at": "2026-12-06T19:21:00+08:00", "text": "已收到"}]});
    let page = status_page(
        mode(Lang::Zh, false),
        "20261206-000001",
        "ABCD2345",
        Lookup::Found(&view),
    );
    assert!(page.contains(r#"data-state="awaiting_rating""#));
    assert!(page.contains("等待您的评价"));
    assert!(page.contains("市自来水集团"));
    assert!(page.contains("已抢修 &lt;b&gt;恢复&lt;/b&gt;"));
    assert!(page.contains("照片.jpg (2 KB)"));
    assert!(page.contains("2026年12月06日 19:22"));
    assert!(page.contains(r#"action="/api/public/requests/20261206-000001/rating?code=ABCD2345""#));
    assert!(page.contains(r#"value="20261206-000001" required"#));
    let missing = status_page(
        mode(Lang::En, false),
        "x",
        "y",
        Lookup::Refused {
            code: "not_found",
            message: "",
        },
    );
    assert!(missing.contains("No request found"));
    assert!(!missing.contains("data-testid=\"rating-form\""));
    let again = status_page(
        mode(Lang::Zh, false),
        "20261206-000001",
        "ABCD2345",
        Lookup::Again {
            view: &view,
            code: "rating_reason_required",
            message: "选择“不满意”时请说明原因。",
        },
    );
    assert!(again.contains(r#"role="alert" data-code="rating_reason_required""#));
    assert!(
        again.contains("data-testid=\"rating-form\""),
        "the form again"
    );
}

#[test]
fn a_receipt_says_when_a_file_of_the_post_was_not_kept() {
    let receipt = serde_json::json!({"id": "20261206-000001", "query_code": "ABCD2345",
        "received_at": "2026-12-06T11:21:00Z", "respond_by": "2026-12-06T11:24:00Z"});
    let page = receipt_page(mode(Lang::En, true), &receipt, Some("A file may be <b>"));
    assert!(page.contains("some files were not uploaded"));
    assert!(page.contains("A file may be &lt;b&gt;"));
    assert!(!receipt_page(mode(Lang::En, true), &receipt, None).contains("not uploaded"));
}

/// The pages' words for a refusal code are the core's sentence (the API's `message`), so a
/// check in the browser and the server's answer say the same thing.
#[test]
fn the_pages_say_what_the_core_says_for_each_refusal() {
    use crate::portal::Refused;
    let refusals = Refused::every_kind();
    let strings = parse_strings(STRINGS_JS).expect("web/request-i18n.js parses");
    for lang in [Lang::Zh, Lang::En] {
        for r in &refusals {
            let Some(words) = strings[lang.code()].get(&format!("err.{}", r.code())) else {
                continue;
            };
            let words = words.replace("{s}", "30").replace("{field}", "area");
            assert_eq!(words, r.message(lang), "err.{} in {lang:?}", r.code());
        }
    }
}
