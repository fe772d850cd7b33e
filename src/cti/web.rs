//! The pages people use, compiled into the binary from `web/` (no Node toolchain to build or
//! run them): the wallboard at `/`, the agent desktop at `/desk`, the ticket desk at
//! `/tickets`. Plain HTML, CSS and JavaScript modules; data comes from the JSON API and the
//! live streams, with the user's token kept in the browser's session storage.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
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

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: CSS,
        body: include_str!("../../web/app.css"),
    },
    Asset {
        name: "common.js",
        content_type: JS,
        body: include_str!("../../web/common.js"),
    },
    Asset {
        name: "i18n.js",
        content_type: JS,
        body: include_str!("../../web/i18n.js"),
    },
    Asset {
        name: "wallboard.js",
        content_type: JS,
        body: include_str!("../../web/wallboard.js"),
    },
    Asset {
        name: "desk.js",
        content_type: JS,
        body: include_str!("../../web/desk.js"),
    },
    Asset {
        name: "tickets.js",
        content_type: JS,
        body: include_str!("../../web/tickets.js"),
    },
];

const PAGES: &[(&str, &str)] = &[
    ("/", include_str!("../../web/index.html")),
    ("/desk", include_str!("../../web/desk.html")),
    ("/tickets", include_str!("../../web/tickets.html")),
];

/// The page routes and `/assets/{name}`.
pub fn router() -> Router {
    let mut r = Router::new().route("/assets/{name}", get(asset));
    for (path, body) in PAGES {
        r = r.route(path, get(move || async move { respond(HTML, body) }));
    }
    r
}

fn respond(content_type: &'static str, body: &'static str) -> Response {
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
        for (path, body) in PAGES {
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
