//! One canonical path, priced: `l402 serve`'s seller prices the normalised path, so an
//! encoded, doubled-slash, dot-segment or `;` spelling of a priced route is priced like the
//! route (or refused), and a free path cannot be a way into a priced one. Requests are written
//! on a raw socket so no client rewrites them.

use l402_seller::{Seller, SellerOptions};
use l402_testkit::raw_http::raw_get;
use l402_testkit::sample::sample_upstream;

/// A free-by-default service with one priced route and a free path (the shape that turned a
/// differently spelled priced path into a free one), plus `paths` as the `[paths]` section.
fn config(sample: std::net::SocketAddr, paths: &str) -> String {
    format!(
        r#"
data_dir = "state"

[listen]
addr = "127.0.0.1:0"

[paths]
{paths}

[[services]]
name = "api"
path_prefix = "/api"
upstream = "http://{sample}"
price_sat = 0
free_paths = ["/api/free/*"]

[[services.routes]]
path = "/api/weather"
price_sat = 5
"#
    )
}

/// Starts a seller for `paths` and asks it for each target of `table`; the expected answer is
/// `402`, `400` or `open` (any other status: the upstream was reached without payment).
async fn check(paths: &str, table: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |sample| config(sample, paths)).await;
    let seller = Seller::start(SellerOptions::new().config_file(&upstream.config))
        .await
        .unwrap();
    for (target, expected) in table {
        let status = raw_get(seller.proxy_addr(), "localhost", target, &[])
            .await
            .status;
        let got = match status {
            402 => "402",
            400 => "400",
            _ => "open",
        };
        assert_eq!(
            got, *expected,
            "{target} (status {status}) with [paths] {paths:?}"
        );
    }
    seller.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn every_spelling_of_a_priced_route_is_priced() {
    check(
        "",
        &[
            ("/api/weather?city=Rome", "402"),
            ("/api/%77eather?city=Rome", "402"),
            ("/api//weather", "402"),
            ("/api/./weather", "402"),
            ("/api/free/../weather", "402"),
            ("/api/free/%2e%2e/weather", "402"),
            ("/api/free/..%2fweather", "400"),
            ("/api/free/..%5Cweather", "400"),
            ("/api/free/..\\weather", "400"),
            ("/api/free/..;/weather", "400"),
            ("/api/weather;x=1", "400"),
            ("/api/free/%2e%2e/%2e%2e/%2e%2e/weather", "400"),
            ("/api/free/x", "open"),
            ("/api/fr%65e/x", "open"),
            // Case-sensitive by default: `/API/...` is not the service at all.
            ("/api/WEATHER", "open"),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn case_insensitive_matching_prices_every_case() {
    check(
        "case_insensitive = true\npath_parameters = \"strip\"\nescaped_slashes = \"decode\"",
        &[
            ("/API/Weather", "402"),
            ("/api/WEATHER?city=Rome", "402"),
            ("/api/free/..;/weather", "402"),
            ("/api/free/..%2fweather", "402"),
            ("/api/free\\..\\Weather", "402"),
            ("/api/weather;x=1", "402"),
            ("/api/FREE/x", "open"),
        ],
    )
    .await;
}
