//! The access line: one `request handled` line per request, at `info`.
//!
//! By default the line is a `tracing` event (target `l402_server::server::stack`) with the
//! fields `method`, `path`, `client`, `service` (when routed), `status` and `latency_ms`
//! ([`AccessLine::trace`]). The event's machinery (the dispatch, a visitor per field, `core::fmt`
//! for each `Display` field) is a tenth of a proxied request's user-space instructions. A
//! program that owns its log format can [`install`] an [`AccessLog`] that writes the same line
//! itself; the server then hands it each request's [`AccessLine`] instead of the event, whenever
//! the line would be written outside any span (below `debug`, the server makes none).
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use l402_server::access_log::{self, AccessLine, AccessLog};
//!
//! /// Counts lines instead of writing them.
//! struct Counter(AtomicU64);
//!
//! impl AccessLog for Counter {
//!     fn log(&self, line: &AccessLine<'_>) {
//!         let mut client = String::new();
//!         line.push_client(&mut client);
//!         assert_eq!(client, "127.0.0.1");
//!         self.0.fetch_add(1, Ordering::Relaxed);
//!     }
//! }
//!
//! static COUNTER: Counter = Counter(AtomicU64::new(0));
//! access_log::install(&COUNTER).expect("the first sink");
//! assert!(access_log::install(&COUNTER).is_err(), "one sink per process");
//! ```

mod millis;

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use http::Method;

use crate::ip_text::IpText;
use millis::Millis;

/// One handled request, as the access line reports it.
#[derive(Debug, Clone, Copy)]
pub struct AccessLine<'a> {
    /// The request's method.
    pub method: &'a Method,
    /// The request target's path (without the query).
    pub path: &'a str,
    /// The client's address (the connection's peer).
    pub client: IpAddr,
    /// The service the request was routed to, if any.
    pub service: Option<&'a str>,
    /// The status of the answer.
    pub status: u16,
    /// From the request's head to its answer's head.
    pub latency: Duration,
}

impl AccessLine<'_> {
    /// Appends `client` as the event's field writes it (the address's `Display`).
    pub fn push_client(&self, out: &mut String) {
        IpText(self.client).push_to(out);
    }

    /// Appends `latency_ms` as the event's field writes it: milliseconds to the microsecond,
    /// as `{:?}` writes an `f64` (`0.37`, `12.0`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use l402_server::access_log::AccessLine;
    /// let line = AccessLine {
    ///     method: &http::Method::GET,
    ///     path: "/",
    ///     client: [127, 0, 0, 1].into(),
    ///     service: None,
    ///     status: 200,
    ///     latency: Duration::from_micros(12_000),
    /// };
    /// let mut text = String::new();
    /// line.push_latency_ms(&mut text);
    /// assert_eq!(text, "12.0");
    /// ```
    pub fn push_latency_ms(&self, out: &mut String) {
        Millis::of(self.latency).push_to(out);
    }

    /// Writes the line as the `tracing` event (whatever sink is installed).
    pub fn trace(&self) {
        tracing::info!(
            target: ACCESS_TARGET,
            method = %self.method,
            path = self.path,
            client = %IpText(self.client),
            service = self.service,
            status = self.status,
            latency_ms = %Millis::of(self.latency),
            "request handled"
        );
    }

    /// Writes the line: through the installed [`AccessLog`] when there is one and no span is
    /// current, else as the `tracing` event ([`AccessLine::trace`]). Nothing is written when
    /// the event's target is not enabled at `info`.
    pub fn log(&self) {
        if !tracing::enabled!(target: ACCESS_TARGET, tracing::Level::INFO) {
            return;
        }
        match SINK.get() {
            Some(sink) if tracing::Span::current().is_none() => sink.log(self),
            _ => self.trace(),
        }
    }
}

/// The target of the access line's event (and of the filter that decides whether it is
/// written).
pub const ACCESS_TARGET: &str = "l402_server::server::stack";

/// Writes access lines in place of the `tracing` event (see the [module](self)). It must write
/// what the event would have been written as, or nothing: the filter has already allowed it.
pub trait AccessLog: Send + Sync + 'static {
    /// Writes one line.
    fn log(&self, line: &AccessLine<'_>);
}

impl<T: AccessLog + ?Sized> AccessLog for &'static T {
    fn log(&self, line: &AccessLine<'_>) {
        (**self).log(line);
    }
}

static SINK: OnceLock<Box<dyn AccessLog>> = OnceLock::new();

/// A sink was installed already: the process has one, for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an access-log sink is installed already")]
pub struct AlreadyInstalled;

/// Installs the process's [`AccessLog`] (once: as `tracing`'s global subscriber).
pub fn install(sink: impl AccessLog) -> Result<(), AlreadyInstalled> {
    SINK.set(Box::new(sink)).map_err(|_| AlreadyInstalled)
}
