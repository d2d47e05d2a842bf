//! What the auto-paying client costs per request, against an in-process loopback server: an
//! axum app with a free route and the same handler behind `l402-tower`'s `L402Layer` (1 sat,
//! invoices from an embedded dev wallet that also pays them). Every case sends `GET` over the
//! same `reqwest` client (the `L402Client`'s own) and reads the whole body.
//!
//! * `a_free_reqwest`: plain GET of the free route (baseline: HTTP and the handler).
//! * `b_client_cached_token`: `L402Client::get` of the paid route with a held token (the
//!   client's overhead: token lookups in SQLite, the `Authorization` header).
//! * `c_reqwest_manual_auth`: plain GET of the paid route with the same `Authorization` header
//!   built by hand (the server's verify cost without the client's).
//! * `d_first_fetch_pays`: `L402Client::get` of the paid route with no token (removed before each
//!   iteration, untimed): 402, invoice checks, budget + journal, the dev wallet's payment, token
//!   and receipt stored, retry.
//! * `e_store_token_get`, `f_spawn_blocking_hop`, `g_held_token_lookup`: the parts of b's
//!   overhead: one SQLite token read; one round trip through tokio's blocking pool, which every
//!   store call makes; and the whole token lookup b does before sending
//!   (`L402Client::held_token`: the exact path's token, then the scope's, each one store call).
//! * `h_lookup_then_manual_auth`: `held_token`, then c's plain GET with the header built from
//!   it: b without the rest of `execute` (request spec, challenge check), to see whether the
//!   lookup accounts for b's overhead.
//!
//! * `interleaved`: b, c and a in alternation, round after round; prints the median of the
//!   rounds' ratios b/c and b/a (issue 12's client goal: b at most 1.1x a plain request), in
//!   wall time, and b/c and c/a (what the server's paywall adds) in the process's CPU time.
//!
//! Run: `cargo bench -p l402-client --bench client_overhead` (the interleaved ratios alone:
//! `-- interleaved`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use l402_client::{Budget, L402Client};
use l402_core::Msat;
use l402_core::invoice::Network;
use l402_core::keys::{KeyRing, MasterKey};
use l402_lightning::dev::DevWallet;
use l402_tower::{FixedPrice, L402Layer, Offer, OsRandom, Paywall, RevocationSet};
use reqwest::header::AUTHORIZATION;
use tokio::runtime::Runtime;

/// Short runs: the whole benchmark takes well under two minutes.
const MEASURE: Duration = Duration::from_secs(3);
const WARM_UP: Duration = Duration::from_secs(1);

async fn weather() -> &'static str {
    r#"{"city":"Paris","temperature_c":21.5,"conditions":"clear","wind_kmh":12}"#
}

/// The app: `/free/weather` free, `/paid/weather` 1 sat (tokens with a capability and a
/// lifetime, as `bench/proxy-load.sh` mints them).
fn app(paywall: Arc<Paywall>) -> Router {
    let mut offer = Offer::new("paid", Msat::from_sat(1));
    offer.grant_capabilities = vec!["read".into()];
    offer.token_lifetime_secs = Some(24 * 3600);
    let paid = Router::new()
        .route("/paid/weather", get(weather))
        .route_layer(L402Layer::new(paywall, FixedPrice(offer)));
    Router::new()
        .route("/free/weather", get(weather))
        .merge(paid)
}

struct Setup {
    rt: Runtime,
    client: L402Client,
    free: String,
    paid: String,
    scope: String,
    authorization: String,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wallet = Arc::new(DevWallet::open(dir.path().join("wallet"), Network::Regtest).unwrap());
    let keys = KeyRing::new(1, &MasterKey::generate(&mut OsRandom));
    let paywall = Arc::new(Paywall::new(keys, wallet.clone(), RevocationSet::default()));
    let base = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app(paywall)).await.unwrap() });
        format!("http://{addr}")
    });
    let client = L402Client::builder()
        .wallet(wallet)
        .store_path(dir.path().join("client.db"))
        .network(Network::Regtest)
        // No spending windows: case d pays once per iteration.
        .budget(Budget {
            hourly: None,
            daily: None,
            ..Budget::default()
        })
        .build()
        .unwrap();
    let (free, paid) = (
        format!("{base}/free/weather"),
        format!("{base}/paid/weather"),
    );
    let scope = client.target_of(&paid).unwrap().scope;
    rt.block_on(async {
        let first = client.get(&paid).await.unwrap();
        assert!(first.payment.is_some(), "the first request pays");
        assert_eq!(first.response.status(), 200);
        let free = client.http().get(&free).send().await.unwrap();
        assert_eq!(free.status(), 200);
    });
    let record = client.store().tokens().get(&scope).unwrap().unwrap();
    let authorization = l402_client::token::authorization_value(&record);
    Setup {
        rt,
        client,
        free,
        paid,
        scope,
        authorization,
        _dir: dir,
    }
}

/// The three cases compared request for request (criterion's a, b and c, and [`interleaved`]).
#[derive(Debug, Clone, Copy)]
enum Case {
    /// Plain GET of the free route.
    A,
    /// `L402Client::get` of the paid route with a held token.
    B,
    /// Plain GET of the paid route with the held token's header built by hand.
    C,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::A => "a_free_reqwest",
            Case::B => "b_client_cached_token",
            Case::C => "c_reqwest_manual_auth",
        }
    }
}

impl Setup {
    /// One request of `case` (checked: 200, b with its held token), its whole body read.
    async fn request(&self, case: Case, http: &reqwest::Client) -> bytes::Bytes {
        let response = match case {
            Case::A => http.get(&self.free).send().await.unwrap(),
            Case::B => {
                let r = self.client.get(&self.paid).await.unwrap();
                assert!(r.reused_token);
                r.response
            }
            Case::C => http
                .get(&self.paid)
                .header(AUTHORIZATION, &self.authorization)
                .send()
                .await
                .unwrap(),
        };
        assert_eq!(response.status(), 200);
        black_box(response.bytes().await.unwrap())
    }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let http = s.client.http().clone();
    let mut group = c.benchmark_group("client_overhead");
    group.measurement_time(MEASURE).warm_up_time(WARM_UP);

    for case in [Case::A, Case::B, Case::C] {
        group.bench_function(case.name(), |b| {
            b.iter(|| s.rt.block_on(s.request(case, &http)))
        });
    }

    let store = s.client.store().clone();
    group.bench_function("e_store_token_get", |b| {
        b.iter(|| black_box(store.tokens().get(&s.scope).unwrap()))
    });

    group.bench_function("f_spawn_blocking_hop", |b| {
        b.iter(|| {
            s.rt.block_on(async { tokio::task::spawn_blocking(|| black_box(1)).await.unwrap() })
        })
    });

    group.bench_function("g_held_token_lookup", |b| {
        b.iter(|| {
            s.rt.block_on(async { black_box(s.client.held_token(&s.paid).await.unwrap().unwrap()) })
        })
    });

    group.bench_function("h_lookup_then_manual_auth", |b| {
        b.iter(|| {
            s.rt.block_on(async {
                let held = s.client.held_token(&s.paid).await.unwrap().unwrap();
                let [_, l402] = held.token.authorization_values();
                let r = http
                    .get(&s.paid)
                    .header(AUTHORIZATION, l402)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                black_box(r.bytes().await.unwrap())
            })
        })
    });

    group.sample_size(20);
    group.bench_function("d_first_fetch_pays", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                s.rt.block_on(async {
                    s.client.remove_token(&s.scope).await.unwrap();
                    let start = Instant::now();
                    let r = s.client.get(&s.paid).await.unwrap();
                    assert!(r.payment.is_some());
                    assert_eq!(r.response.status(), 200);
                    black_box(r.response.bytes().await.unwrap());
                    total += start.elapsed();
                });
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: they take longer than the measurements on a small machine.
    config = Criterion::default().without_plots();
    targets = bench
}

/// Rounds of [`interleaved`], and requests per case in each round.
const ROUNDS: usize = 41;
const PER_ROUND: u32 = 300;

/// Cases b, c and a measured in alternation, round after round, and each round's ratios b/c
/// and b/a: a machine's noise moves all three of a round together, so the median of the
/// rounds' ratios is steadier than a ratio of two criterion runs made seconds apart. Printed
/// as `interleaved: b/c median … (quartiles …)`. `cargo bench` runs it after the criterion
/// cases (or alone: `cargo bench --bench client_overhead -- interleaved`); as a test, one
/// short round.
fn interleaved() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let filter = args.iter().find(|a| !a.starts_with('-'));
    if benching && filter.is_some_and(|f| !"interleaved".contains(f.as_str())) {
        return;
    }
    let (rounds, per_round) = if benching {
        (ROUNDS, PER_ROUND)
    } else {
        (1, 5)
    };
    let s = setup();
    let http = s.client.http().clone();
    // Wall time and the process's CPU time (client and server together) of one case's round.
    let time = |case: Case| {
        s.rt.block_on(async {
            let (start, cpu) = (Instant::now(), process_cpu_ns());
            for _ in 0..per_round {
                s.request(case, &http).await;
            }
            let spent = process_cpu_ns().saturating_sub(cpu) as f64;
            (start.elapsed().as_secs_f64(), spent.max(1.0))
        })
    };
    let (mut over_c, mut over_a) = (Vec::new(), Vec::new());
    let (mut cpu_over_c, mut cpu_c_over_a) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate the order, so neither case always runs first in a round.
        let (a, b, c) = if round % 2 == 0 {
            let a = time(Case::A);
            let b = time(Case::B);
            (a, b, time(Case::C))
        } else {
            let c = time(Case::C);
            let b = time(Case::B);
            (time(Case::A), b, c)
        };
        over_c.push(b.0 / c.0);
        over_a.push(b.0 / a.0);
        cpu_over_c.push(b.1 / c.1);
        cpu_c_over_a.push(c.1 / a.1);
    }
    let quartiles = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        (at(0.25), at(0.5), at(0.75))
    };
    let (c1, c2, c3) = quartiles(&mut over_c);
    let (a1, a2, a3) = quartiles(&mut over_a);
    let (p1, p2, p3) = quartiles(&mut cpu_over_c);
    let (s1, s2, s3) = quartiles(&mut cpu_c_over_a);
    println!(
        "interleaved ({rounds} rounds of {per_round} requests each): \
         b/c median {c2:.3} (quartiles {c1:.3}-{c3:.3}), b/a median {a2:.3} (quartiles {a1:.3}-{a3:.3}); \
         CPU b/c median {p2:.3} (quartiles {p1:.3}-{p3:.3}), CPU c/a (the server's paywall) median \
         {s2:.3} (quartiles {s1:.3}-{s3:.3})"
    );
}

/// The CPU time this process's threads have had, in nanoseconds (the sum of each thread's
/// `/proc/self/task/*/schedstat`; 0 where that is not readable). A thread that exits during a
/// round takes its time with it: the runtime's threads live for the whole run.
fn process_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn main() {
    benches();
    interleaved();
    Criterion::default().configure_from_args().final_summary();
}
