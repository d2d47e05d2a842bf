//! The server's access line (`request handled`) written straight into the log batch, without
//! `tracing`'s event machinery: the same text as the event through the fmt layer with
//! [`LineFields`](crate::log_format::LineFields) and [`LineTime`], at a fraction of the cost
//! (the event took ~4,600 instructions of a proxied request's ~42,000).

use std::cell::RefCell;
use std::io::Write as _;

use l402_server::access_log::{AccessLine, AccessLog};
use tracing_subscriber::fmt::MakeWriter;

use crate::log_format::{LineTime, write_quoted};
use crate::log_writer::BatchedWriter;

/// Writes access lines into the server's batched log writer.
pub(crate) struct DirectAccessLog {
    writer: BatchedWriter,
}

impl DirectAccessLog {
    /// Lines go to `writer`, beside the other log lines.
    pub(crate) fn new(writer: BatchedWriter) -> Self {
        Self { writer }
    }
}

thread_local! {
    /// The line being written (kept: a line per request would otherwise allocate).
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(256));
}

impl AccessLog for DirectAccessLog {
    fn log(&self, line: &AccessLine<'_>) {
        LINE.with_borrow_mut(|text| {
            text.clear();
            // Writing to a `String` does not fail.
            let _ = LineTime::write_now(text);
            text.push(' ');
            write_untimed(line, text);
            // A dropped line is counted by the writer itself.
            let _ = self.writer.make_writer().write_all(text.as_bytes());
        });
    }
}

/// What the fmt layer writes after the time and its space, with `with_target(false)`, no span
/// and colours off: the level, the message and the fields, then the line's end.
fn write_untimed(line: &AccessLine<'_>, out: &mut String) {
    out.push_str(" INFO request handled method=");
    out.push_str(line.method.as_str());
    out.push_str(" path=");
    let _ = write_quoted(out, line.path);
    out.push_str(" client=");
    line.push_client(out);
    if let Some(service) = line.service {
        out.push_str(" service=");
        let _ = write_quoted(out, service);
    }
    out.push_str(" status=");
    out.push_str(itoa::Buffer::new().format(line.status));
    out.push_str(" latency_ms=");
    line.push_latency_ms(out);
    out.push('\n');
}

/// Whether access lines may bypass the event for this filter (`L402_LOG`'s text, if set):
/// not when it has span or field directives (`[…]`), whose decisions depend on more than the
/// event's target and level.
pub(crate) fn filter_allows_direct(filter: Option<&str>) -> bool {
    filter.is_none_or(|text| !text.contains('['))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::Method;

    use super::*;
    use crate::log_format::LineFields;
    use l402_testkit::logs::Captured;

    /// Access lines with every kind of value: methods, quoted and escaped paths and services,
    /// IPv4 and IPv6 clients, no service, short and long latencies.
    fn lines() -> Vec<AccessLine<'static>> {
        static PURGE: std::sync::LazyLock<Method> =
            std::sync::LazyLock::new(|| Method::from_bytes(b"PURGE").unwrap());
        let base = AccessLine {
            method: &Method::GET,
            path: "/free/api/weather",
            client: [127, 0, 0, 1].into(),
            service: Some("free"),
            status: 200,
            latency: Duration::from_micros(370),
        };
        vec![
            base,
            AccessLine {
                method: &Method::POST,
                path: "/a \"quoted\" \\ path/é/\u{1b}[31m",
                client: "2001:db8::1".parse().unwrap(),
                service: Some("svc \"x\""),
                status: 402,
                latency: Duration::from_secs(12),
            },
            AccessLine {
                method: &PURGE,
                path: "",
                client: [10, 200, 3, 255].into(),
                service: None,
                status: 503,
                latency: Duration::from_nanos(4_287_999),
            },
            AccessLine {
                service: None,
                latency: Duration::from_secs(86_400 * 365),
                ..base
            },
        ]
    }

    /// What the fmt layer writes for the access line's event, without the time, with our
    /// fields or with its own.
    fn through_the_event(line: &AccessLine<'_>, ours: bool) -> String {
        let out = Captured::default();
        let builder = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_ansi(false)
            .with_target(false)
            .without_time();
        if ours {
            let subscriber = builder.fmt_fields(LineFields).finish();
            tracing::subscriber::with_default(subscriber, || line.trace());
        } else {
            tracing::subscriber::with_default(builder.finish(), || line.trace());
        }
        out.text()
    }

    #[test]
    fn the_direct_line_is_the_events_text() {
        for line in lines() {
            let mut direct = String::new();
            write_untimed(&line, &mut direct);
            assert_eq!(direct, through_the_event(&line, true), "{line:?}");
            assert_eq!(direct, through_the_event(&line, false), "{line:?}");
        }
    }

    #[test]
    fn a_direct_line_is_timed_as_the_events() {
        let out = Captured::default();
        let (writer, guard) = crate::log_writer::batched(out.clone());
        let line = lines()[0];
        DirectAccessLog::new(writer).log(&line);
        drop(guard);
        let text = out.text();
        let mut untimed = String::new();
        write_untimed(&line, &mut untimed);
        // `2026-12-07T12:31:36.130249Z` and a space, then the rest.
        assert_eq!(text.len(), 28 + untimed.len(), "{text:?}");
        assert!(text.ends_with(&untimed), "{text:?}");
        assert_eq!(&text[26..28], "Z ", "{text:?}");
        assert_eq!(&text[19..20], ".", "{text:?}");
    }

    #[test]
    fn span_and_field_filters_keep_the_event() {
        assert!(filter_allows_direct(None));
        assert!(filter_allows_direct(Some("info")));
        assert!(filter_allows_direct(Some("warn,l402_server=info")));
        assert!(!filter_allows_direct(Some("info,[request]=debug")));
        assert!(!filter_allows_direct(Some(
            "l402_server[{status=500}]=info"
        )));
    }
}
