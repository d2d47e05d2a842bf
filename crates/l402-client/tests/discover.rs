//! Discovery against hand-written servers: a manifest only a 402's `Link` names, a manifest
//! that is not one, a host with nothing to sell, and quotes that are refused.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use l402_client::discovery::QuoteRequest;
use l402_client::{DiscoverySource, L402Client, QuoteOutcome};

const MANIFEST: &str = r#"{"version":"1.0","provider":{"name":"Linked"},"currencies":["msat"],
  "macaroon_versions":[0],"payment_methods":["bolt11"],"quote_endpoint":"/q",
  "services":[{"name":"maps","tiers":[{"tier":0,"name":"standard"}],"capabilities":[],
  "resources":[{"path":"/tiles/*","method":"GET","pricing":{"model":"fixed","price_msat":1500}}]}]}"#;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn client(dir: &std::path::Path) -> L402Client {
    L402Client::builder()
        .store_path(dir.join("client.db"))
        // Discovery never pays: a wallet that would fail if it were ever opened.
        .lazy_wallet(|| {
            Err(l402_client::ClientError::Internal(
                "no wallet in this test".into(),
            ))
        })
        .auto_pay(false)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_manifest_named_by_the_402_link_is_read() {
    let app = Router::new()
        .route(
            "/tiles/1",
            get(|| async {
                (
                    StatusCode::PAYMENT_REQUIRED,
                    [(header::LINK, r#"</meta/l402.json>; rel="l402-manifest""#)],
                )
            }),
        )
        .route("/meta/l402.json", get(|| async { MANIFEST }))
        .route(
            "/q",
            post(|| async {
                (
                    StatusCode::CONFLICT,
                    r#"{"error":{"code":"unsatisfiable_budget","message":"too dear","field":"max_price_msat"}}"#,
                )
            }),
        );
    let base = serve(app).await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(dir.path());
    let found = c.discover(&format!("{base}/tiles/1")).await.unwrap();
    assert_eq!(found.source, DiscoverySource::Manifest);
    assert_eq!(
        found.manifest_url.as_deref(),
        Some(&*format!("{base}/meta/l402.json"))
    );
    let l = found.listing_for("GET", "/tiles/9").unwrap();
    assert_eq!(
        (l.service.as_deref(), l.price_msat, l.price_sat),
        (Some("maps"), 1500, 2)
    );
    assert!(found.listing_for("POST", "/tiles/9").is_none());
    let entry = found.directory_entry(7).unwrap();
    assert_eq!(entry.quote_url.as_deref(), Some(&*format!("{base}/q")));

    let outcome = c
        .quote(&base, Some("/q"), &QuoteRequest::default())
        .await
        .unwrap();
    match outcome {
        QuoteOutcome::Refused { status, error } => {
            assert_eq!(status, 409);
            assert_eq!(error.unwrap().code, "unsatisfiable_budget");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn neither_a_manifest_nor_a_402_is_nothing_sold_with_notes() {
    let app = Router::new()
        .route(
            "/.well-known/l402.json",
            get(|| async { "{\"not\": \"a manifest\"}" }),
        )
        .route("/", get(|| async { "hello" }));
    let base = serve(app).await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(dir.path());
    let found = c.discover(&format!("{base}/")).await.unwrap();
    assert_eq!(found.source, DiscoverySource::Nothing);
    assert!(found.listings.is_empty());
    assert!(
        found.notes[0].contains("not an L402 manifest"),
        "{:?}",
        found.notes
    );
    assert!(
        found.notes[1].contains("without asking for payment"),
        "{:?}",
        found.notes
    );
    assert!(found.directory_entry(0).is_none());
    // A quote endpoint that is not there: refused without an error body.
    let outcome = c
        .quote(&base, None, &QuoteRequest::default())
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            QuoteOutcome::Refused {
                status: 405 | 404,
                error: None
            }
        ),
        "{outcome:?}"
    );
}
