//! One call's life: the only room where dialog, media, IVR and ACD meet. Holds no sockets.

pub mod ports;
pub mod record;
