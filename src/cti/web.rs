//! The pages people use, compiled into the binary from `web/` (no Node toolchain to build or
//! run them): the wallboard at `/`, the agent desktop at `/desk`, the ticket desk at
//! `/tickets`, the supervisors' reports at `/reports`, trends and warnings at `/analytics`,
//! the knowledge page at `/knowledge`; and the citizen's public pages, `/request` (here) and
//! `/request/status` (served by the public routes, which render a lookup into it), filled in
//! on the server (language, elderly mode) so that they work without JavaScript. Plain HTML,
//! CSS and JavaScript modules; data comes from the JSON API and the live streams, with the
//! user's token kept in the browser's session storage.

pub mod request_pages;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file: its name under `/assets/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

/// An embedded file of `web/`.
macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("../../web/", $name)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("app.css", CSS),
    asset!("common.js", JS),
    asset!("i18n.js", JS),
    asset!("wallboard.js", JS),
    asset!("wallboard.css", CSS),
    asset!("board-fit.js", JS),
    asset!("board-i18n.js", JS),
    asset!("analytics.js", JS),
    asset!("desk.js", JS),
    asset!("phone.js", JS),
    // JsSIP 3.13.8, vendored and pinned (MIT; web/jssip.LICENSE.txt): the desk's phone.
    asset!("jssip.js", JS),
    asset!("desk-parties.js", JS),
    asset!("desk-kb.js", JS),
    asset!("desk-area.js", JS),
    asset!("tickets.js", JS),
    asset!("reports.js", JS),
    asset!("staffing.js", JS),
    asset!("knowledge.js", JS),
    asset!("request.css", CSS),
    asset!("request.js", JS),
    asset!("request-status.js", JS),
    Asset {
        name: "request-i18n.js",
        content_type: JS,
        body: request_pages::STRINGS_JS,
    },
];

const PAGES: &[(&str, &str)] = &[
    ("/", include_str!("../../web/index.html")),
    ("/desk", include_str!("../../web/desk.html")),
    ("/tickets", include_str!("../../web/tickets.html")),
    ("/reports", include_str!("../../web/reports.html")),
    ("/analytics", include_str!("../../web/analytics.html")),
    ("/knowledge", include_str!("../../web/knowledge.html")),
];

/// The page routes and `/assets/{name}`; all public (the staff pages sign in from script).
pub fn router() -> Router {
    let mut r = Router::new()
        .route("/assets/{name}", get(asset))
        .route("/request", get(request_form));
    for (path, body) in PAGES {
        r = r.route(path, get(move || async move { respond(HTML, *body) }));
    }
    r
}

/// `/request`: the form in the language and mode the address (or the browser) asks for.
async fn request_form(uri: Uri, headers: HeaderMap) -> Response {
    let mode = request_pages::PageMode::from_request(&request_pages::query_of(&uri), &headers);
    citizen_page(request_pages::request_page(mode, None))
}

/// A citizen's page: its words follow `Accept-Language`, and a query code in the address
/// must not be kept by shared caches.
pub fn citizen_page(body: String) -> Response {
    let mut res = respond(HTML, body);
    let h = res.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    res
}

fn respond(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Pages change with the binary: always revalidate. Scripts only from here.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => respond(a.content_type, a.body),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_a_page_loads_is_embedded() {
        let citizen = [
            ("/request", request_pages::REQUEST_HTML),
            ("/request/status", request_pages::STATUS_HTML),
            ("the citizen's frame", request_pages::FRAME_HTML),
        ];
        for (path, body) in PAGES.iter().chain(citizen.iter()) {
            for part in body.split("/assets/").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                    .collect();
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{path} loads /assets/{name}, which is not embedded"
                );
            }
            assert!(
                !body.contains("<script>"),
                "{path}: no inline scripts (CSP)"
            );
        }
    }
}
