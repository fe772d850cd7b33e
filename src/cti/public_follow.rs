//! Following a request with its query code: the citizen's view (JSON, or a server page for a
//! browser without JavaScript), files added later, and the rating of a web callback. Every
//! route is rate-limited per address; a wrong code and an unknown id answer alike.

use std::net::IpAddr;

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, Extensions, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::public::*;
use super::public_form::{form_fields, form_mode, FormFile};
use super::web::citizen_page;
use super::web::request_pages::{self as pages, Lookup, PageMode};
use crate::portal::sniff::{sniff, FileType};
use crate::portal::view::{citizen_view, CitizenView};
use crate::portal::{Lang, Refused};
use crate::workflow::event::CitizenFile;
use crate::workflow::model::{Actor, Role, TicketId};
use crate::workflow::{Action, Refusal, Ticket, WorkflowError};

/// Loads a ticket by id and code: an unknown id and a wrong code are the same `not_found`
/// (both hash the code, so they also take about as long).
pub(crate) async fn open(api: &PublicApi, id: &str, code: Option<&str>) -> Result<Ticket, Refused> {
    let valid_id = id.len() == 15
        && id.bytes().enumerate().all(|(i, b)| {
            if i == 8 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let t = if valid_id {
        let tid = TicketId(id.to_string());
        api.tickets
            .worker()
            .call(move |s, wf| wf.load(s, &tid))
            .await
            .ok()
    } else {
        None
    };
    let stored = t
        .as_ref()
        .and_then(|t| t.intake.online.as_ref())
        .map(|o| o.query_code.as_str());
    let ok = api.key.verify(code.unwrap_or(""), stored);
    match t {
        Some(t) if ok => Ok(t),
        _ => Err(Refused::NotFound),
    }
}

fn unit_namer(api: &PublicApi) -> impl Fn(&crate::workflow::model::UnitId) -> Option<String> + '_ {
    move |u| {
        api.tickets
            .worker()
            .workflow()
            .catalogue
            .unit(u)
            .map(|x| x.name.clone())
    }
}

fn view_of(api: &PublicApi, t: &Ticket, lang: Lang) -> CitizenView {
    citizen_view(t, lang, &unit_namer(api))
}

pub(crate) fn lookup_allowed(api: &PublicApi, ip: IpAddr) -> Result<(), Refused> {
    if !api.enabled {
        return Err(Refused::Disabled);
    }
    api.throttle()
        .lookup(ip, crate::shell::clock::now())
        .map_err(|d| Refused::RateLimited {
            retry_after_secs: d.as_secs().max(1),
        })
}

/// An API route's ticket, by `id` and `?code=`, within the lookup limit; else the JSON
/// refusal in the address's language.
async fn opened(
    api: &PublicApi,
    id: &str,
    (uri, headers, ext): (&Uri, &HeaderMap, &Extensions),
) -> Result<(PageQuery, Lang, Ticket), Response> {
    let q = page_query(uri);
    let lang = lang_of(&q, headers);
    if let Err(r) = lookup_allowed(api, peer(ext)) {
        return Err(fail(api, lang, r, None));
    }
    match open(api, id, q.code.as_deref()).await {
        Ok(t) => Ok((q, lang, t)),
        Err(r) => Err(fail(api, lang, r, None)),
    }
}

/// The citizen's own view of their request.
#[utoipa::path(get, path = "/api/public/requests/{id}", operation_id = "public_lookup", tag = "public",
    params(("id" = String, Path, description = "The request's number"), ("code" = String, Query, description = "The query code"), ("lang" = Option<String>, Query, description = "`zh` or `en`")),
    responses((status = 200, description = "The citizen's view", body = CitizenView),
        (status = 404, description = "`not_found`: unknown number or wrong code, alike", body = PublicErrorBody),
        (status = 429, description = "`rate_limited`", body = PublicErrorBody)))]
pub(crate) async fn lookup(
    State(api): State<PublicApi>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Response {
    match opened(&api, &id, (req.uri(), req.headers(), req.extensions())).await {
        Ok((_, lang, t)) => Json(view_of(&api, &t, lang)).into_response(),
        Err(res) => res,
    }
}

/// `GET /request/status`: without `id` and `code`, the lookup page as it is; with both, the
/// view rendered on the server (no JavaScript needed), or the refusal (an unknown id and a
/// wrong code alike).
pub(crate) async fn status_page(State(api): State<PublicApi>, req: Request) -> Response {
    let query = pages::query_of(req.uri());
    let mode = PageMode::from_request(&query, req.headers());
    let field = |k: &str| query.get(k).map(|v| v.trim()).unwrap_or("");
    let (id, code) = (field("id"), field("code"));
    if id.is_empty() || code.is_empty() {
        return citizen_page(pages::status_page(mode, id, code, Lookup::NotAsked));
    }
    let found = match lookup_allowed(&api, peer(req.extensions())) {
        Ok(()) => open(&api, id, Some(code)).await,
        Err(r) => Err(r),
    };
    match found {
        Ok(t) => {
            let view = json_view(&view_of(&api, &t, mode.lang));
            citizen_page(pages::status_page(mode, id, code, Lookup::Found(&view)))
        }
        Err(r) => refused_page(&api, mode, id, code, r, None),
    }
}

fn json_view(v: &CitizenView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// The status page with a refusal in the core's words (and the view again, when there is one
/// to show), under the refusal's status.
fn refused_page(
    api: &PublicApi,
    mode: PageMode,
    id: &str,
    code: &str,
    r: Refused,
    view: Option<&CitizenView>,
) -> Response {
    api.refused(&r);
    let message = r.message(mode.lang);
    let json = view.map(json_view);
    let lookup = match &json {
        Some(view) => Lookup::Again {
            view,
            code: r.code(),
            message: &message,
        },
        None => Lookup::Refused {
            code: r.code(),
            message: &message,
        },
    };
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let res = citizen_page(pages::status_page(mode, id, code, lookup));
    retry_after(with_status(status, res), &r)
}

/// Attaches one file (raw body) to the citizen's request.
#[utoipa::path(post, path = "/api/public/requests/{id}/files", operation_id = "public_upload", tag = "public",
    params(("id" = String, Path, description = "The request's number"), ("code" = String, Query, description = "The query code"), ("name" = Option<String>, Query, description = "The file's name")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "JPEG, PNG, WebP or PDF, at most 10 MiB; judged by its bytes"),
    responses((status = 201, description = "Stored and attached", body = CitizenFile),
        (status = 404, description = "`not_found`", body = PublicErrorBody), (status = 409, description = "`too_many_files` / `not_allowed` (closed, or more than 24 h after receipt)", body = PublicErrorBody),
        (status = 413, description = "`file_too_large`", body = PublicErrorBody), (status = 415, description = "`unsupported_file_type`", body = PublicErrorBody),
        (status = 429, description = "`rate_limited`", body = PublicErrorBody)))]
pub(crate) async fn upload(
    State(api): State<PublicApi>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Response {
    // The ticket and code are checked before the body is read.
    let (q, lang, t) = match opened(&api, &id, (req.uri(), req.headers(), req.extensions())).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let now = api.tickets.now();
    if let Err(e) = api.tickets.worker().workflow().rules().attach_files(
        &t,
        &Actor::new("citizen", Role::Citizen),
        &[CitizenFile {
            name: String::new(),
            sha256: String::new(),
            size: 0,
            media_type: String::new(),
        }],
        now,
    ) {
        let r = match e {
            Refusal::TooManyAttachments { .. } => Refused::TooManyFiles,
            _ => Refused::NotAllowed,
        };
        return fail(&api, lang, r, None);
    }
    let claimed = header_str(req.headers(), header::CONTENT_TYPE).map(FileType::from_mime);
    let bytes = match axum::body::to_bytes(req.into_body(), MAX_FILE_BYTES).await {
        Ok(b) => b,
        Err(_) => return fail(&api, lang, Refused::FileTooLarge, None),
    };
    let Some(kind) = sniff(&bytes) else {
        return fail(&api, lang, Refused::UnsupportedFileType, None);
    };
    // A header naming another of our types is a mislabelled file: refused, not guessed.
    if matches!(claimed, Some(Some(c)) if c != kind) {
        return fail(&api, lang, Refused::UnsupportedFileType, None);
    }
    let name = crate::shell::attachments::clean_name(q.name.as_deref().unwrap_or(""));
    let file = FormFile { name, bytes, kind };
    match store_files(&api, &t, vec![file], now).await {
        Ok(mut saved) => match saved.pop() {
            Some(f) => (StatusCode::CREATED, Json(f)).into_response(),
            None => fail(&api, lang, Refused::NotAllowed, None),
        },
        Err(r) => fail(&api, lang, r, None),
    }
}

/// `{"rating", "reason"?}` of a citizen's rating.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RatingBody {
    /// `satisfied`, `basically_satisfied` or `unsatisfied`.
    pub rating: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Rates the answer of a web callback; the ticket closes (or goes to the rating check).
#[utoipa::path(post, path = "/api/public/requests/{id}/rating", operation_id = "public_rate", tag = "public",
    params(("id" = String, Path, description = "The request's number"), ("code" = String, Query, description = "The query code")),
    request_body = RatingBody,
    responses((status = 200, description = "The view after the rating (committed)", body = CitizenView),
        (status = 404, description = "`not_found`", body = PublicErrorBody), (status = 409, description = "`not_allowed`: nothing to rate now", body = PublicErrorBody),
        (status = 422, description = "`bad_rating` / `rating_reason_required`", body = PublicErrorBody), (status = 429, description = "`rate_limited`", body = PublicErrorBody)))]
pub(crate) async fn rate(
    State(api): State<PublicApi>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Response {
    let q = page_query(req.uri());
    let lang_hint = lang_of(&q, req.headers());
    let ip = peer(req.extensions());
    let form = essence(header_str(req.headers(), header::CONTENT_TYPE)) != "application/json";
    let body = match read_body(req.into_body(), MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(r) => return fail(&api, lang_hint, r, None),
    };
    let (rating, reason, code, mode) = if form {
        let f = form_fields(serde_urlencoded::from_bytes(&body).unwrap_or_default());
        let g = |k: &str| f.get(k).map(str::to_string);
        (
            g("rating"),
            g("reason"),
            g("code").or(q.code.clone()),
            Some(form_mode(&f, lang_hint)),
        )
    } else {
        match serde_json::from_slice::<RatingBody>(&body) {
            Ok(b) => (Some(b.rating), b.reason, q.code.clone(), None),
            Err(_) => return fail(&api, lang_hint, Refused::BadRating, None),
        }
    };
    let lang = mode.map_or(lang_hint, |m| m.lang);
    let code = code.unwrap_or_default();
    // A form post is answered with the status page (the view again when there is one),
    // a script with JSON.
    let answer = |api: &PublicApi, r: Refused, t: Option<&Ticket>| match mode {
        Some(m) => {
            let view = t.map(|t| view_of(api, t, lang));
            refused_page(api, m, &id, &code, r, view.as_ref())
        }
        None => fail(api, lang, r, None),
    };
    if let Err(r) = lookup_allowed(&api, ip) {
        return answer(&api, r, None);
    }
    let t = match open(&api, &id, Some(&code)).await {
        Ok(t) => t,
        Err(r) => return answer(&api, r, None),
    };
    let rating = match rating.as_deref() {
        Some("satisfied") => crate::workflow::action::Rating::Satisfied,
        Some("basically_satisfied") => crate::workflow::action::Rating::BasicallySatisfied,
        Some("unsatisfied") => crate::workflow::action::Rating::Unsatisfied,
        _ => return answer(&api, Refused::BadRating, Some(&t)),
    };
    let reason = reason.filter(|r| !r.trim().is_empty());
    let action = Action::RecordRating {
        rating,
        solved: None,
        reason,
    };
    let actor = Actor::new("citizen", Role::Citizen);
    let now = api.tickets.now();
    let tid = t.id.clone();
    let out = api
        .tickets
        .worker()
        .call(move |s, wf| wf.act(s, &tid, None, &actor, &action, now))
        .await;
    api.tickets
        .worker()
        .metrics()
        .outcome("record_rating", &out);
    let rated = match out {
        Ok(t) => t,
        Err(WorkflowError::Refused(Refusal::RatingReasonRequired)) => {
            return answer(&api, Refused::RatingReasonRequired, Some(&t))
        }
        Err(WorkflowError::Refused(_)) => return answer(&api, Refused::NotAllowed, Some(&t)),
        Err(e) => return crate::cti::ApiError::from(e).into_response(),
    };
    let view = view_of(&api, &rated, lang);
    match mode {
        Some(m) => {
            let json = json_view(&view);
            citizen_page(pages::status_page(m, &id, &code, Lookup::Found(&json)))
        }
        None => Json(view).into_response(),
    }
}
