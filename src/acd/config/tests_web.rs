//! The internet channel's configuration: web queues, `[web]` routing and agents' web capacity.

use super::*;

const AGENTS: &str = include_str!("../../../config/agents.toml");
const QUEUES: &str = include_str!("../../../config/queues.toml");

fn parse(agents: &str, queues: &str) -> Result<AcdConfig, Vec<String>> {
    AcdConfig::parse(
        agents,
        Path::new("agents.toml"),
        queues,
        Path::new("queues.toml"),
    )
    .map_err(|e| e.iter().map(|e| e.to_string()).collect())
}

const ONE_AGENT: &str = "[[agent]]\nid = \"1\"\nname = \"A\"\npassword = \"secret-123\"\nskills = [{ skill = \"general\", level = 3 }, { skill = \"enterprise\", level = 3 }]\n";
const TWO_QUEUES: &str = "[[queue]]\nname = \"general\"\nskill = \"general\"\n\n[[queue]]\nname = \"enterprise\"\nskill = \"enterprise\"\n";
/// Lines 8–11.
const WEB_QUEUE: &str = "\n[[queue]]\nname = \"web\"\nchannel = \"web\"\nskill = \"general\"\n";

#[test]
fn shipped_config_has_web_queues_routes_and_capacity() {
    let c = parse(AGENTS, QUEUES).expect("shipped ACD config is valid");
    assert_eq!(c.web_queue_names(), ["web", "web_enterprise"]);
    assert!(
        !c.queue_names().contains(&"web".to_string()),
        "IVR never sees web queues"
    );
    assert_eq!(c.enterprise_queues(), ["enterprise"]);
    assert_eq!(c.web.response_deadline, Duration::from_secs(180));
    assert_eq!(c.web.alarm_after, Duration::from_secs(150));
    let web = c.queues.iter().find(|q| q.name == "web").unwrap();
    assert_eq!(web.channel, QueueChannel::Web);
    assert_eq!(web.offer_timeout, Duration::from_secs(30));
    assert_eq!(web.expand.len(), 2);
    assert!(c.agents.iter().all(|a| a.web_capacity == 2));
    assert_eq!(
        c.web_queue_for("consultation", "我们公司的营业执照怎么年检?"),
        Some("web_enterprise")
    );
    assert_eq!(c.web_queue_for("help", "路灯坏了"), Some("web"));
}

#[test]
fn routes_match_by_type_and_keywords_first_match_wins() {
    let queues = format!(
        "{TWO_QUEUES}{WEB_QUEUE}\n[[queue]]\nname = \"wc\"\nchannel = \"web\"\nskill = \"general\"\n\n[[queue]]\nname = \"wk\"\nchannel = \"web\"\nskill = \"enterprise\"\n\n[web]\nalarm_after = \"1m\"\n\n[[web.route]]\ntype = \"complaint\"\nkeywords = [\"Noise\"]\nqueue = \"wk\"\n\n[[web.route]]\ntype = \"complaint\"\nqueue = \"wc\"\n\n[[web.route]]\nkeywords = [\"license\"]\nqueue = \"wk\"\n"
    );
    let c = parse(ONE_AGENT, &queues).unwrap();
    assert_eq!(c.web_queue_for("complaint", "NOISE at night"), Some("wk"));
    assert_eq!(c.web_queue_for("complaint", "a pothole"), Some("wc"));
    assert_eq!(c.web_queue_for("help", "my License expired"), Some("wk"));
    assert_eq!(c.web_queue_for("help", "a pothole"), Some("web"));
    assert_eq!(c.web.alarm_after, Duration::from_secs(60));
    // Without any web queue the internet channel is off.
    let c = parse(ONE_AGENT, TWO_QUEUES).unwrap();
    assert_eq!(c.web_queue_for("help", "x"), None);
    assert!(c.web_queue_names().is_empty());
}

#[test]
fn web_and_voice_keys_are_kept_apart() {
    let queues = format!(
        "{TWO_QUEUES}offer_timeout = \"20s\"\n{WEB_QUEUE}ring_timeout = \"8s\"\nwrap_up = \"10s\"\noffer_timeout = \"2s\"\n"
    );
    let errs = parse(ONE_AGENT, &queues).unwrap_err();
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(
        errs[0].starts_with(
            "queues.toml:5: queue enterprise: `offer_timeout` does not apply to a voice queue"
        ),
        "{errs:?}"
    );
    assert!(
        errs[1]
            .starts_with("queues.toml:10: queue web: `ring_timeout` does not apply to a web queue"),
        "{errs:?}"
    );
    assert!(errs[2].contains("`wrap_up` does not apply"), "{errs:?}");
    assert!(
        errs[3].contains("offer_timeout 2s must be 5s–10m"),
        "{errs:?}"
    );
    // The IVR's mandatory queues take calls.
    let queues = TWO_QUEUES.replace(
        "name = \"general\"\n",
        "name = \"general\"\nchannel = \"web\"\n",
    );
    let errs = parse(ONE_AGENT, &queues).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.starts_with("queues.toml:1: queue general: the general queue takes calls")),
        "{errs:?}"
    );
}

#[test]
fn web_expansion_is_measured_against_the_response_deadline() {
    // 2m + 30s offer fits in 3m; 2m40s does not.
    let ok = format!("{TWO_QUEUES}{WEB_QUEUE}expand = [{{ after = \"2m\", everyone = true }}]\n");
    assert!(parse(ONE_AGENT, &ok).is_ok());
    // A voice queue's 15 s limit does not apply to it.
    let late =
        format!("{TWO_QUEUES}{WEB_QUEUE}expand = [{{ after = \"2m40s\", everyone = true }}]\n");
    let errs = parse(ONE_AGENT, &late).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("queues.toml:13: queue web: step after 160s leaves 20s before the 180s web response deadline"),
        "{errs:?}"
    );
    assert!(errs[0].contains("150s or earlier"), "{errs:?}");
}

#[test]
fn web_section_is_checked_with_lines() {
    let queues = format!(
        "{TWO_QUEUES}{WEB_QUEUE}\n[web]\nresponse_deadline = \"4m\"\nalarm_after = \"5m\"\ncolour = \"red\"\n"
    );
    let errs = parse(ONE_AGENT, &queues).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("queues.toml:17: "), "{errs:?}");
    assert!(errs[0].contains("colour"), "{errs:?}");

    let queues = format!(
        "{TWO_QUEUES}{WEB_QUEUE}\n[web]\nresponse_deadline = \"4m\"\nalarm_after = \"5m\"\ndefault_queue = \"general\"\n\n[[web.route]]\ntype = \"gripe\"\nqueue = \"nowhere\"\n\n[[web.route]]\nkeywords = []\nqueue = \"web\"\n\n[[web.route]]\nqueue = \"web\"\n"
    );
    let errs = parse(ONE_AGENT, &queues).unwrap_err();
    let text = errs.join("\n");
    assert!(
        errs[0].starts_with(
            "queues.toml:14: web.response_deadline 240s must be above 0 and at most 3m"
        ),
        "{text}"
    );
    assert!(
        text.contains("web.alarm_after 300s must be above 0 and before the response deadline"),
        "{text}"
    );
    assert!(
        text.contains("web.default_queue \"general\" is not a web queue"),
        "{text}"
    );
    assert!(
        text.contains("queues.toml:19: web.route: type \"gripe\" is not one of consultation"),
        "{text}"
    );
    assert!(
        text.contains("queues.toml:19: web.route: queue \"nowhere\" is not a web queue"),
        "{text}"
    );
    assert!(
        text.contains("queues.toml:23: web.route: keywords must be a non-empty list"),
        "{text}"
    );
    assert!(
        text.contains("queues.toml:27: web.route: give `type"),
        "{text}"
    );

    // Web queues without `[web]` need one named "web".
    let queues = format!("{TWO_QUEUES}{WEB_QUEUE}").replace("name = \"web\"", "name = \"w2\"");
    let errs = parse(ONE_AGENT, &queues).unwrap_err();
    assert!(errs[0].contains("none is named \"web\""), "{errs:?}");
}

#[test]
fn web_capacity_defaults_overrides_and_limits() {
    let queues = format!("{TWO_QUEUES}{WEB_QUEUE}");
    let two = format!(
        "web_capacity = 0\n{ONE_AGENT}\n{}",
        ONE_AGENT.replace("id = \"1\"", "id = \"2\"\nweb_capacity = 3")
    );
    let c = parse(&two, &queues).unwrap();
    assert_eq!(c.agents[0].web_capacity, 0);
    assert_eq!(c.agents[1].web_capacity, 3);
    let c = parse(ONE_AGENT, &queues).unwrap();
    assert_eq!(c.agents[0].web_capacity, DEFAULT_WEB_CAPACITY);
    let bad = ONE_AGENT.replace("id = \"1\"", "id = \"1\"\nweb_capacity = 21");
    let errs = parse(&bad, &queues).unwrap_err();
    assert!(
        errs[0].starts_with("agents.toml:1: agent 1: web_capacity 21 is above 20"),
        "{errs:?}"
    );
}

#[test]
fn the_ivr_loader_refuses_a_menu_that_names_a_web_queue() {
    use crate::ivr::load::{load, LoadOptions};
    use crate::ivr::testutil::{catalog, SHIPPED};
    let c = parse(AGENTS, QUEUES).unwrap();
    let opts = LoadOptions {
        queues: c.queue_names().into_iter().collect(),
        ..LoadOptions::default()
    };
    let file = |text: &str| vec![(std::path::PathBuf::from("menus.toml"), text.to_string())];
    assert!(load(&file(SHIPPED), &catalog(), &opts).is_ok());
    let web = SHIPPED.replace(
        "\"1\" = { queue = \"enterprise\" }     #",
        "\"1\" = { queue = \"web_enterprise\" }     #",
    );
    assert_ne!(web, SHIPPED);
    let errs = load(&file(&web), &catalog(), &opts).unwrap_err();
    let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert!(
        text.iter()
            .any(|e| e.contains("names queue `web_enterprise`, which is not configured")),
        "{text:?}"
    );
}
