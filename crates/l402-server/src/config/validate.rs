//! Semantic checks behind [`Config::check`](super::Config::check): everything serde cannot see
//! in the proxy's part of the file.

use std::collections::HashSet;

use http::{HeaderName, HeaderValue, Method};

use super::source::Seg;
use super::{Checks, Config};
use crate::forward::headers::is_hop_by_hop_name;
use crate::forward::target::{UpstreamScheme, UpstreamTarget};
use crate::routing::pattern::{HostPattern, PathMatcher, PathPattern};

fn k(key: &str) -> Seg {
    Seg::Key(key.to_owned())
}

fn with(base: &[Seg], more: &[Seg]) -> Vec<Seg> {
    base.iter().chain(more).cloned().collect()
}

pub(super) fn check(config: &Config, c: &mut Checks<'_>) {
    check_listen(config, c);
    check_limits(config, c);
    check_services(config, c);
}

fn check_listen(config: &Config, c: &mut Checks<'_>) {
    let listen = &config.listen;
    match (&listen.tls_cert, &listen.tls_key) {
        (Some(_), None) => c.error_at(
            &[k("listen"), k("tls_cert")],
            "`tls_cert` is set but `tls_key` is not: give both or neither",
        ),
        (None, Some(_)) => c.error_at(
            &[k("listen"), k("tls_key")],
            "`tls_key` is set but `tls_cert` is not: give both or neither",
        ),
        (Some(cert), Some(key)) => {
            if let Err(e) = crate::server::tls::load_server_config(cert, key) {
                c.error_at(&[k("listen"), k("tls_cert")], e.to_string());
            }
        }
        (None, None) => {}
    }
    if let Some(header) = &listen.client_ip_header {
        if http::HeaderName::from_bytes(header.trim().as_bytes()).is_err() {
            c.error_at(
                &[k("listen"), k("client_ip_header")],
                format!("`{header}` is not a valid header name"),
            );
        } else if listen.trusted_proxies.is_empty() {
            c.warn_at(
                &[k("listen"), k("client_ip_header")],
                "ignored: no `trusted_proxies`, so the header is never believed",
            );
        }
    }
}

fn check_limits(config: &Config, c: &mut Checks<'_>) {
    let limits = &config.limits;
    if !(1024..=1 << 20).contains(&limits.max_header_bytes) {
        c.error_at(
            &[k("limits"), k("max_header_bytes")],
            "must be between 1 KiB and 1 MiB",
        );
    }
    if limits.header_read_timeout.is_zero() {
        c.error_at(
            &[k("limits"), k("header_read_timeout")],
            "must be greater than 0 (it protects against clients that never finish a request)",
        );
    }
    if limits.upstream_connect_timeout.is_zero() {
        c.error_at(
            &[k("limits"), k("upstream_connect_timeout")],
            "must be greater than 0",
        );
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn check_services(config: &Config, c: &mut Checks<'_>) {
    if config.services.is_empty() {
        c.warn_at(
            &[k("services")],
            "no `[[services]]` configured: every request will get 404",
        );
    }
    let mut names = HashSet::new();
    for (i, service) in config.services.iter().enumerate() {
        let base = [k("services"), Seg::Index(i)];
        let at = |key: &str| with(&base, &[k(key)]);
        if !valid_name(&service.name) {
            c.error_at(
                &at("name"),
                format!(
                    "service name `{}` must be 1-64 characters of a-z, 0-9, `_` or `-`",
                    service.name
                ),
            );
        } else if !names.insert(service.name.as_str()) {
            c.error_at(
                &at("name"),
                format!("duplicate service name `{}`", service.name),
            );
        }
        for (j, host) in service.hosts.iter().enumerate() {
            if let Err(e) = HostPattern::parse(host) {
                c.error_at(&with(&base, &[k("hosts"), Seg::Index(j)]), e);
            }
        }
        let matcher = PathMatcher::parse(&service.path_prefix);
        match &matcher {
            Err(e) => c.error_at(&at("path_prefix"), e),
            Ok(_) => {
                if let Some(problem) = config.paths.pattern_problem(&service.path_prefix) {
                    c.error_at(&at("path_prefix"), problem);
                }
            }
        }
        if service.strip_path_prefix && matches!(matcher, Ok(PathMatcher::Pattern(_))) {
            c.error_at(
                &at("strip_path_prefix"),
                "cannot strip a `path_prefix` that is a pattern (it contains `*`)",
            );
        }
        match UpstreamTarget::parse(&service.upstream) {
            Err(e) => c.error_at(&at("upstream"), e),
            Ok(target) => {
                let https = target.scheme == UpstreamScheme::Https;
                if service.insecure_skip_verify && !https {
                    c.error_at(
                        &at("insecure_skip_verify"),
                        "only applies to https:// upstreams",
                    );
                }
                if service.insecure_skip_verify && https {
                    c.warn_at(
                        &at("insecure_skip_verify"),
                        "the upstream's TLS certificate is NOT verified",
                    );
                }
                if let Some(ca) = &service.upstream_ca_cert {
                    if !https {
                        c.error_at(
                            &at("upstream_ca_cert"),
                            "only applies to https:// upstreams",
                        );
                    } else if service.insecure_skip_verify {
                        c.error_at(
                            &at("upstream_ca_cert"),
                            "contradicts `insecure_skip_verify = true`",
                        );
                    } else if let Err(e) = crate::forward::client::load_roots(ca) {
                        c.error_at(&at("upstream_ca_cert"), e.to_string());
                    }
                }
            }
        }
        for (name, value) in &service.upstream_headers {
            let path = with(&base, &[k("upstream_headers"), k(name)]);
            match HeaderName::from_bytes(name.as_bytes()) {
                Err(_) => c.error_at(&path, format!("`{name}` is not a valid header name")),
                Ok(h) if is_hop_by_hop_name(&h) => c.error_at(
                    &path,
                    format!("`{name}` is a hop-by-hop header and cannot be forwarded"),
                ),
                Ok(_) => {}
            }
            if let Some(v) = c.secret_at(&path, value)
                && HeaderValue::from_str(&v).is_err()
            {
                c.error_at(&path, "the value is not a valid header value");
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
                    c.error_at(
                        &with(&rbase, &[k("methods"), Seg::Index(m)]),
                        format!("`{method}` is not an upper-case HTTP method"),
                    );
                }
            }
            match PathPattern::parse(&route.path) {
                Err(e) => c.error_at(&rat("path"), e),
                Ok(_) => {
                    if let Some(problem) = config.paths.pattern_problem(&route.path) {
                        c.error_at(&rat("path"), problem);
                    }
                }
            }
        }
    }
}
