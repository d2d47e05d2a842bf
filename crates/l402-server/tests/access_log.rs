//! With an access-log sink installed (once per process: this file is its own test binary), a
//! line goes to the sink when its target is enabled and no span is current, to the `tracing`
//! event inside a span, and nowhere when the filter turns the access log off.

use std::sync::Mutex;
use std::time::Duration;

use http::Method;
use l402_server::access_log::{self, AccessLine, AccessLog};
use l402_testkit::logs::Captured;
use tracing_subscriber::EnvFilter;

/// The paths of the lines the sink was given.
struct Paths(Mutex<Vec<String>>);

impl AccessLog for Paths {
    fn log(&self, line: &AccessLine<'_>) {
        self.0.lock().unwrap().push(line.path.to_owned());
    }
}

static SINK: Paths = Paths(Mutex::new(Vec::new()));

/// Logs `path`'s line under a fmt subscriber with `filter`, in a span or not; what the
/// subscriber wrote.
fn log_under(filter: &str, in_span: bool, path: &str) -> String {
    let out = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(out.clone())
        .with_ansi(false)
        .without_time()
        .with_env_filter(EnvFilter::new(filter))
        .finish();
    let line = AccessLine {
        method: &Method::GET,
        path,
        client: [127, 0, 0, 1].into(),
        service: Some("svc"),
        status: 200,
        latency: Duration::from_micros(1_500),
    };
    tracing::subscriber::with_default(subscriber, || {
        if in_span {
            let span = tracing::info_span!("outer");
            let _entered = span.enter();
            line.log();
        } else {
            line.log();
        }
    });
    out.text()
}

fn sunk() -> Vec<String> {
    SINK.0.lock().unwrap().clone()
}

#[test]
fn the_sink_takes_enabled_lines_outside_spans_only() {
    // Before a sink is installed: the event.
    let before = log_under("info", false, "/before");
    assert!(
        before.contains("request handled method=GET path=\"/before\" client=127.0.0.1 service=\"svc\" status=200 latency_ms=1.5"),
        "{before}"
    );

    access_log::install(&SINK).expect("the first sink");
    assert!(access_log::install(&SINK).is_err(), "one sink per process");

    assert_eq!(log_under("info", false, "/direct"), "");
    assert_eq!(sunk(), ["/direct"]);

    let in_span = log_under("info", true, "/in-span");
    assert!(
        in_span.contains(
            "outer: l402_server::server::stack: request handled method=GET path=\"/in-span\""
        ),
        "{in_span}"
    );
    assert_eq!(sunk(), ["/direct"], "a line in a span is the event's");

    for off in [
        "warn",
        "info,l402_server::server::stack=warn",
        "l402_server::server::stack=off",
    ] {
        assert_eq!(log_under(off, false, "/off"), "", "{off}");
    }
    assert_eq!(sunk(), ["/direct"], "filtered lines go nowhere");

    // Only the access log's own target decides.
    assert_eq!(
        log_under("warn,l402_server::server::stack=info", false, "/only"),
        ""
    );
    assert_eq!(sunk(), ["/direct", "/only"]);
}
