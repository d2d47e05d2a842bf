//! `l402 fetch URL`: curl for paid APIs. Pays L402 challenges by itself, within budgets.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;
use l402_client::{ClientError, ClosedSession, L402Client, PaidResponse, RequestSpec, SessionUse};

use super::{ClientOptions, Tweaks, client_error};
use crate::exit;

/// Largest body kept in memory for `--json` or printing; bigger bodies need `-o`.
const MAX_INLINE_BODY: usize = 16 * 1024 * 1024;

/// `l402 fetch` arguments (curl's names where curl has one).
#[derive(Debug, Clone, clap::Args)]
pub struct FetchArgs {
    /// The URL.
    pub url: String,
    /// HTTP method (default GET, or POST with a body).
    #[arg(short = 'X', long = "request")]
    pub method: Option<String>,
    /// Extra header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Request body; `@file` reads a file. Sets `Content-Type: application/x-www-form-urlencoded`
    /// unless a Content-Type header is given.
    #[arg(short = 'd', long = "data")]
    pub data: Option<String>,
    /// Request body sent as is; `@file` reads a file.
    #[arg(long = "data-binary", conflicts_with = "data")]
    pub data_binary: Option<String>,
    /// Write the body to this file instead of stdout (with a progress bar on a terminal).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Include the status line and response headers in the output.
    #[arg(short = 'i', long = "include")]
    pub include: bool,
    /// Follow redirects.
    #[arg(short = 'L', long = "location")]
    pub follow: bool,
    /// Exit 5 on HTTP status 400 or above (like curl -f).
    #[arg(short = 'f', long = "fail")]
    pub fail: bool,
    /// Most this request may pay, in satoshis (lowers or raises the configured per-invoice max;
    /// the hourly/daily/total budgets still apply).
    #[arg(long)]
    pub max_cost: Option<u64>,
    /// Show what the resource costs without paying (exit 0).
    #[arg(long)]
    pub dry_run: bool,
    /// Leave the `Payment` session this fetch used open for the next fetches (by default it is
    /// closed at the end and the rest of its deposit refunded).
    #[arg(long)]
    pub keep_session: bool,
    /// Certificate verification.
    #[command(flatten)]
    pub tls: super::TlsArgs,
    /// Shared client options.
    #[command(flatten)]
    pub client: ClientOptions,
}

fn read_body(arg: &str) -> anyhow::Result<Vec<u8>> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|e| {
            exit::with_code(
                exit::BAD_INPUT,
                format!("cannot read body file {path}: {e}"),
            )
        }),
        None => Ok(arg.as_bytes().to_vec()),
    }
}

fn build_request(args: &FetchArgs) -> anyhow::Result<RequestSpec> {
    let bad = |e: ClientError| exit::with_code(exit::BAD_INPUT, e.to_string());
    let body = match (&args.data, &args.data_binary) {
        (Some(d), _) => Some((read_body(d)?, true)),
        (None, Some(d)) => Some((read_body(d)?, false)),
        (None, None) => None,
    };
    let method = args.method.clone().unwrap_or_else(|| {
        if body.is_some() {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    let method = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| exit::with_code(exit::BAD_INPUT, format!("invalid method {method:?}")))?;
    let mut spec = RequestSpec::new(method, &args.url).map_err(bad)?;
    let mut has_content_type = false;
    for header in &args.headers {
        let (name, value) = header.split_once(':').ok_or_else(|| {
            exit::with_code(
                exit::BAD_INPUT,
                format!("header {header:?} is not `Name: value`"),
            )
        })?;
        has_content_type |= name.trim().eq_ignore_ascii_case("content-type");
        spec = spec.header(name.trim(), value.trim()).map_err(bad)?;
    }
    if let Some((bytes, form)) = body {
        if form && !has_content_type {
            spec = spec
                .header("content-type", "application/x-www-form-urlencoded")
                .map_err(bad)?;
        }
        spec = spec.body(bytes);
    }
    Ok(spec)
}

/// Runs `l402 fetch`.
pub async fn run(args: FetchArgs, verbose: u8) -> anyhow::Result<u8> {
    let spec = build_request(&args)?;
    let mut config = super::load_config(&args.client)?;
    args.tls.apply(&mut config);
    let client = super::open_with(
        config,
        Tweaks {
            max_cost_sat: args.max_cost,
            auto_pay: !args.dry_run,
            follow_redirects: args.follow,
        },
    )?;
    if verbose > 0 {
        eprintln!("> {} {}", spec.method, spec.url);
    }
    if args.dry_run && dry_run_from_manifest(&client, &spec, args.client.json).await {
        return Ok(exit::SUCCESS);
    }
    let paid = match client.execute(spec).await {
        Ok(paid) => paid,
        Err(ClientError::PaymentRequired {
            amount,
            scope,
            payment_hash,
        }) if args.dry_run => {
            if args.client.json {
                println!(
                    "{}",
                    serde_json::json!({"dry_run": true, "payment_required": true, "source": "challenge", "price_sat": amount.to_sat_ceil(), "price_msat": amount.0, "scope": scope, "payment_hash": payment_hash.to_hex()})
                );
            } else {
                println!(
                    "payment required: {amount} for {scope} (from the 402; dry run: nothing paid)"
                );
            }
            return Ok(exit::SUCCESS);
        }
        Err(e) => return Err(client_error(e)),
    };
    report_payment(&paid, verbose, args.client.json);
    let status = paid.response.status();
    output(args.clone(), paid, &client).await?;
    if args.fail && status.as_u16() >= 400 {
        return Err(exit::with_code(
            exit::NETWORK,
            format!("the server answered {status}"),
        ));
    }
    Ok(exit::SUCCESS)
}

/// `--dry-run` with a manifest: when the host's manifest prices this request, says so without
/// sending it (no invoice is minted) and returns true. Otherwise (no manifest, no matching
/// resource, a free one, or an error reading it) returns false: the request is sent unpaid
/// and its 402 answers.
async fn dry_run_from_manifest(client: &L402Client, spec: &RequestSpec, json: bool) -> bool {
    let found = match client.discover_manifest(spec.url.as_str()).await {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(error = %e, "no manifest for the dry run");
            return false;
        }
    };
    let Some(listing) = found.listing_for(spec.method.as_str(), spec.url.path()) else {
        return false;
    };
    if listing.price_msat == 0 {
        return false;
    }
    let amount = l402_core::Msat(listing.price_msat);
    let scope = client
        .target_of(spec.url.as_str())
        .map(|t| t.scope)
        .unwrap_or_default();
    let service = listing.service.clone().unwrap_or_default();
    if json {
        println!(
            "{}",
            serde_json::json!({"dry_run": true, "payment_required": true, "source": "manifest",
                "manifest_url": found.manifest_url, "service": service,
                "price_sat": amount.to_sat_ceil(), "price_msat": amount.0, "scope": scope,
                "capabilities_required": listing.capabilities_required,
                "token_lifetime_secs": listing.token_lifetime_secs})
        );
    } else {
        println!(
            "payment required: {amount} for {scope} (service {service}, from the seller's manifest; dry run: nothing paid)"
        );
    }
    true
}

fn report_payment(paid: &PaidResponse, verbose: u8, json: bool) {
    if json {
        return;
    }
    if let Some(r) = &paid.payment {
        eprintln!(
            "* paid {} (fee {}) for {}, payment hash {}",
            r.amount, r.fee, r.scope, r.payment_hash
        );
    } else if paid.reused_token && verbose > 0 {
        eprintln!("* reused a cached token: nothing paid");
    }
    if verbose > 0 {
        eprintln!("< {:?} {}", paid.response.version(), paid.response.status());
        for (name, value) in paid.response.headers() {
            eprintln!("< {}: {}", name, value.to_str().unwrap_or("<binary>"));
        }
    }
}

fn head_text(response: &reqwest::Response) -> String {
    let mut text = format!("{:?} {}\r\n", response.version(), response.status());
    for (name, value) in response.headers() {
        text.push_str(&format!(
            "{}: {}\r\n",
            name,
            value.to_str().unwrap_or("<binary>")
        ));
    }
    text.push_str("\r\n");
    text
}

/// Ends the fetch's `Payment` session unless `--keep-session`: closes it (the refund is the
/// seller's to pay). A close that fails leaves the session open (it is reported, and the
/// fetch still succeeds: its answer is here).
async fn finish_session(
    client: &L402Client,
    session: Option<&SessionUse>,
    keep: bool,
) -> Option<Result<ClosedSession, ClientError>> {
    let session = session.filter(|_| !keep)?;
    Some(client.close_session(&session.session_id).await)
}

/// The `session` member of `--json`: what the fetch did with a `Payment` session.
fn session_json(
    session: &SessionUse,
    closed: Option<&Result<ClosedSession, ClientError>>,
) -> serde_json::Value {
    let mut out = serde_json::json!({
        "id": session.session_id.to_hex(),
        "scope": session.scope,
        "opened": session.opened,
        "topped_up": session.topped_up,
        "deposit_msat": session.deposit.0,
        // After this request's reservation, as the seller reported it (`L402-Session`).
        "balance_msat": session.balance.map(|b| b.0),
        "reserved_msat": session.reserved.map(|r| r.0),
        "closed": matches!(closed, Some(Ok(_))),
    });
    match closed {
        Some(Ok(c)) => {
            out["deposit_msat"] = c.deposit.0.into();
            out["deposits"] = c.deposits.into();
            out["spent_msat"] = c.spent().map(|s| s.0).into();
            out["refund_msat"] = c.refund.map(|r| r.0).into();
            out["refund_status"] = c.refund_status.clone().into();
            out["refund_received_msat"] = c.refund_received.map(|r| r.0).into();
        }
        Some(Err(e)) => out["close_error"] = e.to_string().into(),
        None => {}
    }
    out
}

/// Says on stderr how the session ended (without `--json`).
fn report_session(closed: Option<&Result<ClosedSession, ClientError>>) {
    match closed {
        Some(Ok(c)) => eprintln!(
            "* session {} closed: deposited {}, spent {}, refund {} ({})",
            c.session_id,
            c.deposit,
            c.spent().map_or("unknown".into(), |s| s.to_string()),
            c.refund.map_or("none".into(), |r| r.to_string()),
            c.refund_status.as_deref().unwrap_or("unknown"),
        ),
        Some(Err(e)) => eprintln!("* the session could not be closed (it stays open): {e}"),
        None => {}
    }
}

async fn output(args: FetchArgs, paid: PaidResponse, client: &L402Client) -> anyhow::Result<()> {
    let PaidResponse {
        mut response,
        payment,
        reused_token,
        token_status,
        payment_receipt,
        session,
    } = paid;
    if args.client.json {
        let status = response.status().as_u16();
        let headers: serde_json::Map<String, serde_json::Value> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    serde_json::Value::String(v.to_str().unwrap_or("").to_owned()),
                )
            })
            .collect();
        let mut out = serde_json::json!({
            "url": args.url,
            "status": status,
            "headers": headers,
            "reused_token": reused_token,
            // What the server said about the token sent (its `L402-Token` header).
            "token": token_status.map(|s| serde_json::json!({
                "expires_at": s.expires_at, "ttl_secs": s.ttl_secs, "balance_msat": s.balance_msat,
            })),
            "paid": payment.as_ref().map(|r| serde_json::json!({
                "amount_sat": r.amount.to_sat_ceil(), "amount_msat": r.amount.0, "fee_msat": r.fee.0,
                "payment_hash": r.payment_hash.to_hex(), "scope": r.scope,
                // `l402`: a token was bought; `mpp`: a `Payment` charge (one request) or a
                // session's deposit (see `session`).
                "scheme": if r.token_id.is_some() { "l402" } else { "mpp" },
            })),
            // The server's `Payment-Receipt`, after a `Payment` charge.
            "payment_receipt": payment_receipt.map(|r| serde_json::to_value(r).unwrap_or_default()),
        });
        if let Some(path) = &args.output {
            let bytes = download(&mut response, path).await?;
            out["output_file"] = path.display().to_string().into();
            out["bytes"] = bytes.into();
        } else {
            let body = collect(&mut response).await?;
            match String::from_utf8(body) {
                Ok(text) => out["body"] = text.into(),
                Err(e) => {
                    out["body_base64"] = base64::engine::general_purpose::STANDARD
                        .encode(e.into_bytes())
                        .into()
                }
            }
        }
        if let Some(used) = &session {
            let closed = finish_session(client, Some(used), args.keep_session).await;
            out["session"] = session_json(used, closed.as_ref());
        }
        println!("{out}");
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    if args.include {
        stdout.write_all(head_text(&response).as_bytes())?;
    }
    match &args.output {
        Some(path) => {
            drop(stdout);
            download(&mut response, path).await?;
        }
        None => {
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| client_error(ClientError::Http(e)))?
            {
                stdout.write_all(&chunk)?;
            }
            stdout.flush()?;
        }
    }
    let closed = finish_session(client, session.as_ref(), args.keep_session).await;
    report_session(closed.as_ref());
    Ok(())
}

async fn collect(response: &mut reqwest::Response) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| client_error(ClientError::Http(e)))?
    {
        if body.len() + chunk.len() > MAX_INLINE_BODY {
            return Err(exit::with_code(
                exit::BAD_INPUT,
                "the body is larger than 16 MiB: use -o FILE",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Streams the body into `path`, with a progress bar when stderr is a terminal.
async fn download(response: &mut reqwest::Response, path: &PathBuf) -> anyhow::Result<u64> {
    let mut file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = match response.content_length() {
            Some(len) => indicatif::ProgressBar::new(len),
            None => indicatif::ProgressBar::new_spinner(),
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };
    let mut written = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| client_error(ClientError::Http(e)))?
    {
        file.write_all(&chunk)
            .with_context(|| format!("writing {}", path.display()))?;
        written += chunk.len() as u64;
        if let Some(bar) = &bar {
            bar.set_position(written);
        }
    }
    file.sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(written)
}
