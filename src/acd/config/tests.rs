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

#[test]
fn ha1_matches_rfc2617_and_rfc8760_vectors() {
    // RFC 2617 §3.5's example user.
    assert_eq!(
        ha1(
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            DigestAlgorithm::Md5
        ),
        "939e7578ed9e3c518a452acee763bce9"
    );
    assert_eq!(
        ha1("1001", "hotline", "demo-1001", DigestAlgorithm::Sha256),
        "44c726945a89cef5bc50b352fccac29e8e189cfee4f94cea4a3b571a1aa588a5"
    );
}

#[test]
fn shipped_config_has_the_demo_agents_and_every_skill() {
    let c = parse(AGENTS, QUEUES).expect("shipped ACD config is valid");
    let ids: Vec<&str> = c.agents.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["1001", "1002", "1003", "1004", "1005", "1006"]);
    for a in &c.agents {
        assert_eq!(a.sip_user, a.id.as_str());
        assert!(a.demo_password);
        let md5 = ha1(
            &a.sip_user,
            "hotline",
            &format!("demo-{}", a.id),
            DigestAlgorithm::Md5,
        );
        assert_eq!(a.credentials.ha1(DigestAlgorithm::Md5), Some(md5.as_str()));
    }
    assert!(c.uses_demo_credentials());
    let kinds: std::collections::HashSet<SkillKind> = c
        .agents
        .iter()
        .flat_map(|a| a.skills.iter().map(|s| s.kind))
        .collect();
    assert_eq!(kinds.len(), 6, "every skill kind is covered: {kinds:?}");
    let first: Vec<SkillKind> = c.agents[0].skills.iter().map(|s| s.kind).collect();
    assert_eq!(
        first,
        [
            SkillKind::Enterprise,
            SkillKind::General,
            SkillKind::HighFrequency
        ]
    );
    assert_eq!(
        c.queue_names(),
        [
            "general",
            "enterprise",
            "dialect",
            "foreign",
            "sign",
            "high_frequency",
            "market",
            "hrss"
        ]
    );
    assert_eq!(c.answer_deadline, Duration::from_secs(15));
    let ent = &c.queues[1];
    assert_eq!(ent.ring_timeout, Duration::from_secs(8));
    assert_eq!(ent.expand.len(), 3);
    assert_eq!(ent.expand[2].widen, Widen::Everyone);
    assert_eq!(
        c.agent_by_sip_user("1003").map(|a| a.name.as_str()),
        Some("Wang Fang")
    );
}

#[test]
fn credentials_never_show_in_debug_output() {
    let c = parse(AGENTS, QUEUES).unwrap();
    let dump = format!("{c:?}");
    assert!(!dump.contains("demo-1001"), "{dump}");
    assert!(!dump.contains("916a2dd78a64f12cf41abf3d9a101d68"), "{dump}");
}

#[test]
fn unknown_key_is_refused_with_its_line() {
    let agents = ONE_AGENT.replace("name = \"A\"", "name = \"A\"\nnmae = \"B\"");
    let errs = parse(&agents, TWO_QUEUES).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("agents.toml:4: "), "{errs:?}");
    assert!(errs[0].contains("nmae"), "{errs:?}");
}

#[test]
fn a_late_expansion_step_is_refused_with_its_line() {
    let queues = format!(
        "{TWO_QUEUES}expand = [\n  {{ after = \"5s\", everyone = true }},\n  {{ after = \"12s\", skill = \"general\" }},\n]\n"
    );
    let errs = parse(ONE_AGENT, &queues).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("queues.toml:10: queue enterprise: step after 12s leaves 3s"),
        "{errs:?}"
    );
    assert!(errs[0].contains("11s or earlier"), "{errs:?}");
}

#[test]
fn steps_out_of_order_and_ambiguous_steps_are_refused() {
    let queues = format!(
        "{TWO_QUEUES}min_level = 3\nexpand = [\n  {{ after = \"8s\", min_level = 1 }},\n  {{ after = \"5s\", everyone = true, min_level = 1 }},\n  {{ after = \"9s\" }},\n]\n"
    );
    let errs = parse(ONE_AGENT, &queues).unwrap_err();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].starts_with("queues.toml:11: "), "{errs:?}");
    assert!(errs[0].contains("must come later"), "{errs:?}");
    assert!(errs[1].contains("everyone = true"), "{errs:?}");
    assert!(errs[2].starts_with("queues.toml:12: "), "{errs:?}");
}

#[test]
fn skills_need_their_variant_and_a_level_in_range() {
    let agents = ONE_AGENT.replace(
        "{ skill = \"general\", level = 3 }",
        "{ skill = \"general\", level = 7 }, { skill = \"dialect\", level = 2 }, { skill = \"sign\", topic = \"x\", level = 1 }",
    );
    let errs = parse(&agents, TWO_QUEUES).unwrap_err();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(
        errs.iter().all(|e| e.starts_with("agents.toml:5: ")),
        "{errs:?}"
    );
    assert!(errs[0].contains("level 7 is not 1–5"), "{errs:?}");
    assert!(errs[1].contains("needs `dialect = \"...\"`"), "{errs:?}");
    assert!(errs[2].contains("takes no `topic`"), "{errs:?}");
}

#[test]
fn missing_mandatory_queue_and_unserved_queue_are_refused() {
    let queues = "[[queue]]\nname = \"general\"\nskill = \"general\"\n\n[[queue]]\nname = \"sign\"\nskill = \"sign\"\n";
    let errs = parse(ONE_AGENT, queues).unwrap_err();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].contains("no queue \"enterprise\""), "{errs:?}");
    assert!(
        errs[1].starts_with("queues.toml:5: queue sign: no agent"),
        "{errs:?}"
    );
}

#[test]
fn credentials_are_hash_or_password_not_both() {
    let both = ONE_AGENT.replace(
        "password = \"secret-123\"",
        "password = \"secret-123\"\nha1_md5 = \"939e7578ed9e3c518a452acee763bce9\"",
    );
    let errs = parse(&both, TWO_QUEUES).unwrap_err();
    assert!(errs[0].contains("not both"), "{errs:?}");
    let hashed = ONE_AGENT.replace(
        "password = \"secret-123\"",
        "ha1_sha256 = \"44c726945a89cef5bc50b352fccac29e8e189cfee4f94cea4a3b571a1aa588a5\"",
    );
    let c = parse(&hashed, TWO_QUEUES).unwrap();
    assert!(c.agents[0].credentials.ha1_md5.is_none());
    assert!(!c.agents[0].demo_password);
    let bad = ONE_AGENT.replace("password = \"secret-123\"", "ha1_md5 = \"XYZ\"");
    let errs = parse(&bad, TWO_QUEUES).unwrap_err();
    assert!(errs[0].contains("32 lowercase hex"), "{errs:?}");
}

#[test]
fn supervisors_phones_are_checked_like_agents_and_never_share_an_account() {
    let c = parse(AGENTS, QUEUES).expect("shipped");
    let sup = c
        .supervisor_phone("supervisor")
        .expect("the demo supervisor's phone");
    assert_eq!(sup.sip_user, "9001");
    assert!(sup.demo_password);
    assert!(c.phone_credentials("9001").is_some());
    assert!(c.phone_credentials("1001").is_some());
    assert!(c.phone_credentials("9002").is_none());
    let clash = format!("{ONE_AGENT}\n[[supervisor]]\nuser = \"boss\"\nsip_user = \"1\"\npassword = \"secret-456\"\n");
    let errs = parse(&clash, TWO_QUEUES).expect_err("the agent's account");
    assert!(
        errs.iter()
            .any(|e| e.contains("agents.toml:7") && e.contains("already another phone's")),
        "{errs:?}"
    );
    let twice = format!("{ONE_AGENT}\n[[supervisor]]\nuser = \"boss\"\npassword = \"secret-456\"\n\n[[supervisor]]\nuser = \"boss\"\nsip_user = \"b2\"\npassword = \"secret-789\"\n");
    let errs = parse(&twice, TWO_QUEUES).expect_err("two phones");
    assert!(errs.iter().any(|e| e.contains("two phones")), "{errs:?}");
    let bare = format!("{ONE_AGENT}\n[[supervisor]]\nuser = \"boss\"\n");
    let errs = parse(&bare, TWO_QUEUES).expect_err("no credentials");
    assert!(
        errs.iter()
            .any(|e| e.contains("supervisor boss: no credentials")),
        "{errs:?}"
    );
    let short = format!("{ONE_AGENT}\n[[supervisor]]\nuser = \"boss\"\npassword = \"short\"\n");
    let errs = parse(&short, TWO_QUEUES).expect_err("short password");
    assert!(
        errs.iter()
            .any(|e| e.contains("supervisor boss: password is shorter")),
        "{errs:?}"
    );
}
