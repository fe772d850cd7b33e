//! The citizen's pages, `/request` and `/request/status` (issue 13), filled in on the server
//! so that they read right and work without JavaScript: the language (`?lang=`, then the
//! browser's first preference, else Chinese) and elderly mode (`?elderly=1`) come from the
//! address, the words from `web/request-i18n.js` (the same file the script imports), and a
//! form post's answer (receipt, refusal with the fields kept, challenge) or a lookup's view
//! can be rendered into the same templates by the public routes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::http::{header, HeaderMap, Uri};
use chrono::{DateTime, FixedOffset};
use serde_json::Value;

pub use crate::portal::Lang;

pub(super) const REQUEST_HTML: &str = include_str!("../../../web/request.html");
pub(super) const STATUS_HTML: &str = include_str!("../../../web/request-status.html");
/// What both pages share around their own part: head, header with the switches, footer.
pub(super) const FRAME_HTML: &str = include_str!("../../../web/request-frame.html");
/// The strings module; after its `=` it is JSON.
pub(super) const STRINGS_JS: &str = include_str!("../../../web/request-i18n.js");

/// Language and elderly mode of one page view, from its address and headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageMode {
    pub lang: Lang,
    pub elderly: bool,
}

impl PageMode {
    /// Reads `lang` and `elderly` from the query and `Accept-Language` from the headers.
    pub fn from_request(query: &HashMap<String, String>, headers: &HeaderMap) -> PageMode {
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        PageMode {
            lang: Lang::choose(query.get("lang").map(String::as_str), accept),
            elderly: query.get("elderly").is_some_and(|v| v == "1"),
        }
    }
}

/// The query of an address as a map; a malformed query reads as empty (a page never fails).
pub fn query_of(uri: &Uri) -> HashMap<String, String> {
    axum::extract::Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

type Strings = HashMap<String, HashMap<String, String>>;

/// Parses the JSON after the `=` of `web/request-i18n.js`.
pub(super) fn parse_strings(js: &str) -> Result<Strings, String> {
    let head = js
        .find("REQUEST_STRINGS =")
        .ok_or("no `REQUEST_STRINGS =` in the strings file")?;
    let start = head
        + js[head..]
            .find('{')
            .ok_or("no object in the strings file")?;
    let end = js.rfind('}').ok_or("no end of the strings object")?;
    serde_json::from_str(&js[start..=end]).map_err(|e| e.to_string())
}

static STRINGS: LazyLock<Strings> = LazyLock::new(|| {
    parse_strings(STRINGS_JS).unwrap_or_else(|e| {
        tracing::error!(error = %e, "web/request-i18n.js is not JSON after its '='");
        Strings::new()
    })
});

/// The words for `key` in the page's mode (the `.elderly` twin in elderly mode), or the key.
fn word(mode: PageMode, key: &str) -> String {
    let table = STRINGS.get(mode.lang.code());
    let pick = |k: &str| table.and_then(|t| t.get(k)).cloned();
    let twin = mode
        .elderly
        .then(|| pick(&format!("{key}.elderly")))
        .flatten();
    twin.or_else(|| pick(key))
        .unwrap_or_else(|| key.to_string())
}

/// Escapes text for HTML content and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `path?lang=..[&elderly=1][&k=v…]`, HTML-escaped for an attribute.
fn href(path: &str, lang: Lang, elderly: bool, extra: &[(&str, &str)]) -> String {
    let mut s = format!("{path}?lang={}", lang.code());
    if elderly {
        s.push_str("&elderly=1");
    }
    for (k, v) in extra {
        if !v.is_empty() {
            let _ = write!(s, "&{k}={}", percent(v));
        }
    }
    escape(&s)
}

/// Fills `{{key}}` (words, escaped) and `{{@name}}` (from `vars`, already HTML).
fn fill(template: &str, mode: PageMode, vars: &HashMap<&str, String>) -> String {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let key = &after[..close];
        match key.strip_prefix('@') {
            Some(name) => out.push_str(vars.get(name).map(String::as_str).unwrap_or("")),
            None => out.push_str(&escape(&word(mode, key))),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// The variables every page has: language, mode, the switches and the link to the other page.
fn common_vars(
    mode: PageMode,
    path: &str,
    other: &str,
    keep: &[(&str, &str)],
) -> HashMap<&'static str, String> {
    let mut v = HashMap::new();
    let lang = mode.lang;
    v.insert(
        "html_lang",
        if lang == Lang::En { "en" } else { "zh-CN" }.into(),
    );
    v.insert("lang", lang.code().into());
    v.insert("elderly", if mode.elderly { "1" } else { "0" }.into());
    v.insert(
        "root_class",
        if mode.elderly { "elderly" } else { "" }.into(),
    );
    let mut links = String::new();
    for (l, code, label) in [(Lang::Zh, "zh", "中文"), (Lang::En, "en", "English")] {
        let html_lang = if l == Lang::En { "en" } else { "zh-CN" };
        if l == lang {
            let _ = write!(
                links,
                r#"<li><span class="switch current" aria-current="true" lang="{html_lang}">{label}</span></li>"#
            );
        } else {
            let _ = write!(
                links,
                r#"<li><a class="switch" href="{}" lang="{html_lang}" hreflang="{code}" data-lang="{code}">{label}</a></li>"#,
                href(path, l, mode.elderly, keep)
            );
        }
    }
    v.insert("lang_links", links);
    v.insert("elderly_href", href(path, lang, !mode.elderly, keep));
    v.insert("elderly_next", if mode.elderly { "0" } else { "1" }.into());
    v.insert(
        "elderly_text",
        escape(&word(
            PageMode {
                elderly: false,
                ..mode
            },
            if mode.elderly {
                "elderly.off"
            } else {
                "elderly.on"
            },
        )),
    );
    v.insert("other_href", href(other, lang, mode.elderly, &[]));
    v.insert("self_href", href(path, lang, mode.elderly, &[]));
    let (page, title, other_text) = if path == "/request" {
        ("request", "req.title", "nav.status")
    } else {
        ("status", "st.title", "nav.request")
    };
    v.insert("page", page.into());
    v.insert("title", escape(&word(mode, title)));
    v.insert("other_text", escape(&word(mode, other_text)));
    v
}

/// A page's own part (`request.html` or `request-status.html`) filled, in the shared frame.
fn framed(page: &str, mode: PageMode, mut vars: HashMap<&'static str, String>) -> String {
    let content = fill(page, mode, &vars);
    vars.insert("content", content);
    fill(FRAME_HTML, mode, &vars)
}

/// A date of the API (RFC 3339) as China time in words, e.g. `2026年12月06日 19:21`.
pub fn china_date(iso: &str, lang: Lang) -> String {
    let Ok(t) = DateTime::parse_from_rfc3339(iso) else {
        return iso.to_string();
    };
    let Some(cst) = FixedOffset::east_opt(8 * 3600) else {
        return iso.to_string();
    };
    let t = t.with_timezone(&cst);
    match lang {
        Lang::Zh => t.format("%Y年%m月%d日 %H:%M").to_string(),
        Lang::En => t.format("%d %b %Y %H:%M").to_string(),
    }
}

/// What a form post is answered with when it is refused: the server's code and sentence,
/// the fields as they were sent, and a challenge question to show when one is due.
#[derive(Debug, Default, Clone)]
pub struct Refusal<'a> {
    pub code: &'a str,
    pub message: &'a str,
    pub fields: HashMap<&'a str, &'a str>,
    pub challenge: Option<(&'a str, &'a str)>,
}

/// The field a refusal code is about (the error summary links to it).
fn field_of(code: &str) -> &'static str {
    match code {
        "bad_type" => "type-consultation",
        "bad_phone" | "phone_required_for_callback" => "phone",
        "challenge_required" | "challenge_failed" => "challenge_answer",
        "file_too_large" | "unsupported_file_type" | "too_many_files" => "files",
        _ => "content",
    }
}

/// The request form; with `refusal`, the fields kept and the refusal (and challenge) shown.
pub fn request_page(mode: PageMode, refusal: Option<&Refusal>) -> String {
    let mut v = common_vars(mode, "/request", "/request/status", &[]);
    v.insert("receipt_hidden", "hidden".into());
    v.insert("challenge_hidden", "hidden".into());
    v.insert("challenge_disabled", "disabled".into());
    v.insert("summary_hidden", "hidden".into());
    if let Some(r) = refusal {
        let f = |k: &str| escape(r.fields.get(k).copied().unwrap_or(""));
        for k in ["content", "area", "location", "name", "phone"] {
            v.insert(
                match k {
                    "content" => "v_content",
                    "area" => "v_area",
                    "location" => "v_location",
                    "name" => "v_name",
                    _ => "v_phone",
                },
                f(k),
            );
        }
        let ty = r.fields.get("type").copied().unwrap_or("");
        for (t, var) in [
            ("consultation", "c_consultation"),
            ("help", "c_help"),
            ("suggestion", "c_suggestion"),
            ("complaint", "c_complaint"),
            ("other", "c_other"),
        ] {
            if ty == t {
                v.insert(var, "checked".into());
            }
        }
        if r.fields.get("callback_consent").is_some_and(|c| *c == "on") {
            v.insert("c_consent", "checked".into());
        }
        let words = if r.message.is_empty() {
            word(mode, &format!("err.{}", r.code))
        } else {
            r.message.to_string()
        };
        v.insert("summary_hidden", String::new());
        v.insert(
            "errors",
            format!(
                r##"<li><a href="#{}">{}</a></li>"##,
                field_of(r.code),
                escape(&words)
            ),
        );
        if let Some((id, question)) = r.challenge {
            v.insert("challenge_hidden", String::new());
            v.insert("challenge_disabled", String::new());
            v.insert("challenge_id", escape(id));
            v.insert("challenge_question", escape(question));
        }
    }
    framed(REQUEST_HTML, mode, v)
}

/// The receipt of a form post (the `201` JSON's `id`, `query_code`, `received_at`,
/// `respond_by`), printable, in the request page's frame; `file_problem` is the core's
/// sentence when the request was registered but a file of the post was not kept.
pub fn receipt_page(mode: PageMode, receipt: &Value, file_problem: Option<&str>) -> String {
    let s = |k: &str| receipt[k].as_str().unwrap_or("");
    let mut v = common_vars(mode, "/request", "/request/status", &[]);
    v.insert("form_hidden", "hidden".into());
    v.insert("challenge_hidden", "hidden".into());
    v.insert("challenge_disabled", "disabled".into());
    v.insert("summary_hidden", "hidden".into());
    v.insert("rc_id", escape(s("id")));
    v.insert("rc_code", escape(s("query_code")));
    v.insert(
        "rc_received",
        escape(&china_date(s("received_at"), mode.lang)),
    );
    let minutes = match (
        DateTime::parse_from_rfc3339(s("received_at")),
        DateTime::parse_from_rfc3339(s("respond_by")),
    ) {
        (Ok(a), Ok(b)) => ((b - a).num_seconds() as f64 / 60.0).round().max(1.0) as i64,
        _ => 3,
    };
    let time = china_date(s("respond_by"), mode.lang);
    let time = time.rsplit(' ').next().unwrap_or("").to_string();
    v.insert(
        "rc_promise",
        escape(
            &word(mode, "rc.promise")
                .replace("{minutes}", &minutes.to_string())
                .replace("{time}", &time),
        ),
    );
    v.insert(
        "rc_status_href",
        href(
            "/request/status",
            mode.lang,
            mode.elderly,
            &[("id", s("id")), ("code", s("query_code"))],
        ),
    );
    if let Some(problem) = file_problem {
        v.insert(
            "rc_problem",
            format!(
                r#"<div class="error-box" role="alert">{}<ul><li>{}</li></ul></div>"#,
                escape(&word(mode, "err.files_not_sent")),
                escape(problem)
            ),
        );
    }
    framed(REQUEST_HTML, mode, v)
}

/// What the status page shows below its form.
pub enum Lookup<'a> {
    /// Nothing looked up on the server (the script fetches the view when id and code are set).
    NotAsked,
    /// The citizen's view, as `GET /api/public/requests/{id}` returns it.
    Found(&'a Value),
    /// A refusal (`not_found`, `rate_limited`): its code and sentence.
    Refused { code: &'a str, message: &'a str },
    /// The view again, with why what the citizen just sent (a rating) was refused.
    Again {
        view: &'a Value,
        code: &'a str,
        message: &'a str,
    },
}

/// The lookup page, the form filled with `id` and `code`, and what the lookup found.
pub fn status_page(mode: PageMode, id: &str, code: &str, lookup: Lookup) -> String {
    let mut v = common_vars(
        mode,
        "/request/status",
        "/request",
        &[("id", id), ("code", code)],
    );
    v.insert("id", escape(id));
    v.insert("code", escape(code));
    let view = match lookup {
        Lookup::NotAsked => String::new(),
        Lookup::Found(view) => view_html(mode, view, code),
        Lookup::Refused { code: why, message } => refusal_box(mode, why, message),
        Lookup::Again {
            view,
            code: why,
            message,
        } => refusal_box(mode, why, message) + &view_html(mode, view, code),
    };
    v.insert("view", view);
    framed(STATUS_HTML, mode, v)
}

/// A refusal's sentence (the core's `message`, else the pages' words for its code).
fn refusal_box(mode: PageMode, code: &str, message: &str) -> String {
    let words = if message.is_empty() {
        word(mode, &format!("err.{code}"))
    } else {
        message.to_string()
    };
    format!(
        r#"<p class="error-box" role="alert" data-code="{}">{}</p>"#,
        escape(code),
        escape(&words)
    )
}

/// The citizen's view as HTML (the same structure `request-status.js` builds).
pub fn view_html(mode: PageMode, view: &Value, code: &str) -> String {
    let w = |k: &str| escape(&word(mode, k));
    let s = |k: &str| view[k].as_str().unwrap_or("");
    let id = s("id");
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<h2>{}</h2><p class="state" data-state="{}"><span class="state-label">{}</span> {}</p><dl class="facts">"#,
        escape(&word(mode, "st.heading").replace("{id}", id)),
        escape(s("state")),
        w("st.state"),
        escape(s("state_text"))
    );
    let mut fact = |key: &str, value: String| {
        if !value.is_empty() {
            let _ = write!(h, "<div><dt>{}</dt><dd>{value}</dd></div>", w(key));
        }
    };
    let date = |k: &str| {
        let d = s(k);
        if d.is_empty() {
            String::new()
        } else {
            escape(&china_date(d, mode.lang))
        }
    };
    fact("st.received", date("received_at"));
    fact("st.respond_by", date("respond_by"));
    fact("st.responded", date("responded_at"));
    fact("st.unit", escape(s("unit")));
    fact("st.rating", {
        let r = s("rating");
        if r.is_empty() {
            String::new()
        } else {
            escape(&word(mode, &format!("rate.{r}")))
        }
    });
    h.push_str("</dl>");
    for (key, field) in [("st.answer", "answer"), ("st.reply", "reply")] {
        if !s(field).is_empty() {
            let _ = write!(
                h,
                r#"<h3>{}</h3><p class="reply">{}</p>"#,
                w(key),
                escape(s(field))
            );
        }
    }
    if let Some(files) = view["files"].as_array().filter(|f| !f.is_empty()) {
        let _ = write!(h, "<h3>{}</h3><ul>", w("st.files"));
        for f in files {
            let _ = write!(
                h,
                "<li>{} ({})</li>",
                escape(f["name"].as_str().unwrap_or("")),
                size_text(f["size"].as_u64().unwrap_or(0))
            );
        }
        h.push_str("</ul>");
    }
    if let Some(steps) = view["timeline"].as_array().filter(|t| !t.is_empty()) {
        let _ = write!(h, r#"<h3>{}</h3><ol class="timeline">"#, w("st.timeline"));
        for step in steps {
            let at = step["at"].as_str().unwrap_or("");
            let _ = write!(
                h,
                r#"<li><time datetime="{}">{}</time> {}</li>"#,
                escape(at),
                escape(&china_date(at, mode.lang)),
                escape(step["text"].as_str().unwrap_or(""))
            );
        }
        h.push_str("</ol>");
    }
    if view["can_rate"].as_bool() == Some(true) {
        h.push_str(&rating_form(mode, id, code));
    }
    h
}

/// The rating form (also a plain form post to the rating route).
fn rating_form(mode: PageMode, id: &str, code: &str) -> String {
    let w = |k: &str| escape(&word(mode, k));
    let action = escape(&format!(
        "/api/public/requests/{}/rating?code={}",
        percent(id),
        percent(code)
    ));
    let mut h = format!(
        r#"<form id="rating" class="rating" method="post" action="{action}" data-testid="rating-form"><h3>{}</h3><input type="hidden" name="lang" value="{}"><input type="hidden" name="elderly" value="{}"><fieldset class="field" id="rating-group"><legend>{}</legend>"#,
        w("rate.title"),
        mode.lang.code(),
        if mode.elderly { "1" } else { "0" },
        w("rate.legend")
    );
    for r in ["satisfied", "basically_satisfied", "unsatisfied"] {
        let _ = write!(
            h,
            r#"<div class="choice"><input type="radio" id="rating-{r}" name="rating" value="{r}" required><label for="rating-{r}">{}</label></div>"#,
            w(&format!("rate.{r}"))
        );
    }
    let _ = write!(
        h,
        r#"<p class="field-error" id="rating-error" hidden></p></fieldset><div class="field"><label for="reason">{}</label><p class="hint" id="reason-hint">{}</p><textarea id="reason" name="reason" rows="3" maxlength="2000" aria-describedby="reason-hint"></textarea><p class="field-error" id="reason-error" hidden></p></div><div class="actions"><button type="submit" class="primary">{}</button></div></form>"#,
        w("rate.reason"),
        w("rate.reason.hint"),
        w("rate.submit")
    );
    h
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
#[path = "request_pages_tests.rs"]
mod tests;
