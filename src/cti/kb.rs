//! The knowledge base over HTTP (issue 16): staff search, items (write, submit, approve,
//! send back, withdraw), versions and history, import/export, the sweep, and the citizens'
//! public search (approved public items only, throttled per address like the other public
//! routes). Translates HTTP ↔ `shell::kb_service`; the rules are `kb`'s.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::cti::tickets::TicketApi;
use crate::cti::ApiError;
use crate::kb::lifecycle::Command;
use crate::kb::usage::CiteKind;
use crate::kb::{Hit, Item, ItemContent, ItemId, KbError, SearchQuery};
use crate::portal::throttle::{Limits, Throttle};
use crate::shell::kb_service::{Format, KbService, KbServiceError, KbStats};
use crate::shell::kb_store::ItemSummary;
use crate::workflow::model::{china, Actor, Role};

/// Largest import body.
const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;
/// Longest search text, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// What the knowledge routes reach.
#[derive(Clone)]
pub struct KbApi {
    pub svc: KbService,
    /// Users, and the clock the tickets use (tests fake it).
    pub tickets: TicketApi,
    throttle: Arc<Mutex<Throttle>>,
    public_enabled: bool,
}

impl KbApi {
    /// The routes' state; `public_enabled` follows `[public] enabled`.
    pub fn new(
        svc: KbService,
        tickets: TicketApi,
        config: &crate::config::KbConfig,
        public_enabled: bool,
    ) -> Self {
        let limits = Limits {
            lookup_burst: config.public_search_burst,
            lookup_per_minute: config.public_search_per_minute,
            ..Limits::default()
        };
        Self {
            svc,
            tickets,
            throttle: Arc::new(Mutex::new(Throttle::new(limits))),
            public_enabled,
        }
    }
}

/// The knowledge routes.
pub fn router(api: KbApi) -> Router {
    Router::new()
        .route("/api/kb/search", get(search))
        .route("/api/kb/items", get(list).post(create))
        .route("/api/kb/items/{id}", get(show).put(edit))
        .route("/api/kb/items/{id}/versions/{version}", get(version))
        .route("/api/kb/items/{id}/submit", post(submit))
        .route("/api/kb/items/{id}/approve", post(approve))
        .route("/api/kb/items/{id}/send-back", post(send_back))
        .route("/api/kb/items/{id}/withdraw", post(withdraw))
        .route("/api/kb/import", post(import))
        .route("/api/kb/export", get(export))
        .route("/api/kb/sweep", post(sweep_now))
        .route("/api/kb/stats", get(stats))
        .route("/api/public/kb/search", get(public_search))
        .with_state(api)
}

impl From<KbServiceError> for ApiError {
    fn from(e: KbServiceError) -> Self {
        match e {
            KbServiceError::Refused(r) => {
                let status = match &r {
                    KbError::NotFound(_) | KbError::NoSuchVersion { .. } => StatusCode::NOT_FOUND,
                    KbError::Forbidden(_) => StatusCode::FORBIDDEN,
                    KbError::WrongState { .. } => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, r.code(), r.to_string())
            }
            KbServiceError::Import(i) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, i.code, i.to_string())
            }
            other => {
                tracing::error!(error = %other, "knowledge base failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the knowledge store failed; nothing was changed",
                )
            }
        }
    }
}

/// Staff only: every role but the wallboard (and channel connectors, refused by `bearer`).
fn staff(api: &KbApi, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let actor = crate::cti::auth::bearer(&api.tickets.users().load(), headers)?;
    if actor.role == Role::Wallboard {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a wallboard token reads the live figures only",
        ));
    }
    Ok(actor)
}

fn json<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("invalid JSON body: {e}"),
        )
    })
}

/// `GET /api/kb/search` and `GET /api/public/kb/search` query strings.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The words, as typed (at most 200 characters).
    q: String,
    /// An area: items of that area and of the whole city (全市).
    #[serde(default)]
    area: Option<String>,
    /// A category id of the dispatch catalogue.
    #[serde(default)]
    category: Option<String>,
    /// An owning unit id (staff search only).
    #[serde(default)]
    unit: Option<String>,
    /// Most hits (default and ceiling: `[kb] max_results`).
    #[serde(default)]
    limit: Option<usize>,
    /// Staff only: also items not in force today (expired, or not yet effective).
    #[serde(default)]
    all: bool,
    /// Default true. `false`: a search a page makes on its own (as the agent types the ticket
    /// or the citizen their request, or from the call's menu path): the knowledge page neither keeps it as a gap
    /// when it finds nothing (half a sentence is no gap to write) nor counts what it lists.
    #[serde(default)]
    record: Option<bool>,
}

/// Search results, best first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    pub items: Vec<Hit>,
}

fn query(api: &KbApi, p: SearchParams, public: bool) -> Result<(SearchQuery, bool), ApiError> {
    if p.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_long",
            format!("`q` is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    // `record=false`: a search made while someone types (the desk, the citizen's request
    // page) is not kept as a gap: half-written words are no gap to write an item for.
    let record = p.record.unwrap_or(true);
    let q = SearchQuery {
        text: p.q,
        area: nonempty(p.area),
        category: nonempty(p.category),
        unit: if public { None } else { nonempty(p.unit) },
        public_only: public,
        include_not_in_force: !public && p.all,
        today: api.tickets.now().with_timezone(&china()).date_naive(),
        limit: p
            .limit
            .unwrap_or(api.svc.max_results)
            .min(api.svc.max_results),
    };
    Ok((q, record))
}

/// Staff search over the served items (in force today unless `all=true`).
#[utoipa::path(get, path = "/api/kb/search", operation_id = "kb_search", tag = "knowledge", security(("bearer" = [])),
    params(SearchParams),
    responses((status = 200, description = "Hits, best first, with a highlighted snippet", body = SearchResult),
        (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "A wallboard or channel token", body = ApiError),
        (status = 422, description = "`too_long`", body = ApiError)))]
async fn search(
    State(api): State<KbApi>,
    headers: HeaderMap,
    Query(p): Query<SearchParams>,
) -> Result<Json<SearchResult>, ApiError> {
    staff(&api, &headers)?;
    let (q, record) = query(&api, p, false)?;
    Ok(Json(SearchResult {
        items: api.svc.search(q, false, record, api.tickets.now()).await?,
    }))
}

/// The citizens' search: approved, public items in force today; throttled per address.
#[utoipa::path(get, path = "/api/public/kb/search", tag = "public",
    params(SearchParams),
    responses((status = 200, description = "Hits, best first", body = SearchResult),
        (status = 404, description = "The public channel is off", body = ApiError),
        (status = 422, description = "`too_long`", body = ApiError),
        (status = 429, description = "`rate_limited`, with Retry-After", body = ApiError)))]
async fn public_search(State(api): State<KbApi>, req: Request) -> Result<Response, ApiError> {
    if !api.public_enabled {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the public channel is off",
        ));
    }
    let ip = crate::cti::public::peer(req.extensions());
    let wait = api
        .throttle
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .lookup(ip, crate::shell::clock::now());
    if let Err(wait) = wait {
        api.svc
            .metrics
            .public_refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many searches from this address; try again shortly",
        )
        .into_response();
        if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(r);
    }
    let Query(p) = Query::<SearchParams>::try_from_uri(req.uri())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let (q, record) = query(&api, p, true)?;
    Ok(Json(SearchResult {
        items: api.svc.search(q, true, record, api.tickets.now()).await?,
    })
    .into_response())
}

/// `GET /api/kb/items` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// draft, in_review, sent_back, approved, withdrawn
    #[serde(default)]
    state: Option<String>,
    /// An owning unit (a unit's token always lists its own).
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

/// The items, newest change first (the editor's review queue: `state=in_review`).
#[utoipa::path(get, path = "/api/kb/items", operation_id = "kb_list", tag = "knowledge", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, description = "Items", body = Vec<ItemSummary>),
        (status = 401, description = "No or unknown token", body = ApiError)))]
async fn list(
    State(api): State<KbApi>,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> Result<Json<Vec<ItemSummary>>, ApiError> {
    let actor = staff(&api, &headers)?;
    let limit = p.limit.unwrap_or(100).min(1000);
    Ok(Json(api.svc.list(actor, p.state, p.unit, limit).await?))
}

async fn run(
    api: &KbApi,
    headers: &HeaderMap,
    id: Option<ItemId>,
    cmd: Command,
) -> Result<Item, ApiError> {
    let actor = staff(api, headers)?;
    Ok(api.svc.act(actor, id, cmd, api.tickets.now()).await?)
}

/// A unit (its own) or the editor writes a new item: version 1, a draft.
#[utoipa::path(post, path = "/api/kb/items", operation_id = "kb_create", tag = "knowledge", security(("bearer" = [])),
    request_body = ItemContent,
    responses((status = 201, description = "The new item", body = Item),
        (status = 403, description = "Not the owning unit or the editor", body = ApiError),
        (status = 422, description = "`missing_source`, `expiry_before_effect`, `empty_field`, `unknown_category`…", body = ApiError)))]
async fn create(
    State(api): State<KbApi>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let c: ItemContent = json(&body)?;
    let item = run(&api, &headers, None, Command::Write(Box::new(c))).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/kb/items/{}", item.id))],
        Json(item),
    )
        .into_response())
}

/// One item: every version, the served one, its state and history.
#[utoipa::path(get, path = "/api/kb/items/{id}", operation_id = "kb_show", tag = "knowledge", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Item id")),
    responses((status = 200, description = "The item", body = Item),
        (status = 404, description = "No such item (or another unit's unpublished one)", body = ApiError)))]
async fn show(
    State(api): State<KbApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<ItemId>,
) -> Result<Json<Item>, ApiError> {
    let actor = staff(&api, &headers)?;
    Ok(Json(api.svc.get(actor, id).await?))
}

/// A new version (the approved one stays served until this one is approved).
#[utoipa::path(put, path = "/api/kb/items/{id}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Item id")),
    request_body = ItemContent,
    responses((status = 200, description = "The item with its new version", body = Item),
        (status = 403, description = "Not the owning unit or the editor", body = ApiError),
        (status = 409, description = "`wrong_state` (in review)", body = ApiError),
        (status = 422, description = "The content was refused", body = ApiError)))]
async fn edit(
    State(api): State<KbApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<ItemId>,
    body: Bytes,
) -> Result<Json<Item>, ApiError> {
    let c: ItemContent = json(&body)?;
    Ok(Json(
        run(&api, &headers, Some(id), Command::Write(Box::new(c))).await?,
    ))
}

/// One version's content (what a ticket cited).
#[utoipa::path(get, path = "/api/kb/items/{id}/versions/{version}", tag = "knowledge", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Item id"), ("version" = u32, Path, description = "Version, from 1")),
    responses((status = 200, description = "That version", body = ItemContent),
        (status = 404, description = "`not_found`, `no_such_version`", body = ApiError)))]
async fn version(
    State(api): State<KbApi>,
    headers: HeaderMap,
    UrlPath((id, v)): UrlPath<(ItemId, u32)>,
) -> Result<Json<ItemContent>, ApiError> {
    let actor = staff(&api, &headers)?;
    Ok(Json(api.svc.version(actor, id, v).await?))
}

/// The body of send-back and withdraw.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why (required).
    pub reason: String,
}

/// The owning unit hands the latest version to the editor.
#[utoipa::path(post, path = "/api/kb/items/{id}/submit", tag = "knowledge", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Item id")),
    responses((status = 200, description = "In review", body = Item), (status = 409, description = "`wrong_state`", body = ApiError)))]
async fn submit(
    State(api): State<KbApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<ItemId>,
) -> Result<Json<Item>, ApiError> {
    Ok(Json(run(&api, &headers, Some(id), Command::Submit).await?))
}

/// The editor approves: the version is served while in force.
#[utoipa::path(post, path = "/api/kb/items/{id}/approve", tag = "knowledge", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Item id")),
    responses((status = 200, description = "Approved", body = Item), (status = 403, description = "Not the editor", body = ApiError), (status = 409, description = "`wrong_state`", body = ApiError)))]
async fn approve(
    State(api): State<KbApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<ItemId>,
) -> Result<Json<Item>, ApiError> {
    Ok(Json(run(&api, &headers, Some(id), Command::Approve).await?))
}

/// The editor sends it back with a reason.
#[utoipa::path(post, path = "/api/kb/items/{id}/send-back", tag = "knowledge", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Item id")), request_body = Reason,
    responses((status = 200, description = "Sent back", body = Item), (status = 403, description = "Not the editor", body = ApiError), (status = 409, description = "`wrong_state`", body = ApiError), (status = 422, description = "`reason_required`", body = ApiError)))]
async fn send_back(
    State(api): State<KbApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<ItemId>,
    body: Bytes,
) -> Result<Json<Item>, ApiError> {
    let r: Reason = json(&body)?;
    let cmd = Command::SendBack { reason: r.reason };
    Ok(Json(run(&api, &headers, Some(id), cmd).await?))
}

/// The source was repealed: stop serving the item now.
#[utoipa::path(post, path = "/api/kb/items/{id}/withdraw", tag = "knowledge", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Item id")), request_body = Reason,
    responses((status = 200, description = "Withdrawn", body = Item), (status = 403, description = "Not the owning unit or the editor", body = ApiError), (status = 409, description = "`wrong_state`", body = ApiError)))]
async fn withdraw(
    State(api): State<KbApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<ItemId>,
    body: Bytes,
) -> Result<Json<Item>, ApiError> {
    let r: Reason = json(&body)?;
    let cmd = Command::Withdraw { note: r.reason };
    Ok(Json(run(&api, &headers, Some(id), cmd).await?))
}

/// Import/export parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransferParams {
    /// `jsonl` (default) or `csv` (docs/KB.md)
    #[serde(default)]
    #[param(inline)]
    format: Option<Format>,
    /// Import only, editor only: the items arrive approved (otherwise in review, or drafts
    /// for a unit).
    #[serde(default)]
    approve: bool,
}

/// The ids an import created.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub created: Vec<ItemId>,
}

/// Imports a whole file or nothing: a bad line is named (`line N: …`) and nothing is stored.
#[utoipa::path(post, path = "/api/kb/import", operation_id = "kb_import", tag = "knowledge", security(("bearer" = [])),
    params(TransferParams), request_body(content = String, content_type = "text/plain"),
    responses((status = 201, description = "Created", body = Imported),
        (status = 403, description = "Items of another unit, or `approve` without being the editor", body = ApiError),
        (status = 413, description = "`too_large`", body = ApiError),
        (status = 422, description = "`malformed`, `missing_source`…: `line N: …`", body = ApiError)))]
async fn import(
    State(api): State<KbApi>,
    headers: HeaderMap,
    Query(p): Query<TransferParams>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let actor = staff(&api, &headers)?;
    if body.len() > MAX_IMPORT_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("an import is at most {MAX_IMPORT_BYTES} bytes"),
        ));
    }
    let text = String::from_utf8(body.to_vec()).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed",
            format!("the file is not UTF-8: {e}"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
    let format = p.format.unwrap_or(Format::Jsonl);
    let created = api
        .svc
        .import(actor, format, text, p.approve, api.tickets.now())
        .await?;
    Ok((StatusCode::CREATED, Json(Imported { created })).into_response())
}

/// Every item's latest version (a unit: its own).
#[utoipa::path(get, path = "/api/kb/export", operation_id = "kb_export", tag = "knowledge", security(("bearer" = [])),
    params(TransferParams),
    responses((status = 200, description = "JSON lines or CSV", body = String, content_type = "text/plain")))]
async fn export(
    State(api): State<KbApi>,
    headers: HeaderMap,
    Query(p): Query<TransferParams>,
) -> Result<Response, ApiError> {
    let actor = staff(&api, &headers)?;
    let format = p.format.unwrap_or(Format::Jsonl);
    let text = api.svc.export(actor, format).await?;
    let ct = match format {
        Format::Jsonl => "application/x-ndjson; charset=utf-8",
        Format::Csv => "text/csv; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, ct)], text).into_response())
}

/// What a sweep did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Swept {
    /// Withdrawals and reminders stored.
    pub events: usize,
}

/// Runs the expiry sweep now (editor or supervisor); it also runs every `[kb] sweep_interval`.
#[utoipa::path(post, path = "/api/kb/sweep", operation_id = "kb_sweep", tag = "knowledge", security(("bearer" = [])),
    responses((status = 200, description = "Done", body = Swept), (status = 403, description = "Not the editor or a supervisor", body = ApiError)))]
async fn sweep_now(State(api): State<KbApi>, headers: HeaderMap) -> Result<Json<Swept>, ApiError> {
    let actor = staff(&api, &headers)?;
    if !matches!(actor.role, Role::KbEditor | Role::Supervisor) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the knowledge editor or a supervisor runs the sweep",
        ));
    }
    Ok(Json(Swept {
        events: api.svc.sweep(api.tickets.now()).await?,
    }))
}

/// `GET /api/kb/stats` query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Rows per list (default 20, at most 100).
    #[serde(default)]
    limit: Option<usize>,
}

/// The knowledge page's figures (supervisors and the knowledge editor): the most used items,
/// the searches that found nothing, items near expiry and withdrawn ones.
#[utoipa::path(get, path = "/api/kb/stats", operation_id = "kb_stats", tag = "knowledge", security(("bearer" = [])),
    params(StatsParams),
    responses((status = 200, description = "The figures", body = KbStats),
        (status = 401, description = "No or unknown token", body = ApiError),
        (status = 403, description = "Not a supervisor or the knowledge editor", body = ApiError)))]
async fn stats(
    State(api): State<KbApi>,
    headers: HeaderMap,
    Query(p): Query<StatsParams>,
) -> Result<Json<KbStats>, ApiError> {
    let actor = staff(&api, &headers)?;
    if !matches!(actor.role, Role::KbEditor | Role::Supervisor) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the knowledge page is for supervisors and the knowledge editor",
        ));
    }
    let limit = p.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(api.svc.stats(api.tickets.now(), limit).await?))
}

/// The items a ticket action cites, with where (answer or reply).
pub(crate) type Citations = Vec<(crate::workflow::action::KnowledgeRef, CiteKind)>;

/// The items a ticket action cites must be served now, in the version cited: a W3
/// `knowledge_base` answer's `knowledge`, a W11 reply's `cites`. The ticket then keeps the
/// reference as given, whatever the item becomes. Returns them, to be counted once the
/// action is committed ([`record_citations`]).
pub(crate) async fn check_citations(
    kb: Option<&KbService>,
    action: &crate::workflow::Action,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Citations, ApiError> {
    use crate::workflow::action::DirectMethod;
    let refs: Citations = match action {
        crate::workflow::Action::DirectClose {
            method, knowledge, ..
        } => {
            if knowledge.is_some() && *method != DirectMethod::KnowledgeBase {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "knowledge_needs_knowledge_base",
                    "`knowledge` goes with the method `knowledge_base`",
                ));
            }
            knowledge.iter().map(|k| (*k, CiteKind::Answer)).collect()
        }
        crate::workflow::Action::Feedback { cites, .. } => {
            cites.iter().map(|k| (*k, CiteKind::Reply)).collect()
        }
        _ => Vec::new(),
    };
    if refs.is_empty() {
        return Ok(refs);
    }
    let Some(kb) = kb else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "knowledge_not_served",
            "this engine runs without a knowledge base",
        ));
    };
    for (r, _) in &refs {
        match kb.served(r.item, now).await? {
            Some((v, _)) if v == r.version => {}
            Some((v, _)) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "knowledge_not_served",
                    format!(
                        "item {} is served in version {v}, not {}: cite what the citizen is told",
                        r.item, r.version
                    ),
                ))
            }
            None => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "knowledge_not_served",
                    format!(
                        "item {} is not served (not approved, withdrawn or not in force)",
                        r.item
                    ),
                ))
            }
        }
    }
    Ok(refs)
}

/// Counts a committed action's citations for the knowledge page; the ticket is already
/// stored, so a failure here is logged, not answered.
pub(crate) async fn record_citations(
    kb: Option<&KbService>,
    ticket: &str,
    refs: Citations,
    now: chrono::DateTime<chrono::FixedOffset>,
) {
    let (Some(kb), false) = (kb, refs.is_empty()) else {
        return;
    };
    let cites = refs
        .into_iter()
        .map(|(r, kind)| (r.item, r.version, kind))
        .collect();
    if let Err(e) = kb.record_citations(ticket.to_string(), cites, now).await {
        tracing::warn!(ticket, error = %e, "knowledge citations not counted");
    }
}
