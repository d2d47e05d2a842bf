//! Every HTTP, gRPC and WebSocket client of the workspace, built in one fresh process with no
//! crypto provider installed beforehand: none may panic for lack of one (reqwest's
//! `rustls-no-provider` is on in this build), and each builds with TLS available.
//!
//! This file holds one test on purpose: a second test in the same process could install the
//! provider first and hide a client that forgot to.

use std::sync::Arc;

use l402_lightning::LightningBackend;
use l402_lightning::cln::{ClnConfig, ClnRest, Rune};
use l402_lightning::dev::DevWalletClient;
use l402_lightning::lnbits::LnbitsBackend;
use l402_lightning::lnd::{CredentialSource, LndConfig, LndGrpc, LndRest};
use l402_lightning::nwc::NwcBackend;
use l402_tls::Trust;

#[tokio::test]
async fn every_client_builds_in_one_process_without_a_preinstalled_provider() {
    assert!(
        l402_tls::rustls::crypto::CryptoProvider::get_default().is_none(),
        "a provider was installed before the clients were built: this test proves nothing"
    );
    let macaroon = || CredentialSource::Hex("0201".repeat(16));

    // Lightning backends and wallets (HTTP over reqwest and hyper, gRPC over tonic, WebSocket).
    let dev: Arc<dyn LightningBackend> =
        Arc::new(DevWalletClient::new("http://127.0.0.1:9", "token").unwrap());
    LnbitsBackend::new("https://lnbits.example.com", "invoicekey", Some("adminkey"))
        .unwrap()
        .with_trust(&Trust::WebPki)
        .unwrap();
    LndRest::new(LndConfig::new("https://127.0.0.1:8080", None, macaroon())).unwrap();
    LndGrpc::new(LndConfig::new("127.0.0.1:10009", None, macaroon())).unwrap();
    ClnRest::new(ClnConfig::new(
        "https://127.0.0.1:3010",
        Rune::new("dGVzdHJ1bmU").unwrap(),
        None,
    ))
    .unwrap();
    NwcBackend::new(
        "nostr+walletconnect://79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\
         ?relay=wss://relay.example.com&secret=0101010101010101010101010101010101010101010101010101010101010101",
    )
    .unwrap();

    // The buyer: the HTTP client, the gRPC channel over TLS, the MCP server's client.
    let dir = tempfile::tempdir().unwrap();
    let client = l402_client::L402Client::builder()
        .wallet(dev.clone())
        .store_path(dir.path().join("client.db"))
        .build()
        .unwrap();
    l402_client::grpc::channel("https://api.example.com:443", &Trust::WebPki).unwrap();
    let mut config = l402_client::ClientConfig {
        data_dir: Some(dir.path().join("mcp")),
        ..Default::default()
    };
    config.wallet.dev = Some(l402_lightning::spec::DevSpec {
        connection_file: Some(dir.path().join("missing.json")),
        wallet_port: None,
    });
    let lower = l402_mcp::lower_max_cost(&config, &client);
    l402_mcp::L402McpServer::new(Arc::new(client), lower);

    // The proxy's upstream connector and listener configuration.
    l402_tls::https_connector(&Trust::WebPki, None).unwrap();
    let ca = l402_tls::test_ca::TestCa::new();
    let files = ca.write(dir.path(), &ca.issue(&["localhost"])).unwrap();
    l402_tls::server_config(&files.cert, &files.key).unwrap();

    assert!(l402_tls::rustls::crypto::CryptoProvider::get_default().is_some());
}
