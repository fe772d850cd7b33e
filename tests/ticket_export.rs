//! Data sharing (issue 17): two data-sharing consumers of `config/users.toml` export the same
//! tickets from the running engine; each export masks what its consumer's configuration says
//! (names, numbers, addresses masked, numbers inside the content masked, a class shown whole
//! only where configured), streams JSON lines or CSV, refuses fields outside the
//! configuration, and is audited with who, when, which days and which fields.

mod common;

use common::{http_request, Engine};

fn lines(body: &str) -> Vec<serde_json::Value> {
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn exports_mask_what_each_consumers_configuration_says_and_are_audited() {
    let engine = Engine::start("");
    for (name, phone, content) in [
        (
            "张三丰",
            "13812345678",
            "路灯不亮，请回电13812345678，幸福路3号",
        ),
        ("欧阳娜娜", "13900001111", "噪音扰民"),
    ] {
        let body = serde_json::json!({
            "channel": "phone", "caller": {"name": name, "phone": phone},
            "area": "和平区", "location": "幸福路18号院", "content": content,
            "urgency": "non_urgent", "type": "help", "domain": "public_service"
        });
        let (status, text) = http_request(
            engine.http,
            "POST",
            "/api/tickets",
            Some("demo-agent-1001"),
            Some(&body.to_string()),
        );
        assert_eq!(status, 201, "{text}");
    }
    let export = |token: &str, query: &str| {
        http_request(
            engine.http,
            "GET",
            &format!("/api/export/tickets{query}"),
            Some(token),
            None,
        )
    };

    // The statistics bureau: every configured field; addresses whole, the rest masked.
    let (status, body) = export("demo-data-sharing", "");
    assert_eq!(status, 200, "{body}");
    let rows = lines(&body);
    assert_eq!(rows.len(), 2, "{body}");
    let first = rows
        .iter()
        .find(|r| r["caller_phone"] == "138******78")
        .unwrap_or_else(|| panic!("the number masked: {body}"));
    assert_eq!(first["caller_name"], "张**", "{first}");
    assert_eq!(
        first["location"], "幸福路18号院",
        "address shown whole: {first}"
    );
    assert_eq!(
        first["content"], "路灯不亮，请回电***********，幸福路3号",
        "{first}"
    );
    assert_eq!(first["area"], "和平区");
    assert_eq!(first["type"], "help");
    // The keys come in the configured order.
    assert!(body.starts_with("{\"id\":"), "{body}");
    assert!(
        !body.contains("13812345678") && !body.contains("张三丰"),
        "{body}"
    );

    // The planning office: its four fields only, everything masked, as CSV.
    let (status, body) = export("demo-data-sharing-strict", "?format=csv");
    assert_eq!(status, 200, "{body}");
    let mut csv = body.lines();
    assert_eq!(csv.next(), Some("id,area,content,caller_phone"));
    let rest: Vec<&str> = csv.collect();
    assert_eq!(rest.len(), 2, "{body}");
    assert!(
        rest.iter()
            .any(|l| l.ends_with(",和平区,噪音扰民,139******11")),
        "{body}"
    );
    assert!(
        !body.contains("幸福路18号院") && !body.contains("13812345678"),
        "{body}"
    );
    // A field outside its configuration is refused; an unknown one too; and a range.
    assert_eq!(
        export("demo-data-sharing-strict", "?fields=id,location").0,
        403
    );
    assert_eq!(
        export("demo-data-sharing-strict", "?fields=password").0,
        400
    );
    let (status, body) = export("demo-data-sharing", "?fields=id,caller_phone");
    assert_eq!(status, 200);
    assert!(
        lines(&body)
            .iter()
            .all(|r| r.as_object().map(|o| o.len()) == Some(2)),
        "{body}"
    );
    let (status, body) = export("demo-data-sharing", "?from=2020-01-01&to=2020-01-31");
    assert_eq!((status, body.as_str()), (200, ""));

    // Only data-sharing tokens export; their tokens open nothing else.
    assert_eq!(export("demo-supervisor", "").0, 403);
    assert_eq!(export("demo-agent-1001", "").0, 403);
    for path in ["/api/tickets", "/api/stats", "/api/calls", "/api/agents"] {
        let (status, _) = http_request(engine.http, "GET", path, Some("demo-data-sharing"), None);
        assert_eq!(status, 403, "{path}");
    }

    // Counted in /metrics: four exports, the refusals by code.
    let (_, metrics) = engine.get("/metrics");
    for (line, n) in [
        (
            "hotline_ticket_transitions_total{action=\"export_tickets\"}",
            4,
        ),
        (
            "hotline_ticket_refusals_total{code=\"field_not_allowed\"}",
            1,
        ),
        ("hotline_ticket_refusals_total{code=\"bad_fields\"}", 1),
        ("hotline_ticket_refusals_total{code=\"wrong_role\"}", 2),
    ] {
        assert!(
            metrics.lines().any(|l| l == format!("{line} {n}")),
            "{line} {n} in:\n{metrics}"
        );
    }
    // Every export was audited, newest first: who, which days, which fields, which format.
    let (status, body) = engine.get("/api/audit/exports");
    assert_eq!(status, 200, "{body}");
    let audit: serde_json::Value = serde_json::from_str(&body).expect("json");
    let audit = audit.as_array().expect("list");
    // Four exports went out (the three refused ones did not).
    assert_eq!(audit.len(), 4, "{body}");
    assert_eq!(audit[0]["user"], "statistics-bureau");
    assert_eq!(audit[0]["from"], "2020-01-01");
    assert_eq!(audit[0]["to"], "2020-01-31");
    let strict = audit
        .iter()
        .find(|a| a["user"] == "planning-office")
        .expect("the planning office's export");
    assert_eq!(
        strict["fields"],
        serde_json::json!(["id", "area", "content", "caller_phone"])
    );
    assert_eq!(strict["format"], "csv");
    assert_eq!(
        http_request(
            engine.http,
            "GET",
            "/api/audit/exports",
            Some("demo-data-sharing"),
            None
        )
        .0,
        403
    );
}
