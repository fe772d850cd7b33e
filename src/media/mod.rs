//! Media: RTP packets and the 20 ms pacer, G.711 codecs, DTMF detection, prompt audio.
//! Nothing here opens a file or a socket: the shell hands in bytes and sends what comes out.

pub mod codec;
pub mod dtmf;
pub mod pacer;
pub mod player;
pub mod prompt;
pub mod rtp;

/// Tests step a fake clock from one starting instant; `Instant` has no constructor, so the
/// shell's clock supplies that single origin (cores never read the clock themselves).
#[cfg(test)]
pub(crate) fn t0() -> std::time::Instant {
    crate::shell::clock::now()
}
