//! The server-rendered pages of the citizen's routes, for browsers without JavaScript: the
//! receipt after a form post, a refusal with the fields kept (and the challenge question when
//! one is needed), the lookup form, and a request's status with the rating form. Plain HTML
//! with `web/request.css`'s classes (`.page`, `.card`, `.status`, `.timeline`, `.error`);
//! accessible: `lang`, one `h1`, labelled fields, `role="alert"` on errors. Every value shown
//! is escaped.

use axum::response::Html;

use super::public::Receipt;
use super::public_form::FormFields;
use crate::portal::throttle::Question;
use crate::portal::view::CitizenView;
use crate::portal::{Lang, Refused};

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
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

fn page(lang: Lang, elderly: bool, title: &str, body: &str) -> Html<String> {
    let class = if elderly { "elderly" } else { "" };
    let other = match lang {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh", "中文"),
    };
    let e = if elderly { "&amp;elderly=1" } else { "" };
    Html(format!(
        "<!doctype html>\n<html lang=\"{l}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t} · 12345</title><link rel=\"stylesheet\" href=\"/assets/request.css\"></head>\
<body class=\"{class}\"><main class=\"page\" id=\"main\">\
<p class=\"lang\"><a href=\"?lang={ol}{e}\" lang=\"{ol}\">{on}</a></p>\
<h1>{t}</h1>{body}</main></body></html>\n",
        l = if lang == Lang::Zh { "zh-CN" } else { "en" },
        t = esc(title),
        ol = other.0,
        on = other.1,
    ))
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

/// The receipt of a registered request: number, query code, and when we answer.
pub fn receipt(
    lang: Lang,
    elderly: bool,
    r: &Receipt,
    file_problem: Option<&Refused>,
) -> Html<String> {
    let t = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let problem = file_problem
        .map(|p| {
            format!(
                "<p class=\"error\" role=\"alert\">{} {}</p>",
                esc(t(
                    "诉求已受理，但附件未能保存：",
                    "Your request was received, but a file could not be kept:"
                )),
                esc(&p.message(lang))
            )
        })
        .unwrap_or_default();
    let e = if elderly { "&amp;elderly=1" } else { "" };
    let body = format!(
        "<section class=\"card status\" aria-labelledby=\"rc\"><h2 id=\"rc\">{h}</h2>{problem}\
<dl><dt>{n}</dt><dd><strong>{id}</strong></dd><dt>{c}</dt><dd><strong>{code}</strong></dd>\
<dt>{at}</dt><dd><time datetime=\"{ra}\">{ra}</time></dd></dl>\
<p>{when}</p><p>{keep}</p>\
<p><a href=\"/request/status?id={id}&amp;code={code}&amp;lang={l}{e}\">{look}</a></p></section>",
        h = esc(t("您的诉求已收到", "We have received your request")),
        n = esc(t("诉求编号", "Request number")),
        id = esc(&r.id),
        c = esc(t("查询码", "Query code")),
        code = esc(&r.query_code),
        at = esc(t("收到时间", "Received at")),
        ra = esc(&r.received_at),
        when = esc(t(
            "热线工作人员将在 3 分钟内回应您的诉求。",
            "A hotline agent will respond to your request within 3 minutes."
        )),
        keep = esc(t(
            "请记下或打印编号和查询码，凭它们查询办理进度。查询码只显示这一次。",
            "Please write down or print the number and the query code: you need both to follow your request. The code is shown only this once."
        )),
        l = lang.code(),
        look = esc(t("查看办理进度", "See how your request is going")),
    );
    page(lang, elderly, t("提交成功", "Request received"), &body)
}

/// A refused form post: the reason, the form again with what was typed, and the question.
pub(crate) fn refusal(
    lang: Lang,
    form: &FormFields,
    r: &Refused,
    ch: Option<&Question>,
) -> Html<String> {
    let t = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let v = |k: &str| esc(form.get(k).unwrap_or(""));
    let types = [
        ("consultation", "咨询", "Question"),
        ("help", "求助", "Help"),
        ("suggestion", "意见建议", "Suggestion"),
        ("complaint", "投诉举报", "Complaint or report"),
        ("other", "其他", "Other"),
    ];
    let chosen = form.get("type").unwrap_or("");
    let options: String = types
        .iter()
        .map(|(k, zh, en)| {
            format!(
                "<option value=\"{k}\"{}>{}</option>",
                if *k == chosen { " selected" } else { "" },
                esc(lang.pick(zh, en))
            )
        })
        .collect();
    let challenge = ch
        .map(|q| {
            format!(
                "{}<p><label for=\"challenge_answer\">{} {}</label>\
<input id=\"challenge_answer\" name=\"challenge_answer\" inputmode=\"numeric\" autocomplete=\"off\" required></p>",
                hidden("challenge_id", &q.id),
                esc(t("请计算：", "Please work out:")),
                esc(&q.question)
            )
        })
        .unwrap_or_default();
    let consent = if form.get("callback_consent") == Some("on") {
        " checked"
    } else {
        ""
    };
    let body = format!(
        "<p class=\"error\" role=\"alert\" id=\"problem\">{msg}</p>\
<form class=\"card\" method=\"post\" action=\"/api/public/requests\" enctype=\"multipart/form-data\" aria-describedby=\"problem\">\
{lang_field}{elderly_field}\
<p><label for=\"content\">{lc}</label><textarea id=\"content\" name=\"content\" maxlength=\"2000\" required>{content}</textarea></p>\
<p><label for=\"type\">{lt}</label><select id=\"type\" name=\"type\">{options}</select></p>\
<p><label for=\"area\">{la}</label><input id=\"area\" name=\"area\" value=\"{area}\"></p>\
<p><label for=\"location\">{ll}</label><input id=\"location\" name=\"location\" value=\"{location}\"></p>\
<p><label for=\"name\">{ln}</label><input id=\"name\" name=\"name\" value=\"{name}\" autocomplete=\"name\"></p>\
<p><label for=\"phone\">{lp}</label><input id=\"phone\" name=\"phone\" value=\"{phone}\" inputmode=\"tel\" autocomplete=\"tel\"></p>\
<p><input type=\"checkbox\" id=\"callback_consent\" name=\"callback_consent\"{consent}><label for=\"callback_consent\">{lcb}</label></p>\
<p><label for=\"files\">{lf}</label><input type=\"file\" id=\"files\" name=\"files\" multiple accept=\"image/jpeg,image/png,image/webp,application/pdf\"></p>\
{challenge}<p><button type=\"submit\">{send}</button></p></form>",
        msg = esc(&r.message(lang)),
        lang_field = hidden("lang", lang.code()),
        elderly_field = if form.elderly { hidden("elderly", "1") } else { String::new() },
        lc = esc(t("诉求内容（必填）", "Your request (required)")),
        content = v("content"),
        lt = esc(t("诉求类型", "Type of request")),
        la = esc(t("所在区域", "Area")),
        area = v("area"),
        ll = esc(t("具体地点", "Place")),
        location = v("location"),
        ln = esc(t("姓名（可不填）", "Name (optional)")),
        name = v("name"),
        lp = esc(t("联系电话（回访用）", "Phone (for our call back)")),
        phone = v("phone"),
        lcb = esc(t("同意热线回访", "I agree to be called back")),
        lf = esc(t("附件（图片或 PDF，可不传）", "Files (pictures or PDF, optional)")),
        send = esc(t("提交", "Send")),
    );
    page(
        lang,
        form.elderly,
        t("请修改后再提交", "Please check and send again"),
        &body,
    )
}

/// The lookup form (number and code), with a problem when a lookup failed.
pub fn lookup_form(
    lang: Lang,
    elderly: bool,
    id: Option<&str>,
    err: Option<&Refused>,
) -> Html<String> {
    let t = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let problem = err
        .map(|r| {
            format!(
                "<p class=\"error\" role=\"alert\" id=\"problem\">{}</p>",
                esc(&r.message(lang))
            )
        })
        .unwrap_or_default();
    let body = format!(
        "{problem}<form class=\"card\" method=\"get\" action=\"/request/status\">{lf}{ef}\
<p><label for=\"id\">{li}</label><input id=\"id\" name=\"id\" value=\"{id}\" required autocomplete=\"off\"></p>\
<p><label for=\"code\">{lc}</label><input id=\"code\" name=\"code\" required autocomplete=\"off\" autocapitalize=\"characters\"></p>\
<p><button type=\"submit\">{go}</button></p></form>",
        lf = hidden("lang", lang.code()),
        ef = if elderly { hidden("elderly", "1") } else { String::new() },
        li = esc(t("诉求编号", "Request number")),
        id = esc(id.unwrap_or("")),
        lc = esc(t("查询码", "Query code")),
        go = esc(t("查询", "Look up")),
    );
    page(
        lang,
        elderly,
        t("查询诉求办理进度", "Follow your request"),
        &body,
    )
}

/// A request's status, with the rating form when a rating is awaited.
pub fn status(lang: Lang, elderly: bool, v: &CitizenView, code: &str) -> Html<String> {
    let t = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let mut dl = format!(
        "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><time datetime=\"{r}\">{r}</time></dd>",
        esc(t("诉求编号", "Request number")),
        esc(&v.id),
        esc(t("收到时间", "Received at")),
        r = esc(&v.received_at),
    );
    let mut add = |label: &str, value: &Option<String>| {
        if let Some(x) = value {
            dl.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(x)));
        }
    };
    add(t("首次回应", "First response"), &v.responded_at);
    add(t("办理单位", "Handled by"), &v.unit);
    add(t("热线答复", "The hotline's answer"), &v.answer);
    add(t("办理结果", "The unit's reply"), &v.reply);
    let rating_text = v.rating.map(|r| {
        let s = serde_json::to_value(r)
            .ok()
            .and_then(|x| x.as_str().map(str::to_string))
            .unwrap_or_default();
        match (s.as_str(), lang) {
            ("satisfied", Lang::Zh) => "满意".to_string(),
            ("basically_satisfied", Lang::Zh) => "基本满意".to_string(),
            ("unsatisfied", Lang::Zh) => "不满意".to_string(),
            ("not_rated", Lang::Zh) => "未评价".to_string(),
            (other, _) => other.replace('_', " "),
        }
    });
    add(t("您的评价", "Your rating"), &rating_text);
    let timeline: String = v
        .timeline
        .iter()
        .map(|e| {
            format!(
                "<li><time datetime=\"{a}\">{a}</time> {}</li>",
                esc(&e.text),
                a = esc(&e.at)
            )
        })
        .collect();
    let files: String = v
        .files
        .iter()
        .map(|f| format!("<li>{} ({} KB)</li>", esc(&f.name), f.size.div_ceil(1024)))
        .collect();
    let files = if files.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>{}</h2><ul>{files}</ul>",
            esc(t("您上传的文件", "Your files"))
        )
    };
    let rate = if v.can_rate {
        let choice = |value: &str, zh: &'static str, en: &'static str| {
            format!(
                "<p><input type=\"radio\" id=\"r-{value}\" name=\"rating\" value=\"{value}\" required><label for=\"r-{value}\">{}</label></p>",
                esc(lang.pick(zh, en))
            )
        };
        format!(
            "<form class=\"card\" method=\"post\" action=\"/api/public/requests/{id}/rating\">{code}{lf}{ef}\
<fieldset><legend>{q}</legend>{a}{b}{c}</fieldset>\
<p><label for=\"reason\">{lr}</label><textarea id=\"reason\" name=\"reason\" maxlength=\"500\"></textarea></p>\
<p><button type=\"submit\">{send}</button></p></form>",
            id = esc(&v.id),
            code = hidden("code", code),
            lf = hidden("lang", lang.code()),
            ef = if elderly { hidden("elderly", "1") } else { String::new() },
            q = esc(t("您对答复满意吗？", "Are you satisfied with the answer?")),
            a = choice("satisfied", "满意", "Satisfied"),
            b = choice("basically_satisfied", "基本满意", "Basically satisfied"),
            c = choice("unsatisfied", "不满意", "Not satisfied"),
            lr = esc(t("原因（选“不满意”时必填）", "Why (required if not satisfied)")),
            send = esc(t("提交评价", "Send rating")),
        )
    } else {
        String::new()
    };
    let body = format!(
        "<section class=\"card status\" aria-labelledby=\"st\"><h2 id=\"st\">{state}</h2><dl>{dl}</dl></section>\
<section class=\"card\"><h2>{th}</h2><ol class=\"timeline\">{timeline}</ol>{files}</section>{rate}",
        state = esc(&v.state_text),
        th = esc(t("办理经过", "What has happened")),
    );
    page(lang, elderly, t("诉求办理进度", "Your request"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_the_page_is_labelled() {
        let form = FormFields {
            fields: vec![("content".into(), "<script>alert(1)</script>".into())],
            elderly: true,
        };
        let Html(html) = refusal(Lang::En, &form, &Refused::ContentTooLong, None);
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("class=\"elderly\""));
        assert!(html.contains("<label for=\"content\">"));
    }
}
