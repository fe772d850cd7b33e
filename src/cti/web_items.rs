//! The agent's answer to a web work item offered on the desk (C13). Accepting is the ticket's
//! first response: the ACD counts the item as the agent's, then the ticket's `accept` is
//! committed in the agent's name. Declining passes the item to the next agent. Every committed
//! action on an internet ticket is told to the engine, so an item handled on the ticket page
//! leaves the queue and one its agent finished frees their capacity.

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::agents::own_agent;
use super::tickets::{who, TicketApi};
use crate::acd::core::AcdError;
use crate::call::web_items::TicketStage;
use crate::cti::ticket_views::TicketView;
use crate::cti::ApiError;
use crate::shell::engine::WebItemCommand;
use crate::workflow::model::Channel;
use crate::workflow::ticket::TicketState;
use crate::workflow::{Action, Ticket, TicketId};

/// The desk's answer routes.
pub fn router(api: TicketApi) -> Router {
    Router::new()
        .route("/api/agents/{id}/items/{ticket}/accept", post(accept))
        .route("/api/agents/{id}/items/{ticket}/decline", post(decline))
        .with_state(api)
}

/// Where a ticket stands for the ACD.
pub fn stage_of(t: &Ticket) -> TicketStage {
    match t.state {
        TicketState::Received { .. } => TicketStage::Received,
        TicketState::Accepted { .. } => TicketStage::Accepted,
        _ => TicketStage::Beyond,
    }
}

impl TicketApi {
    /// Tells the engine what became of an internet ticket (phone tickets are not items).
    pub(crate) fn web_ticket_changed(&self, t: &Ticket) {
        if matches!(t.intake.channel, Channel::Phone | Channel::Sms) {
            return;
        }
        let Some(engine) = &self.engine else {
            return;
        };
        let cmd = WebItemCommand::TicketChanged {
            id: t.id.0.clone(),
            stage: stage_of(t),
        };
        // A full command queue must not lose the change (the agent's capacity would stay
        // taken): wait for room off the request's path.
        if let Some(cmd) = engine.try_web_item(cmd) {
            let engine = engine.clone();
            tokio::spawn(async move {
                if engine.web_item_wait(cmd).await.is_err() {
                    tracing::debug!("engine stopped before a web item's change reached it");
                }
            });
        }
    }
}

/// Only the agent themself answers an offer on their desk.
fn the_agent(
    api: &TicketApi,
    headers: &HeaderMap,
    agent: &str,
) -> Result<crate::workflow::model::Actor, ApiError> {
    let actor = who(api, headers)?;
    if own_agent(&actor) == Some(agent) {
        Ok(actor)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("only agent {agent} answers the web items offered to them"),
        ))
    }
}

fn refused(e: AcdError) -> ApiError {
    let (status, code) = match &e {
        AcdError::UnknownAgent(_) => (StatusCode::NOT_FOUND, "unknown_agent"),
        _ => (StatusCode::CONFLICT, "not_offered"),
    };
    ApiError::new(status, code, e.to_string())
}

fn engine_of(api: &TicketApi) -> Result<&crate::shell::engine::EngineHandle, ApiError> {
    api.engine.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_engine",
            "web items are routed by the engine, which does not run here",
        )
    })
}

/// Accept the web request offered on the agent's desk: C13's first response.
#[utoipa::path(post, path = "/api/agents/{id}/items/{ticket}/accept", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Agent id"), ("ticket" = String, Path, description = "The offered ticket")),
    responses((status = 200, description = "Accepted: the ticket, now the agent's", body = TicketView),
        (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Not this agent", body = ApiError),
        (status = 409, description = "Not offered to this agent (any more), or the ticket was handled meanwhile", body = ApiError),
        (status = 503, description = "The engine is shutting down", body = ApiError)))]
async fn accept(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    UrlPath((agent, ticket)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let actor = the_agent(&api, &headers, &agent)?;
    let engine = engine_of(&api)?;
    engine
        .answer_web_item(ticket.clone(), agent.clone(), true)
        .await?
        .map_err(refused)?;
    let now = (api.clock)();
    let id = TicketId(ticket);
    let id_again = id.clone();
    let a = actor.clone();
    let done = api
        .worker()
        .call(move |s, wf| {
            let t = wf.act(s, &id, None, &a, &Action::Accept { note: None }, now)?;
            let actions = wf.rules().available_actions(&t, &a, now);
            Ok((t, actions))
        })
        .await;
    api.worker().metrics().outcome("accept", &done);
    match done {
        Ok((t, actions)) => {
            tracing::info!(id = %t.id, agent, "web request accepted from the desk");
            api.web_ticket_changed(&t);
            Ok(Json(TicketView::for_reader(&t, now, actions, &actor)).into_response())
        }
        Err(e) => {
            // Handled meanwhile (or gone): the ACD learns where the ticket is, the desk why.
            let again = id_again.clone();
            match api.worker().call(move |s, wf| wf.load(s, &again)).await {
                Ok(t) => api.web_ticket_changed(&t),
                Err(_) => {
                    let _ = engine
                        .web_item_wait(WebItemCommand::TicketChanged {
                            id: id_again.0,
                            stage: TicketStage::Beyond,
                        })
                        .await;
                }
            }
            Err(e.into())
        }
    }
}

/// Pass the offered web request on to the next agent.
#[utoipa::path(post, path = "/api/agents/{id}/items/{ticket}/decline", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Agent id"), ("ticket" = String, Path, description = "The offered ticket")),
    responses((status = 204, description = "Passed on"),
        (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Not this agent", body = ApiError),
        (status = 409, description = "Not offered to this agent (any more)", body = ApiError),
        (status = 503, description = "The engine is shutting down", body = ApiError)))]
async fn decline(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    UrlPath((agent, ticket)): UrlPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    the_agent(&api, &headers, &agent)?;
    engine_of(&api)?
        .answer_web_item(ticket, agent, false)
        .await?
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}
