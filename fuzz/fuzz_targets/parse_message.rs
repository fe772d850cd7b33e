//! Fuzz the datagram parser, the error-reply builder, the encoder and the stream framer.
//! Invariants: nothing panics; whatever parses re-encodes to something that parses to the
//! same message; every error reply we would send parses.
#![no_main]

use hotline::sip::parse::{parse_datagram, Framed, StreamFramer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_datagram(data) {
        Ok(m) => {
            let again = parse_datagram(&m.to_bytes());
            assert_eq!(again.as_ref(), Ok(&m), "encode/parse round trip");
        }
        Err(e) => {
            if let Some(r) = e.response() {
                assert!(parse_datagram(&r.to_bytes()).is_ok(), "error reply must parse");
            }
        }
    }
    // Feed the same bytes to a framer in two uneven pieces.
    let cut = data.first().map_or(0, |b| usize::from(*b) % (data.len() + 1));
    let mut f = StreamFramer::new(8192);
    f.push(&data[..cut]);
    for _ in 0..4 {
        if f.pull() == Framed::Incomplete {
            break;
        }
    }
    f.push(&data[cut..]);
    for _ in 0..64 {
        match f.pull() {
            Framed::Incomplete | Framed::Invalid { fatal: true, .. } => break,
            _ => {}
        }
    }
});
