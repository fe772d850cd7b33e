//! Attachments over HTTP: a handling unit uploads the files of its reply (W11) and names them
//! in its `feedback` action; reviewers download them. `POST /api/tickets/{id}/attachments?name=`
//! takes the raw bytes (up to 20 MiB) and answers `{name, sha256, size}`;
//! `GET /api/tickets/{id}/attachments/{sha256}` gives the file back. Only who may see the
//! ticket may do either; an archived ticket takes no new files.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::tickets::{may_see, who, TicketApi};
use crate::cti::extract::ApiQuery;
use crate::cti::ApiError;
use crate::shell::attachments::{AttachmentError, StoredAttachment, MAX_BYTES};
use crate::workflow::ticket::TicketState;
use crate::workflow::TicketId;

/// The attachment routes.
pub fn router(api: TicketApi) -> Router {
    Router::new()
        .route(
            "/api/tickets/{id}/attachments",
            // The handler reads the body itself, within MAX_BYTES, once the caller is known.
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/tickets/{id}/attachments/{sha256}", get(download))
        .with_state(api)
}

/// `?name=` of an upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, shown to people (e.g. `支付凭证.pdf`).
    name: Option<String>,
}

fn error(e: AttachmentError) -> ApiError {
    match e {
        AttachmentError::Empty => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_file",
            e.to_string(),
        ),
        AttachmentError::TooLarge { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            e.to_string(),
        ),
        AttachmentError::BadHash(_) | AttachmentError::NotFound => {
            ApiError::new(StatusCode::NOT_FOUND, "no_such_attachment", e.to_string())
        }
        AttachmentError::Io { ref source, .. } if crate::shell::metrics::is_disk_full(source) => {
            tracing::warn!(error = %e, "attachment store: the disk is full");
            ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                "the data folder is full; nothing was saved — retry once the operator has freed space",
            )
        }
        AttachmentError::Io { .. } => {
            tracing::error!(error = %e, "attachment store");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store_failed",
                "the file could not be stored",
            )
        }
    }
}

/// Checks the caller may see ticket `id`; answers whether it is archived.
async fn visible(api: &TicketApi, headers: &HeaderMap, id: &str) -> Result<bool, ApiError> {
    let actor = who(api, headers)?;
    let tid = TicketId(id.to_string());
    let t = api.worker().call(move |s, wf| wf.load(s, &tid)).await?;
    may_see(&actor, &t)?;
    Ok(matches!(t.state, TicketState::Archived { .. }))
}

/// Stores a file for a ticket.
#[utoipa::path(post, path = "/api/tickets/{id}/attachments", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes (at most 20 MiB)"),
    responses((status = 201, description = "Stored; name it in the `feedback` action's `attachments`", body = StoredAttachment),
        (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Not this unit's ticket", body = ApiError),
        (status = 404, description = "No such ticket", body = ApiError), (status = 409, description = "The ticket is archived", body = ApiError),
        (status = 413, description = "Larger than 20 MiB", body = ApiError), (status = 422, description = "Empty file", body = ApiError),
        (status = 507, description = "The data folder is full (`storage_full`): nothing was saved", body = ApiError)))]
pub(crate) async fn upload(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    // Who asks is checked before the body is read: a caller without a token must not make
    // the server buffer 20 MiB first.
    if visible(&api, &headers, &id).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "archived",
            "the ticket is archived (W18): nothing can be added",
        ));
    }
    let body = axum::body::to_bytes(body, MAX_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("a file may have at most {MAX_BYTES} bytes (or its upload broke off)"),
        )
    })?;
    let store = api.attachments().clone();
    let name = q.name.unwrap_or_default();
    let ticket = id.clone();
    let stored = tokio::task::spawn_blocking(move || store.save(&ticket, &name, &body))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store_failed",
                "the file could not be stored",
            )
        })?
        .map_err(error)?;
    tracing::info!(ticket = %id, sha256 = %stored.sha256, size = stored.size, "attachment stored");
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

/// A ticket's file, by its SHA-256.
#[utoipa::path(get, path = "/api/tickets/{id}/attachments/{sha256}", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path, description = "Ticket id"), ("sha256" = String, Path, description = "The file's SHA-256")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "No or unknown token", body = ApiError), (status = 403, description = "Not this unit's ticket", body = ApiError),
        (status = 404, description = "No such ticket or file", body = ApiError)))]
pub(crate) async fn download(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    UrlPath((id, sha256)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    visible(&api, &headers, &id).await?;
    let store = api.attachments().clone();
    let bytes = tokio::task::spawn_blocking(move || store.read(&id, &sha256))
        .await
        .map_err(|_| error(AttachmentError::NotFound))?
        .map_err(error)?;
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    Ok(res)
}
