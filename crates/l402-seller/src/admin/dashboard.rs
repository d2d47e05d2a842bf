//! The dashboard's files, embedded in the binary: a page, its script and its style sheet. The
//! page is public (it holds no data); everything it shows comes from the admin API with the
//! macaroon the user pastes. A strict content security policy allows only these files and
//! calls to this origin.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName};
use axum::response::IntoResponse;

const PAGE: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/app.css");

/// Only this origin's files and API; no inline script, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "no-cache"),
            (HeaderName::from_static("content-security-policy"), CSP),
            (HeaderName::from_static("x-content-type-options"), "nosniff"),
            (HeaderName::from_static("referrer-policy"), "no-referrer"),
        ],
        body,
    )
}

/// `GET /dashboard`.
pub(super) async fn page() -> impl IntoResponse {
    file("text/html; charset=utf-8", PAGE)
}

/// `GET /dashboard/app.js`.
pub(super) async fn script() -> impl IntoResponse {
    file("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /dashboard/app.css`.
pub(super) async fn style() -> impl IntoResponse {
    file("text/css; charset=utf-8", STYLE)
}
