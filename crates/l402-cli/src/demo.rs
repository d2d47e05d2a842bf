//! `l402 demo`: the whole L402 flow on one machine. Starts the paywall proxy, the sample paid
//! API and the dev wallet in-process (temporary data directory, free ports), then acts as an
//! agent: buys three resources (HTTP and gRPC) showing every step, reuses a token, lets the
//! auto-paying client do it in one call, and prints the receipts.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use l402_core::client::{Decision, PaidToken, PayPolicy, RequestFlow, ResponseView};
use l402_core::invoice::Network;
use l402_core::{Msat, PaymentHash};
use l402_lightning::dev::DevWalletClient;
use l402_lightning::{LightningBackend, PayOptions};
use tonic::metadata::{MetadataMap, MetadataValue};

use l402_core::env::now_unix;
use l402_seller::{Seller, SellerOptions};

use crate::exit;
use crate::serve::seller_error;

struct Receipt {
    what: &'static str,
    amount: Msat,
    hash: PaymentHash,
}

fn short(s: &str) -> String {
    if s.len() > 24 {
        format!("{}…{}", &s[..14], &s[s.len() - 6..])
    } else {
        s.to_owned()
    }
}

/// Decides, pays and returns the token for a payment-required answer, printing each step.
async fn pay(
    wallet: &DevWalletClient,
    challenges: &[String],
    status: u16,
    grpc: Option<(u32, &str)>,
    receipts: &mut Vec<Receipt>,
    what: &'static str,
) -> anyhow::Result<PaidToken> {
    let refs: Vec<&str> = challenges.iter().map(String::as_str).collect();
    let policy = PayPolicy {
        network: Network::Regtest,
        max_amount: Msat::from_sat(100),
        now_unix: now_unix(),
    };
    let mut flow = RequestFlow::new(policy, false);
    let view = ResponseView {
        status,
        www_authenticate: &refs,
        grpc_status: grpc.map(|g| g.0),
        grpc_message: grpc.map(|g| g.1),
    };
    let plan = match flow.on_response(&view) {
        Decision::Pay { plan, .. } => plan,
        Decision::Stop(reason) => bail!("the agent refused to pay: {reason}"),
        Decision::Done => bail!("expected a payment challenge"),
    };
    println!(
        "     invoice {} for {} (checked: payment hash matches the macaroon, regtest, not expired, under 100 sat)",
        short(&plan.challenge.invoice),
        plan.amount
    );
    println!("  ⚡ paying {} through the dev wallet ...", plan.amount);
    let paid = wallet
        .pay_invoice(
            &plan.challenge.invoice,
            PayOptions {
                max_fee: Msat::from_sat(1),
                timeout: Duration::from_secs(10),
            },
        )
        .await
        .context("paying through the dev wallet")?;
    println!(
        "  ✓ paid; preimage {} (sha256 = payment hash {})",
        paid.preimage.to_hex(),
        short(&plan.payment_hash.to_hex())
    );
    receipts.push(Receipt {
        what,
        amount: paid.amount,
        hash: paid.payment_hash,
    });
    flow.on_paid(paid.preimage)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn http_purchase(
    http: &reqwest::Client,
    wallet: &DevWalletClient,
    request: impl Fn() -> reqwest::RequestBuilder,
    receipts: &mut Vec<Receipt>,
    what: &'static str,
) -> anyhow::Result<PaidToken> {
    println!("  → request without credentials");
    let r = request().send().await?;
    if r.status() != 402 {
        bail!("expected 402, got {}", r.status());
    }
    let challenges: Vec<String> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect();
    println!(
        "  ← 402 Payment Required with {} WWW-Authenticate challenges (LSAT, L402)",
        challenges.len()
    );
    let token = pay(wallet, &challenges, 402, None, receipts, what).await?;
    let auth = &token.authorization_values()[1];
    println!("  → retry with Authorization: {} ...", short(auth));
    let r = request().header("authorization", auth).send().await?;
    let status = r.status();
    let body = r.text().await?;
    println!("  ← {status}: {}", body.trim());
    if !status.is_success() {
        bail!("the paid retry failed with {status}");
    }
    let _ = http;
    Ok(token)
}

/// What the metered call cost.
struct Metered {
    session: String,
    deposit: Msat,
    used: Msat,
    refund: Msat,
}

/// The `Payment` session challenge of a 402, if any.
fn session_challenge(response: &reqwest::Response) -> Option<l402_mpp::Challenge> {
    response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| l402_mpp::Challenge::parse_list(v.to_str().ok()?).ok())
        .flatten()
        .find(|c| c.intent == l402_mpp::INTENT_SESSION)
}

/// A completion sold per generated token: a `Payment` session opened with a deposit, two calls
/// (a stream, then a JSON answer) billed what they generated, and the rest refunded on close.
async fn metered_call(
    http: &reqwest::Client,
    wallet: &DevWalletClient,
    base: &str,
) -> anyhow::Result<Metered> {
    use l402_mpp::session::{self, SessionRequest};

    println!(
        "\n[4/4] POST /api/complete  (metered: per generated token, streamed, refunded on close)"
    );
    let url = format!("{base}/api/complete");
    let call = |authorization: &str, stream: bool| {
        http.post(&url).header("authorization", authorization).json(
            &serde_json::json!({"prompt": "explain lightning", "stream": stream, "delay_ms": 15}),
        )
    };
    println!("  → request without credentials");
    let r = http
        .post(&url)
        .json(&serde_json::json!({"prompt": "explain lightning"}))
        .send()
        .await?;
    let challenge = session_challenge(&r).context("expected a Payment session challenge")?;
    let request: SessionRequest = challenge
        .decode_request()
        .context("reading the session challenge")?;
    let deposit_sat = request
        .deposit_sat()
        .context("the challenge names no deposit")?;
    println!(
        "  ← 402 with a Payment session challenge: {} sat per {}, deposit {deposit_sat} sat",
        request.amount,
        request.unit_type.as_deref().unwrap_or("unit")
    );
    let invoice = request
        .deposit_invoice
        .context("the challenge has no deposit invoice")?;
    println!("  ⚡ paying the {deposit_sat} sat deposit through the dev wallet ...");
    let paid = wallet
        .pay_invoice(
            &invoice,
            PayOptions {
                max_fee: Msat::from_sat(1),
                timeout: Duration::from_secs(10),
            },
        )
        .await
        .context("paying the deposit")?;
    let sid = paid.payment_hash;
    let refund_to = wallet
        .create_invoice(l402_lightning::CreateInvoice {
            amount: Msat(0),
            memo: "l402 demo: session refund".into(),
            expiry_secs: 86_400,
        })
        .await
        .context("creating the refund invoice")?;
    println!(
        "  ✓ paid; session {} (the deposit's payment hash); refunds go to an invoice without amount",
        short(&sid.to_hex())
    );
    let open = session::open_credential(&challenge, &paid.preimage, &refund_to.bolt11);
    println!("  → open the session and stream the completion:");
    let mut stream = call(&open.to_authorization(), true).send().await?;
    if !stream.status().is_success() {
        bail!("the session did not open: {}", stream.status());
    }
    let held = stream
        .headers()
        .get(l402_tower::SESSION_STATUS_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut text = String::new();
    let mut tokens = 0u64;
    print!("     ");
    while let Some(chunk) = stream.chunk().await? {
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if let Some(data) = event.strip_prefix("data: ")
                && let Ok(json) = serde_json::from_str::<serde_json::Value>(data.trim())
                && let Some(word) = json["token"].as_str()
            {
                tokens += 1;
                print!("{word} ");
                use std::io::Write as _;
                let _ = std::io::stdout().flush();
            }
        }
    }
    println!();
    println!("  ← 200, {tokens} tokens streamed ({held} while it ran: 64 tokens reserved)");
    let bearer = session::bearer_credential(&challenge, &sid, &paid.preimage);
    let r = call(&bearer.to_authorization(), false).send().await?;
    let more: u64 = r
        .headers()
        .get(l402_tower::USAGE_HEADER)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .context("the JSON answer reports no usage")?;
    println!(
        "  → again, bearer, JSON answer  ← {}: {more} tokens",
        r.status()
    );
    let close = session::close_credential(&challenge, &sid, &paid.preimage);
    // Settlement runs when a response ends; give the last one a moment before closing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let closed: serde_json::Value = call(&close.to_authorization(), false)
        .send()
        .await?
        .json()
        .await?;
    let refund = Msat(
        closed["refundMsat"]
            .as_u64()
            .context("no refund in the close answer")?,
    );
    println!(
        "  → close  ← refund {refund} ({}) to the refund invoice",
        closed["refundStatus"].as_str().unwrap_or("?")
    );
    let deposit = Msat::from_sat(deposit_sat);
    let used = Msat(deposit.0.saturating_sub(refund.0));
    let expected = Msat::from_sat(tokens + more);
    println!(
        "  deposit {deposit} = {} tokens × 1 sat ({used}) + refund {refund}{}",
        tokens + more,
        if used == expected {
            " ✓"
        } else {
            "  ✗ does not add up"
        }
    );
    if used != expected {
        bail!("the session does not add up: used {used}, tokens {expected}");
    }
    Ok(Metered {
        session: sid.to_hex(),
        deposit,
        used,
        refund,
    })
}

/// Runs the demo.
pub async fn run() -> anyhow::Result<u8> {
    let dir = tempfile_dir()?;
    println!(
        "l402 demo: a paywall proxy, a sample paid API and a dev wallet, all on this machine\n"
    );
    let seller = Seller::start(
        SellerOptions::new()
            .listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .data_dir(dir.clone()),
    )
    .await
    .map_err(seller_error)?;
    let base = format!("http://{}", seller.proxy_addr());
    println!("proxy listening on {base}; data in {}\n", dir.display());
    let result = agent(&base, &dir).await;
    seller.shutdown().await?;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    Ok(exit::SUCCESS)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("l402-demo-{}-{}", std::process::id(), now_unix()));
    l402_store::create_private_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

async fn agent(base: &str, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let wallet = DevWalletClient::from_data_dir(data_dir).context("finding the dev wallet")?;
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)?.build()?;
    let mut receipts = Vec::new();

    println!("[1/4] GET /api/weather?city=Paris  (HTTP)");
    let weather_url = format!("{base}/api/weather?city=Paris");
    let weather = http_purchase(
        &http,
        &wallet,
        || http.get(&weather_url),
        &mut receipts,
        "weather",
    )
    .await?;

    println!("\n[2/4] POST /api/similarity  (HTTP, JSON body)");
    let sim_url = format!("{base}/api/similarity");
    let body = serde_json::json!({"a": [0.1, 0.7, 0.2], "b": [0.2, 0.6, 0.1]});
    http_purchase(
        &http,
        &wallet,
        || http.post(&sim_url).json(&body),
        &mut receipts,
        "similarity",
    )
    .await?;

    println!("\n[3/4] gRPC helloworld.Greeter/SayHello  (HTTP/2)");
    let channel = tonic::transport::Endpoint::from_shared(base.to_owned())?
        .connect()
        .await
        .context("connecting gRPC")?;
    println!("  → call without credentials");
    let status =
        match l402_sample::greeter::say_hello(channel.clone(), "agent", MetadataMap::new()).await {
            Err(status) => status,
            Ok(_) => bail!("expected a payment-required gRPC status"),
        };
    let challenges: Vec<String> = status
        .metadata()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect();
    println!(
        "  ← grpc-status {} \"{}\" (Trailers-Only) with the challenge in www-authenticate",
        status.code() as i32,
        status.message()
    );
    let token = pay(
        &wallet,
        &challenges,
        200,
        Some((status.code() as u32, status.message())),
        &mut receipts,
        "greeter",
    )
    .await?;
    let mut metadata = MetadataMap::new();
    let value = token
        .grpc_metadata_value()
        .context("encoding the gRPC credential")?;
    metadata.insert("macaroon", MetadataValue::try_from(value.as_str())?);
    println!(
        "  → retry with metadata macaroon: {} (hex, with a preimage= caveat)",
        short(&value)
    );
    let reply = l402_sample::greeter::say_hello(channel, "agent", metadata)
        .await
        .context("paid gRPC call")?;
    println!("  ← OK: \"{}\"", reply.into_inner().message);

    println!("\n[reuse] GET /api/weather?city=Oslo with the token bought in step 1");
    let r = http
        .get(format!("{base}/api/weather?city=Oslo"))
        .header("authorization", &weather.authorization_values()[1])
        .send()
        .await?;
    println!(
        "  ← {}: {} (no new payment)",
        r.status(),
        r.text().await?.trim()
    );

    let metered = metered_call(&http, &wallet, base).await?;

    println!(
        "\n[agent] the same in one call with the auto-paying client (l402-client, budgets on)"
    );
    let client = l402_client::L402Client::builder()
        .wallet(Arc::new(wallet) as Arc<dyn LightningBackend>)
        .store_path(data_dir.join("client.db"))
        .build()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for city in ["Tokyo", "Lima"] {
        let paid = client
            .get(&format!("{base}/api/weather?city={city}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let what = match &paid.payment {
            Some(r) => format!("paid {} automatically", r.amount),
            None if paid.reused_token => "reused its cached token, paid nothing".to_owned(),
            None => "free".to_owned(),
        };
        println!(
            "  GET /api/weather?city={city}: {} ({what})",
            paid.response.status()
        );
    }
    let auto: Vec<_> = client
        .receipts(10)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    println!("\nreceipts");
    let mut total = Msat(0);
    for r in &receipts {
        println!(
            "  {:<11} {:>6}  payment hash {}",
            r.what,
            r.amount.to_string(),
            r.hash
        );
        total = total.checked_add(r.amount).unwrap_or(total);
    }
    for r in &auto {
        println!(
            "  {:<11} {:>6}  payment hash {}  (auto)",
            "weather",
            r.amount.to_string(),
            r.payment_hash
        );
        total = total.checked_add(r.amount).unwrap_or(total);
    }
    println!(
        "  {:<11} {:>6}  session {} (deposit {}, used {}, refunded {})",
        "complete",
        metered.deposit.to_string(),
        short(&metered.session),
        metered.deposit,
        metered.used,
        metered.refund
    );
    total = total.checked_add(metered.used).unwrap_or(total);
    println!(
        "  total {total} in {} payments for 9 paid calls (the session's refund deducted)",
        receipts.len() + auto.len() + 1
    );
    println!(
        "\nnext: `l402 serve` runs this proxy on 127.0.0.1:8402; `l402 fetch URL` pays like the agent above."
    );
    Ok(())
}
