//! The location table: bindings per address-of-record (agent SIP user), their expiry
//! timers, and the RFC 3261 §10.3 steps 5–8 update rules (Call-ID/CSeq ordering, `*`
//! removal, all-or-nothing commit). Owns no authentication and no per-source counters.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::sip::message::{NameAddr, Transport, Uri};

/// Where a message came from: the address and the link (UDP socket, TCP connection…)
/// it arrived on. `L` is the shell's link type (the engine's `Link`); requests to the
/// agent go back over this same flow, which is what gets them through the agent's NAT
/// (RFC 3581 `received`/`rport` semantics, without RFC 5626 outbound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow<L> {
    /// The source address and port the REGISTER really came from.
    pub addr: SocketAddr,
    /// The link it came in on.
    pub link: L,
}

/// One registered contact of an agent's phone.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding<L> {
    /// The Contact as registered (its `expires` parameter removed; `q` and others kept).
    pub contact: NameAddr,
    /// When it lapses unless refreshed.
    pub expires_at: Instant,
    /// Where the REGISTER came from: send requests for this binding here, not to the
    /// Contact host, which is usually a private address behind NAT.
    pub flow: Flow<L>,
    /// The transport of the REGISTER's top Via.
    pub transport: Transport,
    /// Call-ID of the REGISTER that last set it (§10.3 step 7).
    pub call_id: String,
    /// CSeq of the REGISTER that last set it.
    pub cseq: u32,
    /// The phone's User-Agent, for the supervisors' view.
    pub user_agent: Option<String>,
    /// The REGISTER's Path (RFC 3327), top first: the proxies (Kamailio) a request to this
    /// phone must go back through, sent as its Route set. Empty when it came direct.
    pub path: Vec<NameAddr>,
    pub(crate) id: u64,
}

impl<L> Binding<L> {
    /// The contact URI (the Request-URI of requests sent to this phone).
    pub fn uri(&self) -> &Uri {
        &self.contact.uri
    }

    /// The `q` preference, 0–1000 (1000 when absent or unreadable).
    pub fn q_millis(&self) -> u16 {
        self.contact
            .params
            .value("q")
            .and_then(|q| q.parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
            .map(|q| (q * 1000.0).round() as u16)
            .unwrap_or(1000)
    }

    /// Whole seconds left at `now`, rounded up (what the 200 OK reports).
    pub fn remaining_secs(&self, now: Instant) -> u64 {
        let left = self.expires_at.saturating_duration_since(now);
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }
}

/// URI equivalence for matching a REGISTER's contacts to stored bindings (RFC 3261
/// §19.1.4, without URI headers): scheme, user and password exact (escapes decoded),
/// host case-insensitive, port as written; `user`, `ttl`, `method`, `maddr` and
/// `transport` must agree when either side has them, other parameters only when both do.
pub fn uri_equivalent(a: &Uri, b: &Uri) -> bool {
    match (a, b) {
        (Uri::Sip(a), Uri::Sip(b)) => {
            if a.scheme != b.scheme
                || a.user_decoded() != b.user_decoded()
                || a.password
                    .as_deref()
                    .map(crate::sip::message::percent_decode)
                    != b.password
                        .as_deref()
                        .map(crate::sip::message::percent_decode)
                || !a.host.eq_ignore_case(&b.host)
                || a.port != b.port
            {
                return false;
            }
            const STRICT: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];
            for name in STRICT {
                let (x, y) = (a.params.get(name), b.params.get(name));
                let same = match (x, y) {
                    (None, None) => true,
                    (Some(x), Some(y)) => eq_opt_ci(x, y),
                    _ => false,
                };
                if !same {
                    return false;
                }
            }
            a.params.iter().all(|p| match b.params.get(&p.name) {
                None => true,
                Some(v) => eq_opt_ci(p.value.as_deref(), v),
            })
        }
        (Uri::Other(a), Uri::Other(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

fn eq_opt_ci(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// One contact of a REGISTER with its granted expiry (0 = remove).
#[derive(Debug, Clone)]
pub(crate) struct ContactUpdate {
    pub contact: NameAddr,
    pub expires: Duration,
}

/// What a REGISTER asks for, after validation.
#[derive(Debug, Clone)]
pub(crate) enum Update {
    /// A query: no Contact.
    Query,
    /// `Contact: *` with `Expires: 0`.
    RemoveAll,
    /// Add, refresh or remove these.
    Contacts(Vec<ContactUpdate>),
}

/// The REGISTER's identity for the ordering rules.
#[derive(Debug, Clone)]
pub(crate) struct Origin<L> {
    pub call_id: String,
    pub cseq: u32,
    pub flow: Flow<L>,
    pub transport: Transport,
    pub user_agent: Option<String>,
    pub path: Vec<NameAddr>,
}

/// Why an update was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UpdateError {
    /// Same Call-ID as a binding with a CSeq not lower (§10.3 step 7).
    OutOfOrder { stored: u32, got: u32 },
    /// More bindings than allowed for one agent.
    TooMany { max: usize },
}

/// What happened to one binding, for the events.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    Added { contact: Uri, expires_at: Instant },
    Refreshed { contact: Uri, expires_at: Instant },
    Removed { contact: Uri },
}

/// Bindings of every agent.
#[derive(Debug)]
pub(crate) struct Table<L> {
    aors: HashMap<String, Vec<Binding<L>>>,
    timers: BTreeSet<(Instant, u64, String)>,
    next_id: u64,
}

impl<L: Clone + PartialEq> Table<L> {
    pub(crate) fn new() -> Self {
        Table {
            aors: HashMap::new(),
            timers: BTreeSet::new(),
            next_id: 1,
        }
    }

    /// Live bindings of `user` at `now`, highest `q` first.
    pub(crate) fn contacts(&self, user: &str, now: Instant) -> Vec<Binding<L>> {
        let mut v: Vec<Binding<L>> = self
            .aors
            .get(user)
            .map(|b| b.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        v.sort_by_key(|b| std::cmp::Reverse(b.q_millis()));
        v
    }

    pub(crate) fn live_count(&self, user: &str, now: Instant) -> usize {
        self.aors
            .get(user)
            .map_or(0, |b| b.iter().filter(|b| b.expires_at > now).count())
    }

    /// Users with at least one live binding.
    pub(crate) fn users(&self, now: Instant) -> Vec<String> {
        let mut v: Vec<String> = self
            .aors
            .iter()
            .filter(|(_, b)| b.iter().any(|b| b.expires_at > now))
            .map(|(u, _)| u.clone())
            .collect();
        v.sort();
        v
    }

    /// Applies `update` for `user` all-or-nothing (§10.3 step 8).
    pub(crate) fn apply(
        &mut self,
        user: &str,
        update: &Update,
        origin: &Origin<L>,
        max_bindings: usize,
        now: Instant,
    ) -> Result<Vec<Change>, UpdateError> {
        let current: Vec<Binding<L>> = self
            .aors
            .get(user)
            .map(|b| b.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        let mut next = current.clone();
        let mut changes = Vec::new();
        match update {
            Update::Query => return Ok(changes),
            Update::RemoveAll => {
                for b in &next {
                    if b.call_id == origin.call_id && origin.cseq <= b.cseq {
                        return Err(UpdateError::OutOfOrder {
                            stored: b.cseq,
                            got: origin.cseq,
                        });
                    }
                }
                for b in next.drain(..) {
                    changes.push(Change::Removed {
                        contact: b.contact.uri,
                    });
                }
            }
            Update::Contacts(list) => {
                // Ids touched by this request: a contact listed twice is not "out of order".
                let mut touched: HashSet<u64> = HashSet::new();
                for cu in list {
                    let pos = next
                        .iter()
                        .position(|b| uri_equivalent(&b.contact.uri, &cu.contact.uri));
                    match pos {
                        Some(i) => {
                            let b = &next[i];
                            if !touched.contains(&b.id)
                                && b.call_id == origin.call_id
                                && origin.cseq <= b.cseq
                            {
                                return Err(UpdateError::OutOfOrder {
                                    stored: b.cseq,
                                    got: origin.cseq,
                                });
                            }
                            if cu.expires.is_zero() {
                                let b = next.remove(i);
                                touched.insert(b.id);
                                changes.push(Change::Removed {
                                    contact: b.contact.uri,
                                });
                            } else {
                                let b = &mut next[i];
                                touched.insert(b.id);
                                b.contact = stored_contact(&cu.contact);
                                b.expires_at = now + cu.expires;
                                b.flow = origin.flow.clone();
                                b.transport = origin.transport.clone();
                                b.call_id = origin.call_id.clone();
                                b.cseq = origin.cseq;
                                b.user_agent = origin.user_agent.clone();
                                b.path = origin.path.clone();
                                changes.push(Change::Refreshed {
                                    contact: b.contact.uri.clone(),
                                    expires_at: b.expires_at,
                                });
                            }
                        }
                        None if cu.expires.is_zero() => {}
                        None => {
                            let id = self.next_id;
                            self.next_id += 1;
                            touched.insert(id);
                            let b = Binding {
                                contact: stored_contact(&cu.contact),
                                expires_at: now + cu.expires,
                                flow: origin.flow.clone(),
                                transport: origin.transport.clone(),
                                call_id: origin.call_id.clone(),
                                cseq: origin.cseq,
                                user_agent: origin.user_agent.clone(),
                                path: origin.path.clone(),
                                id,
                            };
                            changes.push(Change::Added {
                                contact: b.contact.uri.clone(),
                                expires_at: b.expires_at,
                            });
                            next.push(b);
                        }
                    }
                }
                if next.len() > max_bindings {
                    return Err(UpdateError::TooMany { max: max_bindings });
                }
            }
        }
        // Commit: drop the old timers (including those of bindings that had lapsed but
        // whose timeout was not handled yet), then store the new set.
        if let Some(old) = self.aors.remove(user) {
            for b in old {
                self.timers.remove(&(b.expires_at, b.id, user.to_owned()));
            }
        }
        for b in &next {
            self.timers.insert((b.expires_at, b.id, user.to_owned()));
        }
        if !next.is_empty() {
            self.aors.insert(user.to_owned(), next);
        }
        Ok(changes)
    }

    /// Removes every binding that came over `link` (a TCP connection that closed).
    pub(crate) fn remove_link(&mut self, link: &L) -> Vec<(String, Uri)> {
        let mut gone = Vec::new();
        for (user, bindings) in self.aors.iter_mut() {
            bindings.retain(|b| {
                if &b.flow.link == link {
                    self.timers.remove(&(b.expires_at, b.id, user.clone()));
                    gone.push((user.clone(), b.contact.uri.clone()));
                    false
                } else {
                    true
                }
            });
        }
        self.aors.retain(|_, b| !b.is_empty());
        gone.sort_by(|a, b| a.0.cmp(&b.0));
        gone
    }

    /// Every binding still live at `now`, by user (for saving across a restart).
    pub(crate) fn all(&self, now: Instant) -> Vec<(String, Binding<L>)> {
        let mut v: Vec<(String, Binding<L>)> = self
            .aors
            .iter()
            .flat_map(|(u, bs)| bs.iter().map(move |b| (u.clone(), b.clone())))
            .filter(|(_, b)| b.expires_at > now)
            .collect();
        v.sort_by(|a, b| (&a.0, a.1.id).cmp(&(&b.0, b.1.id)));
        v
    }

    /// Puts back a binding saved before a restart (a fresh id, its own expiry); false when
    /// the contact is already bound or the user holds `max` bindings.
    pub(crate) fn restore(&mut self, user: &str, mut b: Binding<L>, max: usize) -> bool {
        let list = self.aors.entry(user.to_owned()).or_default();
        if list.len() >= max
            || list
                .iter()
                .any(|x| uri_equivalent(&x.contact.uri, &b.contact.uri))
        {
            if list.is_empty() {
                self.aors.remove(user);
            }
            return false;
        }
        b.id = self.next_id;
        self.next_id += 1;
        self.timers.insert((b.expires_at, b.id, user.to_owned()));
        b.contact = stored_contact(&b.contact);
        list.push(b);
        true
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.first().map(|(t, _, _)| *t)
    }

    /// Expires bindings due at `now`; returns (user, contact) of each.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Vec<(String, Uri)> {
        let mut gone = Vec::new();
        while let Some((t, id, user)) = self.timers.first().cloned() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            if let Some(bindings) = self.aors.get_mut(&user) {
                if let Some(i) = bindings.iter().position(|b| b.id == id) {
                    let b = bindings.remove(i);
                    gone.push((user.clone(), b.contact.uri));
                }
                if bindings.is_empty() {
                    self.aors.remove(&user);
                }
            }
        }
        gone
    }
}

/// The contact as stored: without `expires` (the 200 OK writes the remaining time).
fn stored_contact(c: &NameAddr) -> NameAddr {
    let mut c = c.clone();
    c.params.remove("expires");
    c
}
