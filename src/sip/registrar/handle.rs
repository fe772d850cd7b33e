//! One REGISTER, start to finish (RFC 3261 §10.3): screening, the digest exchange,
//! expiry negotiation, the binding update and the response. Lives beside `mod.rs` so the
//! registrar's state and its request path stay readable apart.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::sip::message::{Contact, Method, NameAddr, Request, Response, SipUri, Uri};

use super::bindings::{Change, ContactUpdate, Flow, Origin, Update, UpdateError};
use super::digest::{
    challenge, constant_time_eq, expected_response, parse_credentials, Algorithm, Credentials,
    CredentialsError, NonceState, Parsed,
};
use super::guard::{canonical, is_scanner_agent, GuardChange};
use super::{Registrar, RegistrarEvent, Screening, Traffic};

/// Why a REGISTER is refused before or after authentication; each maps to the status the
/// RFC names and its text becomes the reason phrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// Not a REGISTER (the engine routed it here by mistake).
    #[error("Method Not Allowed")]
    NotRegister,
    /// The To URI is not `sip:user@…` (§10.3 step 4 → 404).
    #[error("Not Found")]
    NoAor,
    /// Unusable digest credentials (RFC 2617 §3.2.2 → 400).
    #[error("{0}")]
    Credentials(#[from] CredentialsError),
    /// `Contact: *` with other contacts or a non-zero Expires (§10.3 step 6 → 400).
    #[error("Contact * needs Expires 0 and no other Contact")]
    BadStar,
    /// A contact that is not a SIP URI: the engine could never ring it.
    #[error("Contact must be a sip or sips URI")]
    BadContact,
    /// Shorter than allowed (→ 423 with Min-Expires).
    #[error("Interval Too Brief")]
    TooBrief {
        /// The shortest accepted.
        min: u32,
    },
    /// Call-ID/CSeq ordering (§10.3 steps 7–8 → 500).
    #[error("Out-of-order REGISTER: CSeq {got} not above {stored}")]
    OutOfOrder {
        /// CSeq of the stored binding.
        stored: u32,
        /// CSeq of the request.
        got: u32,
    },
    /// A Path header (RFC 3327) that is not a list of SIP addresses: requests to the phone
    /// could not be routed back through it (→ 400).
    #[error("Path must be a list of sip or sips addresses")]
    BadPath,
    /// More contacts than one agent may hold (→ 403).
    #[error("Too many bindings (at most {max})")]
    TooMany {
        /// The limit.
        max: usize,
    },
}

impl RegisterError {
    /// The status code this refusal is answered with.
    pub fn status(&self) -> u16 {
        match self {
            RegisterError::NotRegister => 405,
            RegisterError::NoAor => 404,
            RegisterError::Credentials(_)
            | RegisterError::BadStar
            | RegisterError::BadContact
            | RegisterError::BadPath => 400,
            RegisterError::TooBrief { .. } => 423,
            RegisterError::OutOfOrder { .. } => 500,
            RegisterError::TooMany { .. } => 403,
        }
    }
}

/// The result of checking a REGISTER's credentials.
enum AuthOutcome {
    /// Verified: go on.
    Authorized,
    /// Send a fresh challenge (`stale` when the digest was right over an old nonce or a
    /// reused nonce-count).
    Challenge { stale: bool },
    /// Wrong digest, unknown user or a username that is not the AOR: 403 and a failure.
    Refused,
    /// Malformed: 400.
    Bad(RegisterError),
}

impl<L: Clone + PartialEq + fmt::Debug> Registrar<L> {
    /// Answers one REGISTER (after the transaction layer absorbed retransmissions) that
    /// came over `flow`: 401 challenge, 403, 400/404/423/500, or 200 OK listing the
    /// user's bindings with their remaining `expires`. Events for the ACD are queued.
    /// The source counts as unverified (UDP); see [`Registrar::handle_register_from`].
    pub fn handle_register(&mut self, req: &Request, flow: Flow<L>, now: Instant) -> Response {
        self.handle_register_from(req, flow, false, now)
    }

    /// [`Registrar::handle_register`] over a flow whose source address is `verified` (a TCP
    /// connection): only then may a scanner's User-Agent block the address.
    pub fn handle_register_from(
        &mut self,
        req: &Request,
        flow: Flow<L>,
        verified: bool,
        now: Instant,
    ) -> Response {
        self.counters.registers += 1;
        match self.screen(req, flow.addr, verified, Traffic::Agent, now) {
            Screening::Pass => {}
            Screening::Refuse(r) => return *r,
            // Only an ACK is dropped, and an ACK is not a REGISTER.
            Screening::Drop => return self.refuse(req, RegisterError::NotRegister),
        }
        if req.method != Method::Register {
            return self.refuse(req, RegisterError::NotRegister);
        }
        let Some(user) = aor_user(req) else {
            return self.refuse(req, RegisterError::NoAor);
        };
        let ip = canonical(flow.addr.ip());
        match self.authenticate(req, &user, ip, now) {
            AuthOutcome::Authorized => {}
            AuthOutcome::Challenge { stale } => return self.challenge_response(req, stale, now),
            AuthOutcome::Refused => return self.reply(req, 403, "Forbidden"),
            AuthOutcome::Bad(e) => return self.refuse(req, e),
        }
        let update = match self.requested_update(req) {
            Ok(u) => u,
            Err(e) => return self.refuse(req, e),
        };
        let path = match register_path(req) {
            Ok(p) => p,
            Err(e) => return self.refuse(req, e),
        };
        let origin = Origin {
            call_id: req.headers.call_id.clone(),
            cseq: req.headers.cseq.seq,
            flow: flow.clone(),
            transport: req
                .headers
                .top_via()
                .map(|v| v.transport.clone())
                .unwrap_or(crate::sip::message::Transport::Udp),
            user_agent: req.headers.get("User-Agent").map(str::to_owned),
            path: path.clone(),
        };
        let changes =
            match self
                .table
                .apply(&user, &update, &origin, self.cfg.max_bindings_per_user, now)
            {
                Ok(c) => c,
                Err(UpdateError::OutOfOrder { stored, got }) => {
                    return self.refuse(req, RegisterError::OutOfOrder { stored, got })
                }
                Err(UpdateError::TooMany { max }) => {
                    return self.refuse(req, RegisterError::TooMany { max })
                }
            };
        let live = self.table.live_count(&user, now);
        for c in changes {
            let source = flow.addr;
            let user = user.clone();
            let ev = match c {
                Change::Added { contact, .. } => {
                    tracing::info!(%user, %contact, %source, "registered");
                    RegistrarEvent::BindingAdded {
                        user,
                        contact,
                        source,
                        live,
                    }
                }
                Change::Refreshed { contact, .. } => RegistrarEvent::BindingRefreshed {
                    user,
                    contact,
                    source,
                    live,
                },
                Change::Removed { contact } => {
                    tracing::info!(%user, %contact, "unregistered");
                    RegistrarEvent::BindingRemoved {
                        user,
                        contact,
                        live,
                    }
                }
            };
            self.events.push_back(ev);
        }
        self.counters.accepted += 1;
        let mut resp = self.reply(req, 200, "OK");
        let list: Vec<_> = self
            .table
            .contacts(&user, now)
            .into_iter()
            .map(|b| {
                let mut c = b.contact.clone();
                c.params
                    .set("expires", Some(&b.remaining_secs(now).to_string()));
                c
            })
            .collect();
        if !list.is_empty() {
            resp.headers.contact = Some(Contact::List(list));
        }
        // RFC 3327 §5.3: the Path is echoed only to a UA that said it supports it; it is
        // kept with the binding either way (the proxy that added it needs it, not the UA).
        resp.headers.supported.push("path".to_owned());
        let ua_supports_path = req
            .headers
            .supported
            .iter()
            .any(|t| t.eq_ignore_ascii_case("path"));
        if ua_supports_path {
            for p in &path {
                let mut v = Vec::new();
                p.encode(&mut v);
                resp.headers.push("Path", &String::from_utf8_lossy(&v));
            }
        }
        resp
    }

    fn refuse(&self, req: &Request, e: RegisterError) -> Response {
        let mut resp = self.reply(req, e.status(), &e.to_string());
        if let RegisterError::TooBrief { min } = e {
            resp.headers.push("Min-Expires", &min.to_string());
        }
        resp
    }

    /// The algorithms to offer this client.
    fn offered(&self, req: &Request) -> Vec<Algorithm> {
        let old_stack = req
            .headers
            .get("User-Agent")
            .is_some_and(|ua| is_scanner_agent(ua, &self.cfg.md5_only_agents));
        if old_stack && self.cfg.algorithms.contains(&Algorithm::Md5) {
            vec![Algorithm::Md5]
        } else {
            self.cfg.algorithms.clone()
        }
    }

    fn challenge_response(&mut self, req: &Request, stale: bool, now: Instant) -> Response {
        self.counters.challenges += 1;
        if stale {
            self.counters.stale += 1;
        }
        self.nonce_serial = self.nonce_serial.wrapping_add(1);
        let nonce = self
            .mint
            .mint(self.since_epoch(now), self.nonce_serial, &self.cfg.realm);
        let mut resp = self.reply(req, 401, "Unauthorized");
        for alg in self.offered(req) {
            resp.headers
                .www_authenticate
                .push(challenge(&self.cfg.realm, &nonce, alg, stale));
        }
        resp
    }

    fn authenticate(&mut self, req: &Request, aor: &str, ip: IpAddr, now: Instant) -> AuthOutcome {
        let offered = self.offered(req);
        let mut creds: Option<Credentials> = None;
        for auth in &req.headers.authorization {
            match parse_credentials(auth, &self.cfg.realm, &offered) {
                Parsed::NotOurs => {}
                Parsed::Bad(e) => return AuthOutcome::Bad(e.into()),
                Parsed::Ok(c) => {
                    // Prefer the strongest algorithm if a client answered several challenges.
                    if creds.as_ref().is_none_or(|old| c.algorithm < old.algorithm) {
                        creds = Some(c);
                    }
                }
            }
        }
        let Some(c) = creds else {
            return AuthOutcome::Challenge { stale: false };
        };
        let request_uri = req.uri.to_string();
        if !c.uri.eq_ignore_ascii_case(&request_uri) {
            return AuthOutcome::Bad(CredentialsError::UriMismatch { uri: c.uri }.into());
        }
        let nonce_state = self
            .mint
            .check(&c.nonce, &self.cfg.realm, self.since_epoch(now));
        if nonce_state == NonceState::Invalid {
            return AuthOutcome::Challenge { stale: false };
        }
        // Unknown users are checked against an HA1 nobody knows, on the same path as a
        // wrong password, so neither the answer nor its timing tells them apart.
        let ha1 = self
            .store
            .ha1(&c.username, &self.cfg.realm, c.algorithm)
            .unwrap_or_else(|| {
                let d = self.mint.derive(b"dummy-ha1\0", &[c.username.as_bytes()]);
                match c.algorithm {
                    Algorithm::Sha256 => hex::encode(d),
                    Algorithm::Md5 => hex::encode(&d[..16]),
                }
            });
        let expected = expected_response(
            c.algorithm,
            &ha1,
            &c.nonce,
            &c.nc,
            &c.cnonce,
            "auth",
            req.method.as_str(),
            &c.uri,
        );
        let digest_ok = constant_time_eq(expected.as_bytes(), c.response.as_bytes());
        if !digest_ok || c.username != aor {
            self.counters.auth_failures += 1;
            tracing::warn!(%ip, username = %c.username.chars().take(64).collect::<String>(),
                "registrar: digest authentication failed");
            self.events.push_back(RegistrarEvent::AuthFailed {
                ip,
                username: c.username.chars().take(64).collect(),
            });
            if let Some(GuardChange::Blocked { ip, until }) = self.guard.record_failure(ip, now) {
                tracing::warn!(%ip, "registrar: too many failures, source blocked");
                self.events
                    .push_back(RegistrarEvent::SourceBlocked { ip, until });
            }
            return AuthOutcome::Refused;
        }
        if nonce_state == NonceState::Stale {
            return AuthOutcome::Challenge { stale: true };
        }
        match self.nonce_counts.get(&c.nonce) {
            Some((last, _)) if c.nc_value <= *last => {
                self.counters.replays += 1;
                tracing::warn!(%ip, user = %aor, nc = c.nc_value, "registrar: nonce-count replayed");
                return AuthOutcome::Challenge { stale: true };
            }
            _ => {}
        }
        self.remember_nc(&c.nonce, c.nc_value);
        self.guard.record_success(ip);
        AuthOutcome::Authorized
    }

    /// Checks the digest of a request an agent's phone starts on its own (an INVITE to a
    /// colleague, a unit or 110 while it has a citizen on the line): the From user must be
    /// the one who answers the challenge, with the same nonces, counters and failure guard as
    /// REGISTER. `Ok` names the user; `Err` is the response to send (401 challenge, 403, 400).
    pub fn authenticate_request(
        &mut self,
        req: &Request,
        ip: IpAddr,
        now: Instant,
    ) -> Result<String, Box<Response>> {
        let user = match &req.headers.from.uri {
            Uri::Sip(u) => u
                .user_decoded()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|u| !u.is_empty()),
            Uri::Other(_) => None,
        };
        let Some(user) = user else {
            return Err(Box::new(self.reply(req, 403, "Forbidden")));
        };
        let refusal = match self.authenticate(req, &user, canonical(ip), now) {
            AuthOutcome::Authorized => return Ok(user),
            AuthOutcome::Challenge { stale } => self.challenge_response(req, stale, now),
            AuthOutcome::Refused => self.reply(req, 403, "Forbidden"),
            AuthOutcome::Bad(e) => self.refuse(req, e),
        };
        Err(Box::new(refusal))
    }

    fn remember_nc(&mut self, nonce: &str, nc: u32) {
        let forget_at = match self.mint.timestamp(nonce, &self.cfg.realm) {
            Some(ts) => self.epoch + self.mint.fresh_until(ts),
            None => return,
        };
        if let Some((last, _)) = self.nonce_counts.get_mut(nonce) {
            *last = nc;
            return;
        }
        if self.nonce_counts.len() >= self.cfg.max_tracked_nonces.max(1) {
            if let Some((_, oldest)) = self.nonce_timers.pop_first() {
                self.nonce_counts.remove(&oldest);
            }
        }
        self.nonce_counts.insert(nonce.to_owned(), (nc, forget_at));
        self.nonce_timers.insert((forget_at, nonce.to_owned()));
    }

    /// §10.3 steps 5–6: what the Contact/Expires headers ask for, expiries negotiated.
    fn requested_update(&self, req: &Request) -> Result<Update, RegisterError> {
        let header_expires = req.headers.expires;
        match &req.headers.contact {
            None => Ok(Update::Query),
            Some(Contact::Star) => {
                if header_expires == Some(0) {
                    Ok(Update::RemoveAll)
                } else {
                    Err(RegisterError::BadStar)
                }
            }
            Some(Contact::List(list)) => {
                let mut out = Vec::with_capacity(list.len());
                for c in list {
                    if !c.uri.is_sip() {
                        return Err(RegisterError::BadContact);
                    }
                    let asked = c
                        .expires()
                        .or(header_expires)
                        .unwrap_or(self.cfg.default_expires);
                    if asked != 0 && asked < self.cfg.min_expires {
                        return Err(RegisterError::TooBrief {
                            min: self.cfg.min_expires,
                        });
                    }
                    let granted = asked.min(self.cfg.max_expires);
                    out.push(ContactUpdate {
                        contact: c.clone(),
                        expires: Duration::from_secs(u64::from(granted)),
                    });
                }
                Ok(Update::Contacts(out))
            }
        }
    }
}

/// The REGISTER's Path header values (RFC 3327), top first; each must be a SIP URI, since a
/// request to the phone is routed through them in this order.
fn register_path(req: &Request) -> Result<Vec<NameAddr>, RegisterError> {
    let mut out = Vec::new();
    for value in req.headers.get_all("Path") {
        crate::sip::parse::parse_name_addr_list(value, &mut out)
            .map_err(|_| RegisterError::BadPath)?;
    }
    if out.iter().any(|p| !p.uri.is_sip()) {
        return Err(RegisterError::BadPath);
    }
    Ok(out)
}

/// The agent's SIP user: the To URI's user part, escapes decoded (§10.3 step 4).
fn aor_user(req: &Request) -> Option<String> {
    let uri: &SipUri = match &req.headers.to.uri {
        Uri::Sip(u) => u,
        Uri::Other(_) => return None,
    };
    let bytes = uri.user_decoded()?;
    let user = String::from_utf8(bytes).ok()?;
    (!user.is_empty()).then_some(user)
}
