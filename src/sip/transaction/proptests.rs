//! Property tests: random inputs never panic, never emit after Terminated, and always end
//! within 64·T1 + T4 (plus margin) once the peer and the TU go quiet.
