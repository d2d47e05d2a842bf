//! A metered `Payment` session survives `kill -9` of `l402 serve` in the middle of a billed
//! stream: the balance is in the store, the interrupted request stays billed its reservation
//! (nothing vanishes, nothing is billed twice), the restarted proxy serves the same session, and
//! closing it refunds exactly what the ledger says is left.

mod common;

use std::time::Duration;

use common::*;
use l402_core::{Msat, Preimage};
use l402_lightning::dev::DevWalletClient;
use l402_lightning::{CreateInvoice, LightningBackend, PayOptions};
use l402_mpp::Challenge;
use l402_mpp::session::{self, SessionRequest};
use l402_store::Store;

const DEPOSIT_MSAT: u64 = 200_000;
const RESERVE_MSAT: u64 = 64_000;

fn pay_options() -> PayOptions {
    PayOptions {
        max_fee: Msat(0),
        timeout: Duration::from_secs(10),
    }
}

fn completion(
    base: &str,
    authorization: &str,
    stream: bool,
    delay_ms: u64,
) -> reqwest::RequestBuilder {
    http_client()
        .post(format!("{base}/api/complete"))
        .header("authorization", authorization)
        .json(&serde_json::json!({"prompt": "a long answer please", "stream": stream, "delay_ms": delay_ms}))
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_stream_loses_no_balance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut serve1, base) = serve(dir.path(), &[]).await;
    let wallet = DevWalletClient::from_data_dir(&data).unwrap();

    let unpaid = http_client()
        .post(format!("{base}/api/complete"))
        .json(&serde_json::json!({"prompt": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unpaid.status(), 402, "log:\n{}", serve1.log());
    let challenge = unpaid
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| Challenge::parse_list(v.to_str().ok()?).ok())
        .flatten()
        .find(|c| c.intent == "session")
        .expect("a session challenge");
    let request: SessionRequest = challenge.decode_request().unwrap();
    let deposit: Preimage = wallet
        .pay_invoice(&request.deposit_invoice.unwrap(), pay_options())
        .await
        .unwrap()
        .preimage;
    let sid = deposit.payment_hash();
    let refund_to = wallet
        .create_invoice(CreateInvoice {
            amount: Msat(0),
            memo: "refund".into(),
            expiry_secs: 86_400,
        })
        .await
        .unwrap();

    // Open with a slow stream; kill -9 the proxy once tokens are flowing.
    let open = session::open_credential(&challenge, &deposit, &refund_to.bolt11).to_authorization();
    let mut stream = completion(&base, &open, true, 300).send().await.unwrap();
    assert_eq!(stream.status(), 200, "log:\n{}", serve1.log());
    let first = stream.chunk().await.unwrap().expect("a first event");
    assert!(
        String::from_utf8_lossy(&first).contains("\"token\""),
        "{first:?}"
    );
    serve1.kill();
    let rest = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the stream ends when the proxy dies");

    // The store kept the reservation: deposit in, one reservation out, no settlement.
    let store = Store::open(data.join("l402.db")).unwrap();
    let record = store
        .sessions()
        .get(&sid)
        .unwrap()
        .expect("the session survived");
    assert!(record.open);
    assert_eq!(record.balance(), Msat(DEPOSIT_MSAT - RESERVE_MSAT));
    let ops: Vec<(String, i64)> = store
        .sessions()
        .ledger(&sid)
        .unwrap()
        .into_iter()
        .map(|l| (l.op, l.amount_msat))
        .collect();
    assert_eq!(
        ops,
        [
            ("open".to_owned(), DEPOSIT_MSAT as i64),
            ("reserve".to_owned(), -(RESERVE_MSAT as i64)),
        ]
    );

    // A new process on the same data: the session goes on from its stored balance.
    let (serve2, base) = serve(dir.path(), &[]).await;
    let wallet = DevWalletClient::from_data_dir(&data).unwrap();
    let bearer = session::bearer_credential(&challenge, &sid, &deposit).to_authorization();
    let answer = completion(&base, &bearer, false, 0).send().await.unwrap();
    assert_eq!(answer.status(), 200, "log:\n{}", serve2.log());
    assert_eq!(
        answer.headers()["l402-session"],
        format!(
            "balance_msat={}, reserved_msat={RESERVE_MSAT}",
            DEPOSIT_MSAT - 2 * RESERVE_MSAT
        )
        .as_str()
    );
    let used: u64 = answer.headers()["l402-usage"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = DEPOSIT_MSAT - RESERVE_MSAT - used * 1000;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.sessions().get(&sid).unwrap().unwrap().balance() != Msat(left) {
        assert!(std::time::Instant::now() < deadline, "never settled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Close: what the ledger says is left comes back, to the msat.
    let close = session::close_credential(&challenge, &sid, &deposit).to_authorization();
    let closed: serde_json::Value = completion(&base, &close, false, 0)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "closed", "{closed}");
    assert_eq!(closed["refundMsat"], left, "{closed}");
    assert_eq!(
        closed["refundStatus"],
        "succeeded",
        "{closed}\nlog:\n{}",
        serve2.log()
    );
    let state = wallet.invoice_state(&refund_to.payment_hash).await.unwrap();
    assert!(
        matches!(state, l402_lightning::InvoiceState::Settled { amount_received, .. } if amount_received == Msat(left)),
        "{state:?}"
    );
    let ledger = store.sessions().ledger(&sid).unwrap();
    assert_eq!(
        ledger.iter().map(|l| l.amount_msat).sum::<i64>(),
        0,
        "{ledger:?}"
    );
}
