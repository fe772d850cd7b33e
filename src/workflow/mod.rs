//! The ticket (诉求工单) workflow core: legal transitions (W1–W18), working-day deadlines, the
//! event log from which a ticket's state is derived, the sweep, repeat detection (W6).
//! It is handed the time (`at`, China time +08:00) and a [`store::TicketStore`]; it never
//! reads the clock, a file or the database itself. See `docs/WORKFLOW.md`.
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | ids, channels, classification, caller, intake, actors and roles |
//! | [`calendar`] | working days from the yearly calendar files, due times, warnings |
//! | [`areas`] | the administrative area tree (网格化) and its search |
//! | [`catalogue`] | the dispatch catalogue (W5), by category and area; units and sub-units |
//! | [`policy`] | the rules' numbers, as configurable defaults |
//! | [`action`] | typed actions and typed refusals |
//! | [`callback_by`] | who makes a ticket's W13 callback: robot or agent, chosen per ticket |
//! | [`event`] | the append-only event log |
//! | [`ticket`] | the state derived from the log |
//! | [`decide`] | the rules: action → events or refusal |
//! | [`citizen`] | what a citizen and a channel connector may do (issue 13) |
//! | [`hand_on`] | 下派: a unit hands a signed ticket on to its sub-unit; area codes checked |
//! | [`available`] | the actions a user could take now (what the ticket desk offers) |
//! | [`sweep`] | reminders, overdue → supervision, not rated |
//! | [`repeat`] | W6 similarity rule |
//! | [`store`] | the store trait, index rows, list queries, reports |
//! | [`engine`] | create / act / sweep over a store |
//! | [`party`] | who else was on a ticket's call (W3), from the engine's events |
//! | [`limits`] | field lengths, events per ticket, names without format characters |

pub mod action;
pub mod areas;
pub mod available;
pub mod calendar;
pub mod callback_by;
pub mod catalogue;
pub mod citizen;
pub mod create;
pub mod decide;
pub mod draft;
pub mod engine;
pub mod event;
pub mod hand_on;
pub mod limits;
pub mod memory;
pub mod model;
pub mod oversight;
pub mod party;
pub mod policy;
pub mod repeat;
pub mod store;
pub mod sweep;
pub mod ticket;

pub use action::{Action, Refusal};
pub use calendar::{Due, WorkCalendar, YearCalendar};
pub use catalogue::DispatchCatalogue;
pub use engine::{Workflow, WorkflowError};
pub use event::{Event, EventKind};
pub use model::{Actor, Intake, Role, TicketId, UnitId};
pub use policy::Policy;
pub use store::TicketStore;
pub use ticket::{Ticket, TicketState};
