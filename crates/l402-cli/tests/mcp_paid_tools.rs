//! Paid MCP tool calls sold by `l402 serve` (`mcp = true`, `[[services.tools]]`): the upstream
//! is a plain MCP server (the test kit's, rmcp's streamable HTTP server, selling nothing); the
//! proxy answers an unpaid priced `tools/call` with JSON-RPC `-32042` and a challenge, verifies
//! and consumes the credential in `_meta`, forwards the call without it and puts the receipt in
//! the result. Checked on the wire (JSON-RPC by hand: replay, forgery, another tool's
//! credential, batches, ambiguous members), then by an agent host through `l402 mcp
//! --upstream`, which pays within its budget.

mod common;

use std::path::Path;

use common::*;
use l402_lightning::dev::DevWalletClient;
use l402_lightning::{LightningBackend, PayOptions};
use l402_mpp::mcp;
use l402_testkit::paid_mcp::{FREE_TOOL, PRICED_TOOL, PaidMcpOptions, PaidMcpServer};
use rmcp::model::CallToolRequestParams;
use serde_json::{Map, Value, json};

/// `l402 serve` selling the MCP server at `upstream` (`http://host:port`): `search` 10 sat,
/// `echo` 1 sat, other tools free.
fn write_config(dir: &Path, upstream: &str) -> String {
    let path = dir.join("l402.toml");
    std::fs::write(
        &path,
        format!(
            "mpp_realm = \"mcp.test\"\n\n\
             [[services]]\nname = \"tools\"\npath_prefix = \"/mcp\"\nupstream = \"{upstream}\"\n\
             mcp = true\nprice_sat = 0\n\n\
             [[services.tools]]\nname = \"{PRICED_TOOL}\"\nprice_sat = 10\n\
             description = \"one search\"\n\n\
             [[services.tools]]\nname = \"{FREE_TOOL}\"\nprice_sat = 1\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// A streamable-HTTP MCP session with the proxy, by hand.
struct Session {
    url: String,
    id: Option<String>,
    http: reqwest::Client,
}

/// One answer: HTTP status, headers, and the JSON-RPC message (from a JSON body or the first
/// event of a stream).
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    message: Value,
}

impl Session {
    async fn post(&self, body: &Value) -> Answer {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap());
        if let Some(id) = &self.id {
            request = request.header("mcp-session-id", id);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let message = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) if text.is_empty() => Value::Null,
            Err(_) => text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .find_map(|d| serde_json::from_str(d.trim()).ok())
                .unwrap_or_else(|| panic!("no JSON-RPC message in {status}: {text:?}")),
        };
        Answer {
            status,
            headers,
            message,
        }
    }

    async fn open(url: String) -> Self {
        let mut session = Session {
            url,
            id: None,
            http: http_client(),
        };
        let init = session
            .post(
                &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "by-hand", "version": "0"}}}),
            )
            .await;
        assert_eq!(init.status, 200, "{}", init.message);
        assert_eq!(
            init.message["result"]["capabilities"]["experimental"]["payment"],
            json!({"methods": {"lightning": {"intents": ["charge"]}}}),
            "initialize advertises the charge: {}",
            init.message
        );
        assert!(init.message["result"]["capabilities"]["tools"].is_object());
        session.id = init
            .headers
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().into());
        let note = session
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(note.status, 202);
        session
    }

    async fn call(&self, id: u64, tool: &str, args: Value, credential: Option<&Value>) -> Answer {
        let mut params = json!({"name": tool, "arguments": args});
        if let Some(c) = credential {
            params["_meta"] = json!({mcp::CREDENTIAL_META_KEY: c, "progressToken": 5});
        }
        self.post(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}))
            .await
    }
}

/// The one challenge of a payment-required error.
fn challenge_of(answer: &Answer) -> Value {
    let challenges = mcp::challenges_of(&answer.message["error"]["data"]);
    assert_eq!(challenges.len(), 1, "{}", answer.message);
    challenges[0].clone()
}

/// Pays `challenge`'s invoice from the dev wallet in `data`; the credential for `_meta`.
async fn pay(data: &Path, challenge: &Value) -> Value {
    let invoice = challenge["request"]["methodDetails"]["invoice"]
        .as_str()
        .unwrap();
    let paid = DevWalletClient::from_data_dir(data)
        .unwrap()
        .pay_invoice(
            invoice,
            PayOptions {
                max_fee: l402_lightning::Msat(0),
                timeout: std::time::Duration::from_secs(10),
            },
        )
        .await
        .unwrap();
    let mut payload = Map::new();
    payload.insert("preimage".into(), paid.preimage.to_hex().into());
    mcp::credential_json(challenge.clone(), payload)
}

fn error_code(answer: &Answer) -> i64 {
    answer.message["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {}", answer.message))
}

/// The test kit's MCP server (selling nothing) behind `l402 serve` (see [`write_config`]),
/// whose data directory (and dev wallet, the buyer's too) is `data`.
struct Seller {
    dir: tempfile::TempDir,
    data: std::path::PathBuf,
    remote: PaidMcpServer,
    serve: ChildGuard,
    base: String,
}

async fn seller() -> Seller {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let options = PaidMcpOptions {
        free: true,
        ..PaidMcpOptions::default()
    };
    let remote = PaidMcpServer::start_in(options, &data.join("upstream-wallet")).await;
    let config = write_config(dir.path(), remote.url.trim_end_matches("/mcp"));
    let (serve, base) = serve(dir.path(), &["--config", &config]).await;
    Seller {
        dir,
        data,
        remote,
        serve,
        base,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priced_tool_calls_are_sold_on_the_wire() {
    let Seller {
        dir: _dir,
        data,
        remote,
        serve,
        base,
    } = seller().await;
    let session = Session::open(format!("{base}/mcp")).await;

    // tools/list and an unlisted tool pass free (the upstream answers).
    let list = session
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(
        list.message["result"]["tools"].as_array().map(Vec::len),
        Some(2)
    );
    let unknown = session.call(2, "nope", json!({}), None).await;
    assert!(
        unknown.message["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nope"),
        "forwarded to the upstream: {}",
        unknown.message
    );

    // 1. Unpaid: -32042 with one Lightning charge challenge at the tool's price, in JSON.
    let unpaid = session.call(3, PRICED_TOOL, json!({"q": "x"}), None).await;
    assert_eq!(unpaid.status, 200);
    assert_eq!(error_code(&unpaid), i64::from(mcp::PAYMENT_REQUIRED_CODE));
    assert_eq!(unpaid.message["id"], 3);
    assert_eq!(unpaid.message["error"]["data"]["httpStatus"], 402);
    let challenge = challenge_of(&unpaid);
    assert_eq!(
        (
            &challenge["realm"],
            &challenge["method"],
            &challenge["intent"],
            &challenge["request"]["amount"],
            &challenge["request"]["currency"],
            &challenge["description"]
        ),
        (
            &json!("mcp.test"),
            &json!("lightning"),
            &json!("charge"),
            &json!("10"),
            &json!("sat"),
            &json!("one search")
        ),
        "{challenge}"
    );
    assert!(
        remote.seen().is_empty(),
        "an unpaid call never reaches the upstream"
    );

    // 2. Paid: forwarded without the credential (other _meta kept), receipt in the result.
    let credential = pay(&data, &challenge).await;
    let paid = session
        .call(4, PRICED_TOOL, json!({"q": "lightning"}), Some(&credential))
        .await;
    assert_eq!(paid.status, 200, "log:\n{}", serve.log());
    let result = &paid.message["result"];
    assert_eq!(
        result["content"][0]["text"], "results for lightning",
        "{}",
        paid.message
    );
    let receipt = &result["_meta"][mcp::RECEIPT_META_KEY];
    let hash = challenge["request"]["methodDetails"]["paymentHash"].clone();
    assert_eq!(
        (
            &receipt["status"],
            &receipt["method"],
            &receipt["reference"],
            &receipt["challengeId"]
        ),
        (
            &json!("success"),
            &json!("lightning"),
            &hash,
            &challenge["id"]
        ),
        "{receipt}"
    );
    assert!(paid.headers.contains_key("payment-receipt"));
    let seen = remote.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].q, "lightning");
    assert_eq!(
        seen[0].meta_keys,
        ["progressToken"],
        "the credential is not forwarded"
    );
    assert_eq!(
        seen[0].payment_hash_header.as_ref(),
        hash.as_str().map(str::to_owned).as_ref()
    );

    // 3. Replayed: -32043 with a fresh challenge and why.
    let replay = session
        .call(5, PRICED_TOOL, json!({"q": "again"}), Some(&credential))
        .await;
    assert_eq!(
        error_code(&replay),
        i64::from(mcp::VERIFICATION_FAILED_CODE)
    );
    let fresh = challenge_of(&replay);
    assert_ne!(fresh["id"], challenge["id"]);
    assert_eq!(
        replay.message["error"]["data"]["failure"]["reason"],
        "https://paymentauth.org/problems/invalid-challenge",
        "{}",
        replay.message
    );

    // 4. A credential bought for the 1-sat tool does not open the 10-sat one, and a forged
    //    amount breaks the id.
    let echo_unpaid = session
        .call(6, FREE_TOOL, json!({"text": "hi"}), None)
        .await;
    let echo_challenge = challenge_of(&echo_unpaid);
    assert_eq!(echo_challenge["request"]["amount"], "1");
    let echo_credential = pay(&data, &echo_challenge).await;
    let crossed = session
        .call(7, PRICED_TOOL, json!({"q": "x"}), Some(&echo_credential))
        .await;
    assert_eq!(
        error_code(&crossed),
        i64::from(mcp::VERIFICATION_FAILED_CODE)
    );
    let mut forged = pay(&data, &fresh).await;
    forged["challenge"]["request"]["amount"] = json!("100");
    let forged = session
        .call(8, PRICED_TOOL, json!({"q": "x"}), Some(&forged))
        .await;
    assert_eq!(
        error_code(&forged),
        i64::from(mcp::VERIFICATION_FAILED_CODE)
    );
    // The echo credential still opens echo, once.
    let echo = session
        .call(9, FREE_TOOL, json!({"text": "hi"}), Some(&echo_credential))
        .await;
    assert_eq!(
        echo.message["result"]["content"][0]["text"], "hi",
        "{}",
        echo.message
    );
    let unreadable = session
        .call(
            10,
            PRICED_TOOL,
            json!({"q": "x"}),
            Some(&json!({"challenge": 1})),
        )
        .await;
    assert_eq!(error_code(&unreadable), -32602);
    assert_eq!(
        remote.seen().len(),
        1,
        "no refused call reached the upstream"
    );

    // 5. What the upstream could read differently is refused: a priced call in a batch, a
    //    case variant of `name`, a notification.
    let batch = session
        .post(&json!([
            {"jsonrpc": "2.0", "id": 11, "method": "tools/call",
             "params": {"name": PRICED_TOOL, "arguments": {"q": "x"}}},
            {"jsonrpc": "2.0", "id": 12, "method": "tools/list"}
        ]))
        .await;
    assert_eq!(batch.status, 400);
    assert_eq!(
        batch.message.as_array().map(Vec::len),
        Some(2),
        "{}",
        batch.message
    );
    let ambiguous = session
        .post(&json!({"jsonrpc": "2.0", "id": 13, "method": "tools/call",
                      "params": {"name": "nope", "Name": PRICED_TOOL, "arguments": {"q": "x"}}}))
        .await;
    assert_eq!((ambiguous.status, error_code(&ambiguous)), (400, -32600));
    let notification = session
        .post(&json!({"jsonrpc": "2.0", "method": "tools/call",
                      "params": {"name": PRICED_TOOL, "arguments": {"q": "x"}}}))
        .await;
    assert_eq!(notification.status, 400);
    // A member Go's decoder would fold into `params` (ſ is s): refused, not forwarded.
    let folded = session
        .post(&json!({"jsonrpc": "2.0", "id": 14, "method": "tools/call",
                      "params": {"name": FREE_TOOL, "arguments": {"text": "x"}},
                      "paramſ": {"name": PRICED_TOOL, "arguments": {"q": "x"}}}))
        .await;
    assert_eq!((folded.status, error_code(&folded)), (400, -32600));
    // A method whose body the layer would not read.
    let put = session
        .http
        .put(&session.url)
        .header("content-type", "application/json")
        .body(
            serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 15, "method": "tools/call",
            "params": {"name": PRICED_TOOL, "arguments": {"q": "x"}}}))
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "POST, GET, DELETE, OPTIONS");
    assert_eq!(remote.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_pays_tools_sold_by_l402_serve_through_l402_mcp() {
    let s = seller().await;
    let client_config = s.dir.path().join("client.toml");
    std::fs::write(
        &client_config,
        "[budget]\nmax_cost_sat = 50\nmax_fee_sat = 1\n\n[mcp]\nallow_private_networks = true\n",
    )
    .unwrap();

    let (mut child, agent) = mcp_stdio(
        &["--upstream", &format!("{}/mcp", s.base)],
        &[
            ("L402_DATA_DIR", s.data.as_os_str()),
            ("L402_CLIENT_CONFIG", client_config.as_os_str()),
        ],
        &s.dir.path().join("mcp.log"),
    )
    .await;
    for (i, q) in ["lightning", "bolt12"].into_iter().enumerate() {
        let args = json!({"q": q}).as_object().unwrap().clone();
        let paid = agent
            .call_tool(CallToolRequestParams::new(PRICED_TOOL).with_arguments(args))
            .await
            .unwrap();
        assert_ne!(paid.is_error, Some(true), "{paid:?}");
        assert_eq!(
            paid.content[0].as_text().unwrap().text,
            format!("results for {q}")
        );
        let meta = paid.meta.clone().unwrap_or_default();
        assert_eq!(meta[mcp::RECEIPT_META_KEY]["status"], "success", "{meta:?}");
        assert_eq!(
            meta[l402_mcp::PAYMENT_META_KEY]["payment"]["amount_sat"],
            10
        );
        assert_eq!(s.remote.seen().len(), i + 1);
    }
    let budget = agent
        .call_tool(CallToolRequestParams::new("l402_budget"))
        .await
        .unwrap();
    let budget = budget.structured_content.unwrap();
    assert_eq!(budget["total"]["spent_sat"], 20, "{budget}");
    agent.cancel().await.unwrap();
    let _ = child.wait().await;
}
