//! `GET /api/areas?q=` (search the area tree by part of a name; each hit with its path
//! `city › district › street`) and `GET /api/dispatch/categories` (suggested categories, with
//! the units each goes to in an `area`).
//! Translates HTTP only: the tree and the resolution are the workflow's.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::ApiQuery;
use super::ticket_views::CategoryList;
use super::tickets::{who, TicketApi};
use super::ApiError;
use crate::workflow::areas::{Area, AreaLevel, AreaTree};
use crate::workflow::catalogue::{Category, DispatchCatalogue};

/// The most hits one search returns (a person picks from a short list, then types more).
pub const MAX_AREA_HITS: usize = 50;
/// The longest query, in characters (an area's name is short).
const MAX_QUERY_CHARS: usize = 50;

/// Query string of `GET /api/areas`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AreaParams {
    /// Part of an area's name (e.g. `滨江`), or the start of its code; empty: the top of the
    /// tree first.
    q: Option<String>,
    /// At most this many hits (1–50, default 20).
    limit: Option<usize>,
}

/// One area of the tree, with its path for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaView {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The names from the city down to this area, joined by ` › `.
    pub path: String,
}

/// The answer of `GET /api/areas`: the hits, shallowest first, then by code.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaList {
    pub areas: Vec<AreaView>,
}

impl AreaView {
    fn new(tree: &AreaTree, a: &Area) -> Self {
        Self {
            code: a.code.clone(),
            name: a.name.clone(),
            level: a.level,
            parent: a.parent.clone(),
            path: tree.path_name(&a.code).unwrap_or_else(|| a.name.clone()),
        }
    }
}

/// Areas whose name contains `q`, each with its path (for the desk's and the pages' pickers).
#[utoipa::path(get, path = "/api/areas", tag = "dispatch", security(("bearer" = [])),
    params(AreaParams),
    responses((status = 200, description = "Matching areas with their paths", body = AreaList), (status = 400, description = "Malformed query", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError)))]
pub(crate) async fn search(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<AreaParams>,
) -> Result<Response, ApiError> {
    who(&api, &headers)?;
    let wf = api.worker().workflow();
    answer(wf.catalogue.areas(), p)
}

/// The same search for the citizen's request page, without a token: the area tree is public
/// (names and codes of administrative divisions). Each address shares the lookup limit of
/// `[public]` (`429 rate_limited` with `Retry-After`, counted in
/// `hotline_public_refused_total`), and each answer is bounded in size.
#[utoipa::path(get, path = "/api/public/areas", operation_id = "public_areas", tag = "public",
    params(AreaParams),
    responses((status = 200, description = "Matching areas with their paths", body = AreaList), (status = 400, description = "Malformed query", body = ApiError), (status = 404, description = "`disabled`: the public channel is off", body = crate::cti::public::PublicErrorBody), (status = 429, description = "`rate_limited` (with Retry-After)", body = crate::cti::public::PublicErrorBody)))]
pub(crate) async fn public_search(
    State(api): State<super::public::PublicApi>,
    req: axum::extract::Request,
) -> Response {
    let q = super::public::page_query(req.uri());
    let lang = super::public::lang_of(&q, req.headers());
    let ip = super::public::peer(req.extensions());
    if let Err(r) = super::public_follow::lookup_allowed(&api, ip) {
        return super::public::fail(&api, lang, r, None);
    }
    let p = match axum::extract::Query::<AreaParams>::try_from_uri(req.uri()) {
        Ok(axum::extract::Query(p)) => p,
        Err(e) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())
                .into_response()
        }
    };
    let wf = api.tickets.worker().workflow();
    answer(wf.catalogue.areas(), p).unwrap_or_else(IntoResponse::into_response)
}

fn answer(tree: &AreaTree, p: AreaParams) -> Result<Response, ApiError> {
    let q = p.q.unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("`q` is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let limit = p.limit.unwrap_or(20).clamp(1, MAX_AREA_HITS);
    Ok(Json(AreaList {
        areas: tree
            .search(&q, limit)
            .into_iter()
            .map(|a| AreaView::new(tree, a))
            .collect(),
    })
    .into_response())
}

/// The area named by a query parameter, or 400 `unknown_area`.
pub(crate) fn known_area<'a>(
    cat: &DispatchCatalogue,
    code: Option<&'a str>,
) -> Result<Option<&'a str>, ApiError> {
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if cat.areas().get(c).is_none() => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_area",
            format!("unknown area `{c}` (not in the area tree): search `GET /api/areas?q=` for its code"),
        )),
        c => Ok(c),
    }
}

/// The category as it is dispatched in `area`: its lead and assisting units resolved up the
/// tree (unchanged without an area).
pub(crate) fn for_area(cat: &DispatchCatalogue, c: &Category, area: Option<&str>) -> Category {
    let mut c = c.clone();
    if let Some(r) = area.and_then(|a| cat.resolve(&c.id, Some(a))) {
        c.lead = Some(r.lead);
        c.assisting = r.assisting;
    }
    c
}

/// Query string of `GET /api/dispatch/categories`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CategoryParams {
    /// Request text to suggest categories for (keywords).
    q: Option<String>,
    domain: Option<String>,
    /// An area code: each category's `lead` and `assisting` are then the units it goes to
    /// in that area (dispatch by area, up the tree to the city-level units); unknown: 400.
    area: Option<String>,
}

/// The dispatch catalogue's categories (suggested for `q`, or all) and the domains.
#[utoipa::path(get, path = "/api/dispatch/categories", tag = "dispatch", security(("bearer" = [])),
    params(CategoryParams),
    responses((status = 200, description = "Categories", body = CategoryList), (status = 400, description = "Malformed JSON, query or action", body = ApiError), (status = 401, description = "No or unknown token", body = ApiError)))]
pub(crate) async fn categories(
    State(api): State<TicketApi>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<CategoryParams>,
) -> Result<Response, ApiError> {
    who(&api, &headers)?;
    let wf = api.worker().workflow();
    let cat = &wf.catalogue;
    let list: Vec<_> = match &p.q {
        Some(q) => cat.suggest(q),
        None => cat.categories().collect(),
    };
    let list: Vec<_> = list
        .into_iter()
        .filter(|c| p.domain.as_ref().is_none_or(|d| &c.domain.0 == d))
        .collect();
    let area = known_area(cat, p.area.as_deref())?;
    Ok(Json(CategoryList {
        categories: list.into_iter().map(|c| for_area(cat, c, area)).collect(),
        domains: cat.domains().map(str::to_string).collect(),
    })
    .into_response())
}
