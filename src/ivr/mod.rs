//! The IVR: the validated menu tree (at most two levels, a person reachable from every level,
//! no advertising — rules C4, C5, C7) and the per-call navigator (digits and timeouts → play,
//! repeat, route). It starts no calls and touches no media.
