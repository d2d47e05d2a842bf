//! The wall clock, in the Unix seconds the store and the tokens use.

use std::time::{SystemTime, UNIX_EPOCH};

/// Current Unix time in seconds (0 if the clock is before 1970).
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
