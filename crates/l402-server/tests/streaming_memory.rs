//! 100 MB request and response bodies stream through the proxy without buffering: the
//! process's peak memory (VmHWM) grows by less than 50 MB. Alone in its test binary so that no
//! other test disturbs the measurement.

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use common::*;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Channel};
use hyper::body::Incoming;
use l402_server::Body;

const TOTAL: usize = 100 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// Peak resident set size of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// A body of `total` bytes, sent chunk by chunk (the chunk is shared, not copied).
fn generated_body(total: usize) -> Body {
    let (mut tx, channel) = Channel::<Bytes, Infallible>::new(2);
    tokio::spawn(async move {
        let chunk = Bytes::from(vec![b'z'; CHUNK]);
        let mut sent = 0;
        while sent < total {
            let n = CHUNK.min(total - sent);
            if tx.send_data(chunk.slice(..n)).await.is_err() {
                return;
            }
            sent += n;
        }
    });
    Body::new(channel)
}

/// Counts a body's bytes frame by frame, without keeping them.
async fn count<B>(mut body: B) -> usize
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let mut total = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            total += data.len();
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_megabyte_bodies_stream_with_flat_memory() {
    // The upstream counts uploads and generates downloads, both streaming.
    let upstream = upstream_h1(|req: Request<Incoming>| async move {
        if req.uri().path() == "/download" {
            Response::new(generated_body(TOTAL))
        } else {
            let n = count(req.into_body()).await;
            Response::new(Body::from(n.to_string()))
        }
    })
    .await;
    let proxy = proxy(&service("bulk", &format!("http://{upstream}"), "")).await;
    let client = h1_client();

    // Warm up pools, threads and allocator arenas.
    let req = Request::post(proxy.url("/upload"))
        .body(generated_body(1 << 20))
        .unwrap();
    let (parts, body) = send(&client, req).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(body, (1usize << 20).to_string());
    let before = peak_rss();

    // 100 MB up, chunked (no Content-Length).
    let req = Request::post(proxy.url("/upload"))
        .body(generated_body(TOTAL))
        .unwrap();
    let (parts, body) = send(&client, req).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(body, TOTAL.to_string());
    let after_upload = peak_rss();

    // 100 MB down.
    let req = Request::get(proxy.url("/download"))
        .body(Body::empty())
        .unwrap();
    let response = client.request(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(count(response.into_body()).await, TOTAL);
    let after_download = peak_rss();

    let limit = 50 * 1024 * 1024;
    let up = after_upload.saturating_sub(before);
    let down = after_download.saturating_sub(before);
    eprintln!(
        "peak RSS growth: upload {} KiB, upload+download {} KiB",
        up / 1024,
        down / 1024
    );
    assert!(up < limit, "upload grew peak RSS by {up} bytes");
    assert!(down < limit, "download grew peak RSS by {down} bytes");
    proxy.shutdown().await.unwrap();
}
