//! The ticket HTTP API (JSON): create, act, read with history and due times, list/filter/
//! paginate, dispatch-catalogue lookup, reports, sweep. Holds no business rule: it checks who
//! is calling ([`super::auth`]), hands the request to the workflow core on the store thread
//! ([`TicketWorker`]) and maps answers to HTTP. Every success is sent after the commit.
//!
//! Errors are `{"code": "...", "message": "..."}`: 400 malformed, 401 no/unknown token,
//! 403 role or unit not allowed, 404 unknown ticket, 409 stale version or not possible in the
//! ticket's state, 422 a required field or value is missing or wrong.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use super::auth::Users;
use crate::cti::extract::{ApiJsonBytes, ApiQuery};
use crate::cti::ticket_views::{SweepView, TicketPage, TicketView, UnitList};
use crate::cti::ApiError;
use crate::shell::ticket_store::{Durability, TicketWorker};
use crate::shell::workflow_files::load_workflow;
use crate::workflow::model::{
    china, Actor, Caller, Channel, Domain, Intake, Recording, RequestType, Role, UnitId, Urgency,
};
use crate::workflow::store::{ListQuery, StoreError, TicketStore};
use crate::workflow::{Action, Policy, Ticket, TicketId, WorkflowError};

/// Where the ticket API finds its files.
#[derive(Debug, Clone)]
pub struct TicketApiConfig {
    /// The SQLite file is `data_dir/tickets.sqlite` (unused with `postgres`); attachments too.
    pub data_dir: PathBuf,
    /// Folder with `YYYY.toml` calendar files.
    pub calendar_dir: PathBuf,
    pub dispatch: PathBuf,
    pub users: PathBuf,
    pub durability: Durability,
    /// `[storage] url`: the tickets, audits, agent activity and warnings in this PostgreSQL
    /// database instead of `data_dir/tickets.sqlite`.
    pub postgres: Option<String>,
    /// The rules' numbers (`[policy]` of `hotline.toml`).
    pub policy: Policy,
    /// Reads of whole caller data per user per minute (`[privacy]`; 0: no limit).
    pub caller_reads_per_minute: u32,
}

impl TicketApiConfig {
    /// The usual layout: `config_dir/{calendar/, dispatch.toml, users.toml}`.
    pub fn new(data_dir: &Path, config_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            calendar_dir: config_dir.join("calendar"),
            dispatch: config_dir.join("dispatch.toml"),
            users: config_dir.join("users.toml"),
            durability: Durability::Full,
            postgres: None,
            policy: Policy::default(),
            caller_reads_per_minute: crate::config::PrivacyConfig::default()
                .caller_reads_per_minute,
        }
    }
}

/// Why the ticket API could not start.
#[derive(Debug, thiserror::Error)]
pub enum TicketApiError {
    #[error(transparent)]
    Load(#[from] crate::shell::workflow_files::LoadError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("ticket store: {0}")]
    Store(#[from] StoreError),
}

type Clock = Arc<dyn Fn() -> DateTime<FixedOffset> + Send + Sync>;

/// The state behind the router: the store worker, the users, and the clock.
#[derive(Clone)]
pub struct TicketApi {
    worker: TicketWorker,
    users: crate::shell::shared::Shared<Users>,
    pub(crate) clock: Clock,
    attachments: crate::shell::attachments::AttachmentStore,
    /// The engine, for a live call's caller (`same_caller_as_call`); `None` in ticket-only
    /// deployments and tests.
    pub(crate) engine: Option<crate::shell::engine::EngineHandle>,
    /// Reads of whole caller data, per user per minute (C16).
    pub(crate) reads: Arc<crate::cti::read_guard::ReadLimiter>,
    /// Where new internet requests go after their commit (the engine's web items).
    pub(crate) web_items: Option<tokio::sync::mpsc::Sender<crate::cti::public::NewWebRequest>>,
    /// The knowledge base, to check the items an answer cites (issue 16); `None`: citing
    /// one is refused.
    pub(crate) kb: Option<crate::shell::kb_service::KbService>,
}

impl std::fmt::Debug for TicketApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketApi")
            .field("users", &self.users.load().len())
            .finish()
    }
}

impl TicketApi {
    /// Loads the calendar, catalogue and users, opens `tickets.sqlite` and starts the store thread.
    pub fn open(config: &TicketApiConfig) -> Result<Self, TicketApiError> {
        let workflow = load_workflow(
            &config.calendar_dir,
            &config.dispatch,
            config.policy.clone(),
        )?;
        let text = std::fs::read_to_string(&config.users).map_err(|e| TicketApiError::File {
            path: config.users.clone(),
            message: e.to_string(),
        })?;
        let users =
            Users::from_toml_str(&text, &workflow.catalogue).map_err(|e| TicketApiError::File {
                path: config.users.clone(),
                message: e.to_string(),
            })?;
        let at = crate::shell::store::StoreAt {
            data_dir: config.data_dir.clone(),
            postgres: config.postgres.clone(),
        };
        let store = at.open(config.durability)?;
        tracing::info!(backend = store.backend_name(), "ticket store open");
        let worker = TicketWorker::start_at(store, at, workflow)?;
        Ok(Self {
            worker,
            attachments: crate::shell::attachments::AttachmentStore::new(&config.data_dir),
            users: crate::shell::shared::Shared::new(users),
            clock: Arc::new(|| crate::shell::clock::wall_now().with_timezone(&china())),
            engine: None,
            web_items: None,
            kb: None,
            reads: Arc::new(crate::cti::read_guard::ReadLimiter::new(
                config.caller_reads_per_minute,
            )),
        })
    }

    /// Connects the engine, so a desk can list the tickets of a live call's caller.
    pub fn with_engine(mut self, engine: crate::shell::engine::EngineHandle) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Connects the knowledge base: answers and replies may then cite its items.
    pub fn with_kb(mut self, kb: crate::shell::kb_service::KbService) -> Self {
        self.kb = Some(kb);
        self
    }

    /// Replaces the clock (tests pin the date so deadlines are checkable).
    pub fn with_clock(
        mut self,
        clock: impl Fn() -> DateTime<FixedOffset> + Send + Sync + 'static,
    ) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The store thread, for the shell's own ticket jobs (a call's draft).
    pub fn worker(&self) -> &TicketWorker {
        &self.worker
    }

    /// Now, by the API's clock (China time).
    pub fn now(&self) -> DateTime<FixedOffset> {
        (self.clock)()
    }

    /// Where the files of replies are kept.
    pub fn attachments(&self) -> &crate::shell::attachments::AttachmentStore {
        &self.attachments
    }

    /// The token table, shared with the other routes of the API.
    pub fn users(&self) -> crate::shell::shared::Shared<Users> {
        self.users.clone()
    }

    /// Runs one sweep now (the shell calls this on a timer).
    pub async fn sweep(&self) -> Result<usize, WorkflowError> {
        let at = (self.clock)();
        let out = self.worker.call(move |s, wf| wf.sweep(s, at, 1000)).await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                self.worker
                    .metrics()
                    .refused(crate::shell::metrics::error_code(&e));
                return Err(e);
            }
        };
        // One transition per ticket the sweep moved (a step may log several events).
        let moved: std::collections::BTreeSet<_> = out.events.iter().map(|(id, _)| id).collect();
        self.worker
            .metrics()
            .transitions
            .add("sweep", moved.len() as u64);
        Ok(out.events.len())
    }
}

/// Sweeps every `every` until the returned handle is aborted (W14, W16 run on time), when
/// `on_duty` says so (the standby of two engines leaves it to the active one).
pub fn spawn_sweeper(
    api: TicketApi,
    every: std::time::Duration,
    on_duty: impl Fn() -> bool + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if !on_duty() {
                continue;
            }
            match api.sweep().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "ticket sweep"),
                Err(e) => tracing::warn!(error = %e, "ticket sweep failed"),
            }
        }
    })
}

/// The ticket routes, to be merged into the engine's HTTP server.
pub fn router(api: TicketApi) -> Router {
    Router::new()
        .route("/api/tickets", post(create).get(list))
        .route("/api/tickets/{id}", get(show))
        .route("/api/tickets/{id}/actions", post(act))
        .route("/api/sweep", post(sweep_now))
        .route("/api/audit/reads", get(crate::cti::audit::reads))
        .route("/api/audit/monitoring", get(crate::cti::audit::monitoring))
        .route(
            "/api/dispatch/categories",
            get(super::areas_api::categories),
        )
        .route("/api/dispatch/units", get(units))
        .route("/api/areas", get(super::areas_api::search))
        .route("/api/reports", get(report))
        .route("/api/me", get(me))
        .with_state(api.clone())
        .merge(super::attachments::router(api))
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> Self {
        match &e {
            WorkflowError::Refused(r) => {
                let status = if r.is_forbidden() {
                    StatusCode::FORBIDDEN
                } else if r.is_bad_request() {
                    StatusCode::BAD_REQUEST
                } else if r.is_invalid_input() {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::CONFLICT
                };
                ApiError::new(status, r.code(), r.to_string())
            }
            WorkflowError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            WorkflowError::Store(StoreError::Conflict { .. }) => ApiError::new(
                StatusCode::CONFLICT,
                "version_conflict",
                format!("{e}: another person changed it; check its current version and act again"),
            ),
            // A full disk is the operator's to fix, not a bug: say so, and that nothing was
            // saved, so the client keeps its input and retries (issue 12 item 8).
            WorkflowError::Store(StoreError::Full) => ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                "the data folder is full; nothing was saved — retry once the operator has freed space",
            ),
            other => {
                tracing::error!(error = %other, "ticket API failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the ticket store failed; nothing was changed",
                )
            }
        }
    }
}

pub(crate) fn who(api: &TicketApi, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let actor = crate::cti::auth::bearer(&api.users.load(), headers)?;
    if actor.role == Role::Wallboard {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a wallboard token reads the live figures only, not tickets",
        ));
    }
    Ok(actor)
}

/// A handling unit sees only the tickets it handles; any other is answered exactly as a
/// ticket that does not exist, so a unit cannot probe which ids exist (ids are dated and
/// sequential).
pub(crate) fn may_see(actor: &Actor, t: &Ticket) -> Result<(), ApiError> {
    match &actor.role {
        Role::Unit(u) if !t.visible_units().contains(&u) => {
            Err(WorkflowError::NotFound(t.id.clone()).into())
        }
        _ => Ok(()),
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("invalid JSON body: {e}"),
        )
    })
}

/// The body of `POST /api/tickets`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTicket {
    channel: Channel,
    #[serde(default)]
    received_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    caller: Caller,
    #[serde(default)]
    area: Option<String>,
    #[serde(default)]
    location: Option<String>,
    /// An area code of the area tree (`GET /api/areas`); an unknown one is refused with 400
    /// `unknown_area`. Sets `area` to its district's name when `area` is not given.
    #[serde(default)]
    area_code: Option<String>,
    content: String,
    urgency: Urgency,
    #[serde(rename = "type")]
    request_type: RequestType,
    domain: Domain,
    #[serde(default)]
    category: Option<String>,
    /// Set by the engine only (the draft of an answered call); a client's is refused with
    /// 403 `engine_only`.
    #[serde(default)]
    call_id: Option<String>,
    /// Set by the engine only (the file it recorded and hashed); a client's is refused with
    /// 403 `engine_only`.
    #[serde(default)]
    recording: Option<Recording>,
}

/// Registers a request (W2); answers 201 with the ticket and its `Location`.
#[utoipa::path(post, path = "/api/tickets", tag = "tickets", security(("bearer" = [])),
    request_body = CreateTicket,
    responses(
        (status = 201, description = "Registered (committed)", body = TicketView,
            headers(("location" = String, description = "/api/tickets/{id}"))),
        (status = 400, description = "Malformed JSON, query or action", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Role or unit not allowed", body = ApiError), (status = 422, description = "A required field or value is missing or wrong", body = ApiError),
    ))]
async fn create(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    ApiJsonBytes(body): ApiJsonBytes,
) -> Result<Response, ApiError> {
    let actor = who(&api, &headers)?;
    let req: CreateTicket = parse_json(&body)?;
    let now = (api.clock)();
    // A request is received at or before it is registered, never after: a `received_at`
    // in the future would let a late response count as within C13's 3 minutes. A sender's
    // clock a little fast (up to 5 min) is read as "now"; more is refused.
    let received_at = req.received_at.unwrap_or(now);
    if received_at > now + chrono::Duration::minutes(5) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "received_at_in_future",
            "`received_at` is later than now",
        ));
    }
    let received_at = received_at.min(now);
    let intake = Intake {
        number: None,
        channel: req.channel,
        received_at,
        caller: req.caller,
        area: req.area,
        location: req.location,
        area_code: req.area_code,
        content: req.content,
        urgency: req.urgency,
        request_type: req.request_type,
        domain: req.domain,
        category: req.category,
        call_id: req.call_id,
        recording: req.recording,
        callback_consent: None,
        online: None,
    };
    let a = actor.clone();
    let t = api
        .worker
        .call(move |s, wf| {
            let t = wf.create(s, intake, &a, now)?;
            let actions = wf.rules().available_actions(&t, &a, now);
            Ok((t, actions))
        })
        .await;
    api.worker.metrics().outcome("create", &t);
    let (t, actions) = t?;
    tracing::info!(id = %t.id, user = %actor.user, "ticket created");
    let location = format!("/api/tickets/{}", t.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(
            TicketView::for_reader(&t, now, actions, &actor)
                .with_area_path(api.worker.workflow().catalogue.areas()),
        ),
    )
        .into_response())
}

/// One ticket with its due times and history.
#[utoipa::path(get, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id, `YYYYMMDD-NNNNNN`")),
    responses((status = 200, description = "The ticket", body = TicketView), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Role or unit not allowed", body = ApiError), (status = 404, description = "No such ticket", body = ApiError)))]
async fn show(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let actor = who(&api, &headers)?;
    let id = TicketId(id);
    let now = (api.clock)();
    let a = actor.clone();
    let (t, actions) = api
        .worker
        .call(move |s, wf| {
            let t = wf.load(s, &id)?;
            let actions = wf.rules().available_actions(&t, &a, now);
            Ok((t, actions))
        })
        .await?;
    may_see(&actor, &t)?;
    let view = TicketView::for_reader(&t, now, actions, &actor)
        .with_area_path(api.worker.workflow().catalogue.areas());
    if let Some(refused) =
        crate::cti::audit::caller_read(&api, &actor, &t, view.caller == t.intake.caller, now)
            .await?
    {
        return Ok(refused);
    }
    Ok(Json(view).into_response())
}

/// The body of `POST /api/tickets/{id}/actions`: one action, named by `action` with its
/// fields beside it, and optionally the ticket `version` the caller saw (a ticket that moved
/// on since is a 409 rather than a silent overwrite).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ActBody {
    #[serde(default)]
    version: Option<u64>,
    #[serde(flatten)]
    action: Action,
}

/// Applies one action (W1–W18) to a ticket; answers the ticket after the commit.
#[utoipa::path(post, path = "/api/tickets/{id}/actions", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id, `YYYYMMDD-NNNNNN`")), request_body = ActBody,
    responses((status = 200, description = "The ticket after the action (committed)", body = TicketView),
        (status = 400, description = "Malformed JSON, query or action", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Role or unit not allowed", body = ApiError), (status = 404, description = "No such ticket", body = ApiError), (status = 409, description = "Stale version, or not possible in the ticket's state", body = ApiError), (status = 422, description = "A required field or value is missing or wrong", body = ApiError)))]
async fn act(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    ApiJsonBytes(body): ApiJsonBytes,
) -> Result<Response, ApiError> {
    let actor = who(&api, &headers)?;
    let value: serde_json::Value = parse_json(&body)?;
    // A bad `version` is a malformed request; a bad action has its own code.
    if value
        .get("version")
        .is_some_and(|v| !v.is_null() && v.as_u64().is_none())
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "`version` must be a positive integer",
        ));
    }
    let ActBody { version, action } = serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_action",
            format!("not a valid action: {e}"),
        )
    })?;
    // Files named by hash must have been uploaded to this ticket first.
    if let Action::Feedback { attachments, .. } = &action {
        for f in attachments {
            if let Some(sha) = &f.sha256 {
                if !api.attachments.has(&id, sha) {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unknown_attachment",
                        format!(
                            "attachment {:?} ({sha}) was not uploaded to this ticket: POST /api/tickets/{id}/attachments first",
                            f.name
                        ),
                    ));
                }
            }
        }
    }
    let now = (api.clock)();
    let cites = crate::cti::kb::check_citations(api.kb.as_ref(), &action, now).await?;
    let id = TicketId(id);
    let a = actor.clone();
    let name = action.name();
    let t = api
        .worker
        .call(move |s, wf| {
            // A unit may not even learn whether another unit's ticket exists.
            if let Role::Unit(u) = &a.role {
                let t = wf.load(s, &id)?;
                if !t.visible_units().contains(&u) {
                    return Err(WorkflowError::NotFound(id.clone()));
                }
            }
            let t = wf.act(s, &id, version, &a, &action, now)?;
            let actions = wf.rules().available_actions(&t, &a, now);
            Ok((t, actions))
        })
        .await;
    api.worker.metrics().outcome(name, &t);
    let (t, actions) = t?;
    crate::cti::kb::record_citations(api.kb.as_ref(), &t.id.0, cites, now).await;
    api.web_ticket_changed(&t);
    tracing::info!(id = %t.id, version = t.version, user = %actor.user, state = t.state.name(), "ticket action");
    Ok(Json(
        TicketView::for_reader(&t, now, actions, &actor)
            .with_area_path(api.worker.workflow().catalogue.areas()),
    )
    .into_response())
}

/// Query string of `GET /api/tickets`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    state: Option<String>,
    unit: Option<String>,
    #[serde(rename = "type")]
    request_type: Option<RequestType>,
    domain: Option<String>,
    channel: Option<Channel>,
    call_id: Option<String>,
    /// Only tickets of calls to this service number (an integrated number, e.g. `12315`).
    number: Option<String>,
    /// Tickets from the same caller as this one (the number itself is never sent).
    same_caller_as: Option<String>,
    /// Tickets from the caller of this live call (by its public id): the desk's history while
    /// the call rings or talks, before its own ticket exists. An agent may ask only for a
    /// call offered to them or connected with them.
    same_caller_as_call: Option<String>,
    overdue: Option<bool>,
    supervised: Option<bool>,
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    after: Option<String>,
    limit: Option<u32>,
}

/// Lists tickets (a unit sees its own only), filtered and paginated.
#[utoipa::path(get, path = "/api/tickets", operation_id = "list_tickets", tag = "tickets", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, description = "One page", body = TicketPage), (status = 400, description = "Malformed JSON, query or action", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Role or unit not allowed", body = ApiError)))]
async fn list(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let actor = who(&api, &headers)?;
    let now = (api.clock)();
    let mut unit = p.unit.map(UnitId::new);
    if let Role::Unit(own) = &actor.role {
        match &unit {
            Some(u) if u != own => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "not_your_ticket",
                    format!("unit `{own}` may list only its own tickets"),
                ))
            }
            _ => unit = Some(own.clone()),
        }
    }
    let phone_key = match (&p.same_caller_as, &p.same_caller_as_call) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "give `same_caller_as` or `same_caller_as_call`, not both",
            ))
        }
        (None, Some(call)) => Some(caller_key_of_call(&api, &actor, call).await?),
        (None, None) => None,
        (Some(id), None) => {
            let id = TicketId(id.clone());
            let t = api.worker.call(move |s, wf| wf.load(s, &id)).await?;
            may_see(&actor, &t)?;
            Some(phone_key(t.intake.caller.phone.as_deref()))
        }
    };
    let q = ListQuery {
        phone_key,
        external_key: None,
        supervised: p.supervised,
        state: p.state,
        unit,
        request_type: p.request_type,
        domain: p.domain,
        channel: p.channel,
        call_id: p.call_id,
        number: p.number,
        overdue_at: p.overdue.filter(|o| *o).map(|_| now),
        received_from: p.from,
        received_to: p.to,
        after: p.after.map(TicketId),
        limit: p.limit.unwrap_or(50),
    };
    let page = api
        .worker
        .call(move |s, _| Ok(s.list(&q)?))
        .await
        .map_err(|e| match e {
            // The only id a list reads is the cursor.
            WorkflowError::Store(StoreError::NotFound { id }) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!(
                    "`after={}` names no ticket: pass the `next` of the page before",
                    id.0.chars().take(40).collect::<String>()
                ),
            ),
            other => other.into(),
        })?;
    Ok(Json(TicketPage::new(&page, now)).into_response())
}

/// The normalised number of a live call's caller, if `actor` may see it: a unit never, an
/// agent only for a call offered to or connected with them.
async fn caller_key_of_call(
    api: &TicketApi,
    actor: &Actor,
    call: &str,
) -> Result<String, ApiError> {
    if matches!(actor.role, Role::Unit(_)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a handling unit sees the tickets it handles, not a caller's history",
        ));
    }
    let engine = api.engine.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_engine",
            "this server has no call engine",
        )
    })?;
    let not_live = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_call",
            format!("no live call `{call}`"),
        )
    };
    let of = engine
        .caller_of(call.to_string())
        .await?
        .ok_or_else(not_live)?;
    if let Some(own) = super::agents::own_agent(actor) {
        if of.agent.as_deref() != Some(own) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_your_call",
                format!("call `{call}` is not offered to or connected with agent {own}"),
            ));
        }
    }
    Ok(phone_key(Some(&of.number)))
}

/// The store's key for a caller's number. No usable number, no history: the key then
/// matches nothing rather than everything.
fn phone_key(number: Option<&str>) -> String {
    number
        .and_then(crate::workflow::repeat::normalize_phone)
        .unwrap_or_else(|| "-".into())
}

/// Who the token speaks for: the pages show it and offer that role's actions.
#[utoipa::path(get, path = "/api/me", tag = "tickets", security(("bearer" = [])),
    responses((status = 200, description = "The token's user, role and unit", body = Object, example = json!({"user": "unit-water", "role": "unit", "unit": "water"})), (status = 401, description = "No or unknown token", body = ApiError)))]
pub(crate) async fn me(
    State(api): State<TicketApi>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = who(&api, &headers)?;
    let (role, unit) = match &actor.role {
        Role::Unit(u) => ("unit".to_string(), Some(u.clone())),
        r => (r.name(), None),
    };
    Ok(Json(serde_json::json!({"user": actor.user, "role": role, "unit": unit})).into_response())
}

/// Runs the deadline sweep now (supervisors; it also runs every minute).
#[utoipa::path(post, path = "/api/sweep", tag = "tickets", security(("bearer" = [])),
    responses((status = 200, description = "Events logged", body = SweepView), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Role or unit not allowed", body = ApiError)))]
async fn sweep_now(State(api): State<TicketApi>, headers: HeaderMap) -> Result<Response, ApiError> {
    let actor = who(&api, &headers)?;
    if actor.role != Role::Supervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            "only a supervisor may run the sweep by hand",
        ));
    }
    let n = api.sweep().await?;
    Ok(Json(SweepView { events: n }).into_response())
}

/// The handling units of the dispatch catalogue.
#[utoipa::path(get, path = "/api/dispatch/units", tag = "dispatch", security(("bearer" = [])),
    responses((status = 200, description = "Units", body = UnitList), (status = 401, description = "No or unknown token", body = ApiError)))]
async fn units(State(api): State<TicketApi>, headers: HeaderMap) -> Result<Response, ApiError> {
    who(&api, &headers)?;
    let cat = &api.worker.workflow().catalogue;
    Ok(Json(UnitList {
        units: cat.units().cloned().collect(),
    })
    .into_response())
}

/// Query string of `GET /api/reports`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportParams {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
}

/// Counts for a period (W19), for hotline staff.
#[utoipa::path(get, path = "/api/reports", tag = "tickets", security(("bearer" = [])),
    params(ReportParams),
    responses((status = 200, description = "The report", body = crate::workflow::store::Report), (status = 400, description = "Malformed JSON, query or action", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Role or unit not allowed", body = ApiError)))]
async fn report(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    let actor = who(&api, &headers)?;
    if !actor.role.is_hotline() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            "reports are for hotline staff",
        ));
    }
    let now = (api.clock)();
    let r = api
        .worker
        .call(move |s, _| Ok(s.report(p.from, p.to, now)?))
        .await?;
    Ok(Json(r).into_response())
}
