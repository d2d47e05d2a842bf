//! The text of log lines: tracing-subscriber's default format, written with less work for the
//! line a server writes for every request (`request handled`).
//!
//! tracing-subscriber formats each field through `core::fmt` and styles each field name (a
//! no-op style when colours are off, but still a formatting pass), and writes the time through
//! `core::fmt` too: ~12,000 instructions for the access line, a fifth of everything the proxy
//! does for a request (`valgrind --tool=callgrind`, see `docs/BENCHMARKS.md`). [`LineFields`]
//! writes strings, integers and booleans directly and [`LineTime`] reuses the date and time of
//! the current second, so the same line costs a fraction of that. The text is the same, byte
//! for byte (the tests compare both formatters on the same events); with colours on (a
//! terminal), the default formatter writes the fields.

use std::cell::Cell;
use std::fmt::{self, Debug, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultFields, DefaultVisitor, Writer};
use tracing_subscriber::fmt::time::FormatTime;

/// Formats events' and spans' fields as [`DefaultFields`] does: `name=value` separated by
/// spaces in the order they are recorded, the message bare, strings quoted and escaped
/// (`{:?}`), `r#` dropped from raw names, `log.*` fields (the `log` crate's metadata) left out.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LineFields;

impl<'a> MakeVisitor<Writer<'a>> for LineFields {
    type Visitor = FieldVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> Self::Visitor {
        if writer.has_ansi_escapes() {
            FieldVisitor::Styled(DefaultFields::new().make_visitor(writer))
        } else {
            FieldVisitor::Plain(PlainVisitor {
                writer,
                is_empty: true,
                result: Ok(()),
            })
        }
    }
}

/// [`LineFields`]' visitor: the plain one, or tracing-subscriber's when colours are on.
pub(crate) enum FieldVisitor<'a> {
    /// Colours off: ours.
    Plain(PlainVisitor<'a>),
    /// Colours on: tracing-subscriber's, which styles the names.
    Styled(DefaultVisitor<'a>),
}

/// Writes fields without styles.
pub(crate) struct PlainVisitor<'a> {
    /// Where the fields go.
    writer: Writer<'a>,
    /// No field written yet (none needs a separating space).
    is_empty: bool,
    /// The first write error, after which nothing more is written.
    result: fmt::Result,
}

/// Characters tracing-subscriber escapes in a message when it sanitises ANSI escapes.
fn needs_sanitizing(ch: char) -> bool {
    matches!(
        ch,
        '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}'
    )
}

/// Writes `text` as tracing-subscriber writes a message: as is, or with terminal control
/// characters escaped when `sanitize`.
fn write_message_text(writer: &mut Writer<'_>, text: &str, sanitize: bool) -> fmt::Result {
    if !sanitize || !text.chars().any(needs_sanitizing) {
        return writer.write_str(text);
    }
    for ch in text.chars() {
        match ch {
            '\x1b' => writer.write_str("\\x1b")?,
            '\x07' => writer.write_str("\\x07")?,
            '\x08' => writer.write_str("\\x08")?,
            '\x0c' => writer.write_str("\\x0c")?,
            '\x7f' => writer.write_str("\\x7f")?,
            ch if needs_sanitizing(ch) => write!(writer, "\\u{{{:x}}}", ch as u32)?,
            ch => writer.write_char(ch)?,
        }
    }
    Ok(())
}

/// Writes `value` as `{:?}` writes a string: quoted, with `"`, `\` and anything but printable
/// ASCII escaped (the common case, printable ASCII, without going through `core::fmt`).
pub(crate) fn write_quoted(writer: &mut impl fmt::Write, value: &str) -> fmt::Result {
    let plain = value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if !plain {
        return write!(writer, "{value:?}");
    }
    writer.write_char('"')?;
    writer.write_str(value)?;
    writer.write_char('"')
}

/// A writer that sanitises what passes through it as [`write_message_text`] does, a chunk at a
/// time (a chunk with nothing to escape is written whole).
struct Sanitizing<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Sanitizing<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_message_text(self.0, s, true)
    }
}

impl PlainVisitor<'_> {
    /// Starts a field: false (and nothing written) for the `log` crate's metadata fields, or
    /// once writing has failed; else the separating space and, unless it is the message, the
    /// name and `=`.
    fn begin(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return false;
        }
        if self.is_empty {
            self.is_empty = false;
        } else if let Err(e) = self.writer.write_char(' ') {
            self.result = Err(e);
            return false;
        }
        if name != "message" {
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.result = self
                .writer
                .write_str(name)
                .and_then(|()| self.writer.write_char('='));
        }
        self.result.is_ok()
    }

    /// Writes a message given as `Debug` (format arguments) as tracing-subscriber does:
    /// sanitised when the writer asks for it.
    fn write_message(&mut self, value: &dyn Debug) -> fmt::Result {
        if self.writer.sanitizes_ansi_escapes() {
            write!(Sanitizing(&mut self.writer), "{value:?}")
        } else {
            write!(self.writer, "{value:?}")
        }
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.begin(field) {
            return;
        }
        self.result = if field.name() == "message" {
            let sanitize = self.writer.sanitizes_ansi_escapes();
            write_message_text(&mut self.writer, value, sanitize)
        } else {
            write_quoted(&mut self.writer, value)
        };
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.begin(field) {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.begin(field) {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.begin(field) {
            self.result = self.writer.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_err() {
            return;
        }
        // Rare: tracing-subscriber's own writing (the error and its sources).
        let mut default = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        default.record_error(field, value);
        self.result = default.finish();
        if !field.name().starts_with("log.") {
            self.is_empty = false;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if !self.begin(field) {
            return;
        }
        self.result = if field.name() == "message" {
            self.write_message(value)
        } else {
            write!(self.writer, "{value:?}")
        };
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match self {
            Self::Plain(v) => v.record_str(field, value),
            Self::Styled(v) => v.record_str(field, value),
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match self {
            Self::Plain(v) => v.record_u64(field, value),
            Self::Styled(v) => v.record_u64(field, value),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        match self {
            Self::Plain(v) => v.record_i64(field, value),
            Self::Styled(v) => v.record_i64(field, value),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        match self {
            Self::Plain(v) => v.record_bool(field, value),
            Self::Styled(v) => v.record_bool(field, value),
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        match self {
            Self::Plain(v) => v.record_error(field, value),
            Self::Styled(v) => v.record_error(field, value),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        match self {
            Self::Plain(v) => v.record_debug(field, value),
            Self::Styled(v) => v.record_debug(field, value),
        }
    }
}

impl VisitOutput<fmt::Result> for FieldVisitor<'_> {
    fn finish(self) -> fmt::Result {
        match self {
            Self::Plain(v) => v.result,
            Self::Styled(v) => v.finish(),
        }
    }
}

impl VisitFmt for FieldVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        match self {
            Self::Plain(v) => &mut v.writer,
            Self::Styled(v) => v.writer(),
        }
    }
}

/// The time as tracing-subscriber's default timer writes it (RFC 3339 in UTC, to the
/// microsecond: `2026-12-07T12:31:36.130249Z`); the date and time of day are worked out once
/// per second and thread.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LineTime;

/// The last second formatted on this thread.
#[derive(Clone, Copy)]
struct SecondText {
    /// Its Unix time.
    unix: u64,
    /// `YYYY-MM-DDTHH:MM:SS.`
    text: [u8; 20],
}

thread_local! {
    /// The second [`LineTime`] formatted last on this thread.
    static LAST_SECOND: Cell<Option<SecondText>> = const { Cell::new(None) };
}

/// The first second of the year 10000, which tracing-subscriber writes with a sign.
const YEAR_10000: u64 = 253_402_300_800;

impl FormatTime for LineTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        LineTime::write_now(w)
    }
}

impl LineTime {
    /// Writes the current time as [`FormatTime::format_time`] does.
    pub(crate) fn write_now(w: &mut impl fmt::Write) -> fmt::Result {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) if since.as_secs() < YEAR_10000 => {
                write_timestamp(w, since.as_secs(), since.subsec_micros())
            }
            // Before 1970 or after 9999: as tracing-subscriber writes it.
            _ => tracing_subscriber::fmt::time::SystemTime.format_time(&mut Writer::new(w)),
        }
    }
}

/// Writes `unix` seconds and `micros` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (`unix` before the year
/// 10000).
fn write_timestamp(w: &mut dyn fmt::Write, unix: u64, micros: u32) -> fmt::Result {
    let second = LAST_SECOND.with(|last| match last.get() {
        Some(second) if second.unix == unix => second,
        _ => {
            let second = SecondText {
                unix,
                text: second_text(unix),
            };
            last.set(Some(second));
            second
        }
    });
    let mut fraction = [b'0', b'0', b'0', b'0', b'0', b'0', b'Z'];
    let mut rest = micros;
    for digit in fraction[..6].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    // Both are ASCII digits and punctuation.
    w.write_str(std::str::from_utf8(&second.text).map_err(|_| fmt::Error)?)?;
    w.write_str(std::str::from_utf8(&fraction).map_err(|_| fmt::Error)?)
}

/// `YYYY-MM-DDTHH:MM:SS.` for `unix` seconds (before the year 10000): the date and time of
/// [`l402_core::time::format_rfc3339`] (once per second and thread).
fn second_text(unix: u64) -> [u8; 20] {
    let mut text = *b"0000-00-00T00:00:00.";
    let rfc3339 = l402_core::time::format_rfc3339(unix);
    text[..19].copy_from_slice(&rfc3339.as_bytes()[..19]);
    text
}

#[cfg(test)]
mod tests {
    use l402_testkit::logs::Captured;

    use super::*;

    /// An error with a source.
    #[derive(Debug)]
    struct Outer(Inner);

    /// An error without one.
    #[derive(Debug)]
    struct Inner;

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the outer error")
        }
    }

    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the inner cause")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    impl std::error::Error for Inner {}

    /// Every kind of field, in events and in spans.
    fn log_everything() {
        let client: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        tracing::info!(
            method = %http::Method::GET,
            path = "/free/api/weather",
            client = %client,
            service = Some("free"),
            status = 200u16,
            latency_ms = 0.37,
            "request handled"
        );
        tracing::info!(service = None::<&str>, latency_ms = 12.0, "request handled");
        tracing::warn!(
            text = "quote \" backslash \\ tab \t é \u{1b}[31m",
            negative = -42i64,
            big = u64::MAX,
            yes = true,
            no = false,
            r#type = "raw name",
            "r#kind" = "raw, quoted",
            debug = ?vec![1, 2],
            "message with {} and an escape \u{1b}[2J and a C1 \u{9b}",
            "arguments"
        );
        let plain = Inner;
        let nested = Outer(Inner);
        tracing::error!(
            error = &plain as &(dyn std::error::Error + 'static),
            "an error"
        );
        tracing::error!(
            first = 1u8,
            error = &nested as &(dyn std::error::Error + 'static),
            "an error with a source"
        );
        tracing::info!(message = "message as a field", after = 1u8);
        // The `log` crate's metadata, first and later: skipped, with no stray space.
        tracing::info!(log.target = "skipped", a = 1u8, "after a log field");
        tracing::info!(log.target = "skipped", a = 1u8);
        tracing::info!(a = 1u8, log.line = 3u32, b = true);
        tracing::info!(only = "no message");
        tracing::info!("");
        let span = tracing::info_span!("request", method = "GET", path = %"/x", n = 3u8);
        let _entered = span.enter();
        let inner = tracing::info_span!("inner", empty = tracing::field::Empty);
        inner.record("empty", "later");
        let _inner = inner.enter();
        tracing::info!(status = 402u16, "inside two spans");
    }

    /// What `log_everything` writes through tracing-subscriber's formatter, with our fields
    /// (`plain`) or its own, colours on or off, messages sanitised or not.
    fn render(plain: bool, ansi: bool, sanitize: bool) -> String {
        let out = Captured::default();
        let builder = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_ansi(ansi)
            .with_ansi_sanitization(sanitize)
            .with_target(false)
            .without_time()
            .with_max_level(tracing::Level::TRACE);
        if plain {
            let subscriber = builder.fmt_fields(LineFields).finish();
            tracing::subscriber::with_default(subscriber, log_everything);
        } else {
            tracing::subscriber::with_default(builder.finish(), log_everything);
        }
        out.text()
    }

    #[test]
    fn fields_are_written_as_tracing_subscriber_writes_them() {
        let ours = render(true, false, true);
        let theirs = render(false, false, true);
        assert_eq!(ours, theirs);
        // The comparison covers what it claims to: the access line, escapes, sources, spans.
        for expected in [
            "INFO request handled method=GET path=\"/free/api/weather\" client=127.0.0.1 service=\"free\" status=200 latency_ms=0.37\n",
            "latency_ms=12.0",
            "\\u{1b}[31m",
            "\\x1b[2J",
            "\\u{9b}",
            "type=\"raw name\"",
            "kind=\"raw, quoted\"",
            "error.sources=[the inner cause]",
            "request{method=\"GET\" path=/x n=3}:inner{empty=\"later\"}: inside two spans status=402",
            " INFO after a log field a=1\n",
            " INFO a=1\n",
            " INFO a=1 b=true\n",
        ] {
            assert!(ours.contains(expected), "missing {expected:?} in:\n{ours}");
        }
    }

    #[test]
    fn unsanitised_messages_are_written_as_tracing_subscriber_writes_them() {
        let ours = render(true, false, false);
        assert_eq!(ours, render(false, false, false));
        assert!(ours.contains("an escape \u{1b}[2J"), "kept as is: {ours}");
    }

    #[test]
    fn with_colours_the_default_formatter_writes_the_fields() {
        let ours = render(true, true, true);
        assert_eq!(ours, render(false, true, true));
        assert!(ours.contains("\u{1b}["), "styled: {ours}");
    }

    #[test]
    fn timestamps_match_an_rfc3339_formatter() {
        for (unix, micros) in [
            (0u64, 0u32),
            (59, 999_999),
            (951_782_400, 1), // 2000-02-29
            (1_796_649_096, 130_249),
            (4_102_444_799, 500_000), // 2099-12-31T23:59:59
            (YEAR_10000 - 1, 999_999),
        ] {
            let mut ours = String::new();
            write_timestamp(&mut ours, unix, micros).unwrap();
            // A second call for the same second takes the cached text.
            let mut again = String::new();
            write_timestamp(&mut again, unix, micros).unwrap();
            let expected =
                chrono::DateTime::from_timestamp(i64::try_from(unix).unwrap(), micros * 1_000)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                    .to_string();
            assert_eq!(ours, expected, "{unix}.{micros}");
            assert_eq!(again, expected);
        }
    }

    #[test]
    fn the_current_time_is_written_like_tracing_subscribers() {
        let mut ours = String::new();
        let mut theirs = String::new();
        // The two clocks are read one after the other: retry across a second boundary.
        for _ in 0..5 {
            ours.clear();
            theirs.clear();
            LineTime.format_time(&mut Writer::new(&mut ours)).unwrap();
            tracing_subscriber::fmt::time::SystemTime
                .format_time(&mut Writer::new(&mut theirs))
                .unwrap();
            if ours[..19] == theirs[..19] {
                break;
            }
        }
        assert_eq!(ours.len(), theirs.len(), "{ours} / {theirs}");
        assert_eq!(ours[..19], theirs[..19]);
        assert!(ours.ends_with('Z'));
    }
}
