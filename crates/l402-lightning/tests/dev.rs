//! Behaviour of the dev wallet and its HTTP server and client beyond the conformance suite.

mod common;

/// l402-protocol.md §5.4 a: a real regtest invoice from some other node.
const FOREIGN_REGTEST: &str = "lnbcrt100n1p3qqkygpp5xzj85m5mpvatnapgpuyfxtxhypa5gr6sskqd8664v04550vqp8lsdq8f3f5z4qcqzpgsp5tpzvsq5pckqgln3ltpy3e9cf6tf2aj82ffa2tted77ltweuaweks9qyyssq0w5da3k40wtdukac7hp5s58hsxf8k8f52c5qneezu4xg3xh87xrnkl5jwtw098d2gjywx20nmkxl2y4vq9fr89kg5kzcwupv9xpdaggp4fc4ms";
/// §5.4 b: a testnet invoice.
const TESTNET: &str = "lntb20n1psza5dwpp58kda9d0m7zcp8z2683k2spa6at08mcte88jlv8ukde5uqjpt07gsdzjfp85gnpqd9h8vmmfvdjjqurp09kk2mn5ypn8ymmdyppksctfdecx76twwssyxmmjv5sxcmny8gcnqvps8ycqzpgsp5m7xru8dlhrhmwjp8gynsj2l9mwan2jk52ah5xucrn9kc3p0pj5ns9qy9qsq7jjxypyyc7hvvs8srh6c3lvcp5l5wka94htnfxak99hd5qrx69sya9sj4zm3w5lncw0tksf944q73tduhlhs5apd63m9dte9dhva5dgqaceunx";

use std::time::Duration;

use l402_lightning::{CreateInvoice, CreatedInvoice, LightningBackend, Msat, PayOptions};

fn req(sat: u64) -> CreateInvoice {
    CreateInvoice {
        amount: Msat::from_sat(sat),
        memo: "test".into(),
        expiry_secs: 600,
    }
}

const OPTS: PayOptions = PayOptions {
    max_fee: Msat(0),
    timeout: Duration::from_secs(30),
};

async fn invoice(backend: &dyn LightningBackend, sat: u64) -> CreatedInvoice {
    backend.create_invoice(req(sat)).await.unwrap()
}

mod wallet {
    use std::fs;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use l402_core::invoice::parse_bolt11;
    use l402_lightning::dev::{
        DevFault, DevWallet, DevWalletError, JOURNAL_FILE_NAME, LEDGER_FILE_NAME,
    };
    use l402_lightning::{
        BackendError, CreateInvoice, InvoiceState, LightningBackend, Msat, Network, PayOptions,
        PaymentState,
    };

    use super::common::open_wallet;
    use super::{FOREIGN_REGTEST, OPTS, TESTNET, invoice, req};

    #[test]
    fn open_refuses_every_network_but_regtest() {
        let dir = tempfile::tempdir().unwrap();
        for net in [Network::Bitcoin, Network::Testnet, Network::Signet] {
            let err = DevWallet::open(dir.path(), net).unwrap_err();
            assert!(
                matches!(err, DevWalletError::WrongNetwork(n) if n == net),
                "{err}"
            );
        }
        // Nothing was written for the refused networks.
        assert!(!dir.path().join(LEDGER_FILE_NAME).exists());
        DevWallet::open(dir.path(), Network::Regtest).unwrap();
        assert!(dir.path().join(LEDGER_FILE_NAME).exists());
    }

    #[tokio::test]
    async fn invoices_are_real_signed_regtest_bolt11() {
        let dir = tempfile::tempdir().unwrap();
        let w = open_wallet(dir.path());
        let created = w
            .create_invoice(CreateInvoice {
                amount: Msat(1_500),
                memo: "a memo".into(),
                expiry_secs: 90,
            })
            .await
            .unwrap();
        assert!(
            created.bolt11.starts_with("lnbcrt15n1"),
            "{}",
            created.bolt11
        );
        let parsed = parse_bolt11(&created.bolt11).unwrap();
        assert_eq!(parsed.network, Network::Regtest);
        assert_eq!(parsed.amount, Some(Msat(1_500)));
        assert_eq!(parsed.payment_hash, created.payment_hash);
        assert_eq!(parsed.description.as_deref(), Some("a memo"));
        assert_eq!(parsed.expiry_secs, 90);
        assert_eq!(parsed.expires_at_unix(), created.expires_at_unix);
        assert_eq!(parsed.payee_pubkey_hex, w.pubkey_hex());
        // Two invoices never share a hash.
        let other = invoice(&*w, 1).await;
        assert_ne!(other.payment_hash, created.payment_hash);
    }

    #[tokio::test]
    async fn bad_create_requests_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let w = open_wallet(dir.path());
        for bad in [
            CreateInvoice {
                expiry_secs: 0,
                ..req(1)
            },
            CreateInvoice {
                memo: "x".repeat(640),
                ..req(1)
            },
        ] {
            let err = w.create_invoice(bad).await.unwrap_err();
            assert!(matches!(err, BackendError::InvalidInvoice(_)), "{err:?}");
        }
    }

    #[tokio::test]
    async fn key_and_invoices_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let first = open_wallet(dir.path());
        let pubkey = first.pubkey_hex();
        let created = invoice(&*first, 5).await;
        drop(first);

        let again = open_wallet(dir.path());
        assert_eq!(again.pubkey_hex(), pubkey);
        assert_eq!(
            again.invoice_state(&created.payment_hash).await.unwrap(),
            InvoiceState::Open
        );
        let paid = again.pay_invoice(&created.bolt11, OPTS).await.unwrap();
        assert!(paid.preimage.pays(&created.payment_hash));
        assert_eq!(paid.fee, Msat(0));

        // Another directory is another node.
        let other_dir = tempfile::tempdir().unwrap();
        assert_ne!(open_wallet(other_dir.path()).pubkey_hex(), pubkey);
    }

    #[tokio::test]
    async fn secrets_stay_out_of_debug_and_the_ledger_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let w = open_wallet(dir.path());
        let created = invoice(&*w, 5).await;
        let paid = w.pay_invoice(&created.bolt11, OPTS).await.unwrap();

        let ledger_path = dir.path().join(LEDGER_FILE_NAME);
        let ledger = fs::read_to_string(&ledger_path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&ledger).unwrap();
        let key = json["node_secret_key"].as_str().unwrap().to_owned();
        assert_eq!(key.len(), 64);
        let preimage = paid.preimage.to_hex();
        assert!(ledger.contains(&preimage));

        for debug in [
            format!("{w:?}"),
            format!("{paid:?}"),
            format!(
                "{:?}",
                w.payment_state(&created.payment_hash).await.unwrap()
            ),
        ] {
            assert!(!debug.contains(&key), "{debug}");
            assert!(!debug.contains(&preimage), "{debug}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The snapshot and the journal of issued invoices (both hold preimages).
            for name in [LEDGER_FILE_NAME, JOURNAL_FILE_NAME] {
                let mode = fs::metadata(dir.path().join(name))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{name}");
            }
        }
    }

    #[tokio::test]
    async fn corrupt_ledger_fails_open_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE_NAME);
        fs::write(&path, "{ not json").unwrap();
        let err = DevWallet::open(dir.path(), Network::Regtest).unwrap_err();
        assert!(matches!(err, DevWalletError::Corrupt { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "{ not json");
    }

    #[tokio::test]
    async fn foreign_invoices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let w = open_wallet(dir.path());
        assert_eq!(
            w.pay_invoice(FOREIGN_REGTEST, OPTS).await.unwrap_err(),
            BackendError::NoRoute
        );
        let err = w.pay_invoice(TESTNET, OPTS).await.unwrap_err();
        assert!(
            matches!(&err, BackendError::InvalidInvoice(m) if m.contains("testnet")),
            "{err:?}"
        );
        // Invoices of another dev wallet (another key) are foreign too.
        let other_dir = tempfile::tempdir().unwrap();
        let other = open_wallet(other_dir.path());
        let theirs = invoice(&*other, 1).await;
        assert_eq!(
            w.pay_invoice(&theirs.bolt11, OPTS).await.unwrap_err(),
            BackendError::NoRoute
        );
        assert_eq!(
            w.payment_state(&theirs.payment_hash).await.unwrap(),
            PaymentState::Unknown
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_payments_of_one_invoice_succeed_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = open_wallet(dir.path());
        let b = open_wallet(dir.path());
        for round in 0..10 {
            let created = invoice(&*a, 7).await;
            let mut tasks = Vec::new();
            for i in 0..8 {
                let w = if i % 2 == 0 { a.clone() } else { b.clone() };
                let bolt11 = created.bolt11.clone();
                tasks.push(tokio::spawn(
                    async move { w.pay_invoice(&bolt11, OPTS).await },
                ));
            }
            let mut ok = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(p) => {
                        assert!(p.preimage.pays(&created.payment_hash));
                        ok += 1;
                    }
                    Err(e) => assert_eq!(e, BackendError::AlreadyPaid, "round {round}"),
                }
            }
            assert_eq!(ok, 1, "round {round}");
        }
    }

    /// An amountless invoice settles with what `pay_amount` sent: in the payer's result, the
    /// settlement stream, the invoice state (also after reopening the ledger) and the payment
    /// record; it can be paid once only, and `pay_invoice` refuses it without writing anything.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn amountless_invoices_settle_with_the_amount_paid_once() {
        let dir = tempfile::tempdir().unwrap();
        let seller = open_wallet(dir.path());
        let payer = open_wallet(dir.path());
        let mut settlements = seller.subscribe_settlements().await.unwrap().unwrap();
        let created = seller
            .create_invoice(CreateInvoice {
                amount: Msat(0),
                ..req(1)
            })
            .await
            .unwrap();
        assert_eq!(parse_bolt11(&created.bolt11).unwrap().amount, None);

        let err = payer.pay_invoice(&created.bolt11, OPTS).await.unwrap_err();
        assert!(matches!(err, BackendError::InvalidInvoice(_)), "{err:?}");
        assert_eq!(
            payer.payment_state(&created.payment_hash).await.unwrap(),
            PaymentState::Unknown,
            "a refused payment leaves no record"
        );

        let amount = Msat(4_321);
        let paid = payer
            .pay_amount(&created.bolt11, amount, OPTS)
            .await
            .unwrap();
        assert_eq!((paid.amount, paid.fee), (amount, Msat(0)));
        assert!(paid.preimage.pays(&created.payment_hash));
        let settled = tokio::time::timeout(Duration::from_secs(5), settlements.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (settled.payment_hash, settled.amount_received),
            (created.payment_hash, amount)
        );
        for again in [
            payer.pay_amount(&created.bolt11, amount, OPTS).await,
            payer.pay_amount(&created.bolt11, Msat(1), OPTS).await,
        ] {
            assert_eq!(again.unwrap_err(), BackendError::AlreadyPaid);
        }

        drop((seller, payer));
        let reopened = open_wallet(dir.path());
        match reopened.invoice_state(&created.payment_hash).await.unwrap() {
            InvoiceState::Settled {
                amount_received, ..
            } => assert_eq!(amount_received, amount),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            reopened.payment_state(&created.payment_hash).await.unwrap(),
            PaymentState::Succeeded {
                preimage: paid.preimage,
                fee: Msat(0),
            }
        );
        let ledger = fs::read_to_string(dir.path().join(LEDGER_FILE_NAME)).unwrap();
        assert!(
            ledger.contains("\"amount_received_msat\": 4321"),
            "{ledger}"
        );
    }

    #[tokio::test]
    async fn pay_amount_refuses_zero_and_other_amounts_before_the_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let w = open_wallet(dir.path());
        let priced = invoice(&*w, 3).await;
        for wrong in [Msat(0), Msat(2_999), Msat(3_001)] {
            let err = w.pay_amount(&priced.bolt11, wrong, OPTS).await.unwrap_err();
            assert!(
                matches!(err, BackendError::InvalidInvoice(_)),
                "{wrong}: {err:?}"
            );
        }
        assert_eq!(
            w.payment_state(&priced.payment_hash).await.unwrap(),
            PaymentState::Unknown
        );
        assert_eq!(
            w.invoice_state(&priced.payment_hash).await.unwrap(),
            InvoiceState::Open
        );
        // Zero is refused before the payee is even looked at.
        let err = w
            .pay_amount(FOREIGN_REGTEST, Msat(0), OPTS)
            .await
            .unwrap_err();
        assert!(matches!(err, BackendError::InvalidInvoice(_)), "{err:?}");
        let paid = w
            .pay_amount(&priced.bolt11, Msat(3_000), OPTS)
            .await
            .unwrap();
        assert_eq!(paid.amount, Msat(3_000));
    }

    #[tokio::test]
    async fn canceled_invoices_cannot_be_paid() {
        let dir = tempfile::tempdir().unwrap();
        let w = open_wallet(dir.path());
        let created = invoice(&*w, 3).await;
        w.cancel_invoice(&created.payment_hash).await.unwrap();
        assert_eq!(
            w.invoice_state(&created.payment_hash).await.unwrap(),
            InvoiceState::Canceled
        );
        let err = w.pay_invoice(&created.bolt11, OPTS).await.unwrap_err();
        assert!(matches!(err, BackendError::InvalidInvoice(_)), "{err:?}");
        assert_eq!(
            w.payment_state(&created.payment_hash).await.unwrap(),
            PaymentState::Failed
        );

        let paid = invoice(&*w, 3).await;
        w.pay_invoice(&paid.bolt11, OPTS).await.unwrap();
        assert_eq!(
            w.cancel_invoice(&paid.payment_hash).await.unwrap_err(),
            BackendError::AlreadyPaid
        );
    }

    #[tokio::test]
    async fn down_fault_makes_every_call_unreachable_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let w = open_wallet(dir.path());
        let created = invoice(&*w, 2).await;
        w.set_fault(DevFault::Down);
        assert_eq!(w.fault(), DevFault::Down);
        let results = [
            w.create_invoice(req(1)).await.map(|_| ()),
            w.invoice_state(&created.payment_hash).await.map(|_| ()),
            w.subscribe_settlements().await.map(|_| ()),
            w.pay_invoice(&created.bolt11, OPTS).await.map(|_| ()),
            w.payment_state(&created.payment_hash).await.map(|_| ()),
            w.node_info().await.map(|_| ()),
        ];
        for r in results {
            let err = r.unwrap_err();
            assert!(matches!(err, BackendError::Unreachable { .. }), "{err:?}");
            assert!(err.is_transient());
        }
        w.set_fault(DevFault::None);
        w.pay_invoice(&created.bolt11, OPTS).await.unwrap();
    }

    #[tokio::test]
    async fn slow_fault_delays_calls_and_payments_honour_their_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let w = Arc::new(DevWallet::open(dir.path(), Network::Regtest).unwrap());
        let created = invoice(&*w, 2).await;
        w.set_fault(DevFault::Slow(Duration::from_millis(300)));
        let start = Instant::now();
        w.node_info().await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(300));

        let short = PayOptions {
            max_fee: Msat(0),
            timeout: Duration::from_millis(50),
        };
        let err = w.pay_invoice(&created.bolt11, short).await.unwrap_err();
        assert_eq!(err, BackendError::Timeout);
        assert!(err.is_transient());
        // The timed-out attempt never reached the ledger, so paying again works.
        w.set_fault(DevFault::None);
        assert_eq!(
            w.payment_state(&created.payment_hash).await.unwrap(),
            PaymentState::Unknown
        );
        w.pay_invoice(&created.bolt11, OPTS).await.unwrap();
    }
}

mod http {
    use std::fs;
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::time::Duration;

    use l402_lightning::dev::http::serve_loopback;
    use l402_lightning::dev::{
        ConnectionInfo, DevFault, DevWalletClient, generate_access_token, write_connection_file,
    };
    use l402_lightning::{BackendError, LightningBackend, Msat, PayOptions, PaymentHash};

    use super::common::{open_wallet, served_wallet};
    use super::{OPTS, invoice};

    const HINT: &str = "is `l402 serve` running in dev mode?";

    /// A plain HTTP client, to send what `DevWalletClient` never would.
    fn raw_client() -> reqwest::Client {
        l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
            .unwrap()
            .no_proxy()
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn wrong_missing_or_empty_tokens_are_unauthorized() {
        let (_dir, wallet, token, server) = served_wallet().await.into_parts();

        let wrong = DevWalletClient::new(server.url(), generate_access_token()).unwrap();
        assert_eq!(
            wrong.node_info().await.unwrap_err(),
            BackendError::Unauthorized
        );
        // A prefix of the right token is not the right token.
        let prefix = DevWalletClient::new(server.url(), &token[..32]).unwrap();
        assert_eq!(
            prefix.node_info().await.unwrap_err(),
            BackendError::Unauthorized
        );
        let right = DevWalletClient::new(server.url(), token).unwrap();
        right.node_info().await.unwrap();

        let raw = raw_client();
        let resp = raw
            .get(format!("{}/v1/info", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");

        // A server started with an empty token accepts nobody, not even an empty bearer.
        let open = serve_loopback(wallet, String::new(), 0).await.unwrap();
        let empty = DevWalletClient::new(open.url(), "").unwrap();
        assert_eq!(
            empty.node_info().await.unwrap_err(),
            BackendError::Unauthorized
        );
    }

    #[tokio::test]
    async fn bad_hash_in_path_is_a_bad_request() {
        let (_dir, _, token, server) = served_wallet().await.into_parts();
        let raw = raw_client();
        let resp = raw
            .get(format!("{}/v1/invoices/zz", server.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request");
    }

    #[tokio::test]
    async fn no_server_is_unreachable_with_a_hint() {
        // A port that was free a moment ago.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let client = DevWalletClient::new(&url, "t").unwrap();
        let err = client.node_info().await.unwrap_err();
        match &err {
            BackendError::Unreachable {
                backend,
                address,
                detail,
                source: Some(source),
            } => {
                // The connection error itself stays in the chain, down to the refusal.
                let mut chain = vec![source.to_string()];
                let mut next = std::error::Error::source(source);
                while let Some(e) = next {
                    chain.push(e.to_string());
                    next = e.source();
                }
                assert!(
                    chain.iter().any(|e| e.contains("Connection refused")),
                    "{chain:?}"
                );
                assert_eq!(backend, "dev-wallet");
                assert_eq!(address, &url);
                assert!(detail.contains(HINT), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn wallet_faults_reach_the_client() {
        let (_dir, wallet, token, server) = served_wallet().await.into_parts();
        let client = DevWalletClient::new(server.url(), token).unwrap();
        let created = invoice(&client, 1).await;

        wallet.set_fault(DevFault::Down);
        let err = client.pay_invoice(&created.bolt11, OPTS).await.unwrap_err();
        assert!(
            matches!(&err, BackendError::Unreachable { address, .. } if *address == server.url()),
            "{err:?}"
        );
        assert!(err.is_transient());

        wallet.set_fault(DevFault::Slow(Duration::from_millis(500)));
        let short = PayOptions {
            max_fee: Msat(0),
            timeout: Duration::from_millis(100),
        };
        assert_eq!(
            client
                .pay_invoice(&created.bolt11, short)
                .await
                .unwrap_err(),
            BackendError::Timeout
        );

        wallet.set_fault(DevFault::None);
        client.pay_invoice(&created.bolt11, OPTS).await.unwrap();
        assert_eq!(
            client.pay_invoice(&created.bolt11, OPTS).await.unwrap_err(),
            BackendError::AlreadyPaid
        );
        let unknown = PaymentHash([1; 32]);
        assert_eq!(
            client.invoice_state(&unknown).await.unwrap_err(),
            BackendError::UnknownInvoice(unknown)
        );
    }

    #[tokio::test]
    async fn connection_file_gives_zero_config_clients() {
        let dir = tempfile::tempdir().unwrap();
        let missing = DevWalletClient::from_data_dir(dir.path()).unwrap_err();
        assert!(
            matches!(&missing, BackendError::Unreachable { detail, .. } if detail.contains(HINT)),
            "{missing:?}"
        );

        let wallet = open_wallet(dir.path());
        let token = generate_access_token();
        let server = serve_loopback(Arc::clone(&wallet), token.clone(), 0)
            .await
            .unwrap();
        write_connection_file(
            dir.path(),
            &ConnectionInfo {
                url: server.url(),
                access_token: token.clone(),
            },
        )
        .unwrap();
        let client = DevWalletClient::from_data_dir(dir.path()).unwrap();
        assert_eq!(client.base_url(), server.url());
        let created = invoice(&*wallet, 4).await;
        let paid = client.pay_invoice(&created.bolt11, OPTS).await.unwrap();
        assert!(paid.preimage.pays(&created.payment_hash));

        let debug = format!("{client:?}");
        assert!(!debug.contains(&token), "{debug}");
        assert!(
            fs::read_to_string(dir.path().join("dev-wallet.json"))
                .unwrap()
                .contains(&token)
        );
    }

    /// The buyer's dev wallet reached through its connection file creates amountless
    /// invoices and pays them with `pay_amount`; refusals keep their type over the wire.
    #[tokio::test]
    async fn amountless_invoices_and_pay_amount_over_http() {
        let served = served_wallet().await;
        write_connection_file(
            served.dir.path(),
            &ConnectionInfo {
                url: served.server.url(),
                access_token: served.token.clone(),
            },
        )
        .unwrap();
        let client = DevWalletClient::from_data_dir(served.dir.path()).unwrap();
        let created = client
            .create_invoice(l402_lightning::CreateInvoice {
                amount: Msat(0),
                memo: "refund".into(),
                expiry_secs: 60,
            })
            .await
            .unwrap();
        let err = client
            .pay_amount(&created.bolt11, Msat(0), OPTS)
            .await
            .unwrap_err();
        assert!(matches!(err, BackendError::InvalidInvoice(_)), "{err:?}");
        let err = client.pay_invoice(&created.bolt11, OPTS).await.unwrap_err();
        assert!(matches!(err, BackendError::InvalidInvoice(_)), "{err:?}");
        let paid = client
            .pay_amount(&created.bolt11, Msat(2_500), OPTS)
            .await
            .unwrap();
        assert_eq!(paid.amount, Msat(2_500));
        match served
            .wallet
            .invoice_state(&created.payment_hash)
            .await
            .unwrap()
        {
            l402_lightning::InvoiceState::Settled {
                amount_received, ..
            } => assert_eq!(amount_received, Msat(2_500)),
            other => panic!("{other:?}"),
        }
        let priced = invoice(&*served.wallet, 2).await;
        let err = client
            .pay_amount(&priced.bolt11, Msat(2_001), OPTS)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, BackendError::InvalidInvoice(m) if m.contains("asks for 2 sat")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn shutdown_stops_the_server() {
        let (_dir, _, token, server) = served_wallet().await.into_parts();
        let client = DevWalletClient::new(server.url(), token).unwrap();
        client.node_info().await.unwrap();
        server.shutdown().await.unwrap();
        let err = client.node_info().await.unwrap_err();
        assert!(matches!(err, BackendError::Unreachable { .. }), "{err:?}");
    }

    #[test]
    fn client_urls_must_be_plain_http() {
        assert!(DevWalletClient::new("not a url", "t").is_err());
        assert!(DevWalletClient::new("https://127.0.0.1:1", "t").is_err());
        let c = DevWalletClient::new("http://127.0.0.1:1/", "t").unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:1");
    }
}
