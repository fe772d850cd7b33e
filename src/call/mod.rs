//! One call's life: the only room where dialog, media, IVR and ACD meet. Holds no sockets.

pub mod agent_leg;
pub mod blind_refer;
pub mod browser_leg;
pub mod browser_party;
pub mod call_me_back;
pub mod counters;
pub mod end;
pub mod engine;
pub mod external;
pub mod hand_over;
pub mod ids;
pub mod ivr_walk;
pub mod leg_invite;
pub mod liveness;
pub mod media_ready;
pub mod media_session;
pub mod monitor;
pub mod outbound;
pub mod outbound_auth;
pub mod output;
pub mod parties;
pub mod party_legs;
pub mod persist;
pub mod ports;
pub mod record;
pub mod refusal;
pub mod reload;
pub mod robot_call;
pub mod role;
pub mod screen;
pub mod session;
pub mod side_line;
pub mod transfer;
pub mod views;
pub mod web_items;

#[cfg(test)]
mod tests;
