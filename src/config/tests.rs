//! The configuration's own checks: the shipped file loads, and each refusal names its line.

use super::*;

#[test]
fn shipped_config_loads_and_validates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hotline.toml");
    let config = Config::load(&path).expect("shipped config is valid");
    assert_eq!(config.sip.service_numbers, vec!["12345", "12315", "12333"]);
    assert_eq!(config.sip.listen.port(), 5060);
    assert_eq!(config.http.listen.port(), 8080);
    assert!(config.ivr.menus_dir.ends_with("ivr-menus"));
}

#[test]
fn unknown_key_is_refused_with_its_line() {
    let text = "[sip]\nlisten = \"127.0.0.1:5060\"\nlisen = 1\n";
    let err = Config::parse(text, Path::new("x.toml")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("x.toml:3: "), "{msg}");
    assert!(msg.contains("lisen"), "{msg}");
}

#[test]
fn opus_complexity_defaults_to_0_and_above_10_is_refused_with_its_line() {
    let config = Config::parse("", Path::new("x.toml")).unwrap();
    assert_eq!(config.rtp.opus_complexity, 0);
    let text = "[rtp]\nopus_complexity = 5\n";
    let config = Config::parse(text, Path::new("x.toml")).unwrap();
    assert_eq!(config.rtp.opus_complexity, 5);
    assert!(config.validate(text, Path::new("x.toml")).is_ok());
    let text = "[rtp]\nport_min = 20000\nopus_complexity = 11\n";
    let config = Config::parse(text, Path::new("x.toml")).unwrap();
    let errs = config.validate(text, Path::new("x.toml")).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].to_string().starts_with("x.toml:3: "), "{}", errs[0]);
    // Not a number of 0–255 at all: refused by the type, with its line.
    let err = Config::parse("[rtp]\nopus_complexity = -1\n", Path::new("x.toml")).unwrap_err();
    assert!(err.to_string().starts_with("x.toml:2: "), "{err}");
}

#[test]
fn odd_rtp_ports_are_refused_with_the_line() {
    let text = "[rtp]\nport_min = 20001\nport_max = 29998\n";
    let config = Config::parse(text, Path::new("x.toml")).unwrap();
    let errs = config.validate(text, Path::new("x.toml")).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].to_string().starts_with("x.toml:2: "), "{}", errs[0]);
}

#[test]
fn an_outside_number_that_cannot_be_dialled_is_refused_with_its_line() {
    let text = "[transfer]\ngateway = \"127.0.0.1:5090\"\n[transfer.numbers]\n\"110\" = \"110\"\nwater = \"96-116\"\n";
    let config = Config::parse(text, Path::new("x.toml")).unwrap();
    assert_eq!(config.transfer.numbers["110"], "110");
    let errs = config.validate(text, Path::new("x.toml")).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].to_string().starts_with("x.toml:5: "), "{}", errs[0]);
}

#[test]
fn registrar_md5_only_agents_default_and_override() {
    let config = Config::parse("", Path::new("x.toml")).unwrap();
    assert!(config
        .registrar
        .md5_only_agents
        .iter()
        .any(|p| p.starts_with("baresip")));
    let text = "[registrar]\nmd5_only_agents = [\"SIPp hotline load\"]\n";
    let config = Config::parse(text, Path::new("x.toml")).unwrap();
    assert_eq!(config.registrar.md5_only_agents, vec!["SIPp hotline load"]);
    assert!(config.validate(text, Path::new("x.toml")).is_ok());
    let text = "[registrar]\nmd5_only_agents = [\"\"]\n";
    let config = Config::parse(text, Path::new("x.toml")).unwrap();
    let errs = config.validate(text, Path::new("x.toml")).unwrap_err();
    assert!(errs[0].to_string().starts_with("x.toml:2: "), "{}", errs[0]);
    let err = Config::parse("[registrar]\nmd5_only = []\n", Path::new("x.toml")).unwrap_err();
    assert!(err.to_string().starts_with("x.toml:2: "), "{err}");
}

#[test]
fn policy_numbers_are_read_and_a_bad_one_is_refused_with_its_line() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hotline.toml");
    let shipped = Config::load(&path).expect("shipped config is valid");
    assert_eq!(shipped.policy, crate::workflow::Policy::default());
    let text = "[policy]\ndispatch_within = \"12h\"\ncomplaint_days = 20\ncallback_days = 2\n";
    let config = Config::parse(text, Path::new("x.toml")).unwrap();
    assert!(config.validate(text, Path::new("x.toml")).is_ok());
    assert_eq!(
        config.policy.dispatch_within,
        Duration::from_secs(12 * 3600)
    );
    assert_eq!(config.policy.complaint_days, 20);
    assert_eq!(config.policy.callback_days, 2);
    for (text, line) in [
        ("[policy]\ndispatch_within = \"25h\"\n", 2),
        ("[sip]\n\n[policy]\nimmediate_dispatch_within = \"2d\"\n", 4),
        ("[policy]\nconsultation_days = 0\n", 2),
        ("[policy]\nsign_off_days = 1\nmax_extensions = 3\n", 3),
        ("[policy]\nrating_days = 0\n", 2),
        ("[policy]\nrepeat_threshold = 1.5\n", 2),
        ("[policy]\ncallback_days = 0\n", 2),
        ("[policy]\nurgent_feedback_within = \"0s\"\n", 2),
        ("[policy]\nreturn_decision_days = 100\n", 2),
    ] {
        let config = Config::parse(text, Path::new("x.toml")).unwrap();
        let errs = config.validate(text, Path::new("x.toml")).unwrap_err();
        assert!(
            errs[0]
                .to_string()
                .starts_with(&format!("x.toml:{line}: policy.")),
            "{text}: {}",
            errs[0]
        );
    }
    let err = Config::parse("[policy]\n\ndispatch_hours = 24\n", Path::new("x.toml")).unwrap_err();
    assert!(err.to_string().starts_with("x.toml:3: "), "{err}");
}

#[test]
fn durations_are_human_readable() {
    let text = "[sip]\nt1 = \"250ms\"\nt2 = \"2s\"\n";
    let config = Config::parse(text, Path::new("x.toml")).unwrap();
    assert_eq!(config.sip.t1, Duration::from_millis(250));
    assert!(config.validate(text, Path::new("x.toml")).is_ok());
}

#[test]
fn abuse_limits_have_safe_defaults_and_are_checked_with_their_line() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hotline.toml");
    let shipped = Config::load(&path).expect("shipped config is valid");
    let defaults = Config::default();
    assert_eq!(shipped.rtp.media_timeout, Duration::from_secs(30));
    assert_eq!(shipped.rtp.agent_reserve, defaults.rtp.agent_reserve);
    assert_eq!(shipped.rtp.relatch_after, defaults.rtp.relatch_after);
    assert_eq!(shipped.rtp.conference_queue, defaults.rtp.conference_queue);
    assert_eq!(shipped.rtp.conference_prime, defaults.rtp.conference_prime);
    assert_eq!(shipped.ivr.max_in_ivr, Duration::from_secs(120));
    assert_eq!(shipped.ivr.max_in_queue, Duration::from_secs(600));
    assert_eq!(shipped.sip.session_expires, defaults.sip.session_expires);
    assert_eq!(shipped.sip.min_se, Duration::from_secs(90));
    assert_eq!(
        shipped.sip.tcp_max_connections,
        defaults.sip.tcp_max_connections
    );
    assert_eq!(shipped.sip.tcp_idle_timeout, defaults.sip.tcp_idle_timeout);
    assert_eq!(shipped.http.max_connections, defaults.http.max_connections);
    assert_eq!(shipped.http.header_timeout, defaults.http.header_timeout);
    assert_eq!(shipped.http.max_streams, 200);
    // The standard's wording: every caller counts unless the operator configures a grace.
    assert_eq!(shipped.kpi.grace, Duration::ZERO);
    assert_eq!(shipped.kpi.alarm_min_calls, 20);
    for (text, line) in [
        (
            "[rtp]\nport_min = 20000\nport_max = 20010\nagent_reserve = 4\n",
            4,
        ),
        ("[rtp]\nrelatch_after = \"50ms\"\n", 2),
        ("[rtp]\nconference_queue = \"20ms\"\n", 2),
        ("[rtp]\nconference_queue = \"2s\"\n", 2),
        ("[rtp]\nconference_prime = \"0s\"\n", 2),
        ("[rtp]\nconference_prime = \"50ms\"\n", 2),
        (
            "[rtp]\nconference_queue = \"40ms\"\nconference_prime = \"60ms\"\n",
            3,
        ),
        ("[rtp]\nmedia_timeout = \"1s\"\nrelatch_after = \"2s\"\n", 2),
        ("[ivr]\nmax_in_queue = \"5s\"\n", 2),
        ("[sip]\nmin_se = \"30s\"\n", 2),
        ("[sip]\ntcp_max_per_source = 0\n", 2),
        ("[sip]\ntcp_header_timeout = \"100ms\"\n", 2),
        (
            "[sip]\ntcp_header_timeout = \"30s\"\ntcp_idle_timeout = \"20s\"\n",
            3,
        ),
        ("[http]\nmax_streams = 0\n", 2),
        ("[http]\nidle_timeout = \"2s\"\n", 2),
        ("[kpi]\ngrace = \"20s\"\n", 2),
        ("[kpi]\nalarm_min_calls = 0\n", 2),
    ] {
        let config = Config::parse(text, Path::new("x.toml")).unwrap();
        let errs = config.validate(text, Path::new("x.toml")).unwrap_err();
        assert!(
            errs[0].to_string().starts_with(&format!("x.toml:{line}: ")),
            "{text}: {}",
            errs[0]
        );
    }
    let off = "[rtp]\nmedia_timeout = \"0s\"\n";
    let config = Config::parse(off, Path::new("x.toml")).unwrap();
    assert!(config.validate(off, Path::new("x.toml")).is_ok());
}
