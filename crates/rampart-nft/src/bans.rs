//! Ban sets of `rampart guard` (owned by the guard work).
