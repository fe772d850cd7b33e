//! The registrar (RFC 3261 §10.3) for the agents' softphones: digest authentication
//! (§22, RFC 2617 `qop=auth`, RFC 8760 SHA-256 and MD5) with stateless expiring nonces and
//! nonce-count replay protection, bindings per agent SIP user with expiry, and scanner
//! protection (failure counting and temporary blocks per source IP, scanner User-Agents).
//!
//! Sans-IO: [`Registrar::handle_register`] turns a REGISTER into its final response;
//! [`Registrar::poll_timeout`] / [`Registrar::handle_timeout`] expire bindings and blocks;
//! [`Registrar::poll_event`] tells the ACD who has a live registration. It never reads a
//! clock and never sends anything; it must not know agent states, calls or queues.

mod bindings;
mod digest;
mod guard;
mod handle;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_auth;
#[cfg(test)]
mod tests_path;

pub use bindings::{uri_equivalent, Binding, Flow};
pub use digest::{
    challenge, expected_response, ha1, parse_credentials, Algorithm, CredentialStore, Credentials,
    CredentialsError, MemoryCredentials, NonceState, Parsed,
};
pub use guard::{is_scanner_agent, BlockPolicy, ScannerPolicy, DEFAULT_SCANNER_AGENTS};
pub use handle::RegisterError;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::sip::message::{Method, Request, Response, Uri};

use bindings::Table;
use digest::NonceMint;
use guard::{canonical, Guard, GuardChange};

/// The registrar's settings (the config room maps `hotline.toml` onto this).
#[derive(Debug, Clone)]
pub struct RegistrarConfig {
    /// The digest realm (what phones show as "domain"/"realm"); part of every HA1.
    pub realm: String,
    /// Shortest registration accepted; shorter (non-zero) ones get 423 with Min-Expires.
    pub min_expires: u32,
    /// Granted when the REGISTER names none.
    pub default_expires: u32,
    /// Longer requests are cut down to this (a dead phone then lapses within it).
    pub max_expires: u32,
    /// Bindings one agent may hold (phones on the desk and in the headset app).
    pub max_bindings_per_user: usize,
    /// How long a nonce is fresh; a correct digest over an older one gets `stale=true`.
    pub nonce_lifetime: Duration,
    /// Algorithms offered in 401s, one challenge each, in this order (RFC 8760 §2.4:
    /// preferred first).
    pub algorithms: Vec<Algorithm>,
    /// User-Agent substrings (any case) of clients that abort on a challenge naming an
    /// algorithm they do not know instead of skipping it (pre-RFC 8760 stacks); they are
    /// offered MD5 only.
    pub md5_only_agents: Vec<String>,
    /// Failure counting and blocking.
    pub block: BlockPolicy,
    /// What to do with scanner User-Agents.
    pub scanners: ScannerPolicy,
    /// Their User-Agent substrings.
    pub scanner_agents: Vec<String>,
    /// Most nonces whose nonce-count is tracked at once (one per successful login, kept
    /// for the nonce lifetime); beyond it the oldest is forgotten, which only costs that
    /// phone one extra challenge.
    pub max_tracked_nonces: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            realm: "hotline".to_owned(),
            min_expires: 60,
            default_expires: 600,
            max_expires: 3600,
            max_bindings_per_user: 5,
            nonce_lifetime: Duration::from_secs(300),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            md5_only_agents: vec!["baresip v0.".to_owned(), "baresip v1.".to_owned()],
            block: BlockPolicy::default(),
            scanners: ScannerPolicy::RefuseAndBlock,
            scanner_agents: DEFAULT_SCANNER_AGENTS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            max_tracked_nonces: 100_000,
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The expiry bounds are out of order.
    #[error("registrar expiries must satisfy 0 < min_expires ({min}) <= default_expires ({default}) <= max_expires ({max})")]
    Expires {
        /// min_expires.
        min: u32,
        /// default_expires.
        default: u32,
        /// max_expires.
        max: u32,
    },
    /// No algorithm to challenge with.
    #[error("registrar needs at least one digest algorithm")]
    NoAlgorithm,
    /// An empty realm would make every HA1 realm-less.
    #[error("registrar realm is empty")]
    EmptyRealm,
    /// A zero nonce lifetime would make every nonce stale at once.
    #[error("registrar nonce_lifetime must be at least one second")]
    NonceLifetime,
}

impl RegistrarConfig {
    /// Checks the settings before a registrar is built from them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.min_expires == 0
            || self.min_expires > self.default_expires
            || self.default_expires > self.max_expires
        {
            return Err(ConfigError::Expires {
                min: self.min_expires,
                default: self.default_expires,
                max: self.max_expires,
            });
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::NoAlgorithm);
        }
        if self.realm.is_empty() {
            return Err(ConfigError::EmptyRealm);
        }
        if self.nonce_lifetime < Duration::from_secs(1) {
            return Err(ConfigError::NonceLifetime);
        }
        Ok(())
    }
}

/// What the registrar tells the layers above (the ACD: "has a live registration";
/// the operators: attacks). `live` is how many bindings the user holds after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrarEvent {
    /// A new contact for `user`.
    BindingAdded {
        /// The agent's SIP user.
        user: String,
        /// The contact.
        contact: Uri,
        /// Where the REGISTER came from.
        source: SocketAddr,
        /// Bindings of `user` now.
        live: usize,
    },
    /// An existing contact re-registered.
    BindingRefreshed {
        /// The agent's SIP user.
        user: String,
        /// The contact.
        contact: Uri,
        /// Where the REGISTER came from.
        source: SocketAddr,
        /// Bindings of `user` now.
        live: usize,
    },
    /// A contact was removed by the phone (`Expires: 0`, `Contact: *`) or its link closed.
    BindingRemoved {
        /// The agent's SIP user.
        user: String,
        /// The contact.
        contact: Uri,
        /// Bindings of `user` now.
        live: usize,
    },
    /// A contact lapsed without a refresh.
    BindingExpired {
        /// The agent's SIP user.
        user: String,
        /// The contact.
        contact: Uri,
        /// Bindings of `user` now.
        live: usize,
    },
    /// A digest did not verify (wrong password, unknown user, or a username not the AOR).
    AuthFailed {
        /// The source.
        ip: IpAddr,
        /// The username it claimed (an agent user or a guess).
        username: String,
    },
    /// A source is refused until `until`.
    SourceBlocked {
        /// The source.
        ip: IpAddr,
        /// End of the block.
        until: Instant,
    },
    /// A block ended.
    SourceUnblocked {
        /// The source.
        ip: IpAddr,
    },
    /// A request from a scanner User-Agent was refused.
    ScannerRefused {
        /// The source.
        ip: IpAddr,
        /// Its User-Agent.
        user_agent: String,
    },
}

/// One log line's worth: SIP URIs as they are written (`sip:1001@host:port`), never as Rust
/// structures; blocks by how long they last.
impl fmt::Display for RegistrarEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistrarEvent::BindingAdded {
                user,
                contact,
                source,
                live,
            } => write!(
                f,
                "binding added: user {user} contact {contact} from {source} ({live} live)"
            ),
            RegistrarEvent::BindingRefreshed {
                user,
                contact,
                source,
                live,
            } => write!(
                f,
                "binding refreshed: user {user} contact {contact} from {source} ({live} live)"
            ),
            RegistrarEvent::BindingRemoved {
                user,
                contact,
                live,
            } => {
                write!(
                    f,
                    "binding removed: user {user} contact {contact} ({live} live)"
                )
            }
            RegistrarEvent::BindingExpired {
                user,
                contact,
                live,
            } => {
                write!(
                    f,
                    "binding expired: user {user} contact {contact} ({live} live)"
                )
            }
            RegistrarEvent::AuthFailed { ip, username } => {
                write!(f, "authentication failed: {ip} as {username:?}")
            }
            RegistrarEvent::SourceBlocked { ip, .. } => write!(f, "source blocked: {ip}"),
            RegistrarEvent::SourceUnblocked { ip } => write!(f, "source unblocked: {ip}"),
            RegistrarEvent::ScannerRefused { ip, user_agent } => {
                write!(f, "scanner refused: {ip} User-Agent {user_agent:?}")
            }
        }
    }
}

/// What to do with a request before anything else looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screening {
    /// Go on.
    Pass,
    /// Send this 403 and stop.
    Refuse(Box<Response>),
    /// Say nothing (an ACK from a refused source).
    Drop,
}

/// What a request is for, as far as a blocked source is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// A call to a service number (INVITE, its ACK and CANCEL, OPTIONS), or a request
    /// inside a dialog the engine already has: never refused for a block.
    Call,
    /// Registration and the agents' other requests: refused while the source is blocked.
    Agent,
}

/// Counters for the operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistrarCounters {
    /// REGISTERs handled.
    pub registers: u64,
    /// 401s sent.
    pub challenges: u64,
    /// 401s with `stale=true`.
    pub stale: u64,
    /// Digests that did not verify.
    pub auth_failures: u64,
    /// Replayed nonce-counts.
    pub replays: u64,
    /// Requests refused because the source was blocked or a scanner.
    pub refused: u64,
    /// Of those, refused because the source was blocked.
    pub refused_blocked: u64,
    /// Of those, refused for a scanner's User-Agent.
    pub refused_scanner: u64,
    /// Successful registrations (2xx).
    pub accepted: u64,
}

/// The registrar core. `L` is the shell's link type (the engine's `Link`), stored with
/// each binding so requests to a phone go back over the flow it registered from.
pub struct Registrar<L> {
    cfg: RegistrarConfig,
    store: Box<dyn CredentialStore + Send + Sync>,
    mint: NonceMint,
    /// `Instant`s become nonce timestamps as seconds since this.
    epoch: Instant,
    table: Table<L>,
    guard: Guard,
    /// Highest nonce-count seen per nonce that authenticated, until the nonce goes stale.
    nonce_counts: HashMap<String, (u32, Instant)>,
    nonce_timers: BTreeSet<(Instant, String)>,
    /// Makes every nonce unique, even two minted in the same second.
    nonce_serial: u64,
    events: VecDeque<RegistrarEvent>,
    counters: RegistrarCounters,
}

impl<L> fmt::Debug for Registrar<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registrar")
            .field("realm", &self.cfg.realm)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl<L: Clone + PartialEq + fmt::Debug> Registrar<L> {
    /// A registrar. `secret` keys the nonces: give it 32 random bytes at start-up (nonces
    /// from before a restart then fail their MAC and get a fresh challenge). `now` is the
    /// epoch of the nonce timestamps.
    pub fn new(
        cfg: RegistrarConfig,
        store: Box<dyn CredentialStore + Send + Sync>,
        secret: [u8; 32],
        now: Instant,
    ) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let guard = Guard::new(cfg.block.clone());
        Ok(Registrar {
            mint: NonceMint::new(secret, cfg.nonce_lifetime),
            cfg,
            store,
            epoch: now,
            table: Table::new(),
            guard,
            nonce_counts: HashMap::new(),
            nonce_timers: BTreeSet::new(),
            nonce_serial: 0,
            events: VecDeque::new(),
            counters: RegistrarCounters::default(),
        })
    }

    /// Replaces the credential store (the agents' config was reloaded). Bindings stay.
    pub fn set_credentials(&mut self, store: Box<dyn CredentialStore + Send + Sync>) {
        self.store = store;
    }

    /// The settings in force.
    pub fn config(&self) -> &RegistrarConfig {
        &self.cfg
    }

    /// Counters so far.
    pub fn counters(&self) -> RegistrarCounters {
        self.counters
    }

    /// Whether `ip` is blocked at `now`: the engine answers any request from it with 403
    /// (or drops it) before doing work.
    pub fn is_blocked(&self, ip: IpAddr, now: Instant) -> bool {
        self.guard.is_blocked(ip, now)
    }

    /// When `ip`'s block ends, if it is blocked at `now` (for the operators' view).
    pub fn blocked_until(&self, ip: IpAddr, now: Instant) -> Option<Instant> {
        self.guard.blocked_until(ip, now)
    }

    /// The verdict on any request (not only REGISTER) from `source`, which the engine asks
    /// first. A blocked source is refused 403 (no challenge) for [`Traffic::Agent`] only:
    /// citizens' calls arrive from the carrier's address, which one forged datagram could
    /// otherwise get blocked. A scanner's User-Agent is refused whatever the traffic, and
    /// blocks its source only when `verified` (a TCP connection proved the address) and the
    /// source is not an exempt trunk. An ACK is never answered, so it is dropped instead.
    pub fn screen(
        &mut self,
        req: &Request,
        source: SocketAddr,
        verified: bool,
        traffic: Traffic,
        now: Instant,
    ) -> Screening {
        let ip = canonical(source.ip());
        let refuse = |this: &Self| {
            if req.method == Method::Ack {
                Screening::Drop
            } else {
                Screening::Refuse(Box::new(this.reply(req, 403, "Forbidden")))
            }
        };
        if traffic == Traffic::Agent && self.guard.is_blocked(ip, now) {
            self.counters.refused += 1;
            self.counters.refused_blocked += 1;
            return refuse(self);
        }
        if self.cfg.scanners == ScannerPolicy::Allow {
            return Screening::Pass;
        }
        let Some(ua) = req.headers.get("User-Agent") else {
            return Screening::Pass;
        };
        if !is_scanner_agent(ua, &self.cfg.scanner_agents) {
            return Screening::Pass;
        }
        self.counters.refused += 1;
        self.counters.refused_scanner += 1;
        self.events.push_back(RegistrarEvent::ScannerRefused {
            ip,
            user_agent: ua.chars().take(128).collect(),
        });
        if self.cfg.scanners == ScannerPolicy::RefuseAndBlock && verified {
            if let Some(GuardChange::Blocked { ip, until }) = self.guard.block(ip, now) {
                tracing::warn!(%ip, "registrar: scanner User-Agent over TCP, source blocked");
                self.events
                    .push_back(RegistrarEvent::SourceBlocked { ip, until });
            }
        }
        refuse(self)
    }

    /// Whether `ip` is an exempt trunk (never blocked, never limited).
    pub fn is_exempt(&self, ip: IpAddr) -> bool {
        self.guard.is_exempt(ip)
    }

    /// Live bindings of an agent's SIP user at `now`, highest `q` first: ring each
    /// [`Binding::uri`] by sending to its [`Binding::flow`].
    pub fn contacts(&self, user: &str, now: Instant) -> Vec<Binding<L>> {
        self.table.contacts(user, now)
    }

    /// Whether `user` has at least one live binding (the ACD offers calls only then).
    pub fn is_registered(&self, user: &str, now: Instant) -> bool {
        self.table.live_count(user, now) > 0
    }

    /// Every user with a live binding, sorted.
    pub fn registered_users(&self, now: Instant) -> Vec<String> {
        self.table.users(now)
    }

    /// Every live binding at `now` with its user, to be saved across a restart.
    pub fn bindings(&self, now: Instant) -> Vec<(String, Binding<L>)> {
        self.table.all(now)
    }

    /// Puts back a binding saved before a restart, with the expiry it had (the phone is not
    /// asked to register again), and says so with `BindingAdded` so the ACD learns the agent
    /// can be rung. False (nothing changed) when it has lapsed, is already bound, or the user
    /// holds the most bindings allowed.
    pub fn restore_binding(&mut self, user: &str, binding: Binding<L>, now: Instant) -> bool {
        if binding.expires_at <= now {
            return false;
        }
        let (contact, source) = (binding.contact.uri.clone(), binding.flow.addr);
        if !self
            .table
            .restore(user, binding, self.cfg.max_bindings_per_user)
        {
            return false;
        }
        let live = self.table.live_count(user, now);
        self.events.push_back(RegistrarEvent::BindingAdded {
            user: user.to_owned(),
            contact,
            source,
            live,
        });
        true
    }

    /// A stream link closed (TCP connection gone): its bindings can no longer be reached
    /// through the phone's NAT, so they are removed now rather than at expiry.
    pub fn handle_link_closed(&mut self, link: &L, now: Instant) {
        for (user, contact) in self.table.remove_link(link) {
            let live = self.table.live_count(&user, now);
            self.events.push_back(RegistrarEvent::BindingRemoved {
                user,
                contact,
                live,
            });
        }
    }

    /// When [`Registrar::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.table.next_deadline(),
            self.guard.next_deadline(),
            self.nonce_timers.first().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Expires bindings, ends blocks, forgets stale nonce-counts due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for (user, contact) in self.table.handle_timeout(now) {
            let live = self.table.live_count(&user, now);
            tracing::info!(%user, %contact, "registration expired");
            self.events.push_back(RegistrarEvent::BindingExpired {
                user,
                contact,
                live,
            });
        }
        let mut changes = Vec::new();
        self.guard.handle_timeout(now, &mut changes);
        for c in changes {
            if let GuardChange::Unblocked { ip } = c {
                tracing::info!(%ip, "registrar: block ended");
                self.events
                    .push_back(RegistrarEvent::SourceUnblocked { ip });
            }
        }
        while let Some((t, nonce)) = self.nonce_timers.first().cloned() {
            if t > now {
                break;
            }
            self.nonce_timers.pop_first();
            self.nonce_counts.remove(&nonce);
        }
    }

    /// The next event, until `None`.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<RegistrarEvent> {
        self.events.pop_front()
    }

    fn since_epoch(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.epoch)
    }

    /// A response with a To tag derived from the request (stable across a retransmission
    /// that reaches us, unpredictable to others).
    fn reply(&self, req: &Request, status: u16, reason: &str) -> Response {
        let tag_bytes = self.mint.derive(
            b"to-tag\0",
            &[
                req.headers.call_id.as_bytes(),
                &req.headers.cseq.seq.to_be_bytes(),
            ],
        );
        Response::for_request(req, status, reason).with_to_tag(&hex::encode(&tag_bytes[..8]))
    }
}
