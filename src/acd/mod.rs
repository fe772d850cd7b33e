//! Automatic call distribution: queues, skills, agent states, routing and the 15-second clock.
//! It emits "offer call C to agent A"; it never speaks SIP.
//!
//! Today it holds the waiting lines: which calls wait in which queue, in what order, since
//! when. Agents and routing build on this.

pub mod queue;
