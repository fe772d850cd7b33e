//! The `[web]` section of `queues.toml`: the internet channel's response deadline (rule C13:
//! an internet request is responded to within 3 minutes of its receipt), the wallboard alarm
//! before it, and the rules that choose a web request's queue from its type and content.
//! Routing is a plain function of the request ([`AcdConfig::web_queue_for`]), so the HTTP
//! side and the tests ask the same question without an engine.

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::validate::{Errors, Source};
use super::{AcdConfig, QueueChannel, QueueConfig};

/// Rule C13: an internet request is responded to within 3 minutes of the server's receipt.
pub const DEFAULT_RESPONSE_DEADLINE: Duration = Duration::from_secs(180);
/// The wallboard alarm for a web item still waiting (half a minute before the deadline).
pub const DEFAULT_ALARM_AFTER: Duration = Duration::from_secs(150);
/// How long an item's offer stays on one agent's desk before it goes to the next.
pub const DEFAULT_OFFER_TIMEOUT: Duration = Duration::from_secs(30);
/// How many web items an agent may hold at once when the config does not say.
pub const DEFAULT_WEB_CAPACITY: u8 = 2;
/// The queue a web request goes to when no `[[web.route]]` matches.
pub const DEFAULT_WEB_QUEUE: &str = "web";
/// The request types a route may name (the public form's `type`).
pub const WEB_REQUEST_TYPES: [&str; 5] =
    ["consultation", "help", "suggestion", "complaint", "other"];

/// The most web items one agent may be configured to hold.
pub(super) const MAX_WEB_CAPACITY: u8 = 20;
/// Rule C13 allows no more than 3 minutes; a shorter deadline is a local choice.
const MAX_RESPONSE_DEADLINE: Duration = Duration::from_secs(180);

/// One routing rule: a request matches when its type is `request_type` (if given) and its
/// content contains one of `keywords` (if given; case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebRoute {
    pub request_type: Option<String>,
    /// Lower-cased.
    pub keywords: Vec<String>,
    pub queue: String,
}

impl WebRoute {
    fn matches(&self, request_type: &str, content_lower: &str) -> bool {
        self.request_type
            .as_deref()
            .is_none_or(|t| t == request_type)
            && (self.keywords.is_empty()
                || self
                    .keywords
                    .iter()
                    .any(|k| content_lower.contains(k.as_str())))
    }
}

/// The internet channel's settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// Where a request goes when no route matches.
    pub default_queue: String,
    /// Rule C13's clock, from the server's receipt.
    pub response_deadline: Duration,
    /// When a waiting item raises the wallboard alarm (`ItemWaitExceeded`), once.
    pub alarm_after: Duration,
    /// First match wins.
    pub routes: Vec<WebRoute>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            default_queue: DEFAULT_WEB_QUEUE.to_string(),
            response_deadline: DEFAULT_RESPONSE_DEADLINE,
            alarm_after: DEFAULT_ALARM_AFTER,
            routes: Vec::new(),
        }
    }
}

impl AcdConfig {
    /// The web queue for a request of this type and content: the first `[[web.route]]`
    /// that matches, else `[web] default_queue`. `None` when no web queue is configured (the
    /// internet channel is off).
    pub fn web_queue_for(&self, request_type: &str, content: &str) -> Option<&str> {
        let is_web = |name: &str| {
            self.queues
                .iter()
                .any(|q| q.name == name && q.channel == QueueChannel::Web)
        };
        let lower = content.to_lowercase();
        self.web
            .routes
            .iter()
            .find(|r| r.matches(request_type, &lower))
            .map(|r| r.queue.as_str())
            .or(Some(self.web.default_queue.as_str()))
            .filter(|q| is_web(q))
    }
}

/// `[web]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeb {
    default_queue: Option<String>,
    #[serde(default, with = "humantime_serde::option")]
    pub(super) response_deadline: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    alarm_after: Option<Duration>,
    #[serde(default)]
    route: Vec<Spanned<RawRoute>>,
}

/// `[[web.route]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(rename = "type")]
    request_type: Option<String>,
    keywords: Option<Vec<String>>,
    queue: String,
}

/// The response deadline as written (expansion steps of web queues are checked against it).
pub(super) fn deadline(raw: Option<&Spanned<RawWeb>>) -> Duration {
    raw.and_then(|w| w.get_ref().response_deadline)
        .unwrap_or(DEFAULT_RESPONSE_DEADLINE)
}

/// Checks `[web]` against the queues built so far. Without a `[web]` section and without a
/// web queue the internet channel is simply off; otherwise the default queue and every
/// route's queue must be web queues.
pub(super) fn build(
    raw: Option<&Spanned<RawWeb>>,
    queues: &[QueueConfig],
    src: Source<'_>,
    errs: &mut Errors,
) -> WebConfig {
    let whole = 0..0;
    let span = raw.map_or(whole, |w| w.span());
    let mut out = WebConfig::default();
    let any_web = queues.iter().any(|q| q.channel == QueueChannel::Web);
    let Some(w) = raw.map(Spanned::get_ref) else {
        if any_web && !is_web_queue(queues, DEFAULT_WEB_QUEUE) {
            errs.at(src, &span, format!("web queues are configured but none is named {DEFAULT_WEB_QUEUE:?}: add `[web] default_queue = \"...\"` naming the web queue unmatched requests go to"));
        }
        return out;
    };
    if let Some(d) = w.response_deadline {
        out.response_deadline = d;
    }
    if let Some(a) = w.alarm_after {
        out.alarm_after = a;
    }
    if out.response_deadline.is_zero() || out.response_deadline > MAX_RESPONSE_DEADLINE {
        errs.at(
            src,
            &span,
            format!(
                "web.response_deadline {:?} must be above 0 and at most 3m (rule C13)",
                out.response_deadline
            ),
        );
    }
    if out.alarm_after.is_zero() || out.alarm_after >= out.response_deadline {
        errs.at(
            src,
            &span,
            format!(
                "web.alarm_after {:?} must be above 0 and before the response deadline {:?}, so the alarm still leaves time to act",
                out.alarm_after, out.response_deadline
            ),
        );
    }
    if let Some(q) = &w.default_queue {
        out.default_queue = q.clone();
    }
    if !is_web_queue(queues, &out.default_queue) {
        errs.at(
            src,
            &span,
            format!(
                "web.default_queue {:?} is not a web queue: add a [[queue]] with `channel = \"web\"` of that name{}",
                out.default_queue,
                known(queues)
            ),
        );
    }
    for r in &w.route {
        let rspan = r.span();
        let r = r.get_ref();
        let before = errs.len();
        if let Some(t) = &r.request_type {
            if !WEB_REQUEST_TYPES.contains(&t.as_str()) {
                errs.at(
                    src,
                    &rspan,
                    format!(
                        "web.route: type {t:?} is not one of {}",
                        WEB_REQUEST_TYPES.join(", ")
                    ),
                );
            }
        }
        let keywords: Vec<String> = r
            .keywords
            .iter()
            .flatten()
            .map(|k| k.trim().to_lowercase())
            .collect();
        if r.keywords.as_ref().is_some_and(Vec::is_empty) || keywords.iter().any(String::is_empty) {
            errs.at(
                src,
                &rspan,
                "web.route: keywords must be a non-empty list of non-empty words".into(),
            );
        }
        if r.request_type.is_none() && r.keywords.is_none() {
            errs.at(
                src,
                &rspan,
                "web.route: give `type = \"...\"` and/or `keywords = [...]` (a route matching everything belongs in web.default_queue)".into(),
            );
        }
        if !is_web_queue(queues, &r.queue) {
            errs.at(
                src,
                &rspan,
                format!(
                    "web.route: queue {:?} is not a web queue (`channel = \"web\"`){}",
                    r.queue,
                    known(queues)
                ),
            );
        }
        let mut seen = HashSet::new();
        if keywords.iter().any(|k| !seen.insert(k.clone())) {
            errs.at(src, &rspan, "web.route: a keyword is listed twice".into());
        }
        if errs.len() == before {
            out.routes.push(WebRoute {
                request_type: r.request_type.clone(),
                keywords,
                queue: r.queue.clone(),
            });
        }
    }
    out
}

fn is_web_queue(queues: &[QueueConfig], name: &str) -> bool {
    queues
        .iter()
        .any(|q| q.name == name && q.channel == QueueChannel::Web)
}

fn known(queues: &[QueueConfig]) -> String {
    let names: Vec<&str> = queues
        .iter()
        .filter(|q| q.channel == QueueChannel::Web)
        .map(|q| q.name.as_str())
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (web queues: {})", names.join(", "))
    }
}
