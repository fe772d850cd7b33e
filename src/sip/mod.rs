//! SIP (RFC 3261): typed messages and their parser, SDP, the four transaction machines,
//! dialogs, the registrar, the digest client that answers a trunk's challenge, and what SIP over
//! WebSocket accepts (`ws`). No state survives between messages in `message`/`parse`.

pub mod dialog;
pub mod digest_client;
pub mod message;
pub mod parse;
pub mod prefix;
pub mod registrar;
pub mod sdp;
pub mod transaction;
pub mod ws;
