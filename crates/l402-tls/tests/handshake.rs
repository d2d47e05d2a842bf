//! Real handshakes on loopback: a rustls listener with a test CA's certificate, and reqwest
//! clients built by `reqwest_builder` under each trust choice.

use l402_testkit::serve::serve_each;
use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::Arc;

use l402_tls::test_ca::{Issued, TestCa};
use l402_tls::{Trust, explain, reqwest_builder, server_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves "ok" over HTTP/1.1 on TLS for every connection, until the test ends.
async fn tls_server(ca: &TestCa, leaf: &Issued, dir: &std::path::Path) -> SocketAddr {
    let files = ca.write(dir, leaf).unwrap();
    let mut config = server_config(&files.cert, &files.key).unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    serve_each(move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = tls.read(&mut buf).await;
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
            let _ = tls.shutdown().await;
        }
    })
    .await
}

async fn get(trust: &Trust, addr: SocketAddr) -> Result<String, reqwest::Error> {
    let client = reqwest_builder(trust).unwrap().build()?;
    client
        .get(format!("https://localhost:{}/", addr.port()))
        .send()
        .await?
        .text()
        .await
}

#[tokio::test]
async fn a_custom_ca_is_trusted_and_the_web_pki_is_not_fooled() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let addr = tls_server(&ca, &ca.issue(&["localhost"]), dir.path()).await;

    assert_eq!(
        get(&Trust::CaFile(dir.path().join("ca.pem")), addr)
            .await
            .unwrap(),
        "ok"
    );

    let err = get(&Trust::WebPki, addr).await.unwrap_err();
    let hint = explain(&err).expect("a TLS error in the chain");
    assert!(hint.contains("not signed by a trusted CA"), "{hint}");
}

#[tokio::test]
async fn a_different_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let addr = tls_server(&ca, &ca.issue(&["localhost"]), dir.path()).await;
    let other = tempfile::tempdir().unwrap();
    let other_ca = TestCa::new();
    let files = other_ca
        .write(other.path(), &other_ca.issue(&["x"]))
        .unwrap();
    let err = get(&Trust::CaFile(files.ca), addr).await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(
        explain(&err).unwrap().contains("not signed"),
        "{:?}",
        err.source()
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused_with_a_clear_hint() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let addr = tls_server(&ca, &ca.issue_expired(&["localhost"]), dir.path()).await;
    let err = get(&Trust::CaFile(dir.path().join("ca.pem")), addr)
        .await
        .unwrap_err();
    assert_eq!(
        explain(&err).unwrap(),
        "TLS: the server's certificate has expired"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let addr = tls_server(&ca, &ca.issue(&["example.org"]), dir.path()).await;
    let err = get(&Trust::CaFile(dir.path().join("ca.pem")), addr)
        .await
        .unwrap_err();
    assert!(explain(&err).unwrap().contains("does not name the host"));
}

#[tokio::test]
async fn pinned_and_insecure_accept_what_the_web_pki_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let leaf = ca.issue(&["not-this-host.example"]);
    let addr = tls_server(&ca, &leaf, dir.path()).await;

    let pinned_leaf = l402_tls::certs_from_pem(leaf.cert_pem.as_bytes(), "leaf").unwrap();
    let by_leaf = Trust::Pinned {
        certs: pinned_leaf,
        as_ca: false,
    };
    assert_eq!(get(&by_leaf, addr).await.unwrap(), "ok");

    let pinned_ca = l402_tls::certs_from_pem(ca.ca_pem().as_bytes(), "ca").unwrap();
    let by_ca = Trust::Pinned {
        certs: pinned_ca.clone(),
        as_ca: true,
    };
    assert_eq!(get(&by_ca, addr).await.unwrap(), "ok");
    // The CA pinned only byte for byte does not vouch for the leaf.
    let ca_not_as_ca = Trust::Pinned {
        certs: pinned_ca,
        as_ca: false,
    };
    assert!(get(&ca_not_as_ca, addr).await.is_err());

    assert_eq!(get(&Trust::Insecure, addr).await.unwrap(), "ok");
}
