//! Checks of the `[backend]` section behind `SellerConfig::check`: what serde cannot see.

use l402_server::config::Checks;

use super::{BackendConfig, BackendKind, ClnBackendConfig};

/// Checks `[backend]`: the selected kind has its section, its values have the right shape, and
/// its secret files and variables are readable now.
pub(crate) fn check(backend: &BackendConfig, c: &mut Checks<'_>) {
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
                &format!("backend.{other}"),
                format!("ignored: `backend.kind` is \"{kind}\""),
            );
        }
        if !is_present && other == kind && kind != BackendKind::Dev {
            c.error(
                "backend.kind",
                format!("`kind = \"{kind}\"` needs a `[backend.{kind}]` section"),
            );
        }
    }
    let base = format!("backend.{kind}");
    match kind {
        BackendKind::Dev => {}
        BackendKind::Lnd => {
            if let Some(lnd) = &backend.lnd {
                if !looks_like_host_port(&lnd.address) {
                    c.error(&format!("{base}.address"), "expected `host:port`");
                }
                if let Some(cert) = &lnd.tls_cert_path {
                    c.readable_file(&format!("{base}.tls_cert_path"), cert);
                }
                if lnd.tls_cert_path.is_some() && lnd.tls_cert.is_some() {
                    c.error(
                        &format!("{base}.tls_cert"),
                        "set `tls_cert_path` or `tls_cert`, not both",
                    );
                }
                match (&lnd.macaroon_path, &lnd.macaroon) {
                    (Some(path), None) => c.readable_file(&format!("{base}.macaroon_path"), path),
                    (None, Some(_)) => {}
                    (Some(_), Some(_)) => c.error(&format!("{base}.macaroon"), "set `macaroon_path` or `macaroon`, not both"),
                    (None, None) => c.error(&format!("{base}.macaroon_path"), "a macaroon is required: `macaroon_path` (file) or `macaroon` (hex or base64 from env or file)"),
                }
            }
        }
        BackendKind::Lnbits => {
            if let Some(lnbits) = &backend.lnbits {
                if !(lnbits.url.starts_with("http://") || lnbits.url.starts_with("https://")) {
                    c.error(
                        &format!("{base}.url"),
                        "expected an http:// or https:// URL",
                    );
                }
                c.secret(&format!("{base}.api_key"), &lnbits.api_key);
            }
        }
        BackendKind::Nwc => {
            if let Some(nwc) = &backend.nwc {
                let path = format!("{base}.uri");
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
                            c.error(&format!("{base}.grpc_address"), "expected `host:port`");
                        }
                        for (key, value) in [
                            ("ca_cert_path", &cln.ca_cert_path),
                            ("client_cert_path", &cln.client_cert_path),
                            ("client_key_path", &cln.client_key_path),
                        ] {
                            match value {
                                Some(p) => c.readable_file(&format!("{base}.{key}"), p),
                                None => c.error(
                                    &format!("{base}.{key}"),
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
fn check_cln_rest(c: &mut Checks<'_>, base: &str, url: &str, cln: &ClnBackendConfig) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url)
        .trim_end_matches('/');
    if !looks_like_host_port(rest) {
        c.error(
            &format!("{base}.rest_url"),
            "expected `https://host:port` (CLNRest's clnrest-host and clnrest-port)",
        );
    }
    match &cln.rune {
        Some(rune) => {
            c.secret(&format!("{base}.rune"), rune);
        }
        None => c.error(
            &format!("{base}.rune"),
            "`rune` is required with `rest_url` (e.g. rune = { env = \"CLN_RUNE\" })",
        ),
    }
    match &cln.rest_ca_cert_path {
        Some(p) => c.readable_file(&format!("{base}.rest_ca_cert_path"), p),
        None if !url.starts_with("http://") => c.warn(
            &format!("{base}.rest_ca_cert_path"),
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
                &format!("{base}.{key}"),
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
