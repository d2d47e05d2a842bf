//! The forwarder's per-request header work: hop-by-hop removal and the `X-Forwarded-*` /
//! `Forwarded` headers, on the head a typical client (curl, wrk, a browser's fetch) sends,
//! with and without a previous proxy's headers.
//!
//! `cargo bench -p l402-server --bench headers`

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderName, HeaderValue};
use l402_server::forward::headers::{add_forwarded, strip_hop_by_hop};

fn head(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    headers
}

fn typical() -> HeaderMap {
    head(&[
        ("host", "api.example.com"),
        ("user-agent", "curl/8.5.0"),
        ("accept", "*/*"),
        ("accept-encoding", "gzip, br"),
    ])
}

fn behind_a_proxy() -> HeaderMap {
    head(&[
        ("host", "api.example.com"),
        ("user-agent", "agent/1.0"),
        ("accept", "application/json"),
        ("connection", "keep-alive"),
        ("keep-alive", "timeout=5"),
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7;proto=https"),
    ])
}

fn bench(c: &mut Criterion) {
    let client: SocketAddr = "198.51.100.20:50000".parse().unwrap();
    let host = http::HeaderValue::from_static("api.example.com");
    for (name, make) in [
        ("typical", typical as fn() -> HeaderMap),
        ("behind_a_proxy", behind_a_proxy),
    ] {
        c.bench_function(&format!("forward_headers_{name}"), |b| {
            b.iter_batched_ref(
                make,
                |headers| {
                    strip_hop_by_hop(headers, false);
                    add_forwarded(headers, Some(client), "http", Some(&host));
                    black_box(headers.len())
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
