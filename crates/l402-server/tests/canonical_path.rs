//! One canonical path: the proxy normalises the request path before routing, hands the layer
//! that path (URI and [`RouteDecision`]) and forwards exactly it; paths with no canonical form
//! are refused with 400. Requests are written on a raw socket so no client rewrites them.

mod common;

use common::*;
use l402_testkit::raw_http::raw_get;

/// What the proxy answered for `target`: the request line the echo upstream saw
/// (`GET /api/weather?x=1`) on 200, else the status.
async fn outcome(proxy: &Proxy, target: &str) -> String {
    let r = raw_get(proxy.addr, "example.com", target, &[]).await;
    if r.status == 200 {
        r.body
            .lines()
            .find(|l| l.starts_with("GET "))
            .unwrap_or(&r.body)
            .to_owned()
    } else {
        r.status.to_string()
    }
}

/// Starts a plain proxy with `[paths] paths` in front of an echo upstream (service keys
/// `service_keys`) and checks each `(target, expected outcome)` of `table`.
async fn check(paths: &str, service_keys: &str, table: &[(&str, &str)]) {
    let upstream = echo_upstream().await;
    let toml = format!(
        "[paths]\n{paths}\n{}",
        service("echo", &format!("http://{upstream}"), service_keys)
    );
    let proxy = proxy(&toml).await;
    for (target, expected) in table {
        assert_eq!(outcome(&proxy, target).await, *expected, "{target}");
    }
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_upstream_receives_the_normalised_path_and_bad_paths_are_refused() {
    let table = [
        ("/api/%77eather?city=%2F..", "GET /api/weather?city=%2F.."),
        ("//reports", "GET /reports"),
        ("/free/../paid", "GET /paid"),
        ("/a/./b/%2e%2E/c/", "GET /a/c/"),
        ("/caf%c3%a9", "GET /caf%C3%A9"),
        ("/FREE", "GET /FREE"),
        ("/a/..%2f", "400"),
        ("/free/..%2f../paid", "400"),
        ("/..;/paid", "400"),
        ("/a;jsessionid=1", "400"),
        ("/%2e%2e/paid", "400"),
        ("/a%5cb", "400"),
        ("/a\\b", "400"),
        ("/a%00", "400"),
        ("/a%zz", "400"),
    ];
    check("", "", &table).await;
}

#[tokio::test]
async fn the_paths_settings_decode_strip_and_fold() {
    let paths =
        "escaped_slashes = \"decode\"\npath_parameters = \"strip\"\ncase_insensitive = true";
    let table = [
        ("/api/x%2Fy", "GET /x/y"),
        ("/Api/a;v=1/b", "GET /a/b"),
        ("/api\\free\\..\\paid", "GET /paid"),
        ("/api/free/..;/paid", "GET /paid"),
        ("/other", "404"),
    ];
    check(
        paths,
        "path_prefix = \"/API\"\nstrip_path_prefix = true",
        &table,
    )
    .await;
}

#[tokio::test]
async fn http2_paths_are_normalised_too() {
    let upstream = echo_upstream().await;
    let proxy = proxy(&service("echo", &format!("http://{upstream}"), "")).await;
    let client = h2c_client();
    let get = |target: &str| {
        http::Request::get(proxy.url(target))
            .body(full(""))
            .unwrap()
    };
    let (parts, body) = send(&client, get("/api//%77eather/./x?q=1")).await;
    assert_eq!(parts.version, http::Version::HTTP_2);
    // The upstream speaks HTTP/1.1: it gets the normalised path in origin form.
    let body = String::from_utf8_lossy(&body);
    assert!(body.starts_with("GET /api/weather/x?q=1\n"), "{body}");
    let (parts, _) = send(&client, get("/free/..%2fpaid")).await;
    assert_eq!(parts.status, 400);
    proxy.shutdown().await.unwrap();
}
