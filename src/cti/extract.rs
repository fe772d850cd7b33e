//! Request extractors whose refusals are API errors. axum's own `Json`, `Query` and `Bytes`
//! refuse in plain text; a client of this API reads `{"code", "message"}` for every error, so
//! these wrap them and keep axum's status (400, 413, 415, 422) with a stable code.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Json, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::cti::ApiError;

/// A JSON body; a malformed one is `400 bad_request`, a wrong shape `422 bad_request`, a missing
/// `Content-Type: application/json` `415 not_json`, one over the limit `413 body_too_large`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(json_error(&e)),
        }
    }
}

fn json_error(e: &JsonRejection) -> ApiError {
    let code = match e {
        JsonRejection::MissingJsonContentType(_) => "not_json",
        JsonRejection::BytesRejection(b) => return bytes_error(b),
        _ => "bad_request",
    };
    ApiError::new(e.status(), code, e.body_text())
}

/// A query string; one that does not parse is `400 bad_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(query_error(&e)),
        }
    }
}

fn query_error(e: &QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text())
}

/// A whole body as bytes, within axum's default limit (2 MiB); a larger one is
/// `413 body_too_large`.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(ApiBytes(b)),
            Err(e) => Err(bytes_error(&e)),
        }
    }
}

/// A JSON body as bytes, for routes that parse it themselves (to name the bad field): the
/// `Content-Type` must say JSON (`415 not_json`, as [`ApiJson`]), and the size is bounded as
/// [`ApiBytes`].
pub struct ApiJsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiJsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_json",
                "send the body with `Content-Type: application/json`",
            ));
        }
        let ApiBytes(b) = ApiBytes::from_request(req, state).await?;
        Ok(ApiJsonBytes(b))
    }
}

/// `application/json` or `application/<something>+json`, with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

fn bytes_error(e: &BytesRejection) -> ApiError {
    let status = e.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "body_too_large"
    } else {
        "bad_body"
    };
    ApiError::new(status, code, e.body_text())
}

/// The answer for a path no route serves: JSON, like every other API error.
pub async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        format!(
            "no route {}: /api/openapi.json lists them",
            uri.path().chars().take(200).collect::<String>()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("application/jsonx"));
        assert!(!is_json(""));
    }
}
