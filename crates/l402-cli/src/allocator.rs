//! The process's memory allocator.
//!
//! A proxied request makes a few dozen small allocations that live for the request only (its
//! header maps, the upstream request's head, the access line). glibc's allocator spent ~10% of
//! a proxied request's user-space instructions on them (`bench/instructions.sh`); mimalloc's
//! per-thread free lists serve them for a fraction of that, and keep the two runtime threads
//! from sharing an arena. The `mimalloc` feature (on by default) selects it; without it the
//! binary uses the system's allocator.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
