//! HTTP plumbing shared by the backends that talk to a node over hyper (LND, CLN).

use http_body_util::BodyExt;
use hyper::body::Incoming;

/// Largest answer read from a node.
pub(crate) const MAX_BODY: usize = 16 << 20;

/// Reads a whole response body, refusing more than `limit` bytes.
pub(crate) async fn read_body(mut body: Incoming, limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| error_chain(&e))?;
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
            if out.len() > limit {
                return Err(format!("answer exceeds {limit} bytes"));
            }
        }
    }
    Ok(out)
}

/// `e: its source: its source…`, without repeats.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}
