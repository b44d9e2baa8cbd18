//! Input policy of `rampart respond firewall` (owned by the respond work).
