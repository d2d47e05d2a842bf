//! The seller's checks (`l402 doctor --config l402.toml`): configuration, data directory and
//! store, master keys, backend and its permissions, upstreams, TLS files, listen address.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use l402_lightning::spec::{BackendKind, Context, Role};
use l402_lightning::{BackendError, LightningBackend};
use l402_seller::{SellerConfig, SellerOverrides};
use l402_server::config::ServiceConfig;
use l402_store::{Store, StoreUrl};

use super::files;
use super::report::Report;
use crate::exit;

/// How long each network probe (backend, upstream, listener) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// A listener certificate expiring sooner than this is flagged.
const EXPIRY_WARNING_DAYS: i64 = 21;

/// Runs every seller check for the configuration file `path` into `report`.
pub async fn check(report: &mut Report, path: &Path, data_dir: Option<PathBuf>) {
    let Some(config) = config(report, path, data_dir).await else {
        return;
    };
    let data_dir = config.data_dir();
    files::data_dir(report, &data_dir);
    match config.store_url() {
        Ok(StoreUrl::Sqlite(db)) => store(report, &db),
        Ok(url) => shared_store(report, &url),
        Err(e) => report.fail(
            "store",
            format!("[store] url: {e}"),
            "set the environment variable or create the file `[store] url` names",
        ),
    }
    backend(report, &config, &data_dir).await;
    for service in &config.proxy.services {
        upstream(report, service).await;
    }
    if let (Some(cert), Some(key)) = (&config.proxy.listen.tls_cert, &config.proxy.listen.tls_key) {
        tls(report, cert, key);
    }
    listen(
        report,
        config.proxy.listen.addr,
        config.proxy.listen.tls_cert.is_some(),
    )
    .await;
}

async fn config(
    report: &mut Report,
    path: &Path,
    data_dir: Option<PathBuf>,
) -> Option<SellerConfig> {
    const NAME: &str = "config";
    let loaded = SellerConfig::load(path).and_then(|mut config| {
        if let Some(dir) = data_dir {
            config.apply(&SellerOverrides::new().data_dir(dir));
        }
        config.check().map(|warnings| (config, warnings))
    });
    match loaded {
        Ok((config, mut warnings)) => {
            report.pass(NAME, format!("{} is valid", path.display()));
            warnings.extend(l402_seller::openapi::config_warnings(&config).await);
            for w in warnings {
                report.warn(
                    NAME,
                    w.0.to_string(),
                    "see crates/l402-seller/CONFIG.md for the key",
                );
            }
            Some(config)
        }
        Err(e) => {
            report.fail(
                NAME,
                exit::describe(&e),
                "fix the file (every key is documented in crates/l402-seller/CONFIG.md)",
            );
            None
        }
    }
}

/// A PostgreSQL store: reachable, migrated and writable; its master keys.
fn shared_store(report: &mut Report, url: &StoreUrl) {
    match Store::open_url(url).and_then(|s| s.health_check().map(|()| s)) {
        Ok(store) => {
            report.pass("store", format!("{url} answers and is writable"));
            master_keys(report, &store);
        }
        Err(e) => report.fail(
            "store",
            exit::describe(&e),
            "start PostgreSQL, or check the host, port, user and password of [store] url",
        ),
    }
}

/// The database and the master keys in it (their file's permissions are a secret-file check).
fn store(report: &mut Report, db: &Path) {
    if !db.exists() {
        report.pass(
            "store",
            format!("{} is created at first start", db.display()),
        );
        report.pass("master keys", "none yet: generated at first start");
        return;
    }
    let store = match Store::open(db).and_then(|s| s.health_check().map(|()| s)) {
        Ok(s) => s,
        Err(e) => {
            report.fail(
                "store",
                exit::describe(&e),
                "free disk space, fix the file's owner and mode, or restore it from a backup",
            );
            return;
        }
    };
    report.pass("store", format!("{} is writable and intact", db.display()));
    master_keys(report, &store);
}

/// The master keys in the store.
fn master_keys(report: &mut Report, store: &Store) {
    match store.master_keys().list() {
        Ok(keys) if keys.is_empty() => {
            report.pass("master keys", "none yet: generated at first start")
        }
        Ok(keys) => {
            let current = keys.iter().find(|k| k.current).map_or_else(
                || "none current".to_owned(),
                |k| format!("current epoch {}", k.epoch),
            );
            let held = keys.iter().filter(|k| k.retired_at.is_none()).count();
            report.pass("master keys", format!("{held} held, {current}"));
        }
        Err(e) => report.fail(
            "master keys",
            exit::describe(&e),
            "restore the store from a backup",
        ),
    }
}

async fn backend(report: &mut Report, config: &SellerConfig, data_dir: &Path) {
    const NAME: &str = "backend";
    let spec = &config.l402.backend;
    let kind = spec.kind;
    if kind == BackendKind::Dev
        && spec
            .dev
            .as_ref()
            .and_then(|d| d.connection_file.as_ref())
            .is_none()
    {
        report.pass(
            NAME,
            "the embedded dev wallet (regtest, no real money) runs inside `l402 serve`",
        );
        return;
    }
    let context = Context {
        section: "backend",
        data_dir,
    };
    let opened = match spec.open(Role::Receive, &context).await {
        Ok(o) => o,
        Err(e) => {
            report.fail(
                NAME,
                exit::describe(&e),
                format!("check [backend.{kind}] in {}", "the config"),
            );
            return;
        }
    };
    match tokio::time::timeout(PROBE_TIMEOUT, opened.backend.node_info()).await {
        Ok(Ok(info)) => report.pass(
            NAME,
            format!("{kind} answers: {} on {}", info.alias, info.network),
        ),
        Ok(Err(e)) => report.fail(NAME, exit::describe(&e), format!("check [backend.{kind}]")),
        Err(_) => report.fail(
            NAME,
            "no answer within 5s",
            format!("check [backend.{kind}] and the node"),
        ),
    }
    for warning in &opened.warnings {
        report.warn(
            "backend permissions",
            warning.clone(),
            "use the least credential that can create invoices",
        );
    }
    if matches!(kind, BackendKind::Lnd | BackendKind::Cln) {
        permissions(report, kind, &*opened.backend).await;
    }
}

/// A seller's credential needs to create and watch invoices; one that can also read the
/// node's channels is more than that, and a leak would expose more.
async fn permissions(report: &mut Report, kind: BackendKind, backend: &dyn LightningBackend) {
    const NAME: &str = "backend permissions";
    let least = match kind {
        BackendKind::Lnd => "use invoice.macaroon (invoices:read, invoices:write)",
        _ => "use a rune restricted to getinfo, invoice, listinvoices and waitanyinvoice",
    };
    match tokio::time::timeout(PROBE_TIMEOUT, backend.balance()).await {
        Ok(Err(BackendError::Unauthorized)) => {
            report.pass(NAME, "the credential can create invoices and cannot read channel funds")
        }
        Ok(Ok(_)) => report.warn(
            NAME,
            "the credential can read the node's channel funds (an admin credential?): more than a seller needs",
            least,
        ),
        _ => {}
    }
}

async fn upstream(report: &mut Report, service: &ServiceConfig) {
    let name = format!("upstream {}", service.name);
    let url = match reqwest::Url::parse(&service.upstream) {
        Ok(u) => u,
        Err(e) => {
            report.fail(
                name,
                format!("{}: {e}", service.upstream),
                "fix `upstream` in [[services]]",
            );
            return;
        }
    };
    let Some(addr) = url
        .socket_addrs(|| None)
        .ok()
        .and_then(|a| a.into_iter().next())
    else {
        report.fail(
            name,
            format!("cannot resolve {}", service.upstream),
            "fix `upstream` in [[services]]",
        );
        return;
    };
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            report.fail(
                name,
                format!("{}: {e}", service.upstream),
                "start the upstream, or fix `upstream` in [[services]]",
            );
            return;
        }
        Err(_) => {
            report.fail(
                name,
                format!("{}: no answer within 5s", service.upstream),
                "check the upstream and any firewall",
            );
            return;
        }
    }
    let trust = if service.insecure_skip_verify {
        l402_tls::Trust::Insecure
    } else if let Some(ca) = &service.upstream_ca_cert {
        l402_tls::Trust::CaFile(ca.clone())
    } else {
        l402_tls::Trust::from_env()
    };
    let answer = match l402_tls::reqwest_builder(&trust) {
        Ok(b) => match b.timeout(PROBE_TIMEOUT).build() {
            Ok(client) => client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| exit::describe(&e)),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    match answer {
        Ok(r) => report.pass(
            name,
            format!(
                "{} answers (HTTP {} at {})",
                service.upstream,
                r.status().as_u16(),
                url.path()
            ),
        ),
        Err(e) if url.scheme() == "https" => report.fail(
            name,
            format!(
                "{} accepts connections but the HTTPS exchange failed: {e}",
                service.upstream
            ),
            "check `upstream_ca_cert` (or the upstream's certificate)",
        ),
        Err(_) => report.pass(
            name,
            format!(
                "{} accepts connections (no HTTP/1.1 answer: a gRPC upstream?)",
                service.upstream
            ),
        ),
    }
}

fn tls(report: &mut Report, cert: &Path, key: &Path) {
    const NAME: &str = "tls";
    if let Err(e) = l402_tls::server_config(cert, key) {
        report.fail(
            NAME,
            exit::describe(&e),
            "[listen] tls_cert and tls_key must be a PEM chain and its matching key",
        );
        return;
    }
    let validity = match l402_tls::leaf_validity(cert) {
        Ok(v) => v,
        Err(e) => {
            report.fail(NAME, exit::describe(&e), "replace the certificate");
            return;
        }
    };
    let now = l402_core::env::now_unix() as i64;
    let until = crate::when::human(validity.not_after_unix.max(0) as u64, now as u64);
    let days_left = (validity.not_after_unix - now) / 86_400;
    if validity.not_after_unix <= now {
        report.fail(
            NAME,
            format!("{} expired {until}", validity.subject),
            "renew the certificate",
        );
    } else if validity.not_before_unix > now {
        report.fail(
            NAME,
            format!(
                "{} is not valid before {}",
                validity.subject,
                crate::when::human(validity.not_before_unix as u64, now as u64)
            ),
            "check the clock, or reissue the certificate",
        );
    } else if days_left < EXPIRY_WARNING_DAYS {
        report.warn(
            NAME,
            format!("{} expires {until}", validity.subject),
            "renew the certificate soon (then restart or reload)",
        );
    } else {
        report.pass(NAME, format!("{} valid until {until}", validity.subject));
    }
}

async fn listen(report: &mut Report, addr: SocketAddr, tls: bool) {
    const NAME: &str = "listen";
    let bound = std::net::TcpListener::bind(addr);
    match bound {
        Ok(_) => report.pass(NAME, format!("{addr} is free")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let scheme = if tls { "https" } else { "http" };
            let ours = match l402_tls::reqwest_builder(&l402_tls::Trust::from_env()) {
                Ok(b) => match b.timeout(PROBE_TIMEOUT).build() {
                    Ok(c) => c
                        .get(format!("{scheme}://{addr}/healthz"))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success()),
                    Err(_) => false,
                },
                Err(_) => false,
            };
            if ours {
                report.warn(
                    NAME,
                    format!("{addr} is taken by a server answering /healthz (l402 serve already running?)"),
                    "stop it before starting another, or set another [listen] addr",
                );
            } else {
                report.fail(
                    NAME,
                    format!("{addr} is taken by another program"),
                    format!("stop it (ss -ltnp 'sport = :{}' shows which) or set another [listen] addr", addr.port()),
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => report.fail(
            NAME,
            format!("{addr}: permission denied"),
            "ports below 1024 need root or CAP_NET_BIND_SERVICE; pick a port above 1024 behind a load balancer",
        ),
        Err(e) => report.fail(NAME, format!("{addr}: {e}"), "set another [listen] addr"),
    }
}
