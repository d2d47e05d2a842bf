//! Prometheus metrics for the seller, served on the admin listener's `/metrics`
//! (see [`crate::admin`]).
//!
//! Labels are bounded by the configuration, never by traffic: `service` is a `[[services]]`
//! name, `route` a `[[services.routes]]` rule as written (`GET /api/weather`, or `*` when no
//! route matched), `outcome` one of the paywall's [`Outcome`]s, `class` a status class
//! (`2xx`…), `operation` a backend call. No token id, payment hash, client address or request
//! path is ever a label.
//!
//! Counting is a few relaxed atomic adds on slots resolved when the seller starts (and again
//! at each reload: a service's and a route's counters carry over a reload by name, so
//! counters never go backwards); the only lock is on the table of invoices waiting to settle
//! (challenge and settlement paths only).
//!
//! | family | kind | labels |
//! |---|---|---|
//! | `l402_requests_total` | counter | service, route, outcome |
//! | `l402_responses_total` | counter | service, route, class |
//! | `l402_request_duration_seconds` | histogram | service |
//! | `l402_paywall_decision_seconds` | histogram | |
//! | `l402_challenges_total` | counter | service |
//! | `l402_invoices_settled_total` | counter | service |
//! | `l402_revenue_msat_total` | counter | service |
//! | `l402_settlements_untracked_total` | counter | |
//! | `l402_backend_up` | gauge | backend |
//! | `l402_backend_request_duration_seconds` | histogram | operation |
//! | `l402_backend_errors_total` | counter | operation |
//! | `l402_verified_cache_hits_total`, `…_misses_total` | counter | |
//! | `l402_verify_failures_total` | counter | |
//! | `l402_store_write_duration_seconds` | histogram | |
//! | `l402_store_errors_total` | counter | |
//! | `l402_build_info` | gauge | version |
//! | `process_start_time_seconds` | gauge | |

mod backend;
mod encode;
mod histogram;
mod layer;
mod settlements;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use l402_core::{Msat, PaymentHash};
use l402_tower::{Outcome, Paywall};

pub use backend::MeteredBackend;
pub use encode::CONTENT_TYPE;
pub use layer::{MetricsLayer, MetricsService};

use crate::config::SellerConfig;
use encode::{Encoder, Kind};
use histogram::Histogram;
use settlements::Pending;

/// The status classes counted, `1xx` to `5xx`.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The label of requests of a service that matched none of its routes.
pub const NO_ROUTE: &str = "*";

/// Counters of one route (or of a service's requests that matched no route).
#[derive(Debug)]
struct RouteSlot {
    label: String,
    outcomes: [AtomicU64; Outcome::ALL.len()],
    classes: [AtomicU64; CLASSES.len()],
}

impl RouteSlot {
    fn new(label: String) -> Self {
        Self {
            label,
            outcomes: Default::default(),
            classes: Default::default(),
        }
    }
}

/// Picks one of a service's counters.
type ServiceCounter = fn(&ServiceSlot) -> &AtomicU64;

/// Everything counted per service, whatever its routes are.
#[derive(Debug)]
struct ServiceSlot {
    name: String,
    duration: Histogram,
    challenges: AtomicU64,
    settled: AtomicU64,
    revenue_msat: AtomicU64,
}

impl ServiceSlot {
    fn new(name: String) -> Self {
        Self {
            name,
            duration: Histogram::default(),
            challenges: AtomicU64::new(0),
            settled: AtomicU64::new(0),
            revenue_msat: AtomicU64::new(0),
        }
    }
}

/// A service of the configuration in force: its counters and its routes'.
#[derive(Debug)]
struct ServiceEntry {
    slot: Arc<ServiceSlot>,
    /// One per `[[services.routes]]` rule, then the no-route slot.
    routes: Vec<Arc<RouteSlot>>,
}

/// The slots of one configuration, indexed as its routing table is (service index, route
/// index): the request layer built for that configuration counts into it.
#[derive(Debug)]
pub struct SlotTable {
    services: Vec<ServiceEntry>,
}

/// The label of a route rule: its methods (or `*`) and its path pattern.
fn route_label(route: &l402_server::config::RouteConfig) -> String {
    let methods = if route.methods.is_empty() {
        "*".to_owned()
    } else {
        route.methods.join(",")
    };
    format!("{methods} {}", route.path)
}

impl SlotTable {
    /// Slots for every service and route of `config`, taking over `previous`'s slots of the
    /// same service name and route label.
    fn build(config: &SellerConfig, previous: Option<&SlotTable>) -> Self {
        let services = config
            .proxy
            .services
            .iter()
            .map(|service| {
                let old = previous.and_then(|t| t.entry(&service.name));
                let labels = service
                    .routes
                    .iter()
                    .map(route_label)
                    .chain([NO_ROUTE.to_owned()]);
                let routes = labels
                    .map(|label| {
                        old.and_then(|e| e.routes.iter().find(|r| r.label == label))
                            .cloned()
                            .unwrap_or_else(|| Arc::new(RouteSlot::new(label)))
                    })
                    .collect();
                let slot = old.map_or_else(
                    || Arc::new(ServiceSlot::new(service.name.clone())),
                    |e| e.slot.clone(),
                );
                ServiceEntry { slot, routes }
            })
            .collect();
        Self { services }
    }

    fn entry(&self, name: &str) -> Option<&ServiceEntry> {
        self.services.iter().find(|e| e.slot.name == name)
    }

    fn route(&self, service: usize, route: Option<usize>) -> Option<(&ServiceSlot, &RouteSlot)> {
        let entry = self.services.get(service)?;
        let last = entry.routes.len() - 1;
        let route = route.filter(|&r| r < last).unwrap_or(last);
        Some((&entry.slot, &entry.routes[route]))
    }

    /// Counts one answered request of `service`'s `route` (`None`: no route matched).
    pub(crate) fn request(
        &self,
        service: usize,
        route: Option<usize>,
        outcome: Outcome,
        status: u16,
        took: Duration,
    ) {
        let Some((slot, route)) = self.route(service, route) else {
            return;
        };
        route.outcomes[outcome.index()].fetch_add(1, Ordering::Relaxed);
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        route.classes[class].fetch_add(1, Ordering::Relaxed);
        slot.duration.observe(took);
    }
}

/// Backend calls timed by [`MeteredBackend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    CreateInvoice,
    NodeInfo,
    InvoiceState,
    SubscribeSettlements,
}

impl Operation {
    const ALL: [Operation; 4] = [
        Operation::CreateInvoice,
        Operation::NodeInfo,
        Operation::InvoiceState,
        Operation::SubscribeSettlements,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Operation::CreateInvoice => "create_invoice",
            Operation::NodeInfo => "node_info",
            Operation::InvoiceState => "invoice_state",
            Operation::SubscribeSettlements => "subscribe_settlements",
        }
    }
}

#[derive(Debug, Default)]
struct BackendSlot {
    duration: Histogram,
    errors: AtomicU64,
}

/// The seller's metrics: built from the configuration at start, shared by the request layer,
/// the challenge observer, the settlement watcher, the recorder and the backend wrapper, and
/// rendered by [`SellerMetrics::render`].
#[derive(Debug)]
pub struct SellerMetrics {
    /// The slots of the configuration in force (replaced by [`SellerMetrics::reconfigure`]).
    table: RwLock<Arc<SlotTable>>,
    decision: Histogram,
    backend_name: String,
    backend: [BackendSlot; Operation::ALL.len()],
    /// 1 after the last backend call succeeded, 0 after it failed; starts at 1 (the seller
    /// starts only once the backend answered).
    backend_up: AtomicU64,
    pending: Pending<Arc<ServiceSlot>>,
    untracked: AtomicU64,
    store_write: Histogram,
    store_errors: AtomicU64,
    /// Weak: the paywall's challenge observer holds the recorder's queue, whose writer holds
    /// these metrics; a strong reference would keep the queue open forever.
    /// Replaced at each reload (the new paywall shares the old one's counters).
    paywall: RwLock<Weak<Paywall>>,
    started_unix: u64,
}

impl SellerMetrics {
    /// Slots for every service and route of `config`; `backend` names the backend kind.
    pub fn new(config: &SellerConfig, backend: &str) -> Self {
        Self {
            table: RwLock::new(Arc::new(SlotTable::build(config, None))),
            decision: Histogram::default(),
            backend_name: backend.to_owned(),
            backend: Default::default(),
            backend_up: AtomicU64::new(1),
            pending: Pending::default(),
            untracked: AtomicU64::new(0),
            store_write: Histogram::default(),
            store_errors: AtomicU64::new(0),
            paywall: RwLock::new(Weak::new()),
            started_unix: l402_core::env::now_unix(),
        }
    }

    /// Reads `paywall`'s own counters (verified cache, failed verifications) at each render.
    pub fn read_paywall(&self, paywall: &Arc<Paywall>) {
        *self.paywall.write().unwrap_or_else(PoisonError::into_inner) = Arc::downgrade(paywall);
    }

    /// The slots of the configuration in force.
    pub fn table(&self) -> Arc<SlotTable> {
        Arc::clone(&self.table.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Takes `config`'s services and routes from now on (a reload): counters of a service or
    /// route that stays carry over; a removed one is no longer exported.
    pub fn reconfigure(&self, config: &SellerConfig) {
        let next = Arc::new(SlotTable::build(config, Some(&self.table())));
        *self.table.write().unwrap_or_else(PoisonError::into_inner) = next;
    }

    /// Records how long a paywall decision took.
    pub(crate) fn decision(&self, took: Duration) {
        self.decision.observe(took);
    }

    /// A challenge was minted for `service`: its invoice is remembered until it settles or
    /// expires, so the settlement can be credited to the service.
    pub(crate) fn challenge(&self, service: &str, hash: PaymentHash, expires_at: u64) {
        let Some(slot) = self.table().entry(service).map(|e| e.slot.clone()) else {
            return;
        };
        slot.challenges.fetch_add(1, Ordering::Relaxed);
        self.pending
            .insert(hash, slot, expires_at, l402_core::env::now_unix());
    }

    /// An invoice settled: credited to the service whose challenge it paid, if this process
    /// minted it; anything else on the node is counted as untracked.
    pub(crate) fn settled(&self, hash: &PaymentHash, received: Msat) {
        match self.pending.take(hash) {
            Some(slot) => {
                slot.settled.fetch_add(1, Ordering::Relaxed);
                slot.revenue_msat.fetch_add(received.0, Ordering::Relaxed);
            }
            None => {
                self.untracked.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records one backend call.
    pub(crate) fn backend_call(&self, operation: Operation, took: Duration, ok: bool) {
        let slot = &self.backend[operation as usize];
        slot.duration.observe(took);
        if !ok {
            slot.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.backend_up.store(u64::from(ok), Ordering::Relaxed);
    }

    /// Records one store write (a recorder batch).
    pub(crate) fn store_write(&self, took: Duration, ok: bool) {
        self.store_write.observe(took);
        if !ok {
            self.store_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Requests since start per service and route, by outcome, as JSON (the admin API's
    /// stats): `[{"service", "route", "outcomes": {"paid": n, ...}}]`, routes with no request
    /// left out.
    pub fn requests_json(&self) -> serde_json::Value {
        let mut rows = Vec::new();
        for e in &self.table().services {
            let s = &e.slot;
            for r in &e.routes {
                let counts: Vec<u64> = r
                    .outcomes
                    .iter()
                    .map(|c| c.load(Ordering::Relaxed))
                    .collect();
                if counts.iter().all(|&n| n == 0) {
                    continue;
                }
                let outcomes: serde_json::Map<String, serde_json::Value> = Outcome::ALL
                    .iter()
                    .zip(counts)
                    .map(|(o, n)| (o.as_str().to_owned(), n.into()))
                    .collect();
                rows.push(serde_json::json!({
                    "service": s.name, "route": r.label, "outcomes": outcomes,
                }));
            }
        }
        serde_json::Value::Array(rows)
    }

    /// The metrics in the Prometheus text format ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut e = Encoder::default();
        self.render_requests(&mut e);
        self.render_money(&mut e);
        self.render_backend(&mut e);
        self.render_internals(&mut e);
        e.finish()
    }

    fn render_requests(&self, e: &mut Encoder) {
        let name = "l402_requests_total";
        e.family(
            name,
            Kind::Counter,
            "Requests to priced services, by the paywall's outcome.",
        );
        let table = self.table();
        for entry in &table.services {
            let s = &entry.slot;
            for r in &entry.routes {
                for outcome in Outcome::ALL {
                    let labels = [
                        ("service", s.name.as_str()),
                        ("route", r.label.as_str()),
                        ("outcome", outcome.as_str()),
                    ];
                    e.sample(
                        name,
                        &labels,
                        r.outcomes[outcome.index()].load(Ordering::Relaxed),
                    );
                }
            }
        }
        let name = "l402_responses_total";
        e.family(name, Kind::Counter, "Responses sent, by status class.");
        for entry in &table.services {
            let s = &entry.slot;
            for r in &entry.routes {
                for (i, class) in CLASSES.iter().enumerate() {
                    let labels = [
                        ("service", s.name.as_str()),
                        ("route", r.label.as_str()),
                        ("class", class),
                    ];
                    e.sample(name, &labels, r.classes[i].load(Ordering::Relaxed));
                }
            }
        }
        let name = "l402_request_duration_seconds";
        e.family(
            name,
            Kind::Histogram,
            "Time from a request's arrival to its response headers, upstream included.",
        );
        for entry in &table.services {
            let s = &entry.slot;
            e.histogram(
                name,
                &[("service", s.name.as_str())],
                &s.duration.snapshot(),
            );
        }
        let name = "l402_paywall_decision_seconds";
        e.family(
            name,
            Kind::Histogram,
            "Time the paywall spends deciding in memory (verification, freebies, rate limit).",
        );
        e.histogram(name, &[], &self.decision.snapshot());
    }

    fn render_money(&self, e: &mut Encoder) {
        let families: [(&str, &str, ServiceCounter); 3] = [
            (
                "l402_challenges_total",
                "Challenges (invoices and tokens) minted.",
                |s| &s.challenges,
            ),
            (
                "l402_invoices_settled_total",
                "Invoices minted by this process that settled.",
                |s| &s.settled,
            ),
            (
                "l402_revenue_msat_total",
                "Millisatoshis received for invoices minted by this process.",
                |s| &s.revenue_msat,
            ),
        ];
        let table = self.table();
        for (name, help, field) in families {
            e.family(name, Kind::Counter, help);
            for s in table.services.iter().map(|entry| &entry.slot) {
                e.sample(
                    name,
                    &[("service", s.name.as_str())],
                    field(s).load(Ordering::Relaxed),
                );
            }
        }
        let name = "l402_settlements_untracked_total";
        e.family(
            name,
            Kind::Counter,
            "Settlements of invoices this process did not mint (another instance, another app, or minted before a restart).",
        );
        e.sample(name, &[], self.untracked.load(Ordering::Relaxed));
        let name = "l402_invoices_pending";
        e.family(
            name,
            Kind::Gauge,
            "Invoices minted by this process, waiting to settle or expire.",
        );
        e.sample(name, &[], self.pending.len() as u64);
    }

    fn render_backend(&self, e: &mut Encoder) {
        let name = "l402_backend_up";
        e.family(
            name,
            Kind::Gauge,
            "1 if the last call to the Lightning backend succeeded.",
        );
        e.sample(
            name,
            &[("backend", self.backend_name.as_str())],
            self.backend_up.load(Ordering::Relaxed),
        );
        let name = "l402_backend_request_duration_seconds";
        e.family(
            name,
            Kind::Histogram,
            "Duration of calls to the Lightning backend.",
        );
        for op in Operation::ALL {
            let slot = &self.backend[op as usize];
            e.histogram(
                name,
                &[("operation", op.as_str())],
                &slot.duration.snapshot(),
            );
        }
        let name = "l402_backend_errors_total";
        e.family(
            name,
            Kind::Counter,
            "Calls to the Lightning backend that failed.",
        );
        for op in Operation::ALL {
            let slot = &self.backend[op as usize];
            e.sample(
                name,
                &[("operation", op.as_str())],
                slot.errors.load(Ordering::Relaxed),
            );
        }
    }

    fn render_internals(&self, e: &mut Encoder) {
        let stats = self
            .paywall
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .upgrade()
            .map(|p| p.stats())
            .unwrap_or_default();
        let counters = [
            (
                "l402_verified_cache_hits_total",
                "Credentials found in the verified cache (no cryptography done).",
                stats.verified_cache_hits,
            ),
            (
                "l402_verified_cache_misses_total",
                "Credentials verified in full.",
                stats.verified_cache_misses,
            ),
            (
                "l402_verify_failures_total",
                "Credentials refused (malformed, forged, expired, revoked, or not for the route).",
                stats.verify_failures,
            ),
            (
                "l402_store_errors_total",
                "Store writes (challenge and settlement batches) that failed.",
                self.store_errors.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            e.family(name, Kind::Counter, help);
            e.sample(name, &[], value);
        }
        let name = "l402_store_write_duration_seconds";
        e.family(
            name,
            Kind::Histogram,
            "Duration of one batch written to the store.",
        );
        e.histogram(name, &[], &self.store_write.snapshot());
        let name = "l402_build_info";
        e.family(name, Kind::Gauge, "The running version.");
        e.sample(name, &[("version", env!("CARGO_PKG_VERSION"))], 1);
        let name = "process_start_time_seconds";
        e.family(
            name,
            Kind::Gauge,
            "Start time of the process since the Unix epoch, in seconds.",
        );
        e.sample(name, &[], self.started_unix);
    }
}

/// Shared handle.
pub type SharedMetrics = Arc<SellerMetrics>;
