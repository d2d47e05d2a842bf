//! The Prometheus text exposition format (version 0.0.4), written by hand: one family at a
//! time, `# HELP` and `# TYPE` first, label values escaped.

use std::fmt::Write;

use super::histogram::{BOUNDS, HistogramSnapshot};

/// The `Content-Type` of [`SellerMetrics::render`](super::SellerMetrics::render)'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family's kind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Writes families into a string.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    out: String,
}

/// Label pairs of one sample.
pub(crate) type Labels<'a> = &'a [(&'a str, &'a str)];

impl Encoder {
    /// Starts a family: its help line and type.
    pub(crate) fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample of an integer value.
    pub(crate) fn sample(&mut self, name: &str, labels: Labels<'_>, value: u64) {
        self.out.push_str(name);
        self.labels(labels, None);
        let _ = writeln!(self.out, " {value}");
    }

    /// A histogram's `_bucket`, `_sum` and `_count` samples.
    pub(crate) fn histogram(&mut self, name: &str, labels: Labels<'_>, h: &HistogramSnapshot) {
        for (i, count) in h.cumulative.iter().enumerate() {
            let le = BOUNDS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| format_f64(*b));
            let _ = write!(self.out, "{name}_bucket");
            self.labels(labels, Some(&le));
            let _ = writeln!(self.out, " {count}");
        }
        let _ = write!(self.out, "{name}_sum");
        self.labels(labels, None);
        let _ = writeln!(self.out, " {}", format_f64(h.sum_secs));
        let _ = write!(self.out, "{name}_count");
        self.labels(labels, None);
        let _ = writeln!(self.out, " {}", h.count);
    }

    fn labels(&mut self, labels: Labels<'_>, le: Option<&str>) {
        if labels.is_empty() && le.is_none() {
            return;
        }
        self.out.push('{');
        let mut first = true;
        for (name, value) in labels.iter().copied().chain(le.map(|le| ("le", le))) {
            if !first {
                self.out.push(',');
            }
            first = false;
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_value(&mut self.out, value);
            self.out.push('"');
        }
        self.out.push('}');
    }

    /// The text written.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Backslash, double quote and newline escaped, as label values need.
fn escape_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Backslash and newline escaped, as help text needs.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A float as Prometheus reads it (`+Inf`, `NaN`, else Rust's shortest round-trip form).
fn format_f64(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut e = Encoder::default();
        e.family("l402_x_total", Kind::Counter, "Odd\nhelp \\ text.");
        e.sample("l402_x_total", &[("service", "we\"ird\\na\nme")], 3);
        assert_eq!(
            e.finish(),
            "# HELP l402_x_total Odd\\nhelp \\\\ text.\n# TYPE l402_x_total counter\n\
             l402_x_total{service=\"we\\\"ird\\\\na\\nme\"} 3\n"
        );
    }

    #[test]
    fn a_histogram_has_every_bucket_then_sum_and_count() {
        let h = super::super::histogram::Histogram::default();
        h.observe(std::time::Duration::from_millis(2));
        let mut e = Encoder::default();
        e.histogram("l402_t_seconds", &[("service", "a")], &h.snapshot());
        let text = e.finish();
        assert_eq!(text.lines().count(), BOUNDS.len() + 3);
        assert!(text.contains("l402_t_seconds_bucket{service=\"a\",le=\"0.001\"} 0\n"));
        assert!(text.contains("l402_t_seconds_bucket{service=\"a\",le=\"0.0025\"} 1\n"));
        assert!(text.contains("l402_t_seconds_bucket{service=\"a\",le=\"+Inf\"} 1\n"));
        assert!(text.contains("l402_t_seconds_sum{service=\"a\"} 0.002\n"));
        assert!(text.contains("l402_t_seconds_count{service=\"a\"} 1\n"));
    }
}
