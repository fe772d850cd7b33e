//! Live push for the pages (Server-Sent Events): the wallboard and each agent's desktop.
//! One publisher task asks the engine twice a second — only while somebody watches — and
//! shares the rendered frame with every open stream, so a hundred desktops cost the engine
//! what one does. Pages never poll.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;
use tokio_stream::{Stream, StreamExt};

use super::agents::{caller, own_agent, AgentView};
use super::call_view::{CallInUnit, WallboardView};
use crate::call::record::LiveCall;
use crate::cti::extract::ApiQuery;
use crate::cti::{ApiError, ApiState};
use crate::shell::engine::{EngineGone, EngineHandle};
use crate::stats::wallboard::{AgentCounts, QueueInput, Wallboard, WebInput, WebRates};
use crate::workflow::model::{Actor, Role};
use crate::workflow::store::InternetFigures;

/// How often the publisher refreshes while a page watches: well inside the 1 s the
/// wallboard promises.
pub const REFRESH: Duration = Duration::from_millis(500);

/// A stream with nothing new still sends a comment this often, so neither a proxy nor our
/// own idle timeout (`http.idle_timeout`, at least 10 s) takes it for dead.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// A place for one more stream (`http.max_streams`), or 503 `too_many_streams`.
fn stream_place(state: &ApiState) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state.net.streams.try_take().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            "too many live streams are open; try again later",
        )
    })
}

/// One agent's desktop: its state and the call offered to it (ringing) or that it is on
/// (masked number, IVR path, queue, wait, ticket).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeskView {
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub at: chrono::DateTime<chrono::Utc>,
    pub agent: AgentView,
    pub call: Option<LiveCall>,
    /// Where this hotline can transfer a call: its queues, then the outside numbers
    /// (`110`, `water`, …) only when a gateway is configured. The desk offers exactly these.
    pub transfer_to: Vec<String>,
    /// The outside numbers among `transfer_to` (the `number` of a consult or conference).
    pub call_in_numbers: Vec<String>,
    /// The handling units with a phone the agent can consult or conference in (the `unit`
    /// of `POST /api/calls/{id}/parties`); none without a gateway.
    pub call_in_units: Vec<CallInUnit>,
    /// The web request (ticket id) offered on the desk, waiting for accept or decline (C13).
    pub web_offer: Option<String>,
    /// The web requests the agent accepted and has not finished, oldest first.
    pub web_items: Vec<String>,
    /// How many web requests the agent may hold at once (0: none are offered).
    pub web_capacity: u8,
    /// Surge mode (C8): while on, a desk that is not taking calls asks its agent to stand by.
    pub surge: Option<crate::call::call_me_back::Surge>,
}

/// What one refresh produced, rendered once as JSON for every stream.
#[derive(Debug, Default)]
pub struct Frame {
    pub wallboard: Option<String>,
    /// Agent id → its desk view as JSON.
    pub desks: HashMap<String, String>,
    /// The engine is stopping: streams end so the HTTP server can close.
    pub closing: bool,
}

/// The shared feed: the publisher writes, every stream subscribes.
pub type Feed = Arc<watch::Sender<Arc<Frame>>>;

/// A feed with nothing published yet.
pub fn feed() -> Feed {
    Arc::new(watch::channel(Arc::new(Frame::default())).0)
}

/// Ends every open stream (at shutdown; graceful HTTP shutdown waits for them).
pub fn close(feed: &Feed) {
    feed.send_replace(Arc::new(Frame {
        closing: true,
        ..Frame::default()
    }));
}

fn queue_input(q: &crate::acd::core::QueueSnapshot<crate::call::session::CallId>) -> QueueInput {
    QueueInput {
        name: q.name.to_string(),
        waiting: q.waiting.len() + q.ringing,
        ringing: q.ringing,
        longest_wait: q.longest_wait,
        agents: counts(&q.agents),
        unstaffed: q.unstaffed,
    }
}

fn counts(c: &crate::acd::core::StateCounts) -> AgentCounts {
    AgentCounts {
        logged_out: c.logged_out,
        ready: c.ready,
        ready_no_phone: c.ready_no_phone,
        not_ready: c.not_ready,
        reserved: c.reserved,
        talking: c.talking,
        assisting: c.assisting,
        wrap_up: c.wrap_up,
    }
}

/// C13's unanswered internet requests, as the ticket store last counted them.
pub type InternetWatch = watch::Receiver<InternetFigures>;

/// The web queues' figures (the ACD) and the last 24 h of C13 (the ticket store).
fn web_input(
    acd: &crate::acd::core::Snapshot<crate::call::session::CallId>,
    internet: &InternetWatch,
) -> WebInput {
    let r = internet.borrow().last_24h;
    WebInput {
        waiting: acd.web_queues.iter().map(|q| q.waiting).sum(),
        offered: acd.web_queues.iter().map(|q| q.offered).sum(),
        longest_wait: acd.web_queues.iter().filter_map(|q| q.longest_wait).max(),
        alarm_after: acd.web_alarm_after,
        last_24h: WebRates {
            received: r.received,
            within_3_min: r.within_3_min,
            late: r.late,
            waiting: r.waiting,
            rate: r.rate,
        },
    }
}

/// The board with C13's alarm, if internet requests wait past 3 minutes for a response.
fn with_internet(board: Wallboard, internet: &InternetWatch) -> Wallboard {
    let backlog = internet.borrow().backlog;
    let oldest_wait_s = backlog
        .oldest_received
        .map(|o| {
            (board.at - o.with_timezone(&chrono::Utc))
                .num_seconds()
                .max(0) as u64
        })
        .unwrap_or(0);
    board.with_unanswered_internet(backlog.unanswered, oldest_wait_s)
}

/// The wallboard now (`GET /api/stats`), from two questions to the engine and the ticket
/// store's last count of unanswered internet requests.
pub async fn board(
    engine: &EngineHandle,
    internet: &InternetWatch,
    linkage: &crate::cti::internet_watch::LinkageWatch,
    storage: &crate::shell::metrics::StorageAlarm,
    number: Option<String>,
) -> Result<Wallboard, EngineGone> {
    let acd = engine.acd().await?;
    let kpi = match number {
        Some(n) => engine.stats_for(n).await?,
        None => engine.stats().await?,
    };
    let board = Wallboard::build(
        kpi.at,
        acd.queues.iter().map(queue_input).collect(),
        counts(&acd.totals),
        kpi,
    )
    .with_web(web_input(&acd, internet))
    .with_linkages(&linkage.borrow());
    Ok(with_internet(board, internet).with_storage_full(storage.is_full()))
}

/// The units the desks may call in now: asked at every refresh, so that a reload of
/// dispatch.toml (which also gives the engine its units' phones) shows on the desks.
pub type UnitsNow = Arc<dyn Fn() -> Vec<CallInUnit> + Send + Sync>;

/// What the desks offer beyond the queues: the outside numbers a call may be transferred
/// to and the units that may be called in (none without a gateway).
#[derive(Clone)]
pub struct CallIn {
    pub numbers: Vec<String>,
    pub units: UnitsNow,
}

/// The wallboard and every desk now, from three questions to the engine.
async fn build(
    engine: &EngineHandle,
    call_in: &CallIn,
    internet: &InternetWatch,
) -> Result<(WallboardView, Vec<DeskView>), EngineGone> {
    let outside = &call_in.numbers;
    let units = (call_in.units)();
    let acd = engine.acd().await?;
    let kpi = engine.stats().await?;
    let calls = engine.live_calls().await?;
    let surge = engine.surge(None).await?;
    let at = kpi.at;
    let transfer_to: Vec<String> = acd
        .queues
        .iter()
        .map(|q| q.name.to_string())
        .chain(outside.iter().cloned())
        .collect();
    let desks = acd
        .agents
        .iter()
        .map(|a| {
            let agent = AgentView::of(a);
            let call = calls
                .iter()
                .find(|c| {
                    let id = Some(agent.id.as_str());
                    c.agent.as_deref() == id
                        || c.offered_to.as_deref() == id
                        || assists(c, agent.id.as_str())
                })
                .cloned()
                .map(crate::cti::call_view::for_agent_desk);
            DeskView {
                at,
                agent,
                call,
                transfer_to: transfer_to.clone(),
                call_in_numbers: outside.clone(),
                call_in_units: units.clone(),
                web_offer: a.web_offer.as_deref().map(str::to_string),
                web_items: a.web_held.iter().map(|i| i.to_string()).collect(),
                web_capacity: a.web_capacity,
                surge: surge.surge.clone(),
            }
        })
        .collect();
    let board = Wallboard::build(
        at,
        acd.queues.iter().map(queue_input).collect(),
        counts(&acd.totals),
        kpi,
    )
    .with_web(web_input(&acd, internet));
    Ok((
        WallboardView::new(board, &calls)
            .with_people(&acd, &calls)
            .with_surge(surge),
        desks,
    ))
}

/// Whether nobody watches the feed; if so its last frame is forgotten, so that the next page
/// to open a stream is not first shown figures (or a call) from when it was last watched.
fn forget_if_unwatched(feed: &Feed) -> bool {
    if feed.receiver_count() > 0 {
        return false;
    }
    let stale = {
        let f = feed.borrow();
        !f.closing && (f.wallboard.is_some() || !f.desks.is_empty())
    };
    if stale {
        feed.send_replace(Arc::new(Frame::default()));
    }
    true
}

/// Refreshes the feed every [`REFRESH`] while at least one stream is open; stops with the
/// engine.
pub fn spawn_publisher(
    engine: EngineHandle,
    feed: Feed,
    internet: InternetWatch,
    linkage: crate::cti::internet_watch::LinkageWatch,
    call_in: Arc<CallIn>,
    storage: Arc<crate::shell::metrics::StorageAlarm>,
    warnings: Arc<crate::shell::warnings::WarningsHub>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            if forget_if_unwatched(&feed) {
                continue;
            }
            let (board, desks) = match build(&engine, &call_in, &internet).await {
                Ok((mut view, desks)) => {
                    view.board =
                        with_internet(view.board.with_linkages(&linkage.borrow()), &internet)
                            .with_storage_full(storage.is_full());
                    view.warnings = warnings.newest().to_vec();
                    (view, desks)
                }
                Err(EngineGone) => break,
            };
            if feed.borrow().closing {
                break;
            }
            let frame = Frame {
                closing: false,
                wallboard: serde_json::to_string(&board).ok(),
                desks: desks
                    .iter()
                    .filter_map(|d| Some((d.agent.id.clone(), serde_json::to_string(d).ok()?)))
                    .collect(),
            };
            feed.send_replace(Arc::new(frame));
        }
    })
}

/// The live routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/wallboard", get(wallboard))
        .route("/api/wallboard/stream", get(wallboard_stream))
        .route("/api/desk", get(desk))
        .route("/api/desk/stream", get(desk_stream))
        .route("/api/desk/phone", get(desk_phone))
        .with_state(state)
}

/// `?access_token=` for `EventSource`, which cannot send an `Authorization` header.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    access_token: Option<String>,
}

/// A live stream's caller, by header or by `?access_token=`. Only the streams take a token in
/// the address (it can end up in logs and history); plain GETs use [`caller`].
fn stream_caller(state: &ApiState, headers: &HeaderMap, q: &TokenQuery) -> Result<Actor, ApiError> {
    let users = state.users.load();
    let by_query = q.access_token.as_deref().and_then(|t| users.by_token(t));
    match users.authenticate(headers).or(by_query) {
        Some(a) => Ok(a.clone()),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer <token>` (or `?access_token=` for a live stream)",
        )),
    }
}

pub(crate) fn may_watch_wallboard(actor: &Actor) -> Result<(), ApiError> {
    match actor.role {
        Role::Supervisor | Role::Wallboard => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the wallboard needs a supervisor or wallboard token",
        )),
    }
}

fn desk_agent(actor: &Actor) -> Result<String, ApiError> {
    own_agent(actor).map(str::to_string).ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the desk needs an agent's token",
        )
    })
}

/// The wallboard now (for scripts; pages use the stream).
#[utoipa::path(get, path = "/api/wallboard", tag = "operations", security(("bearer" = [])),
    responses((status = 200, description = "Queues, agents, KPIs and alarms now, and the calls with a person on them (callers masked)", body = WallboardView), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor or wallboard token", body = ApiError)))]
pub(crate) async fn wallboard(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Json<WallboardView>, ApiError> {
    may_watch_wallboard(&caller(&state, &headers)?)?;
    let board = board(
        &state.engine,
        &state.internet,
        &state.linkage,
        &state.tickets.storage,
        None,
    )
    .await?;
    let calls = state.engine.live_calls().await?;
    let acd = state.engine.acd().await?;
    let surge = state.engine.surge(None).await?;
    let mut view = WallboardView::new(board, &calls)
        .with_people(&acd, &calls)
        .with_surge(surge);
    view.warnings = state
        .warnings
        .as_deref()
        .map(|w| w.newest().to_vec())
        .unwrap_or_default();
    Ok(Json(view))
}

/// The wallboard, pushed as `wallboard` events.
#[utoipa::path(get, path = "/api/wallboard/stream", tag = "operations", security(("bearer" = [])),
    params(("access_token" = Option<String>, Query, description = "The token, for EventSource (which cannot send headers)")),
    responses((status = 200, description = "Server-Sent Events: `event: wallboard`, data = the wallboard JSON, twice a second", content_type = "text/event-stream", body = WallboardView), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs a supervisor or wallboard token", body = ApiError), (status = 503, description = "`too_many_streams`: `http.max_streams` live streams are open", body = ApiError)))]
pub(crate) async fn wallboard_stream(
    State(state): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    may_watch_wallboard(&stream_caller(&state, &headers, &q)?)?;
    let place = stream_place(&state)?;
    let frames = WatchStream::new(state.live.subscribe()).take_while(|f| !f.closing);
    let events = frames.filter_map(move |f| {
        let _held = &place; // the stream's place is freed when the stream is dropped
        f.wallboard
            .clone()
            .map(|json| Ok(Event::default().event("wallboard").data(json)))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The calling agent's desk now.
#[utoipa::path(get, path = "/api/desk", tag = "agents", security(("bearer" = [])),
    responses((status = 200, description = "The agent's state and current call", body = DeskView), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs an agent's token", body = ApiError)))]
pub(crate) async fn desk(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Json<DeskView>, ApiError> {
    let agent = desk_agent(&caller(&state, &headers)?)?;
    let (_, desks) = build(&state.engine, &state.call_in, &state.internet).await?;
    desks
        .into_iter()
        .find(|d| d.agent.id == agent)
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_agent",
                format!("agent {agent} is not in agents.toml"),
            )
        })
}

/// The SIP credentials of the calling agent's own phone (the desk's browser phone registers
/// with them over `/ws`): the MD5 HA1, never the password; not cached.
#[utoipa::path(get, path = "/api/desk/phone", tag = "agents", security(("bearer" = [])),
    responses((status = 200, description = "The agent's SIP user, realm and MD5 HA1", body = crate::call::browser_leg::PhoneCredentials), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs an agent's token", body = ApiError), (status = 404, description = "`no_phone`: the agent has no MD5 credentials", body = ApiError)))]
pub(crate) async fn desk_phone(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let agent = desk_agent(&caller(&state, &headers)?)?;
    let creds = state
        .engine
        .phone_credentials(agent.clone())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_phone",
                format!("agent {agent} has no MD5 phone credentials in agents.toml"),
            )
        })?;
    let mut res = Json(creds).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store, private"),
    );
    Ok(res)
}

/// The calling agent's desk, pushed as `desk` events.
#[utoipa::path(get, path = "/api/desk/stream", tag = "agents", security(("bearer" = [])),
    params(("access_token" = Option<String>, Query, description = "The token, for EventSource (which cannot send headers)")),
    responses((status = 200, description = "Server-Sent Events: `event: desk`, data = the desk JSON, twice a second", content_type = "text/event-stream", body = DeskView), (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Needs an agent's token", body = ApiError), (status = 503, description = "`too_many_streams`: `http.max_streams` live streams are open", body = ApiError)))]
pub(crate) async fn desk_stream(
    State(state): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let agent = desk_agent(&stream_caller(&state, &headers, &q)?)?;
    let place = stream_place(&state)?;
    let frames = WatchStream::new(state.live.subscribe()).take_while(|f| !f.closing);
    let events = frames.filter_map(move |f| {
        let _held = &place; // the stream's place is freed when the stream is dropped
        f.desks
            .get(&agent)
            .cloned()
            .map(|json| Ok(Event::default().event("desk").data(json)))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// Whether `agent` is on call `c` as a further party (consulted, conferenced in): their desk
/// shows that call too.
fn assists(c: &LiveCall, agent: &str) -> bool {
    c.parties.iter().any(|p| {
        p.state != crate::call::record::PartyState::Left
            && matches!(&p.party, crate::call::record::PartyKind::Agent { agent: a } if a == agent)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Arc<Frame> {
        Arc::new(Frame {
            wallboard: Some("{}".into()),
            desks: HashMap::from([("1001".to_string(), "{}".to_string())]),
            closing: false,
        })
    }

    #[test]
    fn a_frame_nobody_watched_is_forgotten_before_the_next_page_subscribes() {
        let feed = feed();
        let page = feed.subscribe();
        feed.send_replace(frame());
        assert!(
            !forget_if_unwatched(&feed),
            "a page watches: keep publishing"
        );
        assert!(feed.borrow().wallboard.is_some());
        drop(page);
        assert!(forget_if_unwatched(&feed));
        let next = feed.subscribe();
        assert!(next.borrow().wallboard.is_none());
        assert!(next.borrow().desks.is_empty());
    }

    #[test]
    fn closing_is_never_forgotten() {
        let feed = feed();
        close(&feed);
        assert!(forget_if_unwatched(&feed));
        assert!(feed.subscribe().borrow().closing);
    }
}
