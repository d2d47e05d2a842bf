//! [`NwcBackend`] against a real Nostr relay on loopback (`nostr-relay-builder`'s in-process
//! relay, which uses its own `nostr` 0.44 and talks to ours over WebSocket) and a NIP-47 wallet
//! service written here on top of the dev wallet.
//!
//! - the shared conformance suite, seller and payer both `NwcBackend` (two connections, two
//!   client keys, one wallet service), with a NIP-04-only wallet and with a NIP-44 wallet;
//! - the wire: responses in the scheme the wallet chose, NIP-47 error codes as typed errors,
//!   unknown connections refused, requests carrying an `expiration`;
//! - time limits: a silent wallet gives `Timeout` within the bound, a dead relay `Unreachable`;
//! - reconnection: the link to the relay is cut (a TCP "cable" between backend and relay) and
//!   restored: calls waiting for the link, and read-only calls in flight, complete; settlements
//!   keep streaming;
//! - the whole L402 flow through the `l402 serve` binary with `[backend] kind = "nwc"` and the
//!   URI from an environment variable, paid by an `NwcBackend`, then by `l402 fetch` with an
//!   `nwc` wallet. These need the binary: `L402_BIN` or `target/debug/l402` (`cargo test
//!   --workspace` builds it; `scripts/tiers/nwc.sh` builds it and sets
//!   `L402_NWC_REQUIRE_BIN=1` so a missing binary fails instead of skipping).

#![cfg(all(feature = "nwc", feature = "dev", feature = "conformance"))]

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use l402_core::client::{Decision, PayPolicy, RequestFlow, ResponseView};
use l402_lightning::conformance::{self, Outcome};
use l402_lightning::dev::DevWallet;
use l402_lightning::nwc::{Encryption, NwcBackend, NwcConfigError};
use l402_lightning::{
    BackendError, CreateInvoice, InvoiceState, LightningBackend, Msat, Network, PayOptions,
    PaymentHash, PaymentState,
};
use nostr::event::{Event, EventBuilder, FinalizeEvent, Kind, Tag};
use nostr::filter::Filter;
use nostr::key::{Keys, PublicKey};
use nostr::message::{ClientMessage, RelayMessage, SubscriptionId};
use nostr::nips::nip47::{
    ErrorCode, GetInfoResponse, LookupInvoiceResponse, MakeInvoiceResponse, Method, NIP47Error,
    NostrWalletConnectUri, Notification, NotificationResult, NotificationType, PayInvoiceResponse,
    PaymentNotification, Request, RequestParams, Response, ResponseResult, TransactionState,
    TransactionType,
};
use nostr::nips::{nip04, nip44};
use nostr::types::{RelayUrl, Timestamp};
use nostr_relay_builder::builder::RateLimit;
use nostr_relay_builder::{LocalRelay, RelayBuilder};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const PAY: PayOptions = PayOptions {
    max_fee: Msat::from_sat(10),
    timeout: Duration::from_secs(10),
};

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---- the relay and the cable ----

/// An in-process relay on loopback with a rate limit no test reaches.
async fn relay() -> (LocalRelay, String) {
    let relay = LocalRelay::new(RelayBuilder::default().rate_limit(RateLimit {
        max_reqs: 500,
        notes_per_minute: 100_000,
    }));
    relay.run().await.unwrap();
    let url = relay.url().await.to_string();
    (relay, url.trim_end_matches('/').to_owned())
}

/// A TCP forwarder between clients and the relay that can be cut (listener closed, every
/// connection dropped) and restored on the same port.
struct Cable {
    port: u16,
    target: SocketAddr,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Cable {
    async fn start(relay_url: &str) -> Arc<Self> {
        let target: SocketAddr = relay_url.trim_start_matches("ws://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cable = Arc::new(Self {
            port,
            target,
            task: Mutex::new(None),
        });
        cable.serve(listener);
        cable
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let task = tokio::spawn(async move {
            // Connections live in this task's set: aborting the task drops them all.
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    async fn cut(&self) {
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

// ---- the wallet service ----

/// How the test wallet service behaves.
#[derive(Clone, Copy)]
struct Mode {
    /// Advertise `nip44_v2 nip04` (else nothing: NIP-04 only).
    nip44: bool,
    /// Answer in this scheme whatever the request used.
    reply_with: Option<Encryption>,
    /// Publish no info event (a legacy wallet).
    no_info: bool,
}

const NIP04_WALLET: Mode = Mode {
    nip44: false,
    reply_with: None,
    no_info: false,
};
const NIP44_WALLET: Mode = Mode {
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

/// A NIP-47 wallet service over a dev wallet: decrypts requests, calls the wallet, encrypts
/// responses, and notifies the connection that created an invoice when it is paid.
struct Service {
    keys: Keys,
    wallet: Arc<DevWallet>,
    mode: Mode,
    clients: Mutex<HashSet<PublicKey>>,
    /// Never answers.
    silent: AtomicBool,
    /// Delays every answer.
    delay: Mutex<Duration>,
    /// A scripted error per method.
    script: Mutex<HashMap<String, NIP47Error>>,
    created: Mutex<HashMap<PaymentHash, Created>>,
    paid_by: Mutex<HashMap<PaymentHash, HashSet<PublicKey>>>,
    /// Requests received, and the last one's `expiration` and scheme.
    requests: AtomicUsize,
    last: Mutex<Option<(Option<Timestamp>, Encryption)>>,
    out: mpsc::UnboundedSender<Event>,
    _dir: tempfile::TempDir,
}

impl Service {
    /// Starts a service on `relay_url` (connected and subscribed when this returns).
    async fn start(relay_url: &str, mode: Mode) -> Arc<Self> {
        let dir = tempfile::tempdir().unwrap();
        let wallet = Arc::new(DevWallet::open(dir.path(), Network::Regtest).unwrap());
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
    fn connect(&self, relay_url: &str) -> String {
        let client = Keys::generate();
        self.clients.lock().unwrap().insert(client.public_key());
        self.uri_for(&client, relay_url)
    }

    /// A URI for `client` (registered or not).
    fn uri_for(&self, client: &Keys, relay_url: &str) -> String {
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
                    created_at: now_unix(),
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
                match w.pay_invoice(&p.invoice, opts).await {
                    Ok(paid) => {
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
                    Some(now_unix()),
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
struct World {
    _relay: LocalRelay,
    relay_url: String,
    service: Arc<Service>,
    seller: NwcBackend,
    payer: NwcBackend,
}

async fn world(mode: Mode) -> World {
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

async fn run_conformance(mode: Mode, expected: Encryption) {
    let started = Instant::now();
    let w = world(mode).await;
    assert_eq!(w.seller.request_encryption().await.unwrap(), expected);
    assert_ne!(w.seller.client_pubkey_hex(), w.payer.client_pubkey_hex());
    let outcomes = conformance::run_all(&w.seller, &w.payer, Network::Regtest)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for (check, outcome) in &outcomes {
        assert_eq!(*outcome, Outcome::Passed, "{check}");
    }
    let (_, scheme) = w.service.last.lock().unwrap().unwrap();
    assert_eq!(scheme, expected, "the scheme requests were sent with");
    println!(
        "conformance over NWC ({expected}): {} checks passed in {:?}",
        outcomes.len(),
        started.elapsed()
    );
}

// ---- conformance ----

#[tokio::test]
async fn conformance_with_a_nip04_wallet() {
    run_conformance(NIP04_WALLET, Encryption::Nip04).await;
}

#[tokio::test]
async fn conformance_with_a_nip44_wallet() {
    run_conformance(NIP44_WALLET, Encryption::Nip44V2).await;
}

// ---- the wire ----

#[tokio::test]
async fn answers_in_the_other_scheme_are_read() {
    for (mode, sent) in [
        (
            Mode {
                reply_with: Some(Encryption::Nip44V2),
                ..NIP04_WALLET
            },
            Encryption::Nip04,
        ),
        (
            Mode {
                reply_with: Some(Encryption::Nip04),
                ..NIP44_WALLET
            },
            Encryption::Nip44V2,
        ),
    ] {
        let w = world(mode).await;
        let info = w.seller.node_info().await.unwrap();
        assert_eq!(info.network, Network::Regtest);
        assert_eq!(info.alias, "dev wallet over nwc");
        assert_eq!(info.pubkey_hex, w.service.wallet.pubkey_hex());
        assert_eq!(w.service.last.lock().unwrap().unwrap().1, sent);
    }
}

#[tokio::test]
async fn a_wallet_without_an_info_event_gets_nip04_and_no_stream() {
    let w = world(Mode {
        no_info: true,
        ..NIP44_WALLET
    })
    .await;
    assert_eq!(
        w.seller.request_encryption().await.unwrap(),
        Encryption::Nip04
    );
    assert!(w.seller.subscribe_settlements().await.unwrap().is_none());
    let invoice = w
        .seller
        .create_invoice(CreateInvoice {
            amount: Msat(1_500),
            memo: "legacy".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    w.payer.pay_invoice(&invoice.bolt11, PAY).await.unwrap();
    assert!(matches!(
        w.seller.invoice_state(&invoice.payment_hash).await,
        Ok(InvoiceState::Settled {
            amount_received: Msat(1_500),
            ..
        })
    ));
    assert_eq!(w.service.last.lock().unwrap().unwrap().1, Encryption::Nip04);
}

#[tokio::test]
async fn requests_expire_with_their_deadline() {
    let w = world(NIP44_WALLET).await;
    let before = now_unix();
    w.seller.node_info().await.unwrap();
    let (expiration, _) = w.service.last.lock().unwrap().unwrap();
    let expiration = expiration.expect("an expiration tag").as_secs();
    let timeout = l402_lightning::nwc::DEFAULT_REQUEST_TIMEOUT.as_secs();
    assert!(
        (before + timeout..=now_unix() + timeout + 2).contains(&expiration),
        "expiration {expiration}, sent at {before}"
    );
}

#[tokio::test]
async fn nip47_errors_are_typed() {
    let w = world(NIP44_WALLET).await;
    let stranger = NwcBackend::new(&w.service.uri_for(&Keys::generate(), &w.relay_url)).unwrap();
    assert_eq!(stranger.node_info().await, Err(BackendError::Unauthorized));

    let invoice = w
        .seller
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(3),
            memo: "errors".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    let cases = [
        (
            "pay_invoice",
            ErrorCode::QuotaExceeded,
            "budget exhausted",
            BackendError::InsufficientBalance,
        ),
        (
            "pay_invoice",
            ErrorCode::InsufficientBalance,
            "not enough sats",
            BackendError::InsufficientBalance,
        ),
        (
            "pay_invoice",
            ErrorCode::PaymentFailed,
            "no route found",
            BackendError::NoRoute,
        ),
        (
            "pay_invoice",
            ErrorCode::Restricted,
            "this connection may not pay",
            BackendError::Unauthorized,
        ),
    ];
    for (method, code, message, want) in cases {
        w.service.script.lock().unwrap().insert(
            method.into(),
            NIP47Error {
                code,
                message: message.into(),
            },
        );
        assert_eq!(
            w.payer.pay_invoice(&invoice.bolt11, PAY).await,
            Err(want),
            "{code:?}"
        );
    }
    w.service.script.lock().unwrap().insert(
        "make_invoice".into(),
        NIP47Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
        },
    );
    let limited = w
        .seller
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(1),
            memo: "m".into(),
            expiry_secs: 60,
        })
        .await
        .unwrap_err();
    assert!(limited.is_transient(), "{limited:?}");
    // After all that, the invoice is still payable.
    let paid = w.payer.pay_invoice(&invoice.bolt11, PAY).await.unwrap();
    assert!(paid.preimage.pays(&invoice.payment_hash));
}

#[test]
fn the_secret_never_shows() {
    let client = Keys::generate();
    let secret = client.secret_key().to_secret_hex();
    let wallet = Keys::generate().public_key();
    let uri = NostrWalletConnectUri::new(
        wallet,
        vec![RelayUrl::parse("wss://relay.example.com").unwrap()],
        client.secret_key().clone(),
        None,
    )
    .to_string();
    let backend = NwcBackend::new(&uri).unwrap();
    let dbg = format!("{backend:?}");
    assert!(!dbg.contains(&secret), "{dbg}");
    assert!(dbg.contains("wss://relay.example.com") && dbg.contains("<redacted>"));
    assert_eq!(backend.wallet_pubkey_hex(), wallet.to_hex());
    assert_eq!(backend.client_pubkey_hex(), client.public_key().to_hex());

    let bad = [
        uri.replace("nostr+walletconnect://", "https://"),
        uri.replace("relay=", "rela="),
        uri.replace(&secret, &secret[..60]),
        uri.replace("wss%3A%2F%2F", "http%3A%2F%2F"),
        format!("{}{}", &uri[..30], &uri[40..]),
    ];
    for b in bad {
        let err = NwcBackend::new(&b).unwrap_err();
        assert!(matches!(err, NwcConfigError::BadUri(_)), "{b}: {err:?}");
        assert!(!err.to_string().contains(&secret[..16]), "{err}");
    }
}

// ---- time limits ----

#[tokio::test]
async fn a_silent_wallet_times_out_within_the_bound() {
    let w = world(NIP04_WALLET).await;
    w.service.silent.store(true, Ordering::SeqCst);
    let seller = w
        .seller
        .clone()
        .with_request_timeout(Duration::from_millis(600));
    let started = Instant::now();
    assert_eq!(seller.node_info().await, Err(BackendError::Timeout));
    let took = started.elapsed();
    assert!(
        (Duration::from_millis(550)..Duration::from_millis(1500)).contains(&took),
        "{took:?}"
    );

    // A payment is bounded by its own timeout.
    let invoice = w
        .service
        .wallet
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(1),
            memo: "silent".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    let opts = PayOptions {
        timeout: Duration::from_millis(800),
        ..PAY
    };
    let started = Instant::now();
    assert_eq!(
        w.payer.pay_invoice(&invoice.bolt11, opts).await,
        Err(BackendError::Timeout)
    );
    assert!(started.elapsed() < Duration::from_millis(1800));
    assert!(w.service.requests.load(Ordering::SeqCst) >= 2);

    // Once the wallet talks again, the same backends work.
    w.service.silent.store(false, Ordering::SeqCst);
    assert!(seller.node_info().await.is_ok());
}

#[tokio::test]
async fn a_dead_relay_is_unreachable() {
    let port = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("ws://127.0.0.1:{port}");
    let service_keys = Keys::generate();
    let uri = NostrWalletConnectUri::new(
        service_keys.public_key(),
        vec![RelayUrl::parse(&dead).unwrap()],
        Keys::generate().secret_key().clone(),
        None,
    )
    .to_string();
    let backend = NwcBackend::new(&uri)
        .unwrap()
        .with_connect_timeout(Duration::from_millis(700));
    let started = Instant::now();
    let err = backend.node_info().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.is_transient(), "{err:?}");
    let BackendError::Unreachable {
        backend: name,
        address,
        detail,
        source: None,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((name.as_str(), address.as_str()), ("nwc", dead.as_str()));
    assert!(detail.contains("relay"), "{detail}");
}

#[tokio::test]
async fn wss_relays_are_verified_against_the_web_pki() {
    // A TLS server with a self-signed certificate: the handshake runs (rustls, ring provider)
    // and the certificate is refused.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = acceptor.accept(tcp).await;
        }
    });
    let relay = format!("wss://localhost:{port}");
    let uri = NostrWalletConnectUri::new(
        Keys::generate().public_key(),
        vec![RelayUrl::parse(&relay).unwrap()],
        Keys::generate().secret_key().clone(),
        None,
    )
    .to_string();
    let backend = NwcBackend::new(&uri)
        .unwrap()
        .with_connect_timeout(Duration::from_millis(1500));
    let err = backend.node_info().await.unwrap_err();
    let BackendError::Unreachable { detail, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        detail.to_ascii_lowercase().contains("certificate"),
        "{detail}"
    );
}

// ---- reconnection ----

#[tokio::test]
async fn the_backend_reconnects_when_the_relay_comes_back() {
    let (_relay, relay_url) = relay().await;
    let service = Service::start(&relay_url, NIP44_WALLET).await;
    let cable = Cable::start(&relay_url).await;
    let seller = NwcBackend::new(&service.connect(&cable.url()))
        .unwrap()
        .with_connect_timeout(Duration::from_secs(5));
    let payer = NwcBackend::new(&service.connect(&cable.url()))
        .unwrap()
        .with_connect_timeout(Duration::from_secs(5));
    seller.node_info().await.unwrap();
    payer.node_info().await.unwrap();
    let mut settlements = seller.subscribe_settlements().await.unwrap().unwrap();

    // 1. The relay goes away; a call made meanwhile completes once it is back.
    cable.cut().await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    let restore = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        cable.restore().await;
    };
    let (info, ()) = tokio::join!(seller.node_info(), restore);
    assert_eq!(info.unwrap().network, Network::Regtest);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // 2. A read-only call in flight when the link drops is asked again after the reconnection.
    *service.delay.lock().unwrap() = Duration::from_millis(600);
    let flap = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        cable.cut().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        cable.restore().await;
    };
    let before = service.requests.load(Ordering::SeqCst);
    let (info, ()) = tokio::join!(payer.node_info(), flap);
    assert!(info.is_ok(), "{info:?}");
    assert!(
        service.requests.load(Ordering::SeqCst) >= before + 2,
        "the request was sent again"
    );
    *service.delay.lock().unwrap() = Duration::ZERO;

    // 3. Invoices, payments and the settlement stream work on the new connections.
    let invoice = seller
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(4),
            memo: "after the reconnection".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    let paid = payer.pay_invoice(&invoice.bolt11, PAY).await.unwrap();
    assert!(paid.preimage.pays(&invoice.payment_hash));
    let settlement = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let s = settlements.recv().await.unwrap();
            if s.payment_hash == invoice.payment_hash {
                return s;
            }
        }
    })
    .await
    .expect("a settlement after the reconnection");
    assert_eq!(settlement.amount_received, Msat::from_sat(4));
    // Both notification kinds arrived; the stream carries the settlement once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(settlements.try_recv().is_err(), "a duplicate settlement");
    assert!(matches!(
        seller.invoice_state(&invoice.payment_hash).await,
        Ok(InvoiceState::Settled { .. })
    ));
}

// ---- the L402 flow through `l402 serve` ----

/// The `l402` binary, or `None` (after saying so) when it is not built.
fn l402_bin(test: &str) -> Option<PathBuf> {
    let bin = std::env::var_os("L402_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/l402")
        });
    if bin.exists() {
        return Some(bin);
    }
    assert!(
        std::env::var_os("L402_NWC_REQUIRE_BIN").is_none(),
        "no l402 binary at {}",
        bin.display()
    );
    println!(
        "{test}: skipped: no l402 binary at {} (cargo build -p l402-cli, or set L402_BIN)",
        bin.display()
    );
    None
}

/// A child process killed on drop.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn l402_flow_through_l402_serve_with_an_nwc_backend() {
    let Some(bin) = l402_bin("l402_flow_through_l402_serve_with_an_nwc_backend") else {
        return;
    };
    let started = Instant::now();
    let w = world(NIP44_WALLET).await;
    let dir = tempfile::tempdir().unwrap();
    let (sample, _sample_task) = l402_sample::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let port = free_port();
    let config = dir.path().join("l402.toml");
    std::fs::write(
        &config,
        format!(
            r#"data_dir = "{data}"

[listen]
addr = "127.0.0.1:{port}"

[backend]
kind = "nwc"

[backend.nwc]
uri = {{ env = "L402_TEST_NWC_URI" }}

[[services]]
name = "weather"
path_prefix = "/api/weather"
upstream = "http://{sample}"
price_sat = 2
token_lifetime_secs = 3600
memo = "l402 nwc test: weather"
"#,
            data = dir.path().join("data").display()
        ),
    )
    .unwrap();
    let seller_uri = w.service.connect(&w.relay_url);
    let log = dir.path().join("serve.log");
    let child = Command::new(&bin)
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("L402_CONFIG")
        .env_remove("L402_DATA_DIR")
        .env_remove("L402_LISTEN")
        .env("L402_TEST_NWC_URI", &seller_uri)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut serve = Proc { child, log };
    let base = format!("http://127.0.0.1:{port}");
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .build()
        .unwrap();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            break;
        }
        if let Ok(Some(status)) = serve.child.try_wait() {
            panic!("l402 serve exited ({status}):\n{}", serve.log());
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "l402 serve not ready:\n{}",
            serve.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secret = NostrWalletConnectUri::parse(&seller_uri)
        .unwrap()
        .secret
        .to_secret_hex();
    assert!(!serve.log().contains(&secret), "the URI's secret is logged");

    // 1. No credential: 402 with an invoice of the wallet behind the NWC connection.
    let url = format!("{base}/api/weather?city=Paris");
    let first = http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 402, "log:\n{}", serve.log());
    let challenges: Vec<String> = first
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let views: Vec<&str> = challenges.iter().map(String::as_str).collect();

    // 2. The client checks the invoice before paying, then the payer (another connection to
    //    the same wallet service) pays it over NWC.
    let mut flow = RequestFlow::new(
        PayPolicy {
            network: w.payer.node_info().await.unwrap().network,
            max_amount: Msat::from_sat(10),
            now_unix: now_unix(),
        },
        false,
    );
    let view = ResponseView {
        status: 402,
        www_authenticate: &views,
        grpc_status: None,
        grpc_message: None,
    };
    let Decision::Pay { plan, .. } = flow.on_response(&view) else {
        panic!("not a payable challenge: {challenges:?}")
    };
    assert_eq!(plan.amount, Msat::from_sat(2));
    assert_eq!(plan.invoice.payee_pubkey_hex, w.service.wallet.pubkey_hex());
    let paid = w
        .payer
        .pay_invoice(&plan.challenge.invoice, PAY)
        .await
        .unwrap();
    let token = flow.on_paid(paid.preimage).unwrap();

    // 3. Retried with the credential: 200 from the sample API.
    let [_, l402] = token.authorization_values();
    let ok = http
        .get(&url)
        .header("authorization", l402)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "log:\n{}", serve.log());
    assert!(ok.text().await.unwrap().contains("Paris"));

    // 4. `l402 fetch` with an nwc wallet (URI in the environment) pays by itself.
    let fetch_uri = w.service.connect(&w.relay_url);
    let out = tokio::task::spawn_blocking({
        let bin = bin.clone();
        let data = dir.path().join("buyer");
        let url = format!("{base}/api/weather?city=Oslo");
        let config_home = dir.path().join("config-home");
        move || {
            Command::new(bin)
                .args(["fetch", &url])
                .env_remove("L402_CONFIG")
                .env("L402_DATA_DIR", data)
                .env("L402_WALLET", "nwc")
                .env("L402_NWC_URI", fetch_uri)
                .env("XDG_CONFIG_HOME", &config_home)
                .env("NO_COLOR", "1")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("Oslo"),
        "l402 fetch: {}\nstdout: {stdout}\nstderr: {stderr}\nserve log:\n{}",
        out.status,
        serve.log()
    );
    println!("L402 flow over NWC passed in {:?}", started.elapsed());
}
