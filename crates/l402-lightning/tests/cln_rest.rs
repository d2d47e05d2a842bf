//! [`ClnRest`] against a stand-in for CLNRest whose every request and answer goes through CLN's
//! published JSON schemas, as compiled into `cln-rpc` 0.7.0's `model` module:
//!
//! * each request body is parsed as the method's `model::requests::*Request` and written back;
//!   a field the schema does not know (dropped by the round trip), a missing required field or a
//!   wrongly typed value is recorded as a violation and answered with `-32602`, and every test
//!   ends by asserting there were none;
//! * each answer is a `model::responses::*` value serialized by serde, so optional fields are
//!   absent where CLN leaves them out; amounts are then written as integers, as lightningd does
//!   since v23.05 (one run keeps `cln-rpc`'s `"<n>msat"` strings instead);
//! * CLNRest's envelope is modelled on `plugins/rest-plugin`: `POST /v1/<method>`, the `Rune`
//!   header, 201 with the result, 401/403 for rune errors (codes 1501/1502), 404 with -32601 for
//!   an unknown method, 500 with `{code, message, data}` for every other error; HTTPS with a
//!   server certificate made like CLN's (`certs.rs`: a private "cln Root REST CA" signing a
//!   server certificate for `cln rest server`, `cln`, `localhost`).
//!
//! Two mock nodes share one ledger: an invoice made on one settles (with a real preimage) when
//! the other pays it, at a routing fee of 1 sat. No lightningd runs here; see
//! docs/backends/cln.md for what that leaves unproven.

#![cfg(all(feature = "cln", feature = "dev"))]

use l402_testkit::serve::accept_each;
use std::collections::HashMap;
use std::convert::Infallible;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use bytes::Bytes;
use cln_rpc::RpcError;
use cln_rpc::model::requests as rq;
use cln_rpc::model::responses as rs;
use cln_rpc::primitives::{Amount, AmountOrAny, Secret, Sha256};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use l402_lightning::cln::{ClnConfig, ClnRest, PinnedCa, Rune};
use l402_lightning::{
    BackendError, CreateInvoice, InvoiceState, LightningBackend, Msat, Network, PayOptions,
    PaymentHash, PaymentState, conformance,
};
use lightning_invoice::{Bolt11Invoice, Currency, InvoiceBuilder, PaymentSecret};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The routing fee of every payment in the mock network.
const FEE_MSAT: u64 = 1_000;
/// What each mock node can send through its one channel before any payment.
const CHANNEL_MSAT: u64 = 500_000_000;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---------------------------------------------------------------------------------------------
// The mock network: invoices, payments and the schema checks.
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct Inv {
    owner: usize,
    label: String,
    description: String,
    bolt11: String,
    hash: [u8; 32],
    preimage: [u8; 32],
    /// 0 for an amountless invoice (`any`).
    amount_msat: u64,
    /// What its payment delivered (once paid).
    received_msat: u64,
    created_index: u64,
    expires_at: u64,
    paid: Option<(u64, u64)>, // (pay_index, paid_at)
}

#[derive(Clone, Copy, PartialEq)]
enum PayStatus {
    Complete,
    Pending,
    Failed,
}

#[derive(Clone)]
struct PayRec {
    payer: usize,
    id: u64,
    hash: [u8; 32],
    bolt11: String,
    preimage: Option<[u8; 32]>,
    amount_msat: u64,
    sent_msat: u64,
    created_at: u64,
    status: PayStatus,
    destination: PublicKey,
}

#[derive(Default)]
struct Ledger {
    invoices: Vec<Inv>,
    pays: Vec<PayRec>,
    created_index: u64,
    pay_index: HashMap<usize, u64>,
    sendpay_id: u64,
}

#[derive(Default)]
struct Net {
    ledger: Mutex<Ledger>,
    /// Woken on every settlement (waitanyinvoice waiters re-check).
    paid: tokio::sync::Notify,
    /// Requests that the schema did not accept as sent.
    violations: Mutex<Vec<String>>,
}

impl Net {
    fn assert_no_violations(&self) {
        let v = self.violations.lock().unwrap();
        assert!(v.is_empty(), "requests the schema refused: {v:#?}");
    }
}

type RpcResult = Result<Value, (u16, RpcError)>;

fn rpc_err(code: i64, message: impl Into<String>, data: Option<Value>) -> RpcError {
    RpcError {
        code: Some(code as i32),
        message: message.into(),
        data,
    }
}

/// Parses `params` as the schema's request type and requires the round trip to give `params`
/// back: no unknown field, no missing required field, every value of the schema's type.
fn schema_parse<T: DeserializeOwned + Serialize>(
    violations: &Mutex<Vec<String>>,
    method: &str,
    params: &Value,
) -> Result<T, (u16, RpcError)> {
    let fail = |detail: String| {
        violations.lock().unwrap().push(detail.clone());
        (500, rpc_err(-32602, detail, None))
    };
    let parsed: T = serde_json::from_value(params.clone()).map_err(|e| {
        fail(format!(
            "{method}: {params} does not parse as the schema's request: {e}"
        ))
    })?;
    let back = serde_json::to_value(&parsed).unwrap();
    if &back != params {
        return Err(fail(format!(
            "{method}: sent {params}, the schema's request type keeps {back}"
        )));
    }
    Ok(parsed)
}

/// `"123msat"` → `123` in every `*_msat` field, as lightningd writes amounts.
fn integer_amounts(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k.ends_with("_msat")
                    && let Some(n) = val
                        .as_str()
                        .and_then(|s| s.strip_suffix("msat"))
                        .and_then(|n| n.parse::<u64>().ok())
                {
                    *val = json!(n);
                } else {
                    integer_amounts(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integer_amounts),
        _ => {}
    }
}

fn sha(bytes: [u8; 32]) -> Sha256 {
    Sha256::from_byte_array(bytes)
}

fn secret(bytes: [u8; 32]) -> Secret {
    Secret::try_from(bytes.to_vec()).unwrap()
}

/// An injected error: the next `times` calls of a method answer it.
struct Fault {
    http: u16,
    error: RpcError,
    times: usize,
}

#[derive(Clone, Copy, Default)]
struct NodeOpts {
    /// Keep `cln-rpc`'s `"<n>msat"` strings (pre-v23.05 lightningd) instead of integers.
    amounts_as_strings: bool,
    /// The pay plugin is disabled: `listpays` is an unknown method.
    no_listpays: bool,
    /// Serve plain HTTP (`clnrest-protocol=http`).
    plain_http: bool,
}

struct Node {
    id: usize,
    key: SecretKey,
    pubkey: PublicKey,
    rune: String,
    /// A second rune that only allows these methods (like `createrune restrictions=...`).
    restricted_rune: String,
    restricted_methods: &'static [&'static str],
    opts: NodeOpts,
    net: Arc<Net>,
    faults: Mutex<HashMap<String, Fault>>,
    calls: Mutex<Vec<String>>,
    /// Makes every waiting `waitanyinvoice` fail (lightningd went away).
    kick: tokio::sync::Notify,
}

fn respond(status: u16, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

impl Node {
    fn fault(&self, method: &str, http: u16, error: RpcError, times: usize) {
        self.faults
            .lock()
            .unwrap()
            .insert(method.to_owned(), Fault { http, error, times });
    }

    fn take_fault(&self, method: &str) -> Option<(u16, RpcError)> {
        let mut faults = self.faults.lock().unwrap();
        let f = faults.get_mut(method)?;
        f.times -= 1;
        let out = (f.http, f.error.clone());
        if f.times == 0 {
            faults.remove(method);
        }
        Some(out)
    }

    fn called(&self, method: &str) -> bool {
        self.calls.lock().unwrap().iter().any(|m| m == method)
    }

    fn answer<T: Serialize>(&self, value: T) -> RpcResult {
        let mut v = serde_json::to_value(value).unwrap();
        if !self.opts.amounts_as_strings {
            integer_amounts(&mut v);
        }
        Ok(v)
    }

    fn parse<T: DeserializeOwned + Serialize>(
        &self,
        method: &str,
        params: &Value,
    ) -> Result<T, (u16, RpcError)> {
        schema_parse(&self.net.violations, method, params)
    }

    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let path = req.uri().path().to_owned();
        let is_post = req.method() == Method::POST;
        let rune = req
            .headers()
            .get("rune")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let Some(method) = path.strip_prefix("/v1/").filter(|m| !m.contains('/')) else {
            return Ok(respond(
                404,
                &json!({"code": -32601, "message": "Path not registered", "data": null}),
            ));
        };
        if !is_post {
            self.net
                .violations
                .lock()
                .unwrap()
                .push(format!("{method}: not a POST"));
        }
        if content_type.as_deref() != Some("application/json") {
            self.net
                .violations
                .lock()
                .unwrap()
                .push(format!("{method}: content-type {content_type:?}"));
        }
        let allowed = match rune.as_deref() {
            None => {
                return Ok(respond(
                    403,
                    &json!({"code": 1501, "message": "Not authorized: Missing rune", "data": null}),
                ));
            }
            Some(r) if r == self.rune => true,
            Some(r) if r == self.restricted_rune => self.restricted_methods.contains(&method),
            Some(_) => {
                return Ok(respond(
                    401,
                    &json!({"code": 1501, "message": "Not authorized: Not derived from master", "data": null}),
                ));
            }
        };
        if !allowed {
            return Ok(respond(
                401,
                &json!({"code": 1502, "message": format!(
                    "Not permitted: method is not equal to {}", self.restricted_methods[0]),
                    "data": null}),
            ));
        }
        self.calls.lock().unwrap().push(method.to_owned());
        let params: Value = match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                self.net
                    .violations
                    .lock()
                    .unwrap()
                    .push(format!("{method}: body is not a JSON object"));
                json!({})
            }
        };
        let result = match self.take_fault(method) {
            Some(f) => Err(f),
            None => self.dispatch(method, &params).await,
        };
        Ok(match result {
            Ok(v) => respond(201, &v),
            Err((status, e)) => respond(status, &serde_json::to_value(e).unwrap()),
        })
    }

    async fn dispatch(&self, method: &str, params: &Value) -> RpcResult {
        match method {
            "getinfo" => self.getinfo(params),
            "invoice" => self.invoice(params),
            "listinvoices" => self.listinvoices(params),
            "waitanyinvoice" => self.waitanyinvoice(params).await,
            "pay" => self.pay(params),
            "listpays" if !self.opts.no_listpays => self.listpays(params),
            "listsendpays" => self.listsendpays(params),
            "listpeerchannels" => self.listpeerchannels(params),
            other => Err((
                404,
                rpc_err(-32601, format!("Unknown command '{other}'"), None),
            )),
        }
    }

    fn getinfo(&self, params: &Value) -> RpcResult {
        let _: rq::GetinfoRequest = self.parse("getinfo", params)?;
        self.answer(rs::GetinfoResponse {
            lightning_dir: "/home/cln/.lightning/regtest".into(),
            our_features: None,
            warning_bitcoind_sync: None,
            warning_lightningd_sync: None,
            binding: None,
            address: vec![],
            alias: format!("mock-cln-{}", self.id),
            blockheight: 500,
            color: "02aabb".into(),
            fees_collected_msat: Amount::from_msat(0),
            id: self.pubkey,
            network: "regtest".into(),
            num_active_channels: 1,
            num_inactive_channels: 0,
            num_peers: 1,
            num_pending_channels: 0,
            version: "v26.06-mock".into(),
        })
    }

    /// One open channel whose spendable amount moves with the ledger: less what this node
    /// sent (fees included), plus what its invoices received.
    fn listpeerchannels(&self, params: &Value) -> RpcResult {
        let _: rq::ListpeerchannelsRequest = self.parse("listpeerchannels", params)?;
        let ledger = self.net.ledger.lock().unwrap();
        let sent: u64 = ledger
            .pays
            .iter()
            .filter(|p| p.payer == self.id && p.status != PayStatus::Failed)
            .map(|p| p.sent_msat)
            .sum();
        let received: u64 = ledger
            .invoices
            .iter()
            .filter(|i| i.owner == self.id && i.paid.is_some())
            .map(|i| i.received_msat)
            .sum();
        let channel = json!({
            "peer_id": PublicKey::from_secret_key(&Secp256k1::new(), &SecretKey::from_slice(&[7; 32]).unwrap()).to_string(),
            "peer_connected": true,
            "opener": "local",
            "state": "CHANNELD_NORMAL",
            "features": [],
            "spendable_msat": CHANNEL_MSAT + received - sent,
        });
        let closing = json!({
            "peer_id": PublicKey::from_secret_key(&Secp256k1::new(), &SecretKey::from_slice(&[8; 32]).unwrap()).to_string(),
            "peer_connected": false,
            "opener": "local",
            "state": "ONCHAIN",
            "features": [],
            "spendable_msat": 0,
        });
        let r: rs::ListpeerchannelsResponse =
            serde_json::from_value(json!({ "channels": [channel, closing] })).unwrap();
        self.answer(r)
    }

    fn invoice(&self, params: &Value) -> RpcResult {
        let r: rq::InvoiceRequest = self.parse("invoice", params)?;
        let amount_msat = match r.amount_msat {
            AmountOrAny::Amount(amount) => amount.msat(),
            AmountOrAny::Any => 0,
        };
        let mut ledger = self.net.ledger.lock().unwrap();
        if ledger
            .invoices
            .iter()
            .any(|i| i.owner == self.id && i.label == r.label)
        {
            return Err((500, rpc_err(900, "Duplicate label", None)));
        }
        let preimage: [u8; 32] = rand::random();
        let hash = sha256::Hash::hash(&preimage).to_byte_array();
        let payment_secret: [u8; 32] = rand::random();
        let created = now();
        let expiry = r.expiry.unwrap_or(604_800);
        let mut builder = InvoiceBuilder::new(Currency::Regtest)
            .description(r.description.clone())
            .payment_hash(sha256::Hash::from_byte_array(hash))
            .payment_secret(PaymentSecret(payment_secret))
            .duration_since_epoch(Duration::from_secs(created))
            .min_final_cltv_expiry_delta(18)
            .expiry_time(Duration::from_secs(expiry));
        if amount_msat > 0 {
            builder = builder.amount_milli_satoshis(amount_msat);
        }
        let bolt11 = builder
            .build_signed(|msg| Secp256k1::new().sign_ecdsa_recoverable(msg, &self.key))
            .unwrap()
            .to_string();
        ledger.created_index += 1;
        let inv = Inv {
            owner: self.id,
            label: r.label,
            description: r.description,
            bolt11: bolt11.clone(),
            hash,
            preimage,
            amount_msat,
            received_msat: 0,
            created_index: ledger.created_index,
            expires_at: created + expiry,
            paid: None,
        };
        ledger.invoices.push(inv.clone());
        self.answer(rs::InvoiceResponse {
            warning_capacity: None,
            warning_deadends: None,
            warning_mpp: None,
            warning_offline: None,
            warning_private_unused: None,
            bolt11,
            created_index: inv.created_index,
            expires_at: inv.expires_at,
            payment_hash: sha(hash),
            payment_secret: secret(payment_secret),
        })
    }

    fn listinvoices(&self, params: &Value) -> RpcResult {
        let r: rq::ListinvoicesRequest = self.parse("listinvoices", params)?;
        let ledger = self.net.ledger.lock().unwrap();
        let invoices = ledger
            .invoices
            .iter()
            .filter(|i| i.owner == self.id)
            .filter(|i| {
                r.payment_hash
                    .as_deref()
                    .is_none_or(|h| h == hex::encode(i.hash))
            })
            .filter(|i| r.label.as_deref().is_none_or(|l| l == i.label))
            .map(|i| {
                let status = match i.paid {
                    Some(_) => rs::ListinvoicesInvoicesStatus::PAID,
                    None if now() >= i.expires_at => rs::ListinvoicesInvoicesStatus::EXPIRED,
                    None => rs::ListinvoicesInvoicesStatus::UNPAID,
                };
                rs::ListinvoicesInvoices {
                    amount_msat: (i.amount_msat > 0).then(|| Amount::from_msat(i.amount_msat)),
                    amount_received_msat: i.paid.map(|_| Amount::from_msat(i.received_msat)),
                    bolt11: Some(i.bolt11.clone()),
                    bolt12: None,
                    description: Some(i.description.clone()),
                    invreq_payer_note: None,
                    local_offer_id: None,
                    paid_at: i.paid.map(|p| p.1),
                    paid_outpoint: None,
                    pay_index: i.paid.map(|p| p.0),
                    payment_preimage: i.paid.map(|_| secret(i.preimage)),
                    updated_index: None,
                    status,
                    created_index: i.created_index,
                    expires_at: i.expires_at,
                    label: i.label.clone(),
                    payment_hash: sha(i.hash),
                }
            })
            .collect();
        self.answer(rs::ListinvoicesResponse { invoices })
    }

    fn next_paid_after(&self, last: u64) -> Option<Inv> {
        let ledger = self.net.ledger.lock().unwrap();
        ledger
            .invoices
            .iter()
            .filter(|i| i.owner == self.id && i.paid.is_some_and(|p| p.0 > last))
            .min_by_key(|i| i.paid.map(|p| p.0))
            .cloned()
    }

    async fn waitanyinvoice(&self, params: &Value) -> RpcResult {
        let r: rq::WaitanyinvoiceRequest = self.parse("waitanyinvoice", params)?;
        let last = r.lastpay_index.unwrap_or(0);
        let deadline = r
            .timeout
            .map(|t| tokio::time::Instant::now() + Duration::from_secs(t));
        let kicked = self.kick.notified();
        tokio::pin!(kicked);
        kicked.as_mut().enable();
        loop {
            let woken = self.net.paid.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(i) = self.next_paid_after(last) {
                let (pay_index, paid_at) = i.paid.unwrap();
                return self.answer(rs::WaitanyinvoiceResponse {
                    amount_msat: (i.amount_msat > 0).then(|| Amount::from_msat(i.amount_msat)),
                    amount_received_msat: Some(Amount::from_msat(i.received_msat)),
                    bolt11: Some(i.bolt11),
                    bolt12: None,
                    description: Some(i.description),
                    paid_at: Some(paid_at),
                    paid_outpoint: None,
                    pay_index: Some(pay_index),
                    payment_preimage: Some(secret(i.preimage)),
                    updated_index: None,
                    status: rs::WaitanyinvoiceStatus::PAID,
                    created_index: i.created_index,
                    expires_at: i.expires_at,
                    label: i.label,
                    payment_hash: sha(i.hash),
                });
            }
            let timed_out = || Err((500, rpc_err(904, "Timed out", None)));
            let lost = || {
                Err((
                    500,
                    RpcError {
                        code: None,
                        message: "Could not connect to lightning-rpc: Connection refused".into(),
                        data: None,
                    },
                ))
            };
            match deadline {
                Some(d) if tokio::time::Instant::now() >= d => return timed_out(),
                Some(d) => tokio::select! {
                    () = tokio::time::sleep_until(d) => return timed_out(),
                    () = &mut kicked => return lost(),
                    () = &mut woken => {}
                },
                None => tokio::select! {
                    () = &mut kicked => return lost(),
                    () = &mut woken => {}
                },
            }
        }
    }

    #[allow(deprecated)] // cln-rpc 0.7 marks `pay` deprecated (since CLN v26.06, served by xpay)
    fn pay(&self, params: &Value) -> RpcResult {
        let r: rq::PayRequest = self.parse("pay", params)?;
        let invoice = Bolt11Invoice::from_str(&r.bolt11)
            .map_err(|e| (500, rpc_err(-32602, format!("Invalid bolt11: {e}"), None)))?;
        let hash = invoice.payment_hash().to_byte_array();
        let mut ledger = self.net.ledger.lock().unwrap();
        // "Once a payment has succeeded, calls to pay with the same bolt11 will succeed
        // immediately" (lightning-pay.json).
        if let Some(done) = ledger
            .pays
            .iter()
            .find(|p| p.payer == self.id && p.hash == hash && p.status == PayStatus::Complete)
            .cloned()
        {
            drop(ledger);
            return self.pay_answer(&done);
        }
        let Some(pos) = ledger.invoices.iter().position(|i| i.hash == hash) else {
            return Err((
                500,
                rpc_err(
                    205,
                    "Ran out of routes to try after 1 attempt: see `paystatus`",
                    None,
                ),
            ));
        };
        let target = ledger.invoices[pos].clone();
        if target.paid.is_some() {
            return Err((
                500,
                rpc_err(
                    203,
                    "Destination said it doesn't know invoice: incorrect_or_unknown_payment_details",
                    Some(json!({"erring_index": 1, "failcode": 16399})),
                ),
            ));
        }
        // lightning-pay.json: `amount_msat` is required for an invoice without an amount and
        // must not be given for one with an amount.
        let paying = match (target.amount_msat, r.amount_msat.map(|a| a.msat())) {
            (0, Some(a)) => a,
            (0, None) => {
                return Err((500, rpc_err(-32602, "amount_msat parameter required", None)));
            }
            (_, Some(_)) => {
                return Err((
                    500,
                    rpc_err(-32602, "amount_msat parameter unnecessary", None),
                ));
            }
            (named, None) => named,
        };
        let t = now();
        if t >= target.expires_at {
            return Err((
                500,
                rpc_err(
                    207,
                    "Invoice expired",
                    Some(json!({"now": t, "expiry": target.expires_at})),
                ),
            ));
        }
        let maxfee = r.maxfee.map_or(5_000, |a| a.msat());
        if maxfee < FEE_MSAT {
            return Err((
                500,
                rpc_err(
                    206,
                    "Route wanted fee of 1000msat",
                    Some(
                        json!({"fee": FEE_MSAT, "feepercent": 100.0 * FEE_MSAT as f64
                        / paying as f64}),
                    ),
                ),
            ));
        }
        let index = ledger.pay_index.entry(target.owner).or_default();
        *index += 1;
        let pay_index = *index;
        ledger.invoices[pos].paid = Some((pay_index, t));
        ledger.invoices[pos].received_msat = paying;
        ledger.sendpay_id += 1;
        let destination = invoice.recover_payee_pub_key();
        let rec = PayRec {
            payer: self.id,
            id: ledger.sendpay_id,
            hash,
            bolt11: r.bolt11,
            preimage: Some(target.preimage),
            amount_msat: paying,
            sent_msat: paying + FEE_MSAT,
            created_at: t,
            status: PayStatus::Complete,
            destination,
        };
        ledger.pays.push(rec.clone());
        drop(ledger);
        self.net.paid.notify_waiters();
        self.pay_answer(&rec)
    }

    #[allow(deprecated)]
    fn pay_answer(&self, p: &PayRec) -> RpcResult {
        self.answer(rs::PayResponse {
            destination: Some(p.destination),
            warning_partial_completion: None,
            amount_msat: Amount::from_msat(p.amount_msat),
            amount_sent_msat: Amount::from_msat(p.sent_msat),
            created_at: p.created_at as f64 + 0.25,
            parts: 1,
            payment_hash: sha(p.hash),
            payment_preimage: secret(p.preimage.unwrap()),
            status: rs::PayStatus::COMPLETE,
        })
    }

    fn my_pays(&self, hash: Option<&Sha256>) -> Vec<PayRec> {
        let ledger = self.net.ledger.lock().unwrap();
        ledger
            .pays
            .iter()
            .filter(|p| p.payer == self.id && hash.is_none_or(|h| h.to_byte_array() == p.hash))
            .cloned()
            .collect()
    }

    fn listpays(&self, params: &Value) -> RpcResult {
        let r: rq::ListpaysRequest = self.parse("listpays", params)?;
        let pays = self
            .my_pays(r.payment_hash.as_ref())
            .into_iter()
            .map(|p| {
                let complete = p.status == PayStatus::Complete;
                rs::ListpaysPays {
                    amount_msat: complete.then(|| Amount::from_msat(p.amount_msat)),
                    amount_sent_msat: complete.then(|| Amount::from_msat(p.sent_msat)),
                    bolt11: Some(p.bolt11.clone()),
                    bolt12: None,
                    completed_at: complete.then_some(p.created_at),
                    created_index: Some(p.id),
                    description: None,
                    destination: Some(p.destination),
                    erroronion: None,
                    label: None,
                    number_of_parts: complete.then_some(1),
                    preimage: p.preimage.filter(|_| complete).map(secret),
                    updated_index: None,
                    status: match p.status {
                        PayStatus::Complete => rs::ListpaysPaysStatus::COMPLETE,
                        PayStatus::Pending => rs::ListpaysPaysStatus::PENDING,
                        PayStatus::Failed => rs::ListpaysPaysStatus::FAILED,
                    },
                    created_at: p.created_at,
                    payment_hash: sha(p.hash),
                }
            })
            .collect();
        self.answer(rs::ListpaysResponse { pays })
    }

    fn listsendpays(&self, params: &Value) -> RpcResult {
        let r: rq::ListsendpaysRequest = self.parse("listsendpays", params)?;
        let payments = self
            .my_pays(r.payment_hash.as_ref())
            .into_iter()
            .map(|p| {
                let complete = p.status == PayStatus::Complete;
                rs::ListsendpaysPayments {
                    amount_msat: Some(Amount::from_msat(p.amount_msat)),
                    bolt11: Some(p.bolt11.clone()),
                    bolt12: None,
                    completed_at: complete.then_some(p.created_at),
                    description: None,
                    destination: Some(p.destination),
                    erroronion: None,
                    label: None,
                    partid: None,
                    payment_preimage: p.preimage.filter(|_| complete).map(secret),
                    updated_index: None,
                    status: match p.status {
                        PayStatus::Complete => rs::ListsendpaysPaymentsStatus::COMPLETE,
                        PayStatus::Pending => rs::ListsendpaysPaymentsStatus::PENDING,
                        PayStatus::Failed => rs::ListsendpaysPaymentsStatus::FAILED,
                    },
                    amount_sent_msat: Amount::from_msat(p.sent_msat),
                    created_at: p.created_at,
                    created_index: p.id,
                    groupid: 1,
                    id: p.id,
                    payment_hash: sha(p.hash),
                }
            })
            .collect();
        self.answer(rs::ListsendpaysResponse { payments })
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates like CLN's and the servers.
// ---------------------------------------------------------------------------------------------

/// What `clnrest-certs` holds: `ca.pem` and a server certificate signed by it.
struct Certs {
    ca_pem: String,
    server_pem: String,
    server_der: CertificateDer<'static>,
    server_key: Vec<u8>,
}

/// Made as CLN's `plugins/rest-plugin/src/certs.rs` makes them; `ip` is the `clnrest-host`
/// SAN CLN adds when that is an IP (left out to prove names are not relied on).
fn cln_like_certs(ip: Option<&str>) -> Certs {
    let mut ca_params = rcgen::CertificateParams::new(vec![
        "cln Root REST CA".to_owned(),
        "cln".to_owned(),
        "localhost".to_owned(),
    ])
    .unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .key_usages
        .push(rcgen::KeyUsagePurpose::KeyCertSign);
    ca_params.use_authority_key_identifier_extension = true;
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let mut params = rcgen::CertificateParams::new(vec![
        "cln rest server".to_owned(),
        "cln".to_owned(),
        "localhost".to_owned(),
    ])
    .unwrap();
    params.is_ca = rcgen::IsCa::NoCa;
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
    ];
    params.use_authority_key_identifier_extension = true;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cln rest server");
    if let Some(ip) = ip {
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(ip.parse().unwrap()));
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    Certs {
        ca_pem: ca_cert.pem(),
        server_pem: cert.pem(),
        server_der: cert.der().clone(),
        server_key: key.serialize_der(),
    }
}

/// One mock node served on loopback.
struct MockNode {
    url: String,
    certs: Certs,
    node: Arc<Node>,
}

impl MockNode {
    fn client_with(&self, rune: &str, ca: Option<&str>) -> ClnRest {
        ClnRest::new(ClnConfig::new(
            &self.url,
            Rune::new(rune).unwrap(),
            ca.map(|pem| PinnedCa::from_bytes(pem.as_bytes()).unwrap()),
        ))
        .unwrap()
    }

    /// A client with the node's full rune, pinning its CA.
    fn client(&self) -> ClnRest {
        let ca = (!self.node.opts.plain_http).then_some(self.certs.ca_pem.as_str());
        self.client_with(&self.node.rune, ca)
    }
}

async fn start_node(net: &Arc<Net>, id: usize, opts: NodeOpts) -> MockNode {
    let certs = cln_like_certs(None);
    let key = SecretKey::from_slice(&rand::random::<[u8; 32]>()).unwrap();
    let node = Arc::new(Node {
        id,
        key,
        pubkey: PublicKey::from_secret_key(&Secp256k1::new(), &key),
        rune: format!("fullrune{id}-tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0w="),
        restricted_rune: format!("sellerrune{id}-aBcD_eFgH="),
        restricted_methods: &["getinfo", "invoice", "listinvoices"],
        opts,
        net: net.clone(),
        faults: Mutex::new(HashMap::new()),
        calls: Mutex::new(Vec::new()),
        kick: tokio::sync::Notify::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = (!opts.plain_http).then(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![certs.server_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certs.server_key.clone())),
            )
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    let served = node.clone();
    accept_each(listener, move |tcp| {
        let (acceptor, node) = (acceptor.clone(), served.clone());
        async move {
            let service = hyper::service::service_fn(move |req| node.clone().handle(req));
            let http = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(acceptor) => {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = http.serve_connection(TokioIo::new(tls), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                }
            }
        }
    });
    let scheme = if opts.plain_http { "http" } else { "https" };
    MockNode {
        url: format!("{scheme}://{addr}"),
        certs,
        node,
    }
}

/// A seller node and a payer node on one mock network.
async fn two_nodes(opts: NodeOpts) -> (Arc<Net>, MockNode, MockNode) {
    let net = Arc::new(Net::default());
    let seller = start_node(&net, 1, opts).await;
    let payer = start_node(&net, 2, opts).await;
    (net, seller, payer)
}

const PAY: PayOptions = PayOptions {
    max_fee: Msat::from_sat(10),
    timeout: Duration::from_secs(30),
};

async fn invoice(seller: &ClnRest, sat: u64) -> l402_lightning::CreatedInvoice {
    seller
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(sat),
            memo: "cln test".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------

async fn run_conformance(opts: NodeOpts) {
    let (net, seller_node, payer_node) = two_nodes(opts).await;
    let (seller, payer) = (seller_node.client(), payer_node.client());
    let results = conformance::run_all(
        &seller,
        &payer,
        Network::Regtest,
        conformance::Supports::ALL,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for (name, outcome) in &results {
        assert_eq!(*outcome, conformance::Outcome::Passed, "{name}");
    }
    assert_eq!(results.len(), 15);
    net.assert_no_violations();
    for m in ["getinfo", "invoice", "listinvoices", "waitanyinvoice"] {
        assert!(seller_node.node.called(m), "the seller never called {m}");
    }
    for m in ["getinfo", "pay", "listpays", "listpeerchannels"] {
        assert!(payer_node.node.called(m), "the payer never called {m}");
    }
    // The fee is what the node reports: amount_sent_msat - amount_msat.
    let created = invoice(&seller, 5).await;
    let paid = payer.pay_invoice(&created.bolt11, PAY).await.unwrap();
    assert_eq!((paid.amount, paid.fee), (Msat::from_sat(5), Msat(FEE_MSAT)));
    assert_eq!(
        seller.node_info().await.unwrap().alias,
        "mock-cln-1".to_owned()
    );
    net.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_against_the_schema_mock() {
    run_conformance(NodeOpts::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_msat_strings_as_cln_rpc_writes_them() {
    run_conformance(NodeOpts {
        amounts_as_strings: true,
        ..NodeOpts::default()
    })
    .await;
}

#[test]
#[allow(deprecated)] // cln-rpc 0.7 marks `pay` deprecated (since CLN v26.06, served by xpay)
fn the_schema_check_refuses_unknown_missing_and_mistyped_fields() {
    let v = Mutex::new(Vec::new());
    let ok = json!({"bolt11": "lnbcrt1x", "maxfee": "1000msat", "retry_for": 60});
    assert!(schema_parse::<rq::PayRequest>(&v, "pay", &ok).is_ok());
    let bad = [
        json!({"bolt11": "lnbcrt1x", "max_fee_msat": 1000}),
        json!({"maxfee": "1000msat"}),
        json!({"bolt11": "lnbcrt1x", "retry_for": 70000}),
        json!({"bolt11": "lnbcrt1x", "maxfee": true}),
    ];
    for b in &bad {
        assert!(schema_parse::<rq::PayRequest>(&v, "pay", b).is_err(), "{b}");
    }
    // The invoice amount must be a string (`"21000msat"` or `"any"`) for cln-rpc's type.
    let inv = json!({"amount_msat": 21000, "label": "l", "description": "d", "expiry": 60});
    assert!(schema_parse::<rq::InvoiceRequest>(&v, "invoice", &inv).is_err());
    assert_eq!(v.lock().unwrap().len(), bad.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_errors_from_the_schemas_map_to_typed_errors() {
    let (net, seller_node, payer_node) = two_nodes(NodeOpts::default()).await;
    let (seller, payer) = (seller_node.client(), payer_node.client());

    // Injected errors, with the codes of lightning-pay.json and xpay.json.
    let cases: Vec<(i64, &str, BackendError)> = vec![
        (
            201,
            "Already paid with this hash using different amount or destination",
            BackendError::AlreadyPaid,
        ),
        (
            219,
            "Already paid this invoice successfully",
            BackendError::AlreadyPaid,
        ),
        (
            205,
            "Ran out of routes to try after 3 attempts: see `paystatus`",
            BackendError::NoRoute,
        ),
        (
            210,
            "Payment timed out without a payment in progress",
            BackendError::NoRoute,
        ),
        (
            206,
            "Route wanted fee of 12000msat",
            BackendError::FeeTooHigh,
        ),
        (
            209,
            "Failed after 2 attempts. Could not find route without excessive cost",
            BackendError::FeeTooHigh,
        ),
        (
            -1,
            "We couldn't quite afford it (10000msat avail - 21000msat reserve)",
            BackendError::InsufficientBalance,
        ),
        (207, "Invoice expired", BackendError::InvoiceExpired),
        (
            -32602,
            "Invalid bolt11: Invoice is for another network",
            BackendError::InvalidInvoice("Invalid bolt11: Invoice is for another network".into()),
        ),
        (200, "Payment already in progress", BackendError::Timeout),
    ];
    for (code, message, want) in cases {
        let created = invoice(&seller, 3).await;
        payer_node
            .node
            .fault("pay", 500, rpc_err(code, message, Some(json!({}))), 1);
        let got = payer.pay_invoice(&created.bolt11, PAY).await.unwrap_err();
        assert_eq!(got, want, "{code} {message}");
    }
    // 203 (permanent failure at the destination) keeps CLN's code and message.
    let created = invoice(&seller, 3).await;
    payer_node.node.fault(
        "pay",
        500,
        rpc_err(
            203,
            "Destination said it doesn't know invoice: incorrect_or_unknown_payment_details",
            None,
        ),
        1,
    );
    match payer.pay_invoice(&created.bolt11, PAY).await.unwrap_err() {
        BackendError::Other(m) => assert!(m.contains("203") && m.contains("doesn't know"), "{m}"),
        other => panic!("{other:?}"),
    }

    // The mock's own behaviour: a fee cap below the route's fee is refused with 206…
    let created = invoice(&seller, 3).await;
    let tight = PayOptions {
        max_fee: Msat(FEE_MSAT - 1),
        ..PAY
    };
    assert_eq!(
        payer.pay_invoice(&created.bolt11, tight).await.unwrap_err(),
        BackendError::FeeTooHigh
    );
    // …an invoice the network does not know has no route (205)…
    let stranger = start_node(&Arc::new(Net::default()), 9, NodeOpts::default()).await;
    let foreign = invoice(&stranger.client(), 3).await;
    assert_eq!(
        payer.pay_invoice(&foreign.bolt11, PAY).await.unwrap_err(),
        BackendError::NoRoute
    );
    // …and an invoice another node already paid fails at the destination (203).
    let created = invoice(&seller, 3).await;
    seller.pay_invoice(&created.bolt11, PAY).await.unwrap();
    assert!(matches!(
        payer.pay_invoice(&created.bolt11, PAY).await.unwrap_err(),
        BackendError::Other(m) if m.contains("203")
    ));
    // Paying twice from the same node is caught before `pay` (which would answer the old
    // success again).
    let created = invoice(&seller, 3).await;
    payer.pay_invoice(&created.bolt11, PAY).await.unwrap();
    assert_eq!(
        payer.pay_invoice(&created.bolt11, PAY).await.unwrap_err(),
        BackendError::AlreadyPaid
    );
    net.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_states_from_listpays_and_listsendpays() {
    let (net, seller_node, payer_node) = two_nodes(NodeOpts::default()).await;
    let (seller, payer) = (seller_node.client(), payer_node.client());
    let unknown = PaymentHash([7; 32]);
    for (status, want) in [
        (PayStatus::Pending, PaymentState::InFlight),
        (PayStatus::Failed, PaymentState::Failed),
    ] {
        let hash = rand::random::<[u8; 32]>();
        net.ledger.lock().unwrap().pays.push(PayRec {
            payer: 2,
            id: 1000,
            hash,
            bolt11: "lnbcrt1pending".into(),
            preimage: None,
            amount_msat: 1000,
            sent_msat: 1001,
            created_at: now(),
            status,
            destination: seller_node.node.pubkey,
        });
        assert_eq!(payer.payment_state(&PaymentHash(hash)).await.unwrap(), want);
    }
    assert_eq!(
        payer.payment_state(&unknown).await.unwrap(),
        PaymentState::Unknown
    );

    // With the pay plugin disabled (`listpays` unknown: 404, -32601), the parts of
    // `listsendpays` give the same answers.
    let no_listpays = start_node(
        &net,
        3,
        NodeOpts {
            no_listpays: true,
            ..NodeOpts::default()
        },
    )
    .await;
    let payer3 = no_listpays.client();
    let created = invoice(&seller, 4).await;
    let paid = payer3.pay_invoice(&created.bolt11, PAY).await.unwrap();
    assert_eq!(
        payer3.payment_state(&created.payment_hash).await.unwrap(),
        PaymentState::Succeeded {
            preimage: paid.preimage,
            fee: Msat(FEE_MSAT)
        }
    );
    assert_eq!(
        payer3.payment_state(&unknown).await.unwrap(),
        PaymentState::Unknown
    );
    assert!(no_listpays.node.called("listsendpays"));
    net.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runes_methods_and_a_lightningd_that_went_away() {
    let (net, seller_node, payer_node) = two_nodes(NodeOpts::default()).await;
    let ca = Some(seller_node.certs.ca_pem.as_str());

    // A rune the node did not issue.
    let wrong = seller_node.client_with("bm90LW91ci1ydW5l", ca);
    assert_eq!(
        wrong.node_info().await.unwrap_err(),
        BackendError::Unauthorized
    );

    // A seller rune (getinfo, invoice, listinvoices): enough to sell, not to pay; without
    // waitanyinvoice the settlements are polled.
    let restricted = seller_node.client_with(&seller_node.node.restricted_rune, ca);
    let created = invoice(&restricted, 2).await;
    assert_eq!(
        restricted
            .invoice_state(&created.payment_hash)
            .await
            .unwrap(),
        InvoiceState::Open
    );
    assert!(restricted.subscribe_settlements().await.unwrap().is_none());
    let other = invoice(&payer_node.client(), 2).await;
    assert_eq!(
        restricted
            .pay_invoice(&other.bolt11, PAY)
            .await
            .unwrap_err(),
        BackendError::Unauthorized
    );

    // CLNRest is up but lightningd is not: transient, names the URL.
    seller_node.node.fault(
        "getinfo",
        500,
        RpcError {
            code: None,
            message: "Could not connect to lightning-rpc: Connection refused".into(),
            data: None,
        },
        1,
    );
    let client = seller_node.client();
    match client.node_info().await.unwrap_err() {
        e @ BackendError::Unreachable { .. } => {
            assert!(e.is_transient());
            let text = e.to_string();
            assert!(
                text.contains(&seller_node.url) && text.contains("lightningd"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    // An invoice error keeps CLN's code and message.
    seller_node
        .node
        .fault("invoice", 500, rpc_err(900, "Duplicate label", None), 1);
    match client
        .create_invoice(CreateInvoice {
            amount: Msat(1000),
            memo: "x".into(),
            expiry_secs: 60,
        })
        .await
        .unwrap_err()
    {
        BackendError::Other(m) => assert!(m.contains("900") && m.contains("Duplicate label")),
        other => panic!("{other:?}"),
    }
    // Runes never show in Debug output or errors.
    let rune = seller_node.node.rune.clone();
    let config = ClnConfig::new(&seller_node.url, Rune::new(rune.clone()).unwrap(), None);
    assert!(!format!("{config:?}").contains(&rune));
    assert!(!format!("{client:?}").contains(&rune));
    net.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_trusts_the_pinned_cln_ca_only() {
    let net = Arc::new(Net::default());
    let node = start_node(&net, 1, NodeOpts::default()).await;
    let rune = node.node.rune.clone();

    // The CA pins the node although its certificate names neither 127.0.0.1 nor anything the
    // client dialed; pinning server.pem itself works too.
    let by_ca = node.client_with(&rune, Some(&node.certs.ca_pem));
    assert_eq!(by_ca.node_info().await.unwrap().network, Network::Regtest);
    let by_leaf = node.client_with(&rune, Some(&node.certs.server_pem));
    assert!(by_leaf.node_info().await.is_ok());

    // Another node's CA, or no CA at all (web PKI), is refused with a hint.
    let other_ca = cln_like_certs(Some("127.0.0.1")).ca_pem;
    for (client, hint) in [
        (
            node.client_with(&rune, Some(&other_ca)),
            "not signed by the configured CA",
        ),
        (
            node.client_with(&rune, None),
            "set `ca_cert_path` to the node's ca.pem",
        ),
    ] {
        match client.node_info().await.unwrap_err() {
            BackendError::Unreachable {
                backend, detail, ..
            } => {
                assert_eq!(backend, "cln");
                assert!(detail.contains(hint), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }

    // clnrest-protocol=http: an http:// URL works; https:// to it explains.
    let plain = start_node(
        &net,
        2,
        NodeOpts {
            plain_http: true,
            ..NodeOpts::default()
        },
    )
    .await;
    assert!(plain.client().node_info().await.is_ok());
    let https_url = plain.url.replace("http://", "https://");
    let confused = ClnRest::new(ClnConfig::new(
        &https_url,
        Rune::new(plain.node.rune.clone()).unwrap(),
        Some(PinnedCa::from_bytes(node.certs.ca_pem.as_bytes()).unwrap()),
    ))
    .unwrap();
    match confused.node_info().await.unwrap_err() {
        BackendError::Unreachable { detail, .. } => {
            assert!(detail.contains("does not speak TLS"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    net.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_names_the_backend_url_and_what_to_check() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}");
    let client = ClnRest::new(ClnConfig::new(&url, Rune::new("abc").unwrap(), None)).unwrap();
    let started = Instant::now();
    let err = client.node_info().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.is_transient());
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cln is unreachable at {url}")) && text.contains("clnrest-port"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_stream_starts_at_the_newest_payment_and_resumes_after_errors() {
    let (net, seller_node, payer_node) = two_nodes(NodeOpts::default()).await;
    let (seller, payer) = (seller_node.client(), payer_node.client());
    // Five payments before subscribing: found by the pay_index search, never delivered.
    let mut old = Vec::new();
    for _ in 0..5 {
        let c = invoice(&seller, 1).await;
        payer.pay_invoice(&c.bolt11, PAY).await.unwrap();
        old.push(c.payment_hash);
    }
    let mut rx = seller.subscribe_settlements().await.unwrap().unwrap();
    // A second subscriber shares the same stream.
    let mut rx2 = seller.subscribe_settlements().await.unwrap().unwrap();

    // lightningd goes away: the waiting long poll fails, and so do the next two.
    tokio::time::sleep(Duration::from_millis(200)).await;
    seller_node.node.fault(
        "waitanyinvoice",
        500,
        RpcError {
            code: None,
            message: "Could not connect to lightning-rpc".into(),
            data: None,
        },
        2,
    );
    seller_node.node.kick.notify_waiters();
    // Paid during the outage: delivered once the stream resumes from its last pay_index.
    let during = invoice(&seller, 2).await;
    payer.pay_invoice(&during.bolt11, PAY).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no settlement after the outage")
        .unwrap();
    assert_eq!(first.payment_hash, during.payment_hash);
    assert_eq!(first.amount_received, Msat::from_sat(2));
    assert!(!old.contains(&first.payment_hash));

    let after = invoice(&seller, 3).await;
    payer.pay_invoice(&after.bolt11, PAY).await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.payment_hash, after.payment_hash);
    assert!(second.settled_at_unix.abs_diff(now()) <= 2);
    for want in [during.payment_hash, after.payment_hash] {
        let got = tokio::time::timeout(Duration::from_secs(5), rx2.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.payment_hash, want);
    }
    assert!(seller_node.node.faults.lock().unwrap().is_empty());
    net.assert_no_violations();
}
