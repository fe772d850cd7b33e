//! The IVR: the validated menu tree (at most two levels, a person reachable from every level,
//! no advertising — rules C4, C5, C7) and the per-call navigator (digits and timeouts → play,
//! repeat, route). It starts no calls and touches no media.
//!
//! The callback robot (回访机器人, issue 15) lives here too: its script is a `[robot.<id>]`
//! table in the same files, checked by the same loader with the same rules (no advertising,
//! `0` for a person at every step), and run per callback by a sans-IO `RobotNavigator`.
//!
//! Layout: `model` (the validated tree), `script` (a validated robot script), `format` (the
//! files' serde shape), `load` (the rules, every error as `file:line`), `navigator` (one sans-IO
//! state machine per call), `robot` (one per answered callback).

pub mod callback_offer;
pub mod error;
mod format;
pub mod load;
pub mod model;
pub mod navigator;
pub mod numbers;
pub mod robot;
pub mod script;
#[cfg(test)]
pub(crate) mod testutil;

pub use error::{Location, MenuError, MenuErrorKind, MenuWarning};
pub use load::{load, LoadOptions, Loaded, PromptCatalog, DEFAULT_QUEUES};
pub use model::{
    Action, CallbackAudio, Key, Menu, MenuIdx, MenuTree, Prompt, PromptRef, Purpose, QueueAudio,
};
pub use navigator::{NavAction, Navigator, PlayId, RouteReason};
pub use numbers::{NumberEntry, NumberRoute, NumberSpec, NumberTarget, Spot};
pub use robot::{Ended, Rating, RobotNavigator, RobotOutput, RobotResult};
pub use script::{Answer, RobotScript, RobotStep, StepKind};
