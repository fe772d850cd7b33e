//! A citizen's submission, checked: the refusal codes of the contract with a sentence in the
//! page's language (Chinese by default, English on request).

use serde::Deserialize;

use crate::workflow::model::RequestType;

/// Most characters of a request's content.
pub const MAX_CONTENT_CHARS: usize = 2000;
/// Most characters of the short fields (area, location, name).
pub const MAX_FIELD_CHARS: usize = 200;

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// `?lang=zh|en` wins; else English when `Accept-Language`'s first preference (the
    /// highest `q`, the earliest of equals) is English; else Chinese.
    pub fn choose(query: Option<&str>, accept_language: Option<&str>) -> Self {
        match query.map(str::trim) {
            Some(q) if q.eq_ignore_ascii_case("en") => return Lang::En,
            Some(q) if q.eq_ignore_ascii_case("zh") => return Lang::Zh,
            _ => {}
        }
        let mut best: Option<(f32, &str)> = None;
        for item in accept_language.unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if !tag.is_empty() && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, tag));
            }
        }
        match best.map(|(_, t)| t.to_ascii_lowercase()) {
            Some(t) if t == "en" || t.starts_with("en-") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The `lang` attribute / query value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// One of two sentences.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Why a citizen's request (or file, or lookup) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    ContentRequired,
    ContentTooLong,
    BadType,
    BadPhone,
    PhoneRequiredForCallback,
    FieldTooLong {
        field: &'static str,
    },
    BodyTooLarge,
    RateLimited {
        retry_after_secs: u64,
    },
    ChallengeRequired,
    ChallengeFailed,
    UnsupportedMediaType,
    FileTooLarge,
    UnsupportedFileType,
    TooManyFiles,
    NotFound,
    /// Not open for files or ratings any more (closed, or files after 24 h).
    NotAllowed,
    RatingReasonRequired,
    BadRating,
    Disabled,
}

impl Refused {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::ContentRequired => "content_required",
            Refused::ContentTooLong => "content_too_long",
            Refused::BadType => "bad_type",
            Refused::BadPhone => "bad_phone",
            Refused::PhoneRequiredForCallback => "phone_required_for_callback",
            Refused::FieldTooLong { .. } => "field_too_long",
            Refused::BodyTooLarge => "body_too_large",
            Refused::RateLimited { .. } => "rate_limited",
            Refused::ChallengeRequired => "challenge_required",
            Refused::ChallengeFailed => "challenge_failed",
            Refused::UnsupportedMediaType => "unsupported_media_type",
            Refused::FileTooLarge => "file_too_large",
            Refused::UnsupportedFileType => "unsupported_file_type",
            Refused::TooManyFiles => "too_many_files",
            Refused::NotFound => "not_found",
            Refused::NotAllowed => "not_allowed",
            Refused::RatingReasonRequired => "rating_reason_required",
            Refused::BadRating => "bad_rating",
            Refused::Disabled => "disabled",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Refused::BodyTooLarge | Refused::FileTooLarge => 413,
            Refused::RateLimited { .. } | Refused::ChallengeRequired | Refused::ChallengeFailed => {
                429
            }
            Refused::UnsupportedMediaType | Refused::UnsupportedFileType => 415,
            Refused::TooManyFiles | Refused::NotAllowed => 409,
            Refused::NotFound | Refused::Disabled => 404,
            _ => 422,
        }
    }

    /// A sentence for the citizen.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Refused::FieldTooLong { field }, Lang::Zh) => {
                format!("“{field}”最多 {MAX_FIELD_CHARS} 字。")
            }
            (Refused::FieldTooLong { field }, Lang::En) => {
                format!("“{field}” may have at most {MAX_FIELD_CHARS} characters.")
            }
            (Refused::RateLimited { retry_after_secs }, Lang::Zh) => {
                format!("提交过于频繁，请 {retry_after_secs} 秒后再试。")
            }
            (Refused::RateLimited { retry_after_secs }, Lang::En) => {
                format!("Too many requests; please try again in {retry_after_secs} seconds.")
            }
            _ => {
                let code = self.code();
                SENTENCES
                    .iter()
                    .find(|(c, _, _)| *c == code)
                    .map(|(_, zh, en)| lang.pick(zh, en).to_string())
                    .unwrap_or_default()
            }
        }
    }
}

#[cfg(test)]
impl Refused {
    /// One of each kind (a field `area`, 30 seconds), for the tests of every sentence.
    pub(crate) fn every_kind() -> Vec<Refused> {
        vec![
            Refused::ContentRequired,
            Refused::ContentTooLong,
            Refused::BadType,
            Refused::BadPhone,
            Refused::PhoneRequiredForCallback,
            Refused::FieldTooLong { field: "area" },
            Refused::BodyTooLarge,
            Refused::RateLimited {
                retry_after_secs: 30,
            },
            Refused::ChallengeRequired,
            Refused::ChallengeFailed,
            Refused::UnsupportedMediaType,
            Refused::FileTooLarge,
            Refused::UnsupportedFileType,
            Refused::TooManyFiles,
            Refused::NotFound,
            Refused::NotAllowed,
            Refused::RatingReasonRequired,
            Refused::BadRating,
            Refused::Disabled,
        ]
    }
}

/// The sentence of each refusal without a number in it: code, Chinese, English.
#[rustfmt::skip]
const SENTENCES: &[(&str, &str, &str)] = &[
    ("content_required", "请填写诉求内容。", "Please describe your request."),
    ("content_too_long", "诉求内容最多 2000 字，请精简后再提交。", "The description may have at most 2000 characters; please shorten it."),
    ("bad_type", "请选择诉求类型。", "Please choose the type of request."),
    ("bad_phone", "电话号码只能包含数字（可以 + 开头），长度 5 到 20 位。", "The phone number may contain digits only (optionally starting with +), 5 to 20 of them."),
    ("phone_required_for_callback", "同意回访时请留下电话号码，以便我们联系您。", "Please give a phone number if you agree to be called back."),
    ("body_too_large", "提交的内容太大。", "What was sent is too large."),
    ("challenge_required", "请先回答下面的算术题，再提交。", "Please answer the sum below, then send again."),
    ("challenge_failed", "算术题答案不对或已过期，请回答新的题目。", "The answer was wrong or too late; please answer the new sum."),
    ("unsupported_media_type", "无法识别提交的格式。", "This kind of submission is not understood."),
    ("file_too_large", "文件不能超过 10 MB。", "A file may be at most 10 MB."),
    ("unsupported_file_type", "只能上传 JPEG、PNG、WebP 图片或 PDF 文件。", "Only JPEG, PNG or WebP pictures and PDF files can be attached."),
    ("too_many_files", "每件诉求最多上传 5 个文件。", "At most 5 files can be attached to a request."),
    ("not_found", "没有找到该诉求，请核对编号和查询码。", "No request found: please check the number and the query code."),
    ("not_allowed", "该诉求现在不能进行此操作。", "This cannot be done for this request now."),
    ("rating_reason_required", "选择“不满意”时请说明原因。", "Please tell us why you are not satisfied."),
    ("bad_rating", "请选择评价。", "Please choose a rating."),
    ("disabled", "网上受理暂未开放，请拨打 12345。", "Online requests are not open; please call 12345."),
];

/// The submission as sent (JSON body, or the form's fields), before checking.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawSubmission {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, rename = "type")]
    pub request_type: Option<String>,
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// An area code picked from the area tree (`GET /api/public/areas`); checked against
    /// the tree when the request is registered.
    #[serde(default)]
    pub area_code: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub callback_consent: Option<bool>,
}

/// A checked submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub content: String,
    pub request_type: RequestType,
    pub area: Option<String>,
    pub location: Option<String>,
    pub area_code: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub callback_consent: bool,
}

fn optional(v: &Option<String>, field: &'static str) -> Result<Option<String>, Refused> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > MAX_FIELD_CHARS => Err(Refused::FieldTooLong { field }),
        Some(s) => Ok(Some(
            s.chars().filter(|c| !c.is_control()).collect::<String>(),
        )),
    }
}

impl RawSubmission {
    /// Checks every field; the first problem found is the refusal.
    pub fn check(&self) -> Result<Submission, Refused> {
        let content = self.content.as_deref().unwrap_or("").trim();
        if content.is_empty() {
            return Err(Refused::ContentRequired);
        }
        if content.chars().count() > MAX_CONTENT_CHARS {
            return Err(Refused::ContentTooLong);
        }
        let request_type = match self.request_type.as_deref().map(str::trim) {
            Some("consultation") => RequestType::Consultation,
            Some("help") => RequestType::Help,
            Some("suggestion") => RequestType::Suggestion,
            Some("complaint") => RequestType::Complaint,
            Some("other") => RequestType::Other,
            _ => return Err(Refused::BadType),
        };
        let area = optional(&self.area, "area")?;
        let location = optional(&self.location, "location")?;
        let area_code = optional(&self.area_code, "area_code")?;
        let name = optional(&self.name, "name")?;
        let phone = match self.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => {
                let digits = p.strip_prefix('+').unwrap_or(p);
                if !(5..=20).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(Refused::BadPhone);
                }
                Some(p.to_string())
            }
        };
        let callback_consent = self.callback_consent.unwrap_or(false);
        if callback_consent && phone.is_none() {
            return Err(Refused::PhoneRequiredForCallback);
        }
        Ok(Submission {
            content: content
                .chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .collect(),
            request_type,
            area,
            location,
            area_code,
            name,
            phone,
            callback_consent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(content: &str) -> RawSubmission {
        RawSubmission {
            content: Some(content.into()),
            request_type: Some("help".into()),
            ..RawSubmission::default()
        }
    }

    #[test]
    fn each_problem_has_its_code() {
        assert!(raw("路灯坏了").check().is_ok());
        let cases = [
            (RawSubmission::default(), "content_required"),
            (raw(&"长".repeat(2001)), "content_too_long"),
            (
                RawSubmission {
                    request_type: Some("spam".into()),
                    ..raw("x")
                },
                "bad_type",
            ),
            (
                RawSubmission {
                    phone: Some("12a45".into()),
                    ..raw("x")
                },
                "bad_phone",
            ),
            (
                RawSubmission {
                    phone: Some("1234".into()),
                    ..raw("x")
                },
                "bad_phone",
            ),
            (
                RawSubmission {
                    callback_consent: Some(true),
                    ..raw("x")
                },
                "phone_required_for_callback",
            ),
            (
                RawSubmission {
                    area: Some("a".repeat(201)),
                    ..raw("x")
                },
                "field_too_long",
            ),
        ];
        for (r, code) in cases {
            let e = r.check().unwrap_err();
            assert_eq!(e.code(), code);
            assert!(!e.message(Lang::Zh).is_empty());
            assert!(e.message(Lang::En).is_ascii() || code == "field_too_long");
        }
        let ok = RawSubmission {
            phone: Some("+8613800138000".into()),
            callback_consent: Some(true),
            ..raw("x")
        };
        assert!(ok.check().unwrap().callback_consent);
    }

    #[test]
    fn every_refusal_has_a_sentence_in_both_languages() {
        let all = Refused::every_kind();
        for r in &all {
            let (zh, en) = (r.message(Lang::Zh), r.message(Lang::En));
            assert!(!zh.is_empty() && !en.is_empty() && zh != en, "{}", r.code());
        }
        assert_eq!(
            all[7].message(Lang::En),
            "Too many requests; please try again in 30 seconds."
        );
    }

    #[test]
    fn the_language_is_chosen_by_query_then_header() {
        assert_eq!(Lang::choose(None, None), Lang::Zh);
        assert_eq!(Lang::choose(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("zh-CN,en;q=0.9")), Lang::Zh);
        assert_eq!(Lang::choose(Some("zh"), Some("en")), Lang::Zh);
        assert_eq!(Lang::choose(Some("en"), None), Lang::En);
        assert_eq!(Lang::choose(Some("EN"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::choose(None, Some("zh;q=0.5, en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::choose(None, Some("en-GB,en;q=0.9,zh;q=0.5")),
            Lang::En
        );
        assert_eq!(Lang::choose(Some("fr"), None), Lang::Zh);
        assert_eq!(Lang::choose(None, Some("")), Lang::Zh);
    }
}
