//! The client's clock: the system clock by default, injectable for tests.

pub use l402_core::env::{Clock, SystemClock};
