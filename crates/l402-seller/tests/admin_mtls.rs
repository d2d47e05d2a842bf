//! The admin listener over HTTPS with client certificates (`[admin] tls_cert`, `tls_key`,
//! `client_ca`): a client with a certificate from that CA is the operator without a macaroon,
//! a macaroon it sends still decides, and a client without one (or with one from another CA)
//! does not get past the handshake.

use l402_admin_client::{AdminClient, AdminClientError, Method, READ_ONLY_MACAROON_FILE};
use l402_seller::{Seller, SellerHandle, SellerOptions};
use l402_testkit::sample::sample_upstream;
use l402_tls::test_ca::TestCa;
use l402_tls::{ClientIdentity, Trust};

struct Files {
    server_ca: std::path::PathBuf,
    client: ClientIdentity,
    stranger: ClientIdentity,
}

/// The server's certificate (for `localhost`) and CA, a client certificate from the client
/// CA, and one from a CA the seller does not know.
fn certificates(dir: &std::path::Path) -> (Files, String) {
    let server_ca = TestCa::new();
    let server = server_ca
        .write(dir, &server_ca.issue(&["localhost"]))
        .unwrap();
    let client_ca = TestCa::new();
    let write_identity = |ca: &TestCa, name: &str| {
        let issued = ca.issue(&["operator.example"]);
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, &issued.cert_pem).unwrap();
        std::fs::write(&key, &issued.key_pem).unwrap();
        ClientIdentity::new(cert, key)
    };
    let client = write_identity(&client_ca, "operator");
    let stranger = write_identity(&TestCa::new(), "stranger");
    let client_ca_file = dir.join("client-ca.pem");
    std::fs::write(&client_ca_file, client_ca.ca_pem()).unwrap();
    let admin = format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\nclient_ca = \"{}\"\n",
        server.cert.display(),
        server.key.display(),
        client_ca_file.display()
    );
    (
        Files {
            server_ca: server.ca,
            client,
            stranger,
        },
        admin,
    )
}

fn url(seller: &SellerHandle) -> String {
    format!("https://localhost:{}", seller.admin_addr().unwrap().port())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_certificate_from_the_client_ca_is_the_operator_and_nothing_else_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    let (files, admin) = certificates(dir.path());
    let upstream = sample_upstream(dir.path(), |sample| {
        format!(
            "data_dir = \"state\"\n\n[[services]]\nname = \"weather\"\npath_prefix = \"/api/weather\"\nupstream = \"http://{sample}\"\nprice_sat = 2\n\n{admin}"
        )
    })
    .await;
    let seller = Seller::start(
        SellerOptions::new()
            .config_file(&upstream.config)
            .listen("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let trust = Trust::CaFile(files.server_ca.clone());

    // The certificate alone: full access (the default client_role).
    let operator = AdminClient::connect(&url(&seller), None, &trust, Some(&files.client)).unwrap();
    let status = operator
        .call(Method::Get, "/api/v1/status", None)
        .await
        .unwrap();
    assert_eq!(status["role"], "full");
    let reloaded = operator
        .call(Method::Post, "/api/v1/reload", None)
        .await
        .unwrap();
    assert_eq!(reloaded["reloaded"], true);

    // A macaroon sent along still decides: the read-only one may not act.
    let read_only =
        std::fs::read_to_string(seller.data_dir().join(READ_ONLY_MACAROON_FILE)).unwrap();
    let reader = AdminClient::connect(
        &url(&seller),
        Some(read_only.trim()),
        &trust,
        Some(&files.client),
    )
    .unwrap();
    match reader.call(Method::Post, "/api/v1/reload", None).await {
        Err(AdminClientError::Api { status, .. }) => assert_eq!(status, 403),
        other => panic!("a read-only macaroon must not act: {other:?}"),
    }

    // No certificate, or one from another CA: refused in the handshake, macaroon or not.
    let full = std::fs::read_to_string(seller.data_dir().join("admin.macaroon")).unwrap();
    for identity in [None, Some(&files.stranger)] {
        let client =
            AdminClient::connect(&url(&seller), Some(full.trim()), &trust, identity).unwrap();
        match client.call(Method::Get, "/api/v1/status", None).await {
            Err(AdminClientError::Unreachable { .. }) => {}
            other => panic!("no valid client certificate must get nothing: {other:?}"),
        }
    }
    // Prometheus, too, needs the certificate.
    let metrics = l402_tls::reqwest_builder_with_identity(&trust, &files.client)
        .unwrap()
        .build()
        .unwrap()
        .get(format!("{}/metrics", url(&seller)))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let anonymous = l402_tls::reqwest_builder(&trust)
        .unwrap()
        .build()
        .unwrap()
        .get(format!("{}/metrics", url(&seller)))
        .send()
        .await;
    assert!(anonymous.is_err(), "{anonymous:?}");
    seller.shutdown().await.unwrap();
}

#[test]
fn half_a_tls_setup_is_refused_at_its_key() {
    for (admin, key) in [
        ("tls_cert = \"c.pem\"", "admin.tls_key"),
        ("client_ca = \"ca.pem\"", "admin.client_ca"),
        (
            "tls_cert = \"/nonexistent/c.pem\"\ntls_key = \"/nonexistent/k.pem\"",
            "admin.tls_cert",
        ),
    ] {
        let text = format!("[admin]\nlisten = \"127.0.0.1:0\"\n{admin}\n");
        let config = l402_seller::SellerConfig::from_toml(&text, None).unwrap();
        let err = config.check().unwrap_err().to_string();
        assert!(err.contains(key), "{admin}: {err}");
    }
}
