//! `hotline`: the telephony engine and ticket workflow of a 12345 government-service hotline.
//!
//! The map of the house (see `../shared/ARCHITECTURE.md`). Every room below `shell` and `cti`
//! is a sans-IO core: it takes input and the current time as arguments and returns what to
//! send and when to wake up. Only `shell` owns sockets, files, timers and the database.
//!
//! | module | owns |
//! |---|---|
//! | [`config`] | the typed configuration, its defaults and `file:line` validation |
//! | [`masked`] | `Masked<T>`: caller numbers and names shown masked outside the ticket |
//! | [`china_time`] | every time the API and the records show, written in China time |
//! | [`sip`] | SIP messages and parsing, SDP, transactions (RFC 3261 §17), dialogs, registrar, the digest client for trunks, SIP over WebSocket (RFC 7118) handshake rules and framing |
//! | [`media`] | RTP packets and the 20 ms pacer, G.711, DTMF, prompt audio |
//! | [`ivr`] | the validated two-level menu tree and the per-call navigator; the callback robot's script and its per-call navigator |
//! | [`acd`] | queues, skills, agent states, routing, the 15-second clock |
//! | [`call`] | one call's life: where dialog, media, IVR and ACD meet |
//! | [`cluster`] | two engines behind Kamailio: active or standby, from an advisory lock's answers |
//! | [`workflow`] | tickets (诉求工单), legal transitions, working-day deadlines |
//! | [`kb`] | knowledge items, versions, review, expiry; search through a `Search` trait |
//! | [`portal`] | the citizen's internet requests: query codes, throttles, what a citizen may see |
//! | [`stats`] | KPIs from timestamped events: 15-second answer rate, 24 h connection rate; per-agent and per-queue figures |
//! | [`outbound`] | the dialler: calling citizens back within the window, tries and pacing |
//! | [`analytics`] | staffing (Erlang C) and the conformance report, fed rows by the shell |
//! | [`cti`] | the HTTP API and pages |
//! | [`shell`] | every socket, timer, file, SQLite handle and task |
//!
//! Dependencies point one way: `cti`, `shell` → `call` → (`ivr`, `acd`, `sip::dialog`,
//! `media`) → `sip::transaction` → `sip::message`. `workflow` and `stats` stand beside.

pub mod acd;
pub mod analytics;
pub mod call;
pub mod china_time;
pub mod cluster;
pub mod config;
pub mod cti;
pub mod ivr;
pub mod kb;
pub mod masked;
pub mod media;
pub mod outbound;
pub mod portal;
pub mod shell;
pub mod sip;
pub mod stats;
pub mod workflow;
