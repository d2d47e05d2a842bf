//! A Nostr relay on loopback (`nostr-relay-builder`'s in-process relay, which uses its own
//! `nostr` 0.44 and talks to ours over WebSocket) and a NIP-47 wallet service over a dev
//! wallet: the NWC wallet for `l402-lightning`'s NWC tests and `l402-cli`'s end-to-end test.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use l402_lightning::dev::DevWallet;
use l402_lightning::nwc::{Encryption, NwcBackend};
use l402_lightning::{
    BackendError, CreateInvoice, InvoiceState, LightningBackend, Msat, PayOptions, PaymentHash,
    PaymentState,
};
use nostr::event::{Event, EventBuilder, FinalizeEvent, Kind, Tag};
use nostr::filter::Filter;
use nostr::key::{Keys, PublicKey};
use nostr::message::{ClientMessage, RelayMessage, SubscriptionId};
use nostr::nips::nip47::{
    ErrorCode, GetBalanceResponse, GetInfoResponse, LookupInvoiceResponse, MakeInvoiceResponse,
    Method, NIP47Error, NostrWalletConnectUri, Notification, NotificationResult, NotificationType,
    PayInvoiceResponse, PaymentNotification, Request, RequestParams, Response, ResponseResult,
    TransactionState, TransactionType,
};
use nostr::nips::{nip04, nip44};
use nostr::types::{RelayUrl, Timestamp};
use nostr_relay_builder::builder::RateLimit;
use nostr_relay_builder::{LocalRelay, RelayBuilder};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// An in-process relay on loopback with a rate limit no test reaches.
pub async fn relay() -> (LocalRelay, String) {
    let relay = LocalRelay::new(RelayBuilder::default().rate_limit(RateLimit {
        max_reqs: 500,
        notes_per_minute: 100_000,
    }));
    relay.run().await.unwrap();
    let url = relay.url().await.to_string();
    (relay, url.trim_end_matches('/').to_owned())
}

/// How the test wallet service behaves.
#[derive(Clone, Copy)]
pub struct Mode {
    /// Advertise `nip44_v2 nip04` (else nothing: NIP-04 only).
    pub nip44: bool,
    /// Answer in this scheme whatever the request used.
    pub reply_with: Option<Encryption>,
    /// Publish no info event (a legacy wallet).
    pub no_info: bool,
}

/// A NIP-04-only wallet.
pub const NIP04_WALLET: Mode = Mode {
    nip44: false,
    reply_with: None,
    no_info: false,
};
/// A wallet that advertises NIP-44 (and NIP-04).
pub const NIP44_WALLET: Mode = Mode {
    nip44: true,
    reply_with: None,
    no_info: false,
};

/// The payment a lookup by one connection sees.
#[derive(Clone)]
struct Created {
    owner: PublicKey,
    bolt11: String,
    amount: u64,
    created_at: u64,
    expires_at: u64,
}

/// What each connection can spend before it pays anything, unless set otherwise with
/// [`Service::starting_balance`]: 1,000,000 sat.
pub const STARTING_BALANCE_MSAT: u64 = 1_000_000_000;

/// A NIP-47 wallet service over a dev wallet: decrypts requests, calls the wallet, encrypts
/// responses, and notifies the connection that created an invoice when it is paid.
pub struct Service {
    keys: Keys,
    /// The dev wallet behind the service.
    pub wallet: Arc<DevWallet>,
    mode: Mode,
    clients: Mutex<HashSet<PublicKey>>,
    /// Never answers.
    pub silent: AtomicBool,
    /// Delays every answer.
    pub delay: Mutex<Duration>,
    /// A scripted error per method.
    pub script: Mutex<HashMap<String, NIP47Error>>,
    created: Mutex<HashMap<PaymentHash, Created>>,
    paid_by: Mutex<HashMap<PaymentHash, HashSet<PublicKey>>>,
    /// What each connection spent (amount and fee, msat).
    spent: Mutex<HashMap<PublicKey, u64>>,
    /// What each connection can spend before paying anything (msat; `get_balance` reports it
    /// less what the connection spent).
    pub starting_balance: std::sync::atomic::AtomicU64,
    /// Requests received.
    pub requests: AtomicUsize,
    /// The last request's `expiration` and scheme.
    pub last: Mutex<Option<(Option<Timestamp>, Encryption)>>,
    out: mpsc::UnboundedSender<Event>,
    _dir: crate::wallet::TestWallet,
}

impl Service {
    /// Starts a service on `relay_url` (connected and subscribed when this returns).
    pub async fn start(relay_url: &str, mode: Mode) -> Arc<Self> {
        let dir = crate::wallet::TestWallet::new();
        let wallet = dir.wallet.clone();
        let (out, out_rx) = mpsc::unbounded_channel();
        let service = Arc::new(Self {
            keys: Keys::generate(),
            wallet,
            mode,
            clients: Mutex::new(HashSet::new()),
            silent: AtomicBool::new(false),
            delay: Mutex::new(Duration::ZERO),
            script: Mutex::new(HashMap::new()),
            created: Mutex::new(HashMap::new()),
            paid_by: Mutex::new(HashMap::new()),
            spent: Mutex::new(HashMap::new()),
            starting_balance: std::sync::atomic::AtomicU64::new(STARTING_BALANCE_MSAT),
            requests: AtomicUsize::new(0),
            last: Mutex::new(None),
            out,
            _dir: dir,
        });
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(service.clone().run(relay_url.to_owned(), out_rx, ready_tx));
        ready_rx.await.unwrap();
        service
    }

    /// A new connection: its URI (with a fresh client secret), registered with the service.
    pub fn connect(&self, relay_url: &str) -> String {
        let client = Keys::generate();
        self.clients.lock().unwrap().insert(client.public_key());
        self.uri_for(&client, relay_url)
    }

    /// A URI for `client` (registered or not).
    pub fn uri_for(&self, client: &Keys, relay_url: &str) -> String {
        NostrWalletConnectUri::new(
            self.keys.public_key(),
            vec![RelayUrl::parse(relay_url).unwrap()],
            client.secret_key().clone(),
            None,
        )
        .to_string()
    }

    fn info_event(&self) -> Event {
        let mut tags = vec![Tag::parse(["notifications", "payment_received"]).unwrap()];
        if self.mode.nip44 {
            tags.push(Tag::parse(["encryption", "nip44_v2 nip04"]).unwrap());
        }
        EventBuilder::new(
            Kind::WalletConnectInfo,
            "get_info make_invoice pay_invoice lookup_invoice",
        )
        .tags(tags)
        .finalize(&self.keys)
        .unwrap()
    }

    async fn run(
        self: Arc<Self>,
        relay_url: String,
        mut out_rx: mpsc::UnboundedReceiver<Event>,
        ready: tokio::sync::oneshot::Sender<()>,
    ) {
        let (socket, _) = tokio_tungstenite::connect_async(relay_url.as_str())
            .await
            .unwrap();
        let (mut sink, mut stream) = socket.split();
        let text = |m: ClientMessage<'_>| Message::text(m.as_json());
        if !self.mode.no_info {
            sink.send(text(ClientMessage::event(self.info_event())))
                .await
                .unwrap();
        }
        let filter = Filter::new()
            .kind(Kind::WalletConnectRequest)
            .pubkey(self.keys.public_key());
        sink.send(text(ClientMessage::req(
            SubscriptionId::new("requests"),
            vec![filter],
        )))
        .await
        .unwrap();
        // Ready once the relay has stored the info event and registered the subscription.
        let (mut stored, mut subscribed) = (self.mode.no_info, false);
        while !(stored && subscribed) {
            let Some(Ok(Message::Text(t))) = stream.next().await else {
                panic!("the relay went away during the service's setup")
            };
            match RelayMessage::from_json(t.as_str()).unwrap() {
                RelayMessage::Ok { status, .. } => {
                    assert!(status, "the relay refused the info event");
                    stored = true;
                }
                RelayMessage::EndOfStoredEvents(_) => subscribed = true,
                _ => {}
            }
        }
        let _ = ready.send(());
        let writer = tokio::spawn(async move {
            while let Some(event) = out_rx.recv().await {
                if sink.send(text(ClientMessage::event(event))).await.is_err() {
                    return;
                }
            }
        });
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(t) = msg else { continue };
            if let Ok(RelayMessage::Event { event, .. }) = RelayMessage::from_json(t.as_str()) {
                let this = self.clone();
                let event = event.into_owned();
                tokio::spawn(async move { this.answer(event).await });
            }
        }
        writer.abort();
    }

    async fn answer(&self, request: Event) {
        request.verify().unwrap();
        self.requests.fetch_add(1, Ordering::SeqCst);
        let client = request.pubkey;
        let asked_nip44 = request
            .tags
            .iter()
            .any(|t| t.kind() == "encryption" && t.content() == Some("nip44_v2"));
        let asked = if asked_nip44 {
            Encryption::Nip44V2
        } else {
            Encryption::Nip04
        };
        *self.last.lock().unwrap() = Some((request.tags.expiration(), asked));
        if self.silent.load(Ordering::SeqCst) {
            return;
        }
        let delay = *self.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        let secret = self.keys.secret_key();
        let plain = match asked {
            Encryption::Nip04 => nip04::decrypt(secret, &client, &request.content).unwrap(),
            Encryption::Nip44V2 => nip44::decrypt(secret, &client, &request.content).unwrap(),
        };
        let req = Request::from_json(plain).unwrap();
        let response = if self.clients.lock().unwrap().contains(&client) {
            let scripted = self.script.lock().unwrap().remove(req.method.as_str());
            match scripted {
                Some(error) => Response {
                    result_type: req.method.clone(),
                    error: Some(error),
                    result: None,
                },
                None => self.dispatch(client, req).await,
            }
        } else {
            Response {
                result_type: req.method.clone(),
                error: Some(NIP47Error {
                    code: ErrorCode::Unauthorized,
                    message: "no wallet is connected to this key".into(),
                }),
                result: None,
            }
        };
        let reply = self.mode.reply_with.unwrap_or(asked);
        let json = response.as_json();
        let content = match reply {
            Encryption::Nip04 => nip04::encrypt(secret, &client, json).unwrap(),
            Encryption::Nip44V2 => {
                nip44::encrypt(secret, &client, json, nip44::Version::V2).unwrap()
            }
        };
        let event = EventBuilder::new(Kind::WalletConnectResponse, content)
            .tag(Tag::public_key(client))
            .tag(Tag::event(request.id))
            .finalize(&self.keys)
            .unwrap();
        let _ = self.out.send(event);
    }

    fn error(method: Method, code: ErrorCode, message: &str) -> Response {
        Response {
            result_type: method,
            error: Some(NIP47Error {
                code,
                message: message.into(),
            }),
            result: None,
        }
    }

    fn ok(method: Method, result: ResponseResult) -> Response {
        Response {
            result_type: method,
            error: None,
            result: Some(result),
        }
    }

    async fn dispatch(&self, client: PublicKey, req: Request) -> Response {
        let w = &self.wallet;
        match req.params {
            RequestParams::GetInfo => {
                let info = w.node_info().await.unwrap();
                Self::ok(
                    Method::GetInfo,
                    ResponseResult::GetInfo(GetInfoResponse {
                        alias: Some("dev wallet over nwc".into()),
                        color: None,
                        pubkey: Some(info.pubkey_hex),
                        network: Some("regtest".into()),
                        block_height: None,
                        block_hash: None,
                        methods: vec![
                            Method::GetInfo,
                            Method::MakeInvoice,
                            Method::PayInvoice,
                            Method::LookupInvoice,
                            Method::GetBalance,
                        ],
                        notifications: vec!["payment_received".into()],
                    }),
                )
            }
            RequestParams::MakeInvoice(p) => {
                let created = w
                    .create_invoice(CreateInvoice {
                        amount: Msat(p.amount),
                        memo: p.description.unwrap_or_default(),
                        expiry_secs: p.expiry.unwrap_or(3600),
                    })
                    .await
                    .unwrap();
                let entry = Created {
                    owner: client,
                    bolt11: created.bolt11.clone(),
                    amount: p.amount,
                    created_at: crate::now_unix(),
                    expires_at: created.expires_at_unix,
                };
                self.created
                    .lock()
                    .unwrap()
                    .insert(created.payment_hash, entry.clone());
                Self::ok(
                    Method::MakeInvoice,
                    ResponseResult::MakeInvoice(MakeInvoiceResponse {
                        invoice: created.bolt11,
                        payment_hash: Some(created.payment_hash.to_hex()),
                        description: None,
                        description_hash: None,
                        preimage: None,
                        amount: Some(p.amount),
                        created_at: Some(Timestamp::from_secs(entry.created_at)),
                        expires_at: Some(Timestamp::from_secs(entry.expires_at)),
                    }),
                )
            }
            RequestParams::PayInvoice(p) => {
                let opts = PayOptions {
                    max_fee: Msat::from_sat(1000),
                    timeout: Duration::from_secs(30),
                };
                // NIP-47's optional `amount` (msat) pays an amountless invoice.
                let paying = match p.amount {
                    Some(amount) => w.pay_amount(&p.invoice, Msat(amount), opts).await,
                    None => w.pay_invoice(&p.invoice, opts).await,
                };
                match paying {
                    Ok(paid) => {
                        *self.spent.lock().unwrap().entry(client).or_default() +=
                            paid.amount.0 + paid.fee.0;
                        self.paid_by
                            .lock()
                            .unwrap()
                            .entry(paid.payment_hash)
                            .or_default()
                            .insert(client);
                        self.notify(&paid.payment_hash, &paid.preimage.to_hex(), paid.amount.0);
                        Self::ok(
                            Method::PayInvoice,
                            ResponseResult::PayInvoice(PayInvoiceResponse {
                                preimage: paid.preimage.to_hex(),
                                fees_paid: Some(paid.fee.0),
                            }),
                        )
                    }
                    Err(e) => {
                        let (code, message) = match &e {
                            BackendError::AlreadyPaid => {
                                (ErrorCode::PaymentFailed, "invoice already paid".to_owned())
                            }
                            BackendError::InvoiceExpired => {
                                (ErrorCode::PaymentFailed, "invoice expired".to_owned())
                            }
                            BackendError::InsufficientBalance => {
                                (ErrorCode::InsufficientBalance, e.to_string())
                            }
                            BackendError::InvalidInvoice(m) => {
                                (ErrorCode::Other, format!("invalid invoice: {m}"))
                            }
                            other => (ErrorCode::Internal, other.to_string()),
                        };
                        Self::error(Method::PayInvoice, code, &message)
                    }
                }
            }
            RequestParams::GetBalance => {
                let spent = self.spent.lock().unwrap().get(&client).copied();
                Self::ok(
                    Method::GetBalance,
                    ResponseResult::GetBalance(GetBalanceResponse {
                        balance: self
                            .starting_balance
                            .load(Ordering::Relaxed)
                            .saturating_sub(spent.unwrap_or(0)),
                    }),
                )
            }
            RequestParams::LookupInvoice(p) => {
                let hash = PaymentHash::from_hex(&p.payment_hash.unwrap()).unwrap();
                self.lookup(client, hash).await
            }
            _ => Self::error(req.method, ErrorCode::NotImplemented, "not here"),
        }
    }

    /// Each connection sees its own invoices (incoming) and its own payments (outgoing).
    async fn lookup(&self, client: PublicKey, hash: PaymentHash) -> Response {
        let w = &self.wallet;
        let created = self.created.lock().unwrap().get(&hash).cloned();
        let record = |kind: TransactionType,
                      state: TransactionState,
                      preimage: Option<String>,
                      amount: u64,
                      fees: u64,
                      settled_at: Option<u64>| {
            let c = created.clone();
            LookupInvoiceResponse {
                transaction_type: Some(kind),
                state: Some(state),
                invoice: c.as_ref().map(|c| c.bolt11.clone()),
                description: None,
                description_hash: None,
                preimage,
                payment_hash: hash.to_hex(),
                amount,
                fees_paid: fees,
                created_at: Timestamp::from_secs(c.as_ref().map_or(0, |c| c.created_at)),
                expires_at: c.as_ref().map(|c| Timestamp::from_secs(c.expires_at)),
                settled_at: settled_at.map(Timestamp::from_secs),
                metadata: None,
            }
        };
        let tx = if let Some(c) = created.as_ref().filter(|c| c.owner == client) {
            let (state, settled_at) = match w.invoice_state(&hash).await.unwrap() {
                InvoiceState::Open => (TransactionState::Pending, None),
                InvoiceState::Settled {
                    settled_at_unix, ..
                } => (TransactionState::Settled, Some(settled_at_unix)),
                InvoiceState::Expired => (TransactionState::Expired, None),
                InvoiceState::Canceled => (TransactionState::Failed, None),
            };
            Some(record(
                TransactionType::Incoming,
                state,
                None,
                c.amount,
                0,
                settled_at,
            ))
        } else if self
            .paid_by
            .lock()
            .unwrap()
            .get(&hash)
            .is_some_and(|payers| payers.contains(&client))
        {
            match w.payment_state(&hash).await.unwrap() {
                PaymentState::Succeeded { preimage, fee } => Some(record(
                    TransactionType::Outgoing,
                    TransactionState::Settled,
                    Some(preimage.to_hex()),
                    created.as_ref().map_or(0, |c| c.amount),
                    fee.0,
                    Some(crate::now_unix()),
                )),
                PaymentState::InFlight => Some(record(
                    TransactionType::Outgoing,
                    TransactionState::Pending,
                    None,
                    0,
                    0,
                    None,
                )),
                PaymentState::Failed => Some(record(
                    TransactionType::Outgoing,
                    TransactionState::Failed,
                    None,
                    0,
                    0,
                    None,
                )),
                PaymentState::Unknown => None,
            }
        } else {
            None
        };
        match tx {
            Some(tx) => Self::ok(Method::LookupInvoice, ResponseResult::LookupInvoice(tx)),
            None => Self::error(
                Method::LookupInvoice,
                ErrorCode::NotFound,
                "invoice not found",
            ),
        }
    }

    /// `payment_received` to the invoice's creator: NIP-04 (kind 23196) always, and NIP-44
    /// (kind 23197) too when the wallet speaks it, as NIP-47 asks.
    fn notify(&self, hash: &PaymentHash, preimage: &str, amount: u64) {
        let Some(created) = self.created.lock().unwrap().get(hash).cloned() else {
            return;
        };
        let json = Notification {
            notification_type: NotificationType::PaymentReceived,
            notification: NotificationResult::PaymentReceived(PaymentNotification {
                transaction_type: Some(TransactionType::Incoming),
                state: Some(TransactionState::Settled),
                invoice: created.bolt11,
                description: None,
                description_hash: None,
                preimage: preimage.to_owned(),
                payment_hash: hash.to_hex(),
                amount,
                fees_paid: 0,
                created_at: Timestamp::from_secs(created.created_at),
                expires_at: Some(Timestamp::from_secs(created.expires_at)),
                settled_at: Timestamp::now(),
                metadata: None,
            }),
        }
        .as_json();
        let secret = self.keys.secret_key();
        let mut kinds = vec![(
            Kind::WalletConnectNotification,
            nip04::encrypt(secret, &created.owner, &json).unwrap(),
        )];
        if self.mode.nip44 {
            kinds.push((
                Kind::WalletConnectNotificationNip44V2,
                nip44::encrypt(secret, &created.owner, &json, nip44::Version::V2).unwrap(),
            ));
        }
        for (kind, content) in kinds {
            let event = EventBuilder::new(kind, content)
                .tag(Tag::public_key(created.owner))
                .finalize(&self.keys)
                .unwrap();
            let _ = self.out.send(event);
        }
    }
}

/// A relay, a wallet service in `mode`, and two connections to it.
pub struct World {
    _relay: LocalRelay,
    /// The relay's `ws://` URL.
    pub relay_url: String,
    /// The wallet service.
    pub service: Arc<Service>,
    /// One connection (the seller's).
    pub seller: NwcBackend,
    /// Another connection (the payer's).
    pub payer: NwcBackend,
}

/// Starts a relay, a wallet service in `mode` and two connections.
pub async fn world(mode: Mode) -> World {
    let (relay, relay_url) = relay().await;
    let service = Service::start(&relay_url, mode).await;
    let seller = NwcBackend::new(&service.connect(&relay_url)).unwrap();
    let payer = NwcBackend::new(&service.connect(&relay_url)).unwrap();
    World {
        _relay: relay,
        relay_url,
        service,
        seller,
        payer,
    }
}
