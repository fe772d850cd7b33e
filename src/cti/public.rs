//! The citizen's routes (issue 13): `POST /api/public/requests` (JSON or a plain HTML form,
//! with files when multipart), `POST …/{id}/files`, `GET …/{id}?code=`, `POST …/{id}/rating`,
//! and the platforms' connector `POST /api/channels/{channel}/requests`. No rule lives here:
//! the throttle, codes, checks and the citizen's view are `portal`'s, what a citizen may do to
//! a ticket is `workflow`'s; this translates HTTP, keyed by the TCP peer's address (never a
//! header), and answers after the ticket store's commit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::public_follow as follow;
use super::public_form::{form_fields, form_mode, read_multipart, FormFields, FormFile};
use super::tickets::TicketApi;
use super::web::citizen_page;
use super::web::request_pages::{self as pages, PageMode};
use crate::portal::submit::{RawSubmission, Submission};
use crate::portal::throttle::{Question, Throttle, Verdict};
use crate::portal::{CodeKey, Lang, QueryCode, Refused};
use crate::shell::portal_key::random;
use crate::workflow::event::CitizenFile;
use crate::workflow::model::{
    Actor, Caller, Channel, Domain, Intake, OnlineIntake, RequestType, Role, TicketId, Urgency,
    UNCLASSIFIED_DOMAIN,
};
use crate::workflow::{Refusal, Ticket, WorkflowError};

/// JSON and form bodies: a request is text, 2000 characters and a few short fields.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// One citizen file.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// A multipart form: the fields and five files.
pub(crate) const MAX_PARTS: usize = 40;

/// A newly registered internet request, handed to the engine after its commit (the ACD's web
/// work item).
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebRequest {
    pub id: TicketId,
    pub channel: Channel,
    pub request_type: RequestType,
    /// For keyword routing.
    pub content: String,
    /// C13's 3 minutes count from here.
    pub received_at: DateTime<FixedOffset>,
}

impl TicketApi {
    /// Hands every newly registered internet request to `tx` (the engine's web work items).
    pub fn with_web_items(
        mut self,
        tx: tokio::sync::mpsc::Sender<crate::cti::public::NewWebRequest>,
    ) -> Self {
        self.web_items = Some(tx);
        self
    }

    /// Offers a committed internet request to the engine; a full queue is logged, not waited
    /// for: the store is the record, and the queue is rebuilt from it at start-up.
    pub(crate) fn announce_web(&self, item: crate::cti::public::NewWebRequest) {
        if let Some(tx) = &self.web_items {
            let id = item.id.clone();
            if let Err(e) = tx.try_send(item) {
                tracing::warn!(ticket = %id, error = %e, "web request not handed to the engine");
            }
        }
    }
}

/// What the public routes share.
#[derive(Clone)]
pub struct PublicApi {
    pub(crate) tickets: TicketApi,
    pub(crate) key: Arc<CodeKey>,
    throttle: Arc<Mutex<Throttle>>,
    pub(crate) enabled: bool,
}

impl PublicApi {
    /// The routes' state over the ticket API, with the install's code key and `[public]`.
    pub fn new(tickets: TicketApi, key: CodeKey, config: &crate::config::PublicConfig) -> Self {
        Self {
            tickets,
            key: Arc::new(key),
            throttle: Arc::new(Mutex::new(Throttle::new(config.limits()))),
            enabled: config.enabled,
        }
    }

    pub(crate) fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn refused(&self, r: &Refused) {
        self.tickets.worker().metrics().public_refused.inc(r.code());
    }
}

/// The public routes and the connector.
pub fn router(api: PublicApi) -> Router {
    Router::new()
        .route("/api/public/requests", post(submit))
        .route("/api/public/requests/{id}", get(follow::lookup))
        .route("/api/public/requests/{id}/files", post(follow::upload))
        .route("/api/public/requests/{id}/rating", post(follow::rate))
        .route("/api/channels/{channel}/requests", post(connector))
        .route("/api/public/areas", get(super::areas_api::public_search))
        .route("/request/status", get(follow::status_page))
        // Each handler reads its body itself, within its own limit.
        .layer(DefaultBodyLimit::disable())
        .with_state(api)
}

/// A refusal in the page's language, as JSON (`{"code", "message"}` and, for a challenge,
/// `"challenge": {"id", "question"}`).
#[derive(Debug)]
pub struct PublicError {
    refused: Refused,
    lang: Lang,
    challenge: Option<Question>,
}

/// The JSON of a refusal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicErrorBody {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<ChallengeBody>,
}

/// An arithmetic question to answer in the next submission's `challenge`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChallengeBody {
    pub id: String,
    pub question: String,
}

impl IntoResponse for PublicError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.refused.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let body = PublicErrorBody {
            code: self.refused.code(),
            message: self.refused.message(self.lang),
            challenge: self.challenge.map(|q| ChallengeBody {
                id: q.id,
                question: q.question,
            }),
        };
        retry_after((status, Json(body)).into_response(), &self.refused)
    }
}

/// `Retry-After` on the answer to a rate-limited request.
pub(crate) fn retry_after(mut res: Response, r: &Refused) -> Response {
    if let Refused::RateLimited { retry_after_secs } = r {
        if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    res
}

/// The receipt of a registered request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: String,
    /// Shown once; only its keyed hash is stored.
    pub query_code: String,
    pub received_at: String,
    /// C13: the hotline responds by then.
    pub respond_by: String,
}

pub(crate) fn time(t: DateTime<FixedOffset>) -> String {
    crate::china_time::text(&t.with_timezone(&chrono::Utc))
}

pub(crate) fn receipt(t: &Ticket, code: &QueryCode) -> Receipt {
    let r = t.intake.received_at;
    Receipt {
        id: t.id.0.clone(),
        query_code: code.as_str().to_string(),
        received_at: time(r),
        respond_by: time(
            r + chrono::Duration::seconds(crate::workflow::model::INTERNET_RESPONSE_SECS),
        ),
    }
}

/// The TCP peer, set per connection by the HTTP server; unknown (all such requests share one
/// bucket) only when a router is driven without it.
pub(crate) fn peer(req_ext: &axum::http::Extensions) -> IpAddr {
    req_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

pub(crate) fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// `?lang=`, `?code=` and `?name=` of an API route's query string.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    pub(crate) lang: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) name: Option<String>,
}

pub(crate) fn page_query(uri: &axum::http::Uri) -> PageQuery {
    uri.query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

pub(crate) fn lang_of(q: &PageQuery, headers: &HeaderMap) -> Lang {
    Lang::choose(
        q.lang.as_deref(),
        header_str(headers, header::ACCEPT_LANGUAGE),
    )
}

/// The fields of a submission, however they came (JSON, urlencoded, multipart).
#[derive(Debug, Default, Deserialize)]
struct JsonSubmission {
    #[serde(flatten)]
    raw: RawSubmission,
    #[serde(default)]
    challenge: Option<ChallengeAnswer>,
}

#[derive(Debug, Default, Deserialize)]
struct ChallengeAnswer {
    id: String,
    answer: String,
}

/// How the answer is given: JSON to scripts, a page to a browser's form post.
enum Kind {
    Json,
    Form(FormFields),
}

pub(crate) fn essence(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Registers a citizen's request; JSON answers JSON, a form post answers a page.
#[utoipa::path(post, path = "/api/public/requests", operation_id = "public_submit", tag = "public",
    params(("lang" = Option<String>, Query, description = "`zh` (default) or `en`: the language of messages")),
    request_body(content = Object, description = "JSON `{content, type, area?, location?, area_code?, name?, phone?, callback_consent, challenge?: {id, answer}}` (`area_code` from `GET /api/public/areas`; an unknown one: 400 `unknown_area`), or a form post (urlencoded / multipart with `files`): the page is answered with HTML", content_type = "application/json"),
    responses(
        (status = 201, description = "Registered (committed)", body = Receipt, headers(("location" = String, description = "/api/public/requests/{id}"))),
        (status = 413, description = "`body_too_large` / `file_too_large`", body = PublicErrorBody),
        (status = 415, description = "`unsupported_media_type` / `unsupported_file_type`", body = PublicErrorBody),
        (status = 422, description = "`content_required`, `content_too_long`, `bad_type`, `bad_phone`, `phone_required_for_callback`, `field_too_long`", body = PublicErrorBody),
        (status = 429, description = "`rate_limited` (with Retry-After), `challenge_required`, `challenge_failed` (with a new `challenge`)", body = PublicErrorBody)))]
async fn submit(State(api): State<PublicApi>, req: Request) -> Response {
    let q = page_query(req.uri());
    let lang_hint = lang_of(&q, req.headers());
    let ip = peer(req.extensions());
    let ct = essence(header_str(req.headers(), header::CONTENT_TYPE));
    if !api.enabled {
        return fail(&api, lang_hint, Refused::Disabled, None);
    }
    let (kind, lang, raw, challenge, files) = match ct.as_str() {
        "application/json" => {
            let parsed: JsonSubmission = match json_body(&api, lang_hint, req.into_body()).await {
                Ok(p) => p,
                Err(res) => return res,
            };
            let ch = parsed.challenge.map(|c| (c.id, c.answer));
            (Kind::Json, lang_hint, parsed.raw, ch, Vec::new())
        }
        "application/x-www-form-urlencoded" => {
            let body = match read_body(req.into_body(), MAX_FORM_BYTES).await {
                Ok(b) => b,
                Err(r) => {
                    let form = FormFields::default();
                    return form_fail(&api, form_mode(&form, lang_hint), &form, r, None);
                }
            };
            let fields: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let form = form_fields(fields);
            let lang = form_mode(&form, lang_hint).lang;
            let (raw, ch) = (form.raw(), form.challenge());
            (Kind::Form(form), lang, raw, ch, Vec::new())
        }
        "multipart/form-data" => match read_multipart(req).await {
            Ok((form, files)) => {
                let lang = form_mode(&form, lang_hint).lang;
                let (raw, ch) = (form.raw(), form.challenge());
                (Kind::Form(form), lang, raw, ch, files)
            }
            Err((form, r)) => {
                return form_fail(&api, form_mode(&form, lang_hint), &form, r, None);
            }
        },
        _ => return fail(&api, lang_hint, Refused::UnsupportedMediaType, None),
    };
    let answer = |r: Refused, ch: Option<Question>| match &kind {
        Kind::Json => fail(&api, lang, r, ch),
        Kind::Form(form) => form_fail(&api, form_mode(form, lang), form, r, ch),
    };
    let sub = match raw.check() {
        Ok(s) => s,
        Err(r) => return answer(r, None),
    };
    let verdict = api.throttle().submit(
        ip,
        challenge.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        random(),
        crate::shell::clock::now(),
    );
    match verdict {
        Verdict::Allow => {}
        Verdict::RateLimited { retry_after } => {
            let secs = retry_after.as_secs().max(1);
            return answer(
                Refused::RateLimited {
                    retry_after_secs: secs,
                },
                None,
            );
        }
        Verdict::ChallengeRequired(q) => return answer(Refused::ChallengeRequired, Some(q)),
        Verdict::ChallengeFailed(q) => return answer(Refused::ChallengeFailed, Some(q)),
    }
    let code = QueryCode::from_random(random());
    let actor = Actor::new("citizen", Role::Citizen);
    let now = api.tickets.now();
    let t = match register(&api, sub, Channel::Web, now, &code, None, &actor).await {
        Ok((t, _)) => t,
        Err(e) => return e.into_response(),
    };
    let mut failed_file = None;
    if !files.is_empty() {
        if let Err(r) = store_files(&api, &t, files, now).await {
            failed_file = Some(r);
        }
    }
    let rc = receipt(&t, &code);
    match kind {
        Kind::Json => {
            let location = format!("/api/public/requests/{}", rc.id);
            (
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(rc),
            )
                .into_response()
        }
        Kind::Form(form) => {
            let mode = form_mode(&form, lang);
            let problem = failed_file.map(|r| r.message(lang));
            let json = serde_json::to_value(&rc).unwrap_or_default();
            let html = pages::receipt_page(mode, &json, problem.as_deref());
            with_status(StatusCode::CREATED, citizen_page(html))
        }
    }
}

/// A JSON body within the form limit, parsed; else the refusal.
async fn json_body<T: serde::de::DeserializeOwned>(
    api: &PublicApi,
    lang: Lang,
    body: Body,
) -> Result<T, Response> {
    let bytes = read_body(body, MAX_FORM_BYTES)
        .await
        .map_err(|r| fail(api, lang, r, None))?;
    serde_json::from_slice(&bytes).map_err(|e| bad_json(api, &e))
}

/// A JSON body that does not parse: 400 `bad_request`, counted with the refusals.
fn bad_json(api: &PublicApi, e: &serde_json::Error) -> Response {
    api.tickets
        .worker()
        .metrics()
        .public_refused
        .inc("bad_request");
    crate::cti::ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!("invalid JSON body: {e}"),
    )
    .into_response()
}

pub(crate) fn fail(api: &PublicApi, lang: Lang, r: Refused, ch: Option<Question>) -> Response {
    api.refused(&r);
    PublicError {
        refused: r,
        lang,
        challenge: ch,
    }
    .into_response()
}

/// A refused form post: the request page again with the fields kept, the core's sentence
/// for the refusal and, when one is due, the challenge question.
pub(crate) fn form_fail(
    api: &PublicApi,
    mode: PageMode,
    form: &FormFields,
    r: Refused,
    ch: Option<Question>,
) -> Response {
    api.refused(&r);
    let message = r.message(mode.lang);
    let refusal = pages::Refusal {
        code: r.code(),
        message: &message,
        fields: form.map(),
        challenge: ch.as_ref().map(|q| (q.id.as_str(), q.question.as_str())),
    };
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let res = citizen_page(pages::request_page(mode, Some(&refusal)));
    retry_after(with_status(status, res), &r)
}

/// A page answered with `status`.
pub(crate) fn with_status(status: StatusCode, mut res: Response) -> Response {
    *res.status_mut() = status;
    res
}

pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, Refused> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| Refused::BodyTooLarge)
}

/// Registers a checked submission durably (the 201 is sent after the commit) and hands it
/// to the engine. With an `external_id`, an earlier ticket under it is returned instead
/// (`false`): the check and the insert run in one step of the store thread.
pub(crate) async fn register(
    api: &PublicApi,
    sub: Submission,
    channel: Channel,
    received_at: DateTime<FixedOffset>,
    code: &QueryCode,
    external_id: Option<String>,
    actor: &Actor,
) -> Result<(Ticket, bool), crate::cti::ApiError> {
    let now = api.tickets.now();
    let intake = Intake {
        number: None,
        channel,
        received_at,
        caller: Caller {
            name: sub.name,
            phone: sub.phone,
        },
        area: sub.area,
        location: sub.location,
        area_code: sub.area_code,
        content: sub.content,
        urgency: Urgency::NonUrgent,
        request_type: sub.request_type,
        domain: Domain(UNCLASSIFIED_DOMAIN.into()),
        category: None,
        call_id: None,
        recording: None,
        callback_consent: Some(sub.callback_consent),
        online: Some(OnlineIntake {
            query_code: api.key.hash(code),
            external_id: external_id.clone(),
        }),
    };
    let a = actor.clone();
    let ext_key = external_id.map(|e| crate::workflow::model::external_key(channel, &e));
    let out = api
        .tickets
        .worker()
        .call(move |s, wf| {
            if let Some(k) = &ext_key {
                if let Some(t) = wf.find_external(s, k)? {
                    return Ok((t, false));
                }
            }
            Ok((wf.create(s, intake, &a, now)?, true))
        })
        .await;
    let metrics = api.tickets.worker().metrics();
    match &out {
        Ok((_, true)) => metrics.committed("create"),
        Ok((_, false)) => {}
        Err(e) => metrics.refused(crate::shell::metrics::error_code(e)),
    }
    let (t, new) = out?;
    if new {
        metrics.public_accepted.inc(channel_name(channel));
        tracing::info!(id = %t.id, channel = channel_name(channel), "internet request registered");
        api.tickets.announce_web(NewWebRequest {
            id: t.id.clone(),
            channel,
            request_type: t.intake.request_type,
            content: t.intake.content.clone(),
            received_at: t.intake.received_at,
        });
    }
    Ok((t, new))
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Web => "web",
        Channel::App => "app",
        Channel::MiniProgram => "mini_program",
        Channel::PublicAccount => "public_account",
        Channel::Mailbox => "mailbox",
        _ => "other",
    }
}

/// Stores checked files and records them on the ticket (an event agents and units see).
pub(crate) async fn store_files(
    api: &PublicApi,
    t: &Ticket,
    files: Vec<FormFile>,
    now: DateTime<FixedOffset>,
) -> Result<Vec<CitizenFile>, Refused> {
    let store = api.tickets.attachments().clone();
    let ticket = t.id.0.clone();
    let saved = tokio::task::spawn_blocking(move || {
        files
            .into_iter()
            .map(|f| {
                store.save(&ticket, &f.name, &f.bytes).map(|s| CitizenFile {
                    name: s.name,
                    sha256: s.sha256,
                    size: s.size,
                    media_type: f.kind.mime().to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|_| Refused::NotAllowed)?
    .map_err(|e| {
        tracing::warn!(error = %e, "citizen file not stored");
        Refused::NotAllowed
    })?;
    let id = t.id.clone();
    let files = saved.clone();
    let actor = Actor::new("citizen", Role::Citizen);
    api.tickets
        .worker()
        .call(move |s, wf| wf.attach_files(s, &id, &actor, &files, now))
        .await
        .map_err(|e| match e {
            WorkflowError::Refused(Refusal::TooManyAttachments { .. }) => Refused::TooManyFiles,
            _ => Refused::NotAllowed,
        })?;
    Ok(saved)
}

/// A connector's request: the citizen's fields plus when the platform received it and its
/// own id for it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConnectorBody {
    pub content: Option<String>,
    #[serde(rename = "type")]
    pub request_type: Option<String>,
    pub area: Option<String>,
    pub location: Option<String>,
    /// An area code of the area tree (`GET /api/public/areas`).
    pub area_code: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub callback_consent: Option<bool>,
    /// When the platform received it (not in the future); deadlines count from it.
    pub received_at: Option<DateTime<FixedOffset>>,
    /// The platform's id: the same id on the same channel is one ticket (answered 200).
    pub external_id: Option<String>,
}

/// A platform's connector hands a request in (role `channel`, for its configured channels).
#[utoipa::path(post, path = "/api/channels/{channel}/requests", operation_id = "channel_submit", tag = "public", security(("bearer" = [])),
    params(("channel" = String, Path, description = "`web`, `app`, `mini_program`, `public_account` or `mailbox`")),
    request_body = ConnectorBody,
    responses((status = 201, description = "Registered (committed)", body = Receipt),
        (status = 200, description = "Already registered under this `external_id`: the first receipt", body = Receipt),
        (status = 401, description = "No or unknown token", body = crate::cti::ApiError), (status = 403, description = "Not a channel token, or not for this channel", body = crate::cti::ApiError),
        (status = 422, description = "A field is wrong (the public codes, `received_at_in_future`)", body = PublicErrorBody)))]
async fn connector(
    State(api): State<PublicApi>,
    UrlPath(channel): UrlPath<String>,
    req: Request,
) -> Response {
    let q = page_query(req.uri());
    let lang = lang_of(&q, req.headers());
    let actor = match crate::cti::auth::any_bearer(&api.tickets.users().load(), req.headers()) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let forbidden =
        |m: &str| crate::cti::ApiError::new(StatusCode::FORBIDDEN, "forbidden", m).into_response();
    if actor.role != Role::Channel {
        return forbidden(
            "only a channel connector's token (role = \"channel\") hands requests in here",
        );
    }
    let Ok(ch) = serde_json::from_value::<Channel>(serde_json::Value::String(channel.clone()))
    else {
        return forbidden("unknown channel");
    };
    if !api
        .tickets
        .users()
        .load()
        .channels_of(&actor.user)
        .contains(&ch)
    {
        return forbidden(
            "this token is not configured for that channel (`channels` in users.toml)",
        );
    }
    if essence(header_str(req.headers(), header::CONTENT_TYPE)) != "application/json" {
        return fail(&api, lang, Refused::UnsupportedMediaType, None);
    }
    let b: ConnectorBody = match json_body(&api, lang, req.into_body()).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let raw = RawSubmission {
        content: b.content,
        request_type: b.request_type,
        area: b.area,
        location: b.location,
        area_code: b.area_code,
        name: b.name,
        phone: b.phone,
        callback_consent: b.callback_consent,
    };
    let sub = match raw.check() {
        Ok(s) => s,
        Err(r) => return fail(&api, lang, r, None),
    };
    let now = api.tickets.now();
    let received_at = b.received_at.unwrap_or(now);
    if received_at > now + chrono::Duration::minutes(5) {
        return crate::cti::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "received_at_in_future",
            "`received_at` is later than now",
        )
        .into_response();
    }
    let external_id = b.external_id.filter(|e| !e.trim().is_empty());
    if external_id
        .as_ref()
        .is_some_and(|e| e.chars().count() > 200)
    {
        return fail(
            &api,
            lang,
            Refused::FieldTooLong {
                field: "external_id",
            },
            None,
        );
    }
    let code = match &external_id {
        Some(e) => api.key.derived_code(&channel, e),
        None => QueryCode::from_random(random()),
    };
    match register(
        &api,
        sub,
        ch,
        received_at.min(now),
        &code,
        external_id,
        &actor,
    )
    .await
    {
        Ok((t, new)) => {
            let status = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let location = format!("/api/public/requests/{}", t.id);
            (
                status,
                [(header::LOCATION, location)],
                Json(receipt(&t, &code)),
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}
