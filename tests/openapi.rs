//! The OpenAPI description: served at `/api/openapi.json`, valid 3.x JSON, and complete —
//! every route the routers in `src/cti/` register (read from their source, so a new route
//! without `#[utoipa::path]` fails here) is in `paths` with its method, and nothing else is.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{root, Engine};
use serde_json::Value;
use utoipa::OpenApi;

const METHODS: [&str; 7] = ["get", "post", "put", "delete", "patch", "head", "options"];

/// `(path, method)` of every `.route("…", get(…).post(…))` in the files under `dir`.
fn registered_routes(dir: &Path) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut files: Vec<_> = walk(dir);
    files.sort();
    for file in files {
        // The pages (`/`, `/desk`, `/assets/…`) are HTML, not the API.
        if file.ends_with("cti/web.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        for (start, _) in text.match_indices(".route(") {
            let args = balanced(&text[start + ".route(".len()..]);
            let path = args
                .split('"')
                .nth(1)
                .unwrap_or_else(|| panic!("{}: a route without a literal path", file.display()));
            let mut methods = 0;
            for m in METHODS {
                for (i, _) in args.match_indices(&format!("{m}(")) {
                    let before = args[..i].chars().last().unwrap_or(' ');
                    if !(before.is_alphanumeric() || before == '_') {
                        out.insert((path.to_string(), m.to_string()));
                        methods += 1;
                    }
                }
            }
            assert!(
                methods > 0,
                "{}: route {path} has no method",
                file.display()
            );
        }
        assert!(
            !text.contains(".nest(") && !text.contains(".route_service("),
            "{}: nested routers are not scanned; extend tests/openapi.rs",
            file.display()
        );
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            v.push(p);
        }
    }
    v
}

/// The text up to the `)` that closes an already-opened `(`.
fn balanced(s: &str) -> &str {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[..i];
                }
            }
            _ => {}
        }
    }
    s
}

/// API routes are documented; HTML pages and their assets (outside `/api/` and `/metrics`)
/// are for browsers and stay out of the description.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/metrics"
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((path.clone(), m.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_registered_route_is_described_and_nothing_else() {
    let doc = serde_json::to_value(hotline::cti::openapi::ApiDoc::openapi()).expect("json");
    let routes: BTreeSet<_> = registered_routes(&root().join("src/cti"))
        .into_iter()
        .filter(|(p, _)| is_api(p))
        .collect();
    assert!(
        routes.len() >= 18,
        "the scan found too few routes: {routes:?}"
    );
    let described = documented(&doc);
    let missing: Vec<_> = routes.difference(&described).collect();
    assert!(
        missing.is_empty(),
        "routes without #[utoipa::path] (add it and list the handler in cti/openapi.rs): {missing:?}"
    );
    let extra: Vec<_> = described.difference(&routes).collect();
    assert!(extra.is_empty(), "described but not routed: {extra:?}");
}

#[test]
fn the_schemas_say_what_the_api_does() {
    let doc = serde_json::to_value(hotline::cti::openapi::ApiDoc::openapi()).expect("json");
    let schemas = &doc["components"]["schemas"];
    // Errors: {code, message}, both required.
    let err = &schemas["ApiError"];
    let required: BTreeSet<_> = err["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, BTreeSet::from(["code", "message"]), "{err}");
    // Integrated numbers (issue 21): the number on calls, tickets and in the KPIs, and the
    // parameters that select one.
    for (schema, field) in [
        ("LiveCall", "called_name"),
        ("TicketView", "number"),
        ("ListItem", "number"),
        ("Wallboard", "by_number"),
        ("Wallboard", "number"),
        ("NumberRates", "last_24h"),
        ("WaitingCall", "called"),
        ("NumbersReport", "numbers"),
        ("NumberStats", "calls"),
    ] {
        let props = &schemas[schema]["properties"];
        assert!(props.get(field).is_some(), "{schema}.{field}: {props}");
    }
    let params = |path: &str| -> BTreeSet<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        params("/api/stats").contains("number"),
        "{:?}",
        params("/api/stats")
    );
    assert!(
        params("/api/tickets").contains("number"),
        "{:?}",
        params("/api/tickets")
    );
    assert!(params("/api/stats/numbers").contains("number"));
    // Reports carry C13's internet response figure, with its own schema.
    let ir = &schemas["InternetResponse"]["properties"];
    for field in ["received", "within_3_min", "late", "waiting", "rate"] {
        assert!(ir.get(field).is_some(), "InternetResponse.{field}: {ir}");
    }
    // The action body is tagged by `action`: one alternative per action, each naming itself.
    let variants = schemas["Action"]["oneOf"].as_array().expect("Action.oneOf");
    let names: BTreeSet<_> = variants
        .iter()
        .filter_map(|v| {
            let tag = &v["properties"]["action"];
            assert!(
                v["required"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|x| x == "action")),
                "{v}"
            );
            tag["enum"][0].as_str()
        })
        .collect();
    for name in [
        "accept", "dispatch", "sign", "feedback", "complete", "archive",
    ] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    assert_eq!(names.len(), variants.len(), "every variant names its tag");
    // Issue 15: who makes the callback, per ticket: chosen at `review_pass` or changed with
    // `set_callback_by`, `robot` or `agent`, and shown on the ticket.
    assert!(names.contains("set_callback_by"), "{names:?}");
    let text = serde_json::to_string(variants).expect("json");
    let maker = serde_json::to_string(&schemas["CallbackMaker"]).expect("json");
    assert!(
        maker.contains("\"robot\"") && maker.contains("\"agent\""),
        "CallbackMaker: {maker}"
    );
    for v in variants {
        let tag = v["properties"]["action"]["enum"][0].as_str().unwrap_or("");
        if tag == "review_pass" || tag == "set_callback_by" {
            let by = serde_json::to_string(&v["properties"]["callback_by"]).expect("json");
            assert!(
                by.contains("CallbackMaker"),
                "{tag}.callback_by: {by} in {text}"
            );
        }
    }
    // W3: a ticket shows who else was on its call; C12: the stats time the linkages; C16:
    // the monitoring audit's rows.
    let tv = &schemas["TicketView"]["properties"];
    assert!(
        tv.get("participation").is_some(),
        "TicketView.participation: {tv}"
    );
    assert!(
        serde_json::to_string(&tv["callback_by"])
            .expect("json")
            .contains("CallbackMaker"),
        "TicketView.callback_by: {tv}"
    );
    // The party's kind and id come from `CallParty`, flattened in.
    let p =
        serde_json::to_string(&(&schemas["Participation"], &schemas["CallParty"])).expect("json");
    for field in [
        "kind",
        "unit",
        "agent",
        "target",
        "call",
        "joined_at",
        "left_at",
    ] {
        assert!(
            p.contains(&format!("\"{field}\"")),
            "Participation.{field}: {p}"
        );
    }
    let wb = &schemas["Wallboard"]["properties"];
    assert!(
        wb.get("emergency_linkage").is_some(),
        "Wallboard.emergency_linkage: {wb}"
    );
    let sl = &schemas["ServiceLinkage"]["properties"];
    for field in ["service", "count", "median_s", "max_s"] {
        assert!(sl.get(field).is_some(), "ServiceLinkage.{field}: {sl}");
    }
    let mu = &schemas["MonitoringUse"]["properties"];
    for field in ["user", "mode", "call", "ticket", "joined_at", "left_at"] {
        assert!(mu.get(field).is_some(), "MonitoringUse.{field}: {mu}");
    }
    assert_eq!(
        doc["paths"]["/api/audit/monitoring"]["get"]["responses"]["403"]["content"]
            ["application/json"]["schema"]["$ref"],
        "#/components/schemas/ApiError"
    );
    // The bearer scheme, and the ticket routes require it.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["paths"]["/api/tickets"]["post"]["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some())));
    // Errors are answered with the error schema.
    assert_eq!(
        doc["paths"]["/api/tickets/{id}/actions"]["post"]["responses"]["409"]["content"]
            ["application/json"]["schema"]["$ref"],
        "#/components/schemas/ApiError"
    );
}

#[test]
fn the_engine_serves_it() {
    let engine = Engine::start("");
    let (status, body) = engine.get("/api/openapi.json");
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).expect("the description is JSON");
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert_eq!(doc["info"]["title"], "hotline");
    assert!(doc["paths"]["/metrics"]["get"].is_object());
}

/// The description passes `openapi-spec-validator` (PyPI; `.ci/test` installs it), as a
/// client generator or an API gateway would read it: unique operation ids, path parameters
/// that are in the path, schemas that resolve.
#[test]
fn an_independent_validator_accepts_it() {
    let doc =
        serde_json::to_string_pretty(&hotline::cti::openapi::ApiDoc::openapi()).expect("json");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc).expect("write");
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the description (not installed? run ./.ci/test):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_area_routes_and_fields_are_described() {
    // Issue 21: the area search, the area of a ticket, dispatch by area, hand-on, unit trees.
    let doc = serde_json::to_value(hotline::cti::openapi::ApiDoc::openapi()).expect("json");
    let schemas = &doc["components"]["schemas"];
    let areas = &doc["paths"]["/api/areas"]["get"];
    let params = serde_json::to_string(&areas["parameters"]).expect("json");
    assert!(
        params.contains("\"q\"") && params.contains("\"limit\""),
        "{params}"
    );
    assert!(areas["responses"]["400"].is_object(), "{areas}");
    for field in ["code", "name", "level", "parent", "path"] {
        assert!(
            schemas["AreaView"]["properties"].get(field).is_some(),
            "AreaView.{field}"
        );
    }
    let cats =
        serde_json::to_string(&doc["paths"]["/api/dispatch/categories"]["get"]["parameters"])
            .expect("json");
    assert!(cats.contains("\"area\""), "{cats}");
    for (schema, field) in [
        ("CreateTicket", "area_code"),
        ("TicketView", "area_code"),
        ("TicketView", "area_path"),
        ("AssignmentView", "handed_from"),
        ("Unit", "kind"),
        ("Unit", "area"),
        ("Unit", "parent"),
        ("Category", "lead"),
    ] {
        assert!(
            schemas[schema]["properties"].get(field).is_some(),
            "{schema}.{field}: {}",
            schemas[schema]
        );
    }
    let kind = serde_json::to_string(&schemas["UnitKind"]).expect("json");
    assert!(kind.contains("\"utility\""), "{kind}");
    let variants = schemas["Action"]["oneOf"].as_array().expect("Action.oneOf");
    let field_of = |tag: &str, field: &str| {
        variants.iter().any(|v| {
            v["properties"]["action"]["enum"][0] == tag && v["properties"].get(field).is_some()
        })
    };
    assert!(field_of("hand_on", "unit") && field_of("hand_on", "reason"));
    assert!(field_of("complete", "area_code") && field_of("classify", "area_code"));
}
