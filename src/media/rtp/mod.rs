//! RTP (RFC 3550) for G.711 voice: packet parse/build ([`packet`]), the per-stream sender
//! state ([`sender`]) and receive-side stats ([`stats`]) and
//! the source latch that refuses packets from anyone but the leg's peer ([`latch`]).
//! Sans-IO: bytes in, bytes out; the shell owns the sockets. RTCP is not sent yet.
//!
//! The 12-byte header is written here rather than with the `rtp-rs` crate: its reader is
//! fine, but its builder returns a fresh `Vec` per packet (or needs a builder per packet),
//! while the pacer writes thousands of packets per tick into one reused buffer. The header is
//! a dozen lines; owning it also gives typed `thiserror` errors and no extra dependency.

pub mod latch;
pub mod packet;
pub mod sender;
pub mod stats;

pub use latch::{LatchConfig, LatchDecision, RefuseReason, SourceLatch};
pub use packet::{RtpError, RtpExtension, RtpHeader, RtpPacket, HEADER_LEN};
pub use sender::{RtpSender, TIMESTAMP_STEP};
pub use stats::{ReceiveOutcome, ReceiveStats};
