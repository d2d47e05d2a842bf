//! `Payment` sessions end to end: the zero-config `l402 serve` sells `POST /api/complete`
//! metered (1 sat a token, 200-sat deposits, 64 reserved per request), and `l402 fetch` with
//! `[payment] prefer = ["mpp"]` opens a session (deposit paid once), keeps it with
//! `--keep-session`, reuses it on the next fetches (no second deposit) until the balance runs
//! low, tops it up once, closes it at the end of that fetch with the rest refunded to the
//! buyer's return invoice, and opens a fresh one afterwards. Usage, deposits and the refund
//! are checked against the seller's ledger and the buyer's store, receipts and budget.
//!
//! The MCP tools do the same: `l402_fetch` opens then spends, `l402_close_sessions` refunds.
//!
//! Needs a wallet that makes and pays amountless invoices (the return invoice).

mod common;
mod mcp_common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use l402_core::PaymentHash;
use l402_store::Store;

const DEPOSIT_MSAT: u64 = 200_000;
const RESERVE_MSAT: u64 = 64_000;
const BODY: &str = r#"{"prompt":"hi","stream":true}"#;

/// `l402 fetch --json -X POST … <url>` with `extra` flags; its JSON.
fn fetch(data: &Path, url: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "fetch",
        "--json",
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "-d",
        BODY,
    ];
    args.extend_from_slice(extra);
    args.push(url);
    cli_json(data, &args)
}

/// The tokens a completion streamed (its `data:` events that carry one).
fn streamed_tokens(json: &serde_json::Value) -> u64 {
    let body = json["body"].as_str().expect("a text body");
    body.lines()
        .filter(|l| l.starts_with("data: {\"index\""))
        .count() as u64
}

/// Waits until the seller's ledger shows `expected` msat left in session `id` (settlement runs
/// after the body ends).
fn wait_balance(store: &Store, id: &PaymentHash, expected: u64) {
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
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn budget_total_spent(data: &Path) -> u64 {
    let out = run(data, &["budget", "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    json["total"]["spent_msat"]
        .as_u64()
        .unwrap_or_else(|| panic!("no total spent in {json}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_opens_keeps_reuses_and_closes_a_metered_session() {
    let dir = tempfile::tempdir().unwrap();
    let (serve, base) = serve(dir.path(), &[]).await;
    let data = dir.path().join("data");
    std::fs::write(data.join("client.toml"), "[payment]\nprefer = [\"mpp\"]\n").unwrap();
    let url = format!("{base}/api/complete");
    let seller = Store::open(data.join("l402.db")).unwrap();

    // 1. Opened: the deposit paid once, the request served at once and billed per token.
    let first = fetch(&data, &url, &["--keep-session"]);
    assert_eq!(first["status"], 200, "{first}\nlog:\n{}", serve.log());
    assert_eq!(first["paid"]["scheme"], "mpp", "{first}");
    assert_eq!(first["paid"]["amount_msat"], DEPOSIT_MSAT, "{first}");
    let session = &first["session"];
    let sid = PaymentHash::from_hex(session["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        first["paid"]["payment_hash"],
        sid.to_hex(),
        "the deposit's hash names the session"
    );
    assert_eq!(session["opened"], true, "{first}");
    assert_eq!(
        session["scope"],
        url.as_str(),
        "kept for its exact path, never sent to other services' paths: {first}"
    );
    assert_eq!(session["closed"], false, "--keep-session: {first}");
    assert_eq!(session["deposit_msat"], DEPOSIT_MSAT);
    assert_eq!(session["reserved_msat"], RESERVE_MSAT, "{first}");
    assert_eq!(
        session["balance_msat"],
        DEPOSIT_MSAT - RESERVE_MSAT,
        "{first}"
    );
    assert_eq!(
        first["payment_receipt"]["reference"],
        sid.to_hex(),
        "{first}"
    );
    let listed = cli_json(&data, &["sessions", "list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], sid.to_hex());
    assert_eq!(
        listed[0]["balance_msat"],
        DEPOSIT_MSAT - RESERVE_MSAT,
        "{listed}"
    );
    assert!(listed[0].get("preimage").is_none(), "{listed}");
    let used_first = streamed_tokens(&first);
    assert!((1..=64).contains(&used_first), "{first}");
    wait_balance(&seller, &sid, DEPOSIT_MSAT - used_first * 1000);

    // 2. Reused (no deposit) while the balance covers a reservation.
    let mut used = used_first * 1000;
    let mut reuses = 0;
    while DEPOSIT_MSAT - used >= RESERVE_MSAT {
        let again = fetch(&data, &url, &["--keep-session"]);
        assert_eq!(again["status"], 200, "{again}");
        assert!(again["paid"].is_null(), "no second deposit: {again}");
        assert_eq!(again["session"]["id"], sid.to_hex(), "{again}");
        assert_eq!(again["session"]["opened"], false);
        assert_eq!(again["session"]["closed"], false);
        assert_eq!(
            again["session"]["balance_msat"],
            DEPOSIT_MSAT - used - RESERVE_MSAT,
            "{again}"
        );
        used += streamed_tokens(&again) * 1000;
        wait_balance(&seller, &sid, DEPOSIT_MSAT - used);
        reuses += 1;
        assert!(reuses < 10, "the balance never ran low");
    }
    assert_eq!(receipts(&data).len(), 1, "one deposit so far");

    // 3. The balance cannot pay a reservation: topped up once (a second deposit), served as
    //    bearer, then closed at the end of the fetch with the rest refunded to the msat.
    let second = fetch(&data, &url, &[]);
    assert_eq!(second["status"], 200, "{second}\nlog:\n{}", serve.log());
    assert_eq!(
        second["paid"]["amount_msat"], DEPOSIT_MSAT,
        "the top-up: {second}"
    );
    let session = &second["session"];
    assert_eq!(session["id"], sid.to_hex(), "{second}");
    assert_eq!(session["opened"], false);
    assert_eq!(session["topped_up"], true, "{second}");
    assert_eq!(session["closed"], true, "{second}");
    let deposited = 2 * DEPOSIT_MSAT;
    used += streamed_tokens(&second) * 1000;
    assert_eq!(session["deposits"], 2);
    assert_eq!(session["deposit_msat"], deposited);
    assert_eq!(session["spent_msat"], used, "{second}");
    assert_eq!(
        session["refund_msat"],
        deposited - used,
        "to the msat: {second}"
    );
    assert_eq!(session["refund_status"], "succeeded", "{second}");
    assert_eq!(
        session["refund_received_msat"],
        deposited - used,
        "the buyer's wallet saw the refund arrive: {second}"
    );

    // The seller's ledger agrees: the session closed having billed exactly the usage.
    let record = seller.sessions().get(&sid).unwrap().unwrap();
    assert!(!record.open);
    assert_eq!(record.deposit.0, deposited);
    assert_eq!(record.spent.0, used, "{record:?}");
    assert_eq!(record.refunded.0, deposited - used, "{record:?}");

    // The buyer's books: two deposit receipts, the budget counts them less the refund
    // received (what the usage cost), and the session is held no more.
    let paid = receipts(&data);
    assert_eq!(paid.len(), 2, "{paid:?}");
    assert!(
        paid.iter().all(|r| r["amount_msat"] == DEPOSIT_MSAT),
        "{paid:?}"
    );
    assert_eq!(budget_total_spent(&data), used);
    let buyer_store = Store::open(data.join("client.db")).unwrap();
    let buyer = buyer_store.held_sessions();
    assert!(buyer.list_open().unwrap().is_empty());
    let held = buyer.get(&sid).unwrap().unwrap();
    assert_eq!(held.deposits, 2);
    assert_eq!(held.refund.map(|r| r.0), Some(deposited - used));
    assert_eq!(held.refund_received.map(|r| r.0), Some(deposited - used));
    assert!(held.closed_at.is_some());

    // 4. The next fetch opens a fresh session (a third deposit) and closes it too.
    let third = fetch(&data, &url, &[]);
    assert_eq!(third["status"], 200, "{third}");
    assert_eq!(third["paid"]["amount_msat"], DEPOSIT_MSAT, "{third}");
    assert_ne!(third["session"]["id"], sid.to_hex(), "{third}");
    assert_eq!(third["session"]["opened"], true);
    assert_eq!(third["session"]["closed"], true);
    let used_third = streamed_tokens(&third) * 1000;
    assert_eq!(
        third["session"]["refund_msat"],
        DEPOSIT_MSAT - used_third,
        "{third}"
    );
    assert_eq!(third["session"]["refund_status"], "succeeded", "{third}");
    assert_eq!(receipts(&data).len(), 3);
    assert!(buyer.list_open().unwrap().is_empty());
    assert_eq!(budget_total_spent(&data), used + used_third);

    // 5. `l402 sessions close` closes a kept session; `list --all` shows the closed ones.
    let kept = fetch(&data, &url, &["--keep-session"]);
    let kept_id = kept["session"]["id"].as_str().unwrap().to_owned();
    let used_kept = streamed_tokens(&kept) * 1000;
    wait_balance(
        &seller,
        &PaymentHash::from_hex(&kept_id).unwrap(),
        DEPOSIT_MSAT - used_kept,
    );
    let closed = cli_json(&data, &["sessions", "close", "--json"]);
    assert_eq!(closed.as_array().unwrap().len(), 1, "{closed}");
    assert_eq!(closed[0]["id"], kept_id.as_str());
    assert_eq!(
        closed[0]["refund_msat"],
        DEPOSIT_MSAT - used_kept,
        "{closed}"
    );
    assert_eq!(closed[0]["refund_status"], "succeeded", "{closed}");
    let open = cli_json(&data, &["sessions", "list", "--json"]);
    assert_eq!(open.as_array().unwrap().len(), 0, "{open}");
    let all = cli_json(&data, &["sessions", "list", "--all", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    assert_eq!(budget_total_spent(&data), used + used_third + used_kept);
}

/// `l402 <args>` (which must succeed); its JSON.
fn cli_json(data: &Path, args: &[&str]) -> serde_json::Value {
    let out = run(data, args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_fetch_spends_a_session_and_close_sessions_refunds_it() {
    let dir = tempfile::tempdir().unwrap();
    let seller = mcp_common::start_seller(dir.path()).await;
    let mut config = mcp_common::buyer_config(dir.path(), &seller);
    config.payment.prefer = vec![l402_client::mpp::PaymentScheme::Mpp];
    let server = mcp_common::mcp_server(&config).await;
    let complete = || l402_mcp::FetchArgs {
        url: format!("{}/api/complete", seller.base),
        method: Some("POST".into()),
        headers: Some([("content-type".to_owned(), "application/json".to_owned())].into()),
        body: Some(BODY.into()),
        ..l402_mcp::FetchArgs::default()
    };

    let first = server.fetch(complete()).await;
    assert!(
        !mcp_common::is_error(&first),
        "{}",
        mcp_common::text(&first)
    );
    let v = mcp_common::structured(&first);
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["payment"]["amount_sat"], DEPOSIT_MSAT / 1000, "{v}");
    assert_eq!(v["session"]["opened"], true, "{v}");
    let id = v["session"]["id"].as_str().unwrap().to_owned();
    let mut used = streamed_tokens(&v) * 1000;
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.contains("Opened a prepaid session"), "{summary}");

    let second = mcp_common::structured(&server.fetch(complete()).await);
    assert_eq!(second["status"], 200, "{second}");
    assert_eq!(
        second["payment"]["paid"], false,
        "no second deposit: {second}"
    );
    assert_eq!(second["session"]["id"], id.as_str());
    assert_eq!(second["session"]["opened"], false);
    used += streamed_tokens(&second) * 1000;
    let sid = PaymentHash::from_hex(&id).unwrap();
    let ledger = Store::open(seller.data_dir.join("l402.db")).unwrap();
    wait_balance(&ledger, &sid, DEPOSIT_MSAT - used);

    let closed = server.close_sessions().await;
    assert!(
        !mcp_common::is_error(&closed),
        "{}",
        mcp_common::text(&closed)
    );
    let closed = mcp_common::structured(&closed);
    let sessions = closed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{closed}");
    assert_eq!(sessions[0]["id"], id.as_str());
    assert_eq!(sessions[0]["spent_msat"], used, "{closed}");
    assert_eq!(sessions[0]["refund_msat"], DEPOSIT_MSAT - used, "{closed}");
    assert_eq!(sessions[0]["refund_status"], "succeeded", "{closed}");
    assert_eq!(
        sessions[0]["refund_received_msat"],
        DEPOSIT_MSAT - used,
        "{closed}"
    );
    let again = mcp_common::structured(&server.close_sessions().await);
    assert_eq!(again["sessions"].as_array().unwrap().len(), 0, "{again}");

    let budget = mcp_common::structured(&server.budget().await);
    assert_eq!(
        budget["total"]["spent_sat"],
        used / 1000,
        "deposit less refund: {budget}"
    );
}

/// `l402_fetch` of the metered completion through `server`: the session it used (opened now
/// or not) and the msat it used.
async fn mcp_complete(
    server: &l402_mcp::L402McpServer,
    seller: &mcp_common::Seller,
) -> (PaymentHash, u64) {
    let result = server
        .fetch(l402_mcp::FetchArgs {
            url: format!("{}/api/complete", seller.base),
            method: Some("POST".into()),
            headers: Some([("content-type".to_owned(), "application/json".to_owned())].into()),
            body: Some(BODY.into()),
            ..l402_mcp::FetchArgs::default()
        })
        .await;
    let v = mcp_common::structured(&result);
    assert_eq!(v["status"], 200, "{v}");
    let id = PaymentHash::from_hex(v["session"]["id"].as_str().unwrap()).unwrap();
    (id, streamed_tokens(&v) * 1000)
}

/// Waits (30 s at most) until the seller's ledger shows session `id` closed; its record.
fn wait_closed(store: &Store, id: &PaymentHash) -> l402_store::SessionRecord {
    let start = Instant::now();
    loop {
        let record = store.sessions().get(id).unwrap().unwrap();
        if !record.open {
            return record;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still open: {record:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_server_closes_an_idle_session_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let seller = mcp_common::start_seller(dir.path()).await;
    let mut config = mcp_common::buyer_config(dir.path(), &seller);
    config.payment.prefer = vec![l402_client::mpp::PaymentScheme::Mpp];
    let server = mcp_common::mcp_server(&config).await;
    let (id, used) = mcp_complete(&server, &seller).await;
    let ledger = Store::open(seller.data_dir.join("l402.db")).unwrap();
    wait_balance(&ledger, &id, DEPOSIT_MSAT - used);

    // Just used: a closer with a 5 s idle limit leaves it open at first, then closes it.
    let _closer =
        l402_mcp::IdleSessionCloser::spawn(server.shared_client(), Duration::from_secs(5));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let open = server.client().sessions(false, 10).await.unwrap();
    assert_eq!(open.len(), 1, "not idle yet: {open:?}");
    let record = tokio::task::spawn_blocking(move || wait_closed(&ledger, &id))
        .await
        .unwrap();
    assert_eq!(record.refunded.0, DEPOSIT_MSAT - used, "{record:?}");
    let held = server.client().sessions(true, 10).await.unwrap();
    assert_eq!(held[0].session_id, id);
    assert!(held[0].closed_at.is_some(), "{held:?}");
    assert_eq!(held[0].refund_status.as_deref(), Some("succeeded"));
    assert_eq!(
        held[0].refund_received.map(|r| r.0),
        Some(DEPOSIT_MSAT - used)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l402_mcp_closes_its_sessions_when_the_agent_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let seller = mcp_common::start_seller(dir.path()).await;
    let client_config = dir.path().join("client.toml");
    std::fs::write(
        &client_config,
        format!(
            "data_dir = \"{}\"\n[payment]\nprefer = [\"mpp\"]\n[budget]\nmax_fee_sat = 1\n\
             [mcp]\nallow_private_networks = true\n[wallet.dev]\nconnection_file = \"{}\"\n",
            dir.path().join("buyer").display(),
            seller.connection_file().display()
        ),
    )
    .unwrap();
    let log = dir.path().join("mcp.log");
    let (child, agent) = mcp_stdio(
        &[],
        &[("L402_CLIENT_CONFIG", client_config.as_os_str())],
        &log,
    )
    .await;
    let args = serde_json::json!({
        "url": format!("{}/api/complete", seller.base), "method": "POST",
        "headers": {"content-type": "application/json"}, "body": BODY
    });
    let result = agent
        .call_tool(
            rmcp::model::CallToolRequestParams::new("l402_fetch")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    let v = result.structured_content.clone().unwrap();
    assert_eq!(v["session"]["opened"], true, "{v}");
    let id = PaymentHash::from_hex(v["session"]["id"].as_str().unwrap()).unwrap();
    agent.cancel().await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("l402 mcp exits once the agent is gone")
        .unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(
        stderr.contains("closed 1 prepaid session(s) on exit"),
        "{stderr}"
    );
    let ledger = Store::open(seller.data_dir.join("l402.db")).unwrap();
    let record = ledger.sessions().get(&id).unwrap().unwrap();
    assert!(!record.open, "{record:?}");
    assert!(record.refunded.0 > 0, "{record:?}");
}

/// The tokens streamed in a completion's body.
fn tokens_in(body: &str) -> u64 {
    body.lines()
        .filter(|l| l.starts_with("data: {\"index\""))
        .count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_a_low_balance_top_up_once() {
    use l402_client::mpp::PaymentScheme;
    use l402_client::{L402Client, RequestSpec};

    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    let data = dir.path().join("data");
    let wallet = l402_lightning::dev::DevWalletClient::from_data_dir(&data).unwrap();
    let buyer_db = dir.path().join("buyer.db");
    let client = std::sync::Arc::new(
        L402Client::builder()
            .wallet(std::sync::Arc::new(wallet))
            .network(l402_core::invoice::Network::Regtest)
            .store_path(&buyer_db)
            .prefer(vec![PaymentScheme::Mpp])
            .build()
            .unwrap(),
    );
    let url = format!("{base}/api/complete");
    let request = move || {
        RequestSpec::new(http::Method::POST, &url)
            .unwrap()
            .header("content-type", "application/json")
            .unwrap()
            .body(BODY.as_bytes().to_vec())
    };
    let seller = Store::open(data.join("l402.db")).unwrap();

    // Opened, then spent until the balance cannot pay a reservation.
    let first = client.execute(request()).await.unwrap();
    let session = first.session.clone().expect("a session");
    assert!(session.opened && first.payment.is_some());
    let sid = session.session_id;
    let mut used = tokens_in(&first.response.text().await.unwrap()) * 1000;
    wait_balance(&seller, &sid, DEPOSIT_MSAT - used);
    while DEPOSIT_MSAT - used >= RESERVE_MSAT {
        let again = client.execute(request()).await.unwrap();
        assert!(
            again.payment.is_none(),
            "no deposit while the balance lasts"
        );
        used += tokens_in(&again.response.text().await.unwrap()) * 1000;
        wait_balance(&seller, &sid, DEPOSIT_MSAT - used);
    }

    // Three at once on the low balance: one top-up between them, all three served.
    let answers: Vec<_> = (0..3)
        .map(|_| {
            let (client, spec) = (client.clone(), request());
            tokio::spawn(async move {
                let paid = client.execute(spec).await.unwrap();
                let status = paid.response.status().as_u16();
                let topped = paid.session.as_ref().map(|s| s.topped_up);
                let deposit = paid.payment.is_some();
                let body = paid.response.text().await.unwrap();
                (status, topped, deposit, tokens_in(&body))
            })
        })
        .collect();
    let mut top_ups = 0;
    for answer in answers {
        let (status, topped, deposit, tokens) = answer.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            topped,
            Some(deposit),
            "a request reports the top-up it paid"
        );
        top_ups += u32::from(deposit);
        used += tokens * 1000;
    }
    assert_eq!(top_ups, 1, "one top-up for the three");
    let buyer = Store::open(&buyer_db).unwrap();
    assert_eq!(
        buyer.receipts().count().unwrap(),
        2,
        "the deposit and one top-up"
    );
    assert_eq!(
        buyer.held_sessions().get(&sid).unwrap().unwrap().deposits,
        2
    );
    wait_balance(&seller, &sid, 2 * DEPOSIT_MSAT - used);

    let closed = client.close_sessions().await.unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].deposit.0, 2 * DEPOSIT_MSAT);
    assert_eq!(closed[0].refund.map(|r| r.0), Some(2 * DEPOSIT_MSAT - used));
    assert_eq!(closed[0].spent().map(|s| s.0), Some(used));
}
