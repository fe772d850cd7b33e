//! Automatic call distribution: queues, skills, agent states, routing, the 15-second clock,
//! ring-no-answer, wrap-up and expansion (overflow). It emits "offer call C to agent A" and
//! hears back "answered", "no answer", "caller hung up"; it never speaks SIP, plays audio or
//! reads the clock: every input carries `now`. It must not touch sockets, files or the
//! registrar's bindings (the engine reports registrations as `handle_registration`).
//!
//! - [`config`]: `agents.toml` and `queues.toml` parsed from text, validated with
//!   `file:line` messages, and [`config::ha1`] (MD5 / SHA-256) for the registrar.
//! - [`model`]: agent ids, skills, agent states and not-ready reasons.
//! - [`core`]: the sans-IO routing core, [`Acd`].
//!
//! Wiring, in the engine task: `Acd::new(&cfg, now)`; feed `handle_call_queued` when the
//! IVR routes to a queue, `handle_ring_answered` / `handle_ring_failed` from the agent leg's
//! final response, `handle_caller_hung_up` on the caller's BYE/CANCEL, `handle_call_ended`
//! when a bridged call ends, `handle_registration` from the registrar, `handle_agent_state`
//! and `handle_wrap_up_done` from the HTTP API, `handle_timeout` at `poll_timeout()`; after
//! each, drain `poll_output()`: `Offer` → INVITE the agent's contact, `CancelOffer` →
//! CANCEL it, the rest → stats, wallboard, alarms.
//!
//! Web work items (internet requests, [`core::items`]): `handle_item_queued` when a request
//! is registered (queue from [`config::AcdConfig::web_queue_for`], `t0` = the receipt),
//! `handle_item_accepted` / `handle_item_declined` from the desk, `handle_item_done` when
//! the agent finished it, `handle_item_withdrawn` when it was handled elsewhere; after each
//! input (and each `handle_timeout`) also drain `poll_item_output()`: `OfferItem` → show it
//! on the agent's desk, `CancelItemOffer` → take it off, the rest → stats and wallboard.
//! The IVR and transfers use `has_voice_queue`: a caller never lands in a web queue.
//!
//! A second agent on a call (consult transfer, three-way call, interpreter seat; see
//! [`core`]'s `assist` module): `handle_assist_requested(call, AssistTarget, now)` when the
//! call's agent asks for a named agent or a queue's best agent (ring the returned agent's
//! phone), `handle_assist_ended(agent, answered, now)` when that agent leaves, and
//! `handle_call_taken_over(call, agent, now)` when a consult transfer completes.

pub mod config;
pub mod core;
pub mod model;

pub use self::core::{
    Acd, AcdError, Alarm, AssistTarget, CallKey, CancelReason, ItemCancelReason, ItemKey,
    ItemOutput, Output, RingFailure, Snapshot, WebQueueSnapshot,
};
