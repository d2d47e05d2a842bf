//! `POST /api/complete`: a stand-in for an LLM completion, sold per generated token. It
//! "generates" a deterministic text from the prompt, one word per token, as server-sent events
//! (`"stream": true`, the default) or one JSON answer, and reports the tokens it generated the
//! way a metered paywall reads them: the `L402-Usage` header (JSON answer) or a final
//! `event: l402-usage` (stream). It never generates more than the paywall's `X-L402-Max-Units`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::Frame;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

/// The most tokens one completion generates.
const MAX_TOKENS: u64 = 256;
/// The longest pause between two streamed tokens a request may ask for.
const MAX_DELAY_MS: u64 = 1000;

const WORDS: [&str; 16] = [
    "lightning",
    "pays",
    "for",
    "every",
    "token",
    "and",
    "the",
    "balance",
    "settles",
    "to",
    "the",
    "sat",
    "when",
    "the",
    "stream",
    "ends",
];

#[derive(Deserialize)]
pub(crate) struct Params {
    prompt: String,
    #[serde(default)]
    max_tokens: Option<u64>,
    #[serde(default)]
    stream: Option<bool>,
    /// Pause between streamed tokens, milliseconds (default 10).
    #[serde(default)]
    delay_ms: Option<u64>,
}

/// How many tokens a prompt "naturally" generates: 8 to 40, stable per prompt.
fn natural_length(prompt: &str) -> u64 {
    8 + prompt
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 33
}

/// The `i`th generated word.
fn word(prompt: &str, i: u64) -> &'static str {
    let offset = prompt.len() as u64;
    WORDS[((i + offset) % WORDS.len() as u64) as usize]
}

pub(crate) async fn handler(headers: HeaderMap, Json(p): Json<Params>) -> Response {
    if p.prompt.trim().is_empty() || p.prompt.len() > 4096 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "give a prompt of 1 to 4096 bytes"})),
        )
            .into_response();
    }
    let cap = headers
        .get("x-l402-max-units")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(MAX_TOKENS);
    let n = natural_length(&p.prompt)
        .min(p.max_tokens.unwrap_or(MAX_TOKENS))
        .min(cap)
        .min(MAX_TOKENS);
    if !p.stream.unwrap_or(true) {
        let text: Vec<&str> = (0..n).map(|i| word(&p.prompt, i)).collect();
        let mut response = Json(json!({
            "text": text.join(" "),
            "usage": {"completion_tokens": n},
        }))
        .into_response();
        response
            .headers_mut()
            .insert("l402-usage", HeaderValue::from(n));
        return response;
    }
    let delay = Duration::from_millis(p.delay_ms.unwrap_or(10).min(MAX_DELAY_MS));
    let (tx, rx) = mpsc::channel(16);
    let prompt = p.prompt;
    tokio::spawn(async move {
        for i in 0..n {
            let event = format!(
                "data: {}\n\n",
                json!({"token": word(&prompt, i), "index": i})
            );
            if tx.send(Bytes::from(event)).await.is_err() {
                return;
            }
            tokio::time::sleep(delay).await;
        }
        let usage = format!(
            "event: l402-usage\ndata: {}\n\ndata: [DONE]\n\n",
            json!({"units": n})
        );
        let _ = tx.send(Bytes::from(usage)).await;
    });
    let mut response = Response::new(Body::new(Events(rx)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The events a generator task sends, as a response body.
struct Events(mpsc::Receiver<Bytes>);

impl http_body::Body for Events {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}
