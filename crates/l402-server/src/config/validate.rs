//! Semantic checks behind [`Config::check`]: everything serde cannot see.

use std::collections::HashSet;

use http::{HeaderName, HeaderValue, Method};

use super::source::{Seg, format_key_path};
use super::{BackendKind, Config, ConfigError, ConfigWarning, Diagnostic, SecretSource};
use crate::forward::headers::is_hop_by_hop_name;
use crate::forward::target::{UpstreamScheme, UpstreamTarget};
use crate::routing::pattern::{HostPattern, PathMatcher, PathPattern};

/// 21 million BTC in satoshis: no price can be higher.
const MAX_PRICE_SAT: u64 = 21_000_000 * 100_000_000;
/// BOLT11 limits the description field to 639 bytes.
const MAX_MEMO_BYTES: usize = 639;

struct Checker<'a> {
    config: &'a Config,
    errors: Vec<Diagnostic>,
    warnings: Vec<ConfigWarning>,
}

impl Checker<'_> {
    fn diag(&self, path: &[Seg], message: String) -> Diagnostic {
        Diagnostic {
            location: self.config.locate(&format_key_path(path)),
            message,
        }
    }

    fn error(&mut self, path: &[Seg], message: impl Into<String>) {
        let d = self.diag(path, message.into());
        self.errors.push(d);
    }

    fn warn(&mut self, path: &[Seg], message: impl Into<String>) {
        let d = self.diag(path, message.into());
        self.warnings.push(ConfigWarning(d));
    }

    /// Checks that a secret can be read now; warns when it is inline.
    fn secret(&mut self, path: &[Seg], secret: &SecretSource) -> Option<String> {
        if secret.is_inline() {
            self.warn(
                path,
                "secret written inline in the configuration file; prefer `{ env = \"VAR\" }` or `{ file = \"path\" }`",
            );
        }
        match secret.resolve() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(path, e);
                None
            }
        }
    }

    fn readable_file(&mut self, path: &[Seg], file: &std::path::Path) {
        if let Err(e) = std::fs::File::open(file) {
            self.error(path, format!("cannot open {}: {e}", file.display()));
        }
    }
}

fn k(key: &str) -> Seg {
    Seg::Key(key.to_owned())
}

fn with(base: &[Seg], more: &[Seg]) -> Vec<Seg> {
    base.iter().chain(more).cloned().collect()
}

pub(super) fn check(config: &Config) -> Result<Vec<ConfigWarning>, ConfigError> {
    let mut c = Checker {
        config,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    check_listen(&mut c);
    check_limits(&mut c);
    check_backend(&mut c);
    check_services(&mut c);
    if c.errors.is_empty() {
        Ok(c.warnings)
    } else {
        c.errors
            .sort_by_key(|d| (d.location.line, d.location.column));
        Err(ConfigError::Invalid(c.errors))
    }
}

fn check_listen(c: &mut Checker<'_>) {
    let listen = &c.config.listen;
    match (&listen.tls_cert, &listen.tls_key) {
        (Some(_), None) => c.error(
            &[k("listen"), k("tls_cert")],
            "`tls_cert` is set but `tls_key` is not: give both or neither",
        ),
        (None, Some(_)) => c.error(
            &[k("listen"), k("tls_key")],
            "`tls_key` is set but `tls_cert` is not: give both or neither",
        ),
        (Some(cert), Some(key)) => {
            if let Err(e) = crate::server::tls::load_server_config(cert, key) {
                c.error(&[k("listen"), k("tls_cert")], e.to_string());
            }
        }
        (None, None) => {}
    }
}

fn check_limits(c: &mut Checker<'_>) {
    let limits = &c.config.limits;
    if !(1024..=1 << 20).contains(&limits.max_header_bytes) {
        c.error(
            &[k("limits"), k("max_header_bytes")],
            "must be between 1 KiB and 1 MiB",
        );
    }
    if limits.header_read_timeout.is_zero() {
        c.error(
            &[k("limits"), k("header_read_timeout")],
            "must be greater than 0 (it protects against clients that never finish a request)",
        );
    }
    if limits.upstream_connect_timeout.is_zero() {
        c.error(
            &[k("limits"), k("upstream_connect_timeout")],
            "must be greater than 0",
        );
    }
}

fn check_backend(c: &mut Checker<'_>) {
    let backend = &c.config.backend;
    let kind = backend.kind;
    let present = [
        (BackendKind::Dev, backend.dev.is_some()),
        (BackendKind::Lnd, backend.lnd.is_some()),
        (BackendKind::Lnbits, backend.lnbits.is_some()),
        (BackendKind::Nwc, backend.nwc.is_some()),
        (BackendKind::Cln, backend.cln.is_some()),
    ];
    for (other, is_present) in present {
        if is_present && other != kind {
            c.warn(
                &[k("backend"), k(other.as_str())],
                format!("ignored: `backend.kind` is \"{kind}\""),
            );
        }
        if !is_present && other == kind && kind != BackendKind::Dev {
            c.error(
                &[k("backend"), k("kind")],
                format!("`kind = \"{kind}\"` needs a `[backend.{kind}]` section"),
            );
        }
    }
    let base = [k("backend"), k(kind.as_str())];
    match kind {
        BackendKind::Dev => {}
        BackendKind::Lnd => {
            if let Some(lnd) = &backend.lnd {
                if !looks_like_host_port(&lnd.address) {
                    c.error(&with(&base, &[k("address")]), "expected `host:port`");
                }
                if let Some(cert) = &lnd.tls_cert_path {
                    c.readable_file(&with(&base, &[k("tls_cert_path")]), cert);
                }
                if lnd.tls_cert_path.is_some() && lnd.tls_cert.is_some() {
                    c.error(
                        &with(&base, &[k("tls_cert")]),
                        "set `tls_cert_path` or `tls_cert`, not both",
                    );
                }
                match (&lnd.macaroon_path, &lnd.macaroon) {
                    (Some(path), None) => c.readable_file(&with(&base, &[k("macaroon_path")]), path),
                    (None, Some(_)) => {}
                    (Some(_), Some(_)) => c.error(&with(&base, &[k("macaroon")]), "set `macaroon_path` or `macaroon`, not both"),
                    (None, None) => c.error(&with(&base, &[k("macaroon_path")]), "a macaroon is required: `macaroon_path` (file) or `macaroon` (hex or base64 from env or file)"),
                }
            }
        }
        BackendKind::Lnbits => {
            if let Some(lnbits) = &backend.lnbits {
                if !(lnbits.url.starts_with("http://") || lnbits.url.starts_with("https://")) {
                    c.error(
                        &with(&base, &[k("url")]),
                        "expected an http:// or https:// URL",
                    );
                }
                c.secret(&with(&base, &[k("api_key")]), &lnbits.api_key);
            }
        }
        BackendKind::Nwc => {
            if let Some(nwc) = &backend.nwc {
                let path = with(&base, &[k("uri")]);
                if let Some(uri) = c.secret(&path, &nwc.uri)
                    && !uri.starts_with("nostr+walletconnect://")
                {
                    c.error(&path, "expected a `nostr+walletconnect://` URI");
                }
            }
        }
        BackendKind::Cln => {
            if let Some(cln) = &backend.cln {
                match (&cln.grpc_address, &cln.rpc_socket_path, &cln.rest_url) {
                    (None, None, Some(url)) => check_cln_rest(c, &base, url, cln),
                    (Some(addr), None, None) => {
                        if !looks_like_host_port(addr) {
                            c.error(&with(&base, &[k("grpc_address")]), "expected `host:port`");
                        }
                        for (key, value) in [
                            ("ca_cert_path", &cln.ca_cert_path),
                            ("client_cert_path", &cln.client_cert_path),
                            ("client_key_path", &cln.client_key_path),
                        ] {
                            match value {
                                Some(p) => c.readable_file(&with(&base, &[k(key)]), p),
                                None => c.error(
                                    &with(&base, &[k(key)]),
                                    format!("`{key}` is required with `grpc_address`"),
                                ),
                            }
                        }
                    }
                    (None, Some(_), None) => {}
                    _ => c.error(
                        &base,
                        "give exactly one of `rest_url` (with `rune`), `grpc_address` (with the \
                         mTLS files) or `rpc_socket_path`",
                    ),
                }
            }
        }
    }
}

/// `[backend.cln]` with `rest_url`: CLNRest, authorized by `rune`, TLS to `rest_ca_cert_path`.
fn check_cln_rest(c: &mut Checker<'_>, base: &[Seg], url: &str, cln: &super::ClnBackendConfig) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url)
        .trim_end_matches('/');
    if !looks_like_host_port(rest) {
        c.error(
            &with(base, &[k("rest_url")]),
            "expected `https://host:port` (CLNRest's clnrest-host and clnrest-port)",
        );
    }
    match &cln.rune {
        Some(rune) => {
            c.secret(&with(base, &[k("rune")]), rune);
        }
        None => c.error(
            &with(base, &[k("rune")]),
            "`rune` is required with `rest_url` (e.g. rune = { env = \"CLN_RUNE\" })",
        ),
    }
    match &cln.rest_ca_cert_path {
        Some(p) => c.readable_file(&with(base, &[k("rest_ca_cert_path")]), p),
        None if !url.starts_with("http://") => c.warn(
            &with(base, &[k("rest_ca_cert_path")]),
            "unset: CLNRest's certificate must then be publicly trusted; CLN signs it with its \
             own CA (ca.pem in the clnrest-certs directory)",
        ),
        None => {}
    }
    for (key, value) in [
        ("ca_cert_path", cln.ca_cert_path.is_some()),
        ("client_cert_path", cln.client_cert_path.is_some()),
        ("client_key_path", cln.client_key_path.is_some()),
    ] {
        if value {
            c.warn(
                &with(base, &[k(key)]),
                "ignored with `rest_url` (gRPC only; CLNRest uses `rest_ca_cert_path`)",
            );
        }
    }
}

fn looks_like_host_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok()
    })
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn valid_capability(cap: &str) -> bool {
    !cap.is_empty()
        && cap
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

fn check_price(c: &mut Checker<'_>, path: &[Seg], price: u64) {
    if price > MAX_PRICE_SAT {
        c.error(path, "price is above 21 million BTC");
    }
}

fn check_services(c: &mut Checker<'_>) {
    if c.config.services.is_empty() {
        c.warn(
            &[k("services")],
            "no `[[services]]` configured: every request will get 404",
        );
    }
    let mut names = HashSet::new();
    for (i, service) in c.config.services.iter().enumerate() {
        let base = [k("services"), Seg::Index(i)];
        let at = |key: &str| with(&base, &[k(key)]);
        if !valid_name(&service.name) {
            c.error(
                &at("name"),
                format!(
                    "service name `{}` must be 1-64 characters of a-z, 0-9, `_` or `-`",
                    service.name
                ),
            );
        } else if !names.insert(service.name.as_str()) {
            c.error(
                &at("name"),
                format!("duplicate service name `{}`", service.name),
            );
        }
        for (j, host) in service.hosts.iter().enumerate() {
            if let Err(e) = HostPattern::parse(host) {
                c.error(&with(&base, &[k("hosts"), Seg::Index(j)]), e);
            }
        }
        let matcher = PathMatcher::parse(&service.path_prefix);
        if let Err(e) = &matcher {
            c.error(&at("path_prefix"), e.clone());
        }
        if service.strip_path_prefix && matches!(matcher, Ok(PathMatcher::Pattern(_))) {
            c.error(
                &at("strip_path_prefix"),
                "cannot strip a `path_prefix` that is a pattern (it contains `*`)",
            );
        }
        match UpstreamTarget::parse(&service.upstream) {
            Err(e) => c.error(&at("upstream"), e),
            Ok(target) => {
                let https = target.scheme == UpstreamScheme::Https;
                if service.insecure_skip_verify && !https {
                    c.error(
                        &at("insecure_skip_verify"),
                        "only applies to https:// upstreams",
                    );
                }
                if service.insecure_skip_verify && https {
                    c.warn(
                        &at("insecure_skip_verify"),
                        "the upstream's TLS certificate is NOT verified",
                    );
                }
                if let Some(ca) = &service.upstream_ca_cert {
                    if !https {
                        c.error(
                            &at("upstream_ca_cert"),
                            "only applies to https:// upstreams",
                        );
                    } else if service.insecure_skip_verify {
                        c.error(
                            &at("upstream_ca_cert"),
                            "contradicts `insecure_skip_verify = true`",
                        );
                    } else if let Err(e) = crate::forward::client::load_roots(ca) {
                        c.error(&at("upstream_ca_cert"), e.to_string());
                    }
                }
            }
        }
        check_price(c, &at("price_sat"), service.price_sat);
        if service.invoice_expiry_secs == 0 {
            c.error(&at("invoice_expiry_secs"), "must be greater than 0");
        }
        if let Some(memo) = &service.memo
            && memo.len() > MAX_MEMO_BYTES
        {
            c.error(
                &at("memo"),
                format!("longer than {MAX_MEMO_BYTES} bytes (the BOLT11 description limit)"),
            );
        }
        for (j, cap) in service.capabilities.iter().enumerate() {
            if !valid_capability(cap) {
                c.error(
                    &with(&base, &[k("capabilities"), Seg::Index(j)]),
                    format!(
                        "capability `{cap}` must be non-empty and use only A-Z a-z 0-9 _ - . :"
                    ),
                );
            }
        }
        for (j, pattern) in service.free_paths.iter().enumerate() {
            if let Err(e) = PathPattern::parse(pattern) {
                c.error(&with(&base, &[k("free_paths"), Seg::Index(j)]), e);
            }
        }
        for (name, value) in &service.upstream_headers {
            let path = with(&base, &[k("upstream_headers"), k(name)]);
            match HeaderName::from_bytes(name.as_bytes()) {
                Err(_) => c.error(&path, format!("`{name}` is not a valid header name")),
                Ok(h) if is_hop_by_hop_name(&h) => c.error(
                    &path,
                    format!("`{name}` is a hop-by-hop header and cannot be forwarded"),
                ),
                Ok(_) => {}
            }
            if let Some(v) = c.secret(&path, value)
                && HeaderValue::from_str(&v).is_err()
            {
                c.error(&path, "the value is not a valid header value");
            }
        }
        for (j, route) in service.routes.iter().enumerate() {
            let rbase = with(&base, &[k("routes"), Seg::Index(j)]);
            let rat = |key: &str| with(&rbase, &[k(key)]);
            for (m, method) in route.methods.iter().enumerate() {
                let ok = !method.is_empty()
                    && method.bytes().all(|b| b.is_ascii_uppercase())
                    && Method::from_bytes(method.as_bytes()).is_ok();
                if !ok {
                    c.error(
                        &with(&rbase, &[k("methods"), Seg::Index(m)]),
                        format!("`{method}` is not an upper-case HTTP method"),
                    );
                }
            }
            if let Err(e) = PathPattern::parse(&route.path) {
                c.error(&rat("path"), e);
            }
            if let Some(price) = route.price_sat {
                check_price(c, &rat("price_sat"), price);
                if route.free {
                    c.warn(&rat("price_sat"), "ignored: the route is `free = true`");
                }
            }
            for (m, cap) in route.capabilities_required.iter().enumerate() {
                if !valid_capability(cap) {
                    c.error(
                        &with(&rbase, &[k("capabilities_required"), Seg::Index(m)]),
                        format!(
                            "capability `{cap}` must be non-empty and use only A-Z a-z 0-9 _ - . :"
                        ),
                    );
                }
            }
        }
    }
}
