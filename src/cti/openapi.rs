//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the HTTP API, generated at
//! compile time by `utoipa` from the handlers' `#[utoipa::path]` attributes and the
//! request/response types' `ToSchema` derives, so it cannot drift from the code.
//! `tests/openapi.rs` fails when a route registered in `src/cti/` is missing here.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The whole API. Add every new handler to `paths(...)`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hotline",
        description = "HTTP API of the hotline engine (12345 government-service hotline): live calls, agents, KPIs, tickets (诉求工单), metrics. Errors are `{\"code\", \"message\"}` (`ApiError`). Tokens: `config/users.toml`, sent as `Authorization: Bearer <token>`.",
        license(name = "Apache-2.0")
    ),
    paths(
        super::health,
        super::live_calls,
        super::calls::recent_calls,
        super::calls::export_calls,
        super::stats,
        super::metrics::metrics,
        openapi_json,
        super::agents::list,
        super::agents::set_state,
        super::agents::wrap_up_done,
        super::agents::transfer,
        super::agents::hold,
        super::parties::add,
        super::parties::drop_party,
        super::parties::join,
        super::parties::hand_over,
        super::parties::leave,
        super::parties::monitor,
        super::web_items::accept,
        super::web_items::decline,
        super::tickets::create,
        super::tickets::list,
        super::tickets::show,
        super::tickets::act,
        super::tickets::sweep_now,
        super::areas_api::categories,
        super::tickets::units,
        super::areas_api::search,
        super::areas_api::public_search,
        super::tickets::report,
        super::tickets::me,
        super::audit::reads,
        super::audit::monitoring,
        super::stats_api::agents,
        super::analytics_api::trends,
        super::analytics_api::warnings,
        super::stats_api::queues,
        super::stats_api::numbers,
        super::staffing_api::staffing,
        super::surge_api::read,
        super::surge_api::set,
        super::conformance_api::conformance,
        super::export_api::export_tickets,
        super::export_api::exports,
        super::attachments::upload,
        super::attachments::download,
        super::live::wallboard,
        super::live::wallboard_stream,
        super::live::desk,
        super::live::desk_stream,
        super::live::desk_phone,
        super::public::submit,
        super::public_follow::lookup,
        super::public_follow::upload,
        super::public_follow::rate,
        super::public::connector,
        super::kb::search,
        super::kb::public_search,
        super::kb::list,
        super::kb::create,
        super::kb::show,
        super::kb::edit,
        super::kb::version,
        super::kb::submit,
        super::kb::approve,
        super::kb::send_back,
        super::kb::withdraw,
        super::kb::import,
        super::kb::export,
        super::kb::sweep_now,
        super::kb::stats,
    ),
    components(schemas(super::ApiError)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health, KPIs, metrics, this description"),
        (name = "calls", description = "Live calls, call records, transfer"),
        (name = "agents", description = "Agent states"),
        (name = "tickets", description = "The ticket workflow (docs/WORKFLOW.md)"),
        (name = "dispatch", description = "The dispatch catalogue"),
        (name = "knowledge", description = "The knowledge base (issue 16; docs/KB.md): items, review, versions, search, import/export"),
        (name = "public", description = "The internet channel (issue 13): citizens' requests without an account, their lookup and rating, and the platforms' connector"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the ticket and agent routes name in `security`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from config/users.toml"))
                    .build(),
            ),
        );
    }
}

/// `GET /api/openapi.json`.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "This description (OpenAPI 3.1)", body = Object)))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
