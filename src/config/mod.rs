//! The typed configuration: what `config/hotline.toml` may say, its defaults, and `validate()`.
//! Unknown keys are refused; every problem is reported as `file:line: what is wrong`.
//! Nothing here opens a socket or starts anything.

mod cluster;
mod kb;
mod kpi;
mod numbers;
mod public;
mod storage;
mod trunk;
pub use cluster::ClusterConfig;
pub use kb::KbConfig;
pub use kpi::KpiConfig;
pub use numbers::{number_specs, ConfigSource, NoticePrompt, NumberEntry};
pub use public::PublicConfig;
pub use storage::StorageConfig;
pub use trunk::TrunkConfig;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A configuration problem, located in its file so an operator can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The whole engine configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub sip: SipConfig,
    pub rtp: RtpConfig,
    pub http: HttpConfig,
    pub storage: StorageConfig,
    /// Two engines behind Kamailio: roles and leadership (issue 19).
    pub cluster: ClusterConfig,
    pub ivr: IvrConfig,
    pub kpi: KpiConfig,
    pub privacy: PrivacyConfig,
    pub acd: AcdFiles,
    pub transfer: TransferConfig,
    /// Where calls to citizens go out (issue 15).
    pub trunk: TrunkConfig,
    /// When, how often and how fast the hotline calls citizens back.
    pub outbound: crate::outbound::rules::OutboundRules,
    pub callback: crate::outbound::settings::CallbackSettings,
    /// "Call me back" instead of waiting, and surge mode (C8).
    pub callback_offer: crate::outbound::settings::CallbackOfferSettings,
    pub registrar: RegistrarSettings,
    /// The citizen's internet channel (issue 13).
    pub public: PublicConfig,
    /// The knowledge base (issue 16).
    pub kb: KbConfig,
    /// Trends' limits (issue 17).
    pub analytics: crate::analytics::trends::TrendLimits,
    /// The early-warning rules (W19, issue 17; docs/WARNINGS.md).
    pub warnings: crate::analytics::warnings::WarningRules,
    /// The workflow's numbers (W4–W17, C12): deadlines, limits, thresholds. Reloaded by
    /// `SIGHUP`; a changed number applies to deadlines decided afterwards.
    pub policy: crate::workflow::Policy,
    /// Integrated numbers: where each answered number's calls go (`[numbers.<digits>]`;
    /// a number of `sip.service_numbers` without a table walks the entry menu).
    pub numbers: std::collections::BTreeMap<String, NumberEntry>,
    /// The file this configuration was read from (its spans become `file:line`).
    #[serde(skip)]
    pub source: ConfigSource,
    /// The folder of the config file: `calendar/`, `dispatch.toml` and `users.toml` live there.
    #[serde(skip)]
    pub config_dir: PathBuf,
}

/// Where the agents and queues are configured (files of their own: they change more often
/// than the engine's settings and are edited by other people).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcdFiles {
    /// Agents, their SIP users, credentials and skills.
    pub agents: PathBuf,
    /// Queues, their skills, ring timeouts, wrap-up and expansion steps.
    pub queues: PathBuf,
    /// Start even when demo agent passwords are configured and SIP listens beyond loopback.
    pub allow_demo_credentials: bool,
}

impl Default for AcdFiles {
    fn default() -> Self {
        Self {
            agents: PathBuf::from("config/agents.toml"),
            queues: PathBuf::from("config/queues.toml"),
            allow_demo_credentials: false,
        }
    }
}

/// Blind transfer to numbers outside the hotline (C12: 110, 119, 120, 122, utility hotlines)
/// through a SIP gateway. Only the numbers listed can be dialled, so neither a desktop nor a
/// softphone can turn the hotline into an open trunk.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TransferConfig {
    /// The gateway (or carrier SBC) to the public network, `host:port` over UDP. Without it
    /// external transfers are refused.
    pub gateway: Option<SocketAddr>,
    /// What an agent may pick (`"110"`, `water`) → the number dialled at the gateway.
    pub numbers: std::collections::BTreeMap<String, String>,
}

/// The agents' registrar: what an operator may need to change about it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrarSettings {
    /// User-Agent substrings (any case) of phones that give up on a 401 naming an algorithm
    /// they do not know (SHA-256, RFC 8760) instead of answering the MD5 challenge beside it;
    /// they are challenged with MD5 only. An empty list offers every phone both.
    pub md5_only_agents: Vec<String>,
}

impl Default for RegistrarSettings {
    fn default() -> Self {
        Self {
            md5_only_agents: crate::sip::registrar::RegistrarConfig::default().md5_only_agents,
        }
    }
}

/// SIP signaling: where we listen, which numbers we answer, RFC 3261 timer values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// Address for both UDP and TCP.
    pub listen: SocketAddr,
    /// Request-URI user parts we answer as the hotline (e.g. `12345`).
    pub service_numbers: Vec<String>,
    /// Largest request we accept; larger ones get `513 Message Too Large`.
    pub max_message_bytes: usize,
    /// RFC 3261 T1: round-trip estimate.
    #[serde(with = "humantime_serde")]
    pub t1: Duration,
    /// RFC 3261 T2: the longest retransmit interval for non-INVITE requests and INVITE responses.
    #[serde(with = "humantime_serde")]
    pub t2: Duration,
    /// RFC 3261 T4: how long a message may stay in the network.
    #[serde(with = "humantime_serde")]
    pub t4: Duration,
    /// Value of the `Server`/`User-Agent` header.
    pub user_agent: String,
    /// Ring (180) this long before answering; zero answers at once. Some carriers want to
    /// see ringing; tests use it to CANCEL before the answer.
    #[serde(with = "humantime_serde")]
    pub answer_delay: Duration,
    /// RFC 4028 session timer we ask for when the caller supports it (`Session-Expires`):
    /// a dialog not refreshed by then is ended with a BYE.
    #[serde(with = "humantime_serde")]
    pub session_expires: Duration,
    /// The shortest session interval we accept (`Min-SE`); shorter requests get 422.
    #[serde(with = "humantime_serde")]
    pub min_se: Duration,
    /// The carrier's trunks (SBC addresses, `"10.0.0.2"` or `"10.0.0.0/24"`): every
    /// citizen's call comes from them, so they are never blocked by the registrar's guard,
    /// not held to `max_setup_per_source`, and their SDP address is trusted after the ACK.
    pub trunks: Vec<crate::sip::prefix::IpPrefix>,
    /// Calls one non-trunk source may have in set-up (INVITE taken, not yet ACKed); more
    /// INVITEs get 503 with Retry-After. 0 turns the limit off.
    pub max_setup_per_source: usize,
    /// SIP connections over TCP open at once; more are closed as soon as accepted.
    pub tcp_max_connections: usize,
    /// SIP connections over TCP from one address (trunks excepted); agents behind one NAT
    /// share it.
    pub tcp_max_per_source: usize,
    /// A message must arrive whole within this of its first byte (and a new connection's
    /// first message within this of the connection), or the connection is closed.
    #[serde(with = "humantime_serde")]
    pub tcp_header_timeout: Duration,
    /// A connection that carried no message or keep-alive for this long is closed (and the
    /// registrations over it go); phones keep theirs open with re-REGISTER, OPTIONS or
    /// RFC 5626 CRLF keep-alives.
    #[serde(with = "humantime_serde")]
    pub tcp_idle_timeout: Duration,
    /// SIP over WebSocket (`/ws` on the HTTP listener, browser phones) open at once; more
    /// handshakes get 503. They keep the TCP header and idle timeouts above.
    pub ws_max_connections: usize,
    /// SIP WebSockets from one address (agents' browsers behind one NAT share it).
    pub ws_max_per_source: usize,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5060),
            service_numbers: vec!["12345".to_string()],
            max_message_bytes: 16 * 1024,
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            user_agent: "hotline".to_string(),
            answer_delay: Duration::ZERO,
            session_expires: Duration::from_secs(1800),
            min_se: Duration::from_secs(90),
            trunks: Vec::new(),
            max_setup_per_source: 20,
            tcp_max_connections: 1024,
            tcp_max_per_source: 64,
            tcp_header_timeout: Duration::from_secs(10),
            tcp_idle_timeout: Duration::from_secs(900),
            ws_max_connections: 1024,
            ws_max_per_source: 64,
        }
    }
}

/// RTP media: the port range (even ports, one per call) and the address we advertise in SDP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RtpConfig {
    /// Address RTP sockets bind to and the `c=` line announces.
    pub address: IpAddr,
    pub port_min: u16,
    pub port_max: u16,
    /// Ports kept for agents' legs: callers cannot take the last ones, so a full range never
    /// leaves an answering agent without a port.
    pub agent_reserve: u16,
    /// How long a leg's latched RTP source must be silent before another source may take
    /// its place (packets from any other address are refused meanwhile).
    #[serde(with = "humantime_serde")]
    pub relatch_after: Duration,
    /// No RTP from the caller for this long (hold excepted): the caller vanished, the call
    /// is ended with a BYE and the outcome `media_timeout`. Zero turns the check off.
    #[serde(with = "humantime_serde")]
    pub media_timeout: Duration,
    /// The most audio a conference party may have waiting for the 20 ms mix (its jitter
    /// queue, 40 ms to 1 s); beyond, its oldest frames are dropped and counted
    /// (`hotline_mixer_frames_dropped_total`), so a phone sending faster than real time
    /// cannot delay what everyone else hears.
    #[serde(with = "humantime_serde")]
    pub conference_queue: Duration,
    /// The audio a conference party queues before it is played out (20 ms to 200 ms, at
    /// most `conference_queue`): a pause in a party's stream up to about this long is
    /// absorbed, a longer one is an underrun (`hotline_mixer_underruns_total`). Each 20 ms
    /// more is 20 ms more delay for everyone in a conference; two-party calls are relayed
    /// without it.
    #[serde(with = "humantime_serde")]
    pub conference_prime: Duration,
    /// How long a browser agent's answered WebRTC leg may take to connect (ICE and DTLS,
    /// 2s to 60s): a browser whose network blocks the media never does, and its call is
    /// ended then, the reason in the record (`hotline_webrtc_agent_legs_failed_total`).
    #[serde(with = "humantime_serde")]
    pub webrtc_connect_timeout: Duration,
    /// libopus's encoder complexity (0–10) for browser agents that answer Opus only: each
    /// step up buys a little quality for more CPU per frame (docs/PERFORMANCE.md).
    pub opus_complexity: u8,
}

impl Default for RtpConfig {
    fn default() -> Self {
        Self {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port_min: 20000,
            port_max: 29998,
            agent_reserve: 16,
            relatch_after: Duration::from_secs(2),
            media_timeout: Duration::from_secs(30),
            conference_queue: Duration::from_millis(200),
            conference_prime: Duration::from_millis(60),
            webrtc_connect_timeout: Duration::from_secs(10),
            opus_complexity: crate::media::webrtc::DEFAULT_OPUS_COMPLEXITY,
        }
    }
}

/// The HTTP API and pages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// HTTP connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// HTTP connections from one address (a wallboard room behind a NAT shares it).
    pub max_per_source: usize,
    /// A request's head must arrive within this of the server's waiting for it (a new
    /// connection, or the end of the previous response): idle keep-alive connections close then.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// A connection that carried no byte either way for this long is closed (a stalled
    /// upload, a live stream nobody reads; streams send a keep-alive every 5 s at least).
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Live streams (wallboard and desks) open at once; more get 503 `too_many_streams`.
    pub max_streams: usize,
    /// Browser origins besides the pages' own that may open SIP over WebSocket (`/ws`),
    /// written as a browser sends them (`https://desk.example.gov.cn`). Empty: only the
    /// pages' own origin (and clients that send no Origin, which are not browser pages).
    pub ws_origins: Vec<String>,
    /// PEM certificate chain: when set (with `tls_key`) the listener speaks HTTPS only and
    /// `/ws` is WSS. Browsers need it for microphones anywhere but on localhost.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            max_connections: 1024,
            max_per_source: 128,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_streams: 200,
            ws_origins: Vec::new(),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// Citizens' data over the API (rule C16).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Ticket reads that show a citizen's whole number or name, per user per minute (each is
    /// audited); more get 429. A person at a desk reads a few; 0 turns the limit off.
    pub caller_reads_per_minute: u32,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            caller_reads_per_minute: 120,
        }
    }
}

/// The voice menu: where its files are and the engine-wide limits the loader enforces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IvrConfig {
    /// Folder with `*.toml` menus and `prompts/`; relative paths are relative to the config file.
    pub menus_dir: PathBuf,
    /// The level-1 menu every call starts in.
    pub entry_menu: String,
    /// Longest greeting allowed before the first menu (rule C4: get to the point).
    #[serde(with = "humantime_serde")]
    pub max_greeting: Duration,
    /// How often a waiting caller hears their position in the queue.
    #[serde(with = "humantime_serde")]
    pub queue_notice_interval: Duration,
    /// Longest time a call may spend in the voice menus; then it goes to the entry menu's
    /// person (the `general` queue) as if the caller had asked for one.
    #[serde(with = "humantime_serde")]
    pub max_in_ivr: Duration,
    /// Longest time a caller waits in a queue; then the call ends (BYE) with the outcome
    /// `queue_timeout`, counted as an abandon (against the connection rate).
    #[serde(with = "humantime_serde")]
    pub max_in_queue: Duration,
}

impl Default for IvrConfig {
    fn default() -> Self {
        Self {
            menus_dir: PathBuf::from("ivr-menus"),
            entry_menu: "main".to_string(),
            max_greeting: Duration::from_secs(10),
            queue_notice_interval: Duration::from_secs(30),
            max_in_ivr: Duration::from_secs(120),
            max_in_queue: Duration::from_secs(600),
        }
    }
}

impl Config {
    /// Reads and validates a config file; relative paths inside it are resolved against the
    /// project root: the file's folder, or its parent when the file sits in `config/`.
    pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            vec![ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }]
        })?;
        let mut config = Self::parse(&text, path).map_err(|e| vec![e])?;
        config.config_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        config.source = ConfigSource {
            path: path.to_path_buf(),
            text: text.as_str().into(),
        };
        config.resolve_paths(path);
        config.validate(&text, path)?;
        // Only a valid [trunk] is read further: its secret file, once, here.
        config.trunk.read_password_file().map_err(|message| {
            vec![ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of_key(&text, "password_file"),
                message,
            }]
        })?;
        Ok(config)
    }

    /// Parses TOML text; `path` is only used to name the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            message: e.message().to_string(),
        })
    }

    fn resolve_paths(&mut self, path: &Path) {
        // `config/hotline.toml` names `ivr-menus` and `data` relative to the project root.
        let base = path
            .parent()
            .and_then(|dir| {
                if dir.file_name().is_some_and(|n| n == "config") {
                    dir.parent()
                } else {
                    Some(dir)
                }
            })
            .unwrap_or(Path::new("."));
        if self.ivr.menus_dir.is_relative() {
            self.ivr.menus_dir = base.join(&self.ivr.menus_dir);
        }
        if self.storage.data_dir.is_relative() {
            self.storage.data_dir = base.join(&self.storage.data_dir);
        }
        for p in [&mut self.acd.agents, &mut self.acd.queues] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        self.trunk.resolve(base);
        for p in [&mut self.http.tls_cert, &mut self.http.tls_key]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// Checks what types alone cannot: ranges, non-empty lists, timer order.
    pub fn validate(&self, text: &str, path: &Path) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut bad = |key: &str, message: String| {
            errors.push(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of_key(text, key),
                message,
            })
        };
        if self.sip.service_numbers.is_empty() {
            bad(
                "service_numbers",
                "sip.service_numbers is empty: list at least one number to answer, e.g. [\"12345\"]"
                    .into(),
            );
        }
        self.kb.problems().into_iter().for_each(|(k, m)| bad(k, m));
        let number_problems = numbers::problems(&self.numbers, &self.sip.service_numbers, text);
        for n in &self.sip.service_numbers {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+') {
                bad(
                    "service_numbers",
                    format!("sip.service_numbers: {n:?} is not a dialable number (digits, letters, '+')"),
                );
            }
        }
        if let Err(e) = self.callback_offer.validate() {
            bad("callback_offer", e);
        }
        if let Err(e) = self.callback.validate() {
            bad("callback", e);
        }
        if let Err(e) = self.outbound.validate() {
            bad("outbound", e.to_string());
        }
        for (key, message) in self.trunk.problems() {
            bad(key, message);
        }
        for (name, number) in &self.transfer.numbers {
            let dialable = !number.is_empty()
                && number
                    .bytes()
                    .enumerate()
                    .all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'+'));
            if !dialable || name.is_empty() {
                bad(
                    name,
                    format!("transfer.numbers: {name:?} = {number:?} is not a dialable number (digits, optionally a leading '+')"),
                );
            }
        }
        if let Some(message) = self.storage.url_problem() {
            bad("url", message);
        }
        for (key, message) in self.cluster.problems(self.storage.url.as_deref()) {
            bad(key, message);
        }
        if self.sip.t1.is_zero() || self.sip.t2 < self.sip.t1 {
            bad(
                "t2",
                "sip.t1 must be > 0 and sip.t2 must be >= sip.t1".into(),
            );
        }
        if self.sip.max_message_bytes < 1024 {
            bad(
                "max_message_bytes",
                "sip.max_message_bytes must be at least 1024".into(),
            );
        }
        if self.rtp.port_min % 2 != 0 || self.rtp.port_max % 2 != 0 {
            bad("port_min", "rtp.port_min and rtp.port_max must be even (RTP uses even ports, RTCP the odd one above)".into());
        }
        if self.rtp.port_min == 0 || self.rtp.port_min > self.rtp.port_max {
            bad(
                "port_max",
                format!(
                    "rtp port range {}–{} is empty: port_min must be > 0 and <= port_max",
                    self.rtp.port_min, self.rtp.port_max
                ),
            );
        }
        let capacity = (u32::from(self.rtp.port_max.saturating_sub(self.rtp.port_min)) / 2) + 1;
        if u32::from(self.rtp.agent_reserve) * 2 > capacity {
            bad(
                "agent_reserve",
                format!(
                    "rtp.agent_reserve = {} is more than half of the {capacity} ports in the range: callers would have too few",
                    self.rtp.agent_reserve
                ),
            );
        }
        if self.rtp.relatch_after < Duration::from_millis(200) {
            bad(
                "relatch_after",
                "rtp.relatch_after must be at least 200ms (a few packets), or any sender could take a leg over".into(),
            );
        }
        if !self.rtp.media_timeout.is_zero() && self.rtp.media_timeout <= self.rtp.relatch_after {
            bad(
                "media_timeout",
                "rtp.media_timeout must be longer than rtp.relatch_after (or 0s to turn it off)"
                    .into(),
            );
        }
        if !(Duration::from_millis(40)..=Duration::from_secs(1))
            .contains(&self.rtp.conference_queue)
        {
            bad(
                "conference_queue",
                "rtp.conference_queue must be from 40ms to 1s".into(),
            );
        }
        let prime = self.rtp.conference_prime;
        if !(Duration::from_millis(20)..=Duration::from_millis(200)).contains(&prime)
            || prime.as_millis() % 20 != 0
            || prime > self.rtp.conference_queue
        {
            bad(
                "conference_prime",
                "rtp.conference_prime must be 20ms to 200ms in steps of 20ms, and at most rtp.conference_queue".into(),
            );
        }
        if !(Duration::from_secs(2)..=Duration::from_secs(60))
            .contains(&self.rtp.webrtc_connect_timeout)
        {
            bad(
                "webrtc_connect_timeout",
                "rtp.webrtc_connect_timeout must be from 2s to 60s".into(),
            );
        }
        if self.rtp.opus_complexity > crate::media::webrtc::MAX_OPUS_COMPLEXITY {
            bad(
                "opus_complexity",
                "rtp.opus_complexity must be from 0 to 10 (libopus's encoder complexity)".into(),
            );
        }
        for (key, value) in [
            ("max_in_ivr", self.ivr.max_in_ivr),
            ("max_in_queue", self.ivr.max_in_queue),
        ] {
            if value < Duration::from_secs(10) {
                bad(key, format!("ivr.{key} must be at least 10s"));
            }
        }
        self.kpi.check(&mut bad);
        self.warnings.check(&mut bad);
        self.analytics.check(&mut bad);
        if self.sip.min_se < Duration::from_secs(90) || self.sip.session_expires < self.sip.min_se {
            bad(
                "min_se",
                "sip.min_se must be at least 90s (RFC 4028) and sip.session_expires at least sip.min_se".into(),
            );
        }
        if self.sip.answer_delay > Duration::from_secs(10) {
            bad(
                "answer_delay",
                "sip.answer_delay must be at most 10s: callers must reach the menu quickly".into(),
            );
        }
        if self
            .registrar
            .md5_only_agents
            .iter()
            .any(|p| p.trim().is_empty())
        {
            bad(
                "md5_only_agents",
                "registrar.md5_only_agents: an empty pattern would match every phone; remove it (or empty the list)".into(),
            );
        }
        for (key, value) in [
            ("tcp_max_connections", self.sip.tcp_max_connections),
            ("tcp_max_per_source", self.sip.tcp_max_per_source),
            ("ws_max_connections", self.sip.ws_max_connections),
            ("ws_max_per_source", self.sip.ws_max_per_source),
            ("max_connections", self.http.max_connections),
            ("max_per_source", self.http.max_per_source),
            ("max_streams", self.http.max_streams),
        ] {
            if value == 0 {
                bad(key, format!("{key} must be at least 1"));
            }
        }
        for (key, value) in [
            ("tcp_header_timeout", self.sip.tcp_header_timeout),
            ("header_timeout", self.http.header_timeout),
        ] {
            if value < Duration::from_millis(500) || value > Duration::from_secs(120) {
                bad(key, format!("{key} must be between 500ms and 120s"));
            }
        }
        if self.sip.tcp_idle_timeout < self.sip.tcp_header_timeout {
            bad(
                "tcp_idle_timeout",
                "sip.tcp_idle_timeout must be at least sip.tcp_header_timeout".into(),
            );
        }
        if self.http.idle_timeout < Duration::from_secs(10) {
            bad(
                "idle_timeout",
                "http.idle_timeout must be at least 10s (a quiet live stream sends a keep-alive every 5s)".into(),
            );
        }
        if let Err(e) = crate::sip::ws::OriginPolicy::new(&self.http.ws_origins) {
            bad("ws_origins", format!("http.ws_origins: {e}"));
        }
        if self.http.tls_cert.is_some() != self.http.tls_key.is_some() {
            bad(
                if self.http.tls_cert.is_some() { "tls_cert" } else { "tls_key" },
                "http.tls_cert and http.tls_key go together: set both (HTTPS and WSS) or neither (plain HTTP)".into(),
            );
        }
        if self.ivr.queue_notice_interval < Duration::from_secs(5) {
            bad(
                "queue_notice_interval",
                "ivr.queue_notice_interval must be at least 5s".into(),
            );
        }
        for (key, message) in self.policy.problems() {
            bad(key, message);
        }
        errors.extend(
            number_problems
                .into_iter()
                .map(|(line, message)| ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line,
                    message,
                }),
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl Config {
    /// Reads and validates the agents and queues files the config names.
    pub fn load_acd(&self) -> Result<crate::acd::config::AcdConfig, Vec<ConfigError>> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let agents = read(&self.acd.agents);
        let queues = read(&self.acd.queues);
        match (agents, queues) {
            (Ok(a), Ok(q)) => {
                crate::acd::config::AcdConfig::parse(&a, &self.acd.agents, &q, &self.acd.queues)
            }
            (a, q) => Err([a.err(), q.err()].into_iter().flatten().collect()),
        }
    }
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line on which `key` is set, or 1 when the key is absent (a default is at fault).
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests;
