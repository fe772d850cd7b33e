//! Automatic call distribution: queues, skills, agent states, routing, the 15-second clock,
//! ring-no-answer, wrap-up and expansion (overflow). It emits "offer call C to agent A" and
//! hears back "answered", "no answer", "caller hung up"; it never speaks SIP, plays audio or
//! reads the clock: every input carries `now`.
//!
//! - [`config`]: `agents.toml` and `queues.toml`, validated, and the digest HA1 function.
//! - [`model`]: agent ids, skills, agent states.
//! - [`core`]: the sans-IO routing core, [`Acd`].
//! - [`queue`]: the plain FIFO waiting lines the call engine uses today.

pub mod config;
pub mod core;
pub mod model;
pub mod queue;

pub use self::core::{Acd, AcdError, Alarm, CallKey, CancelReason, Output, RingFailure, Snapshot};
