//! Metered billing end to end on the zero-config seller, whose sample completion endpoint is
//! sold per generated token (`billing = "metered"`, 1 sat a token, 200-token deposits, 64
//! reserved per request): a `Payment` session opened, spent by streams and JSON answers,
//! topped up once (a retried top-up credits nothing), closed with the rest refunded to the
//! buyer's invoice; 50 concurrent requests on one session without overspending; and an L402
//! token whose payment became a balance. Every balance is checked against the store's ledger.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use l402_core::{Msat, PaymentHash, Preimage};
use l402_lightning::dev::DevWalletClient;
use l402_lightning::{CreateInvoice, LightningBackend, PayOptions};
use l402_mpp::Challenge;
use l402_mpp::session::{self, SessionRequest};
use l402_seller::{Seller, SellerHandle, SellerOptions};
use l402_store::Store;

const DEPOSIT_MSAT: u64 = 200_000;
const RESERVE_MSAT: u64 = 64_000;

async fn start(data: &Path) -> SellerHandle {
    Seller::start(
        SellerOptions::new()
            .listen("127.0.0.1:0".parse().unwrap())
            .data_dir(data),
    )
    .await
    .unwrap()
}

fn wallet(seller: &SellerHandle) -> Arc<DevWalletClient> {
    Arc::new(DevWalletClient::from_data_dir(seller.data_dir()).unwrap())
}

fn pay_options() -> PayOptions {
    PayOptions {
        max_fee: Msat(0),
        timeout: Duration::from_secs(10),
    }
}

/// The `Payment` session challenge of a 402.
fn session_challenge(response: &reqwest::Response) -> Challenge {
    response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| Challenge::parse_list(v).ok())
        .flatten()
        .find(|c| c.intent == "session")
        .expect("a Payment session challenge")
}

/// Pays a session challenge's deposit invoice; returns the preimage.
async fn pay_deposit(wallet: &DevWalletClient, challenge: &Challenge) -> Preimage {
    let request: SessionRequest = challenge.decode_request().unwrap();
    assert_eq!(request.unit_type.as_deref(), Some("token"));
    assert_eq!(request.unit_price_sat(), Some(1));
    assert_eq!(request.deposit_sat(), Some(DEPOSIT_MSAT / 1000));
    let invoice = request.deposit_invoice.expect("a deposit invoice");
    wallet
        .pay_invoice(&invoice, pay_options())
        .await
        .unwrap()
        .preimage
}

async fn complete(
    http: &reqwest::Client,
    base: &str,
    authorization: Option<String>,
    stream: bool,
) -> reqwest::Response {
    let mut request = http.post(format!("{base}/api/complete")).json(
        &serde_json::json!({"prompt": "tell me about lightning", "stream": stream, "delay_ms": 1}),
    );
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    request.send().await.unwrap()
}

/// The tokens a completion streamed (its `data:` events that carry one).
fn streamed_tokens(body: &str) -> u64 {
    body.lines()
        .filter(|l| l.starts_with("data: {\"index\""))
        .count() as u64
}

/// Waits until the session's balance is `expected` (settlement runs after the body ends).
async fn wait_balance(store: &Store, id: &PaymentHash, expected: u64) {
    let start = Instant::now();
    loop {
        let balance = store.sessions().get(id).unwrap().unwrap().balance().0;
        if balance == expected {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "balance {balance} msat, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn problem_type(body: &serde_json::Value) -> &str {
    body["type"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_session_is_opened_spent_topped_up_once_and_refunded_to_the_sat() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seller = start(&data).await;
    let base = format!("http://{}", seller.proxy_addr());
    let http = l402_testkit::wait::http_client();
    let wallet = wallet(&seller);
    let store = Store::open(data.join("l402.db")).unwrap();

    // Unpaid: one 402 selling both an L402 token (the deposit's price) and a session.
    let unpaid = complete(&http, &base, None, true).await;
    assert_eq!(unpaid.status(), 402);
    let schemes: Vec<String> = unpaid
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(schemes, ["LSAT", "L402", "Payment"]);
    let open_challenge = session_challenge(&unpaid);
    let deposit = pay_deposit(&wallet, &open_challenge).await;
    let sid = deposit.payment_hash();
    let return_invoice = wallet
        .create_invoice(CreateInvoice {
            amount: Msat(0),
            memo: "refund".into(),
            expiry_secs: 86_400,
        })
        .await
        .unwrap();

    // A return invoice naming an amount is refused before anything is opened.
    let priced = wallet
        .create_invoice(CreateInvoice {
            amount: Msat(1_000),
            memo: "not a refund invoice".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    let refused = complete(
        &http,
        &base,
        Some(
            session::open_credential(&open_challenge, &deposit, &priced.bolt11).to_authorization(),
        ),
        true,
    )
    .await;
    assert_eq!(refused.status(), 402);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        problem_type(&body).ends_with("/invalid-return-invoice"),
        "{body}"
    );
    assert!(store.sessions().get(&sid).unwrap().is_none());

    // Open: served at once, streamed, billed per token generated.
    let open = session::open_credential(&open_challenge, &deposit, &return_invoice.bolt11);
    let first = complete(&http, &base, Some(open.to_authorization()), true).await;
    assert_eq!(first.status(), 200, "{:?}", first.headers());
    let receipt =
        l402_mpp::Receipt::from_header(first.headers()["payment-receipt"].to_str().unwrap())
            .unwrap();
    assert_eq!(
        receipt.reference,
        sid.to_hex(),
        "a session receipt names the session"
    );
    assert_eq!(
        receipt.challenge_id.as_deref(),
        Some(open_challenge.id.as_str())
    );
    assert_eq!(
        first.headers()["l402-session"],
        format!(
            "balance_msat={}, reserved_msat={RESERVE_MSAT}",
            DEPOSIT_MSAT - RESERVE_MSAT
        )
        .as_str()
    );
    let body = first.text().await.unwrap();
    let used = streamed_tokens(&body);
    assert!((1..=64).contains(&used), "{body}");
    assert!(body.contains("event: l402-usage"), "{body}");
    let mut balance = DEPOSIT_MSAT - used * 1000;
    wait_balance(&store, &sid, balance).await;

    // Bearer, JSON answer: the usage header is billed.
    let bearer = session::bearer_credential(&open_challenge, &sid, &deposit).to_authorization();
    let second = complete(&http, &base, Some(bearer.clone()), false).await;
    assert_eq!(second.status(), 200);
    let usage: u64 = second.headers()["l402-usage"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(usage, used, "the sample is deterministic per prompt");
    balance -= usage * 1000;
    wait_balance(&store, &sid, balance).await;

    // A bearer without the deposit preimage is refused.
    let forged = session::bearer_credential(&open_challenge, &sid, &Preimage([9; 32]));
    let r = complete(&http, &base, Some(forged.to_authorization()), true).await;
    assert_eq!(r.status(), 402);

    // Drain until a request is refused, then top up once with the fresh challenge it carries.
    let low = loop {
        let r = complete(&http, &base, Some(bearer.clone()), false).await;
        if r.status() == 402 {
            break r;
        }
        let usage: u64 = r.headers()["l402-usage"].to_str().unwrap().parse().unwrap();
        balance -= usage * 1000;
        wait_balance(&store, &sid, balance).await;
    };
    assert!(balance < RESERVE_MSAT);
    let top_challenge = session_challenge(&low);
    let body: serde_json::Value = low.json().await.unwrap();
    assert!(
        problem_type(&body).ends_with("/insufficient-balance"),
        "{body}"
    );
    let top = pay_deposit(&wallet, &top_challenge).await;
    let top_up = session::top_up_credential(&top_challenge, &sid, &top).to_authorization();
    let credited = complete(&http, &base, Some(top_up.clone()), true).await;
    assert_eq!(credited.status(), 200);
    let json: serde_json::Value = credited.json().await.unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["credited"], true);
    balance += DEPOSIT_MSAT;
    assert_eq!(json["balanceMsat"], balance);
    let again: serde_json::Value = complete(&http, &base, Some(top_up), true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["credited"], false, "a retried top-up credits nothing");
    wait_balance(&store, &sid, balance).await;

    // Close: the rest is refunded to the return invoice, once.
    let close = session::close_credential(&open_challenge, &sid, &deposit).to_authorization();
    let closed = complete(&http, &base, Some(close.clone()), true).await;
    assert_eq!(closed.status(), 200);
    let receipt =
        l402_mpp::Receipt::from_header(closed.headers()["payment-receipt"].to_str().unwrap())
            .unwrap();
    let json: serde_json::Value = closed.json().await.unwrap();
    assert_eq!(json["status"], "closed");
    assert_eq!(json["refundMsat"], balance, "{json}");
    assert_eq!(json["refundStatus"], "succeeded", "{json}");
    assert_eq!(receipt.refund_sats, Some(balance / 1000));
    assert_eq!(receipt.refund_status.as_deref(), Some("succeeded"));
    let refund_state = wallet
        .invoice_state(&return_invoice.payment_hash)
        .await
        .unwrap();
    assert!(
        matches!(refund_state, l402_lightning::InvoiceState::Settled { amount_received, .. } if amount_received == Msat(balance)),
        "{refund_state:?}"
    );
    for after in [close, bearer] {
        let r = complete(&http, &base, Some(after), true).await;
        assert_eq!(r.status(), 402);
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(problem_type(&body).ends_with("/session-closed"), "{body}");
    }

    // The ledger adds up to the sat: two deposits in, usage and the refund out.
    let ledger = store.sessions().ledger(&sid).unwrap();
    assert_eq!(
        ledger.iter().map(|l| l.amount_msat).sum::<i64>(),
        0,
        "{ledger:?}"
    );
    let record = store.sessions().get(&sid).unwrap().unwrap();
    assert_eq!(record.deposit, Msat(2 * DEPOSIT_MSAT));
    assert_eq!(record.refunded, Msat(balance));
    assert_eq!(record.spent.0 + record.refunded.0, record.deposit.0);
    seller.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_requests_never_overspend_one_session() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seller = start(&data).await;
    let base = format!("http://{}", seller.proxy_addr());
    let http = l402_testkit::wait::http_client();
    let wallet = wallet(&seller);
    let store = Store::open(data.join("l402.db")).unwrap();
    let unpaid = complete(&http, &base, None, false).await;
    let challenge = session_challenge(&unpaid);
    let deposit = pay_deposit(&wallet, &challenge).await;
    let sid = deposit.payment_hash();
    let refund_to = wallet
        .create_invoice(CreateInvoice {
            amount: Msat(0),
            memo: "refund".into(),
            expiry_secs: 86_400,
        })
        .await
        .unwrap();
    let open = session::open_credential(&challenge, &deposit, &refund_to.bolt11);
    let first = complete(&http, &base, Some(open.to_authorization()), false).await;
    assert_eq!(first.status(), 200);
    let used: u64 = first.headers()["l402-usage"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut balance = DEPOSIT_MSAT - used * 1000;
    wait_balance(&store, &sid, balance).await;
    let bearer = session::bearer_credential(&challenge, &sid, &deposit).to_authorization();

    // 50 concurrent requests on what is left: never more reserved than the balance.
    let answers = futures_join_all((0..50).map(|_| {
        let (http, base, bearer) = (http.clone(), base.clone(), bearer.clone());
        async move {
            let r = complete(&http, &base, Some(bearer), true).await;
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            (status, text)
        }
    }))
    .await;
    let served: Vec<&String> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, t)| t)
        .collect();
    let refused: Vec<&String> = answers
        .iter()
        .filter(|(s, _)| *s == 402)
        .map(|(_, t)| t)
        .collect();
    // Each refusal mints fresh (top-up) invoices, so a burst this size may also meet the cap on
    // unpaid challenges per client (429): both are refusals, neither is served.
    let capped = answers.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(
        served.len() + refused.len() + capped,
        50,
        "only 200s, 402s and 429s"
    );
    assert!(
        !refused.is_empty(),
        "the balance cannot pay 50 reservations"
    );
    assert!(
        refused.iter().all(|t| t.contains("insufficient-balance")),
        "{refused:?}"
    );
    let billed: u64 = served.iter().map(|t| streamed_tokens(t)).sum::<u64>() * 1000;
    assert!(
        billed <= balance,
        "billed {billed} of a {balance} msat balance"
    );
    balance -= billed;
    wait_balance(&store, &sid, balance).await;

    let ledger = store.sessions().ledger(&sid).unwrap();
    let reserves = ledger.iter().filter(|l| l.op == "reserve").count();
    assert_eq!(
        reserves,
        1 + served.len(),
        "one reservation per served request: {ledger:?}"
    );
    assert_eq!(
        ledger.iter().map(|l| l.amount_msat).sum::<i64>(),
        balance as i64,
        "{ledger:?}"
    );
    assert!(ledger.iter().all(|l| l.balance.0 <= DEPOSIT_MSAT));
    seller.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_l402_token_for_a_metered_service_is_a_balance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seller = start(&data).await;
    let base = format!("http://{}", seller.proxy_addr());
    let http = l402_testkit::wait::http_client();
    let wallet = wallet(&seller);
    let store = Store::open(data.join("l402.db")).unwrap();

    let unpaid = complete(&http, &base, None, false).await;
    let values: Vec<&str> = unpaid
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let l402 = l402_core::challenge::parse_first_challenge(values.iter().copied()).unwrap();
    let paid = wallet
        .pay_invoice(&l402.invoice, pay_options())
        .await
        .unwrap();
    assert_eq!(paid.amount, Msat(DEPOSIT_MSAT), "a token costs one deposit");
    let proof = l402_core::credential::single_authorization_value(
        l402_core::challenge::Scheme::L402,
        &l402.macaroon,
        &paid.preimage,
    );
    let sid = paid.preimage.payment_hash();
    let mut balance = DEPOSIT_MSAT;
    loop {
        let r = complete(&http, &base, Some(proof.clone()), false).await;
        if r.status() == 402 {
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["reason"], "insufficient_balance", "{body}");
            break;
        }
        assert_eq!(r.status(), 200);
        let status = r.headers()["l402-token"].to_str().unwrap().to_owned();
        assert!(
            status.ends_with(&format!("balance_msat={}", balance - RESERVE_MSAT)),
            "{status}"
        );
        let usage: u64 = r.headers()["l402-usage"].to_str().unwrap().parse().unwrap();
        balance -= usage * 1000;
        wait_balance(&store, &sid, balance).await;
    }
    assert!(
        balance < RESERVE_MSAT,
        "refused only when a reservation no longer fits"
    );
    let ledger = store.sessions().ledger(&sid).unwrap();
    assert_eq!(ledger[0].op, "open");
    assert_eq!(ledger[0].amount_msat, DEPOSIT_MSAT as i64);
    assert_eq!(
        ledger.iter().map(|l| l.amount_msat).sum::<i64>(),
        balance as i64
    );
    seller.shutdown().await.unwrap();
}

/// Runs every future concurrently; their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
