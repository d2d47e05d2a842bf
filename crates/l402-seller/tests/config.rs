//! The seller's configuration file: the L402 keys next to the proxy's, parsing errors with
//! file/line/key, semantic checks, overrides, and the price of each route.

use http::Method;
use l402_seller::backend::BackendKind;
use l402_seller::config::ConfigError;
use l402_seller::pricing::PriceTable;
use l402_seller::{SellerConfig, SellerOverrides};
use l402_server::Router;

fn write_config(text: &str) -> std::path::PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("l402.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let path = write_config("[listen]\naddr = \"127.0.0.1:8402\"\nbogus_key = 1\n");
    let err = SellerConfig::load(&path).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ConfigError::Syntax(_)), "{err:?}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains(&format!("{}:3:1: key `listen.bogus_key`", path.display())),
        "{message}"
    );
    assert!(message.contains("bogus_key"), "{message}");
    let d = err.diagnostics()[0].clone();
    assert_eq!(d.location.line, Some(3));
    assert_eq!(d.location.column, Some(1));
}

#[test]
fn unknown_key_inside_a_service_has_its_key_path() {
    let text = "\n[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\n[[services]]\nname = \"b\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\ncolour = \"red\"\n";
    let path = write_config(text);
    let err = SellerConfig::load(&path).unwrap_err();
    let d = err.diagnostics()[0].clone();
    assert_eq!(d.location.line, Some(11), "{err}");
    assert!(d.location.key.starts_with("services[1]"), "{err}");
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn many_problems_are_all_reported() {
    let config = SellerConfig::from_toml(
        r#"
[[services]]
name = "Bad Name"
upstream = "http://127.0.0.1:1"
price_sat = 1
hosts = ["http://x.com"]
free_paths = ["no-slash"]
insecure_skip_verify = true

[[services.routes]]
methods = ["get"]
path = "/x"

[[services]]
name = "dup"
upstream = "h2c://127.0.0.1:1"
price_sat = 1

[[services]]
name = "dup"
upstream = "http://127.0.0.1:1"
price_sat = 1
"#,
        None,
    )
    .unwrap();
    let err = config.check().unwrap_err();
    let keys: Vec<String> = err
        .diagnostics()
        .iter()
        .map(|d| d.location.key.clone())
        .collect();
    for expected in [
        "services[0].name",
        "services[0].hosts[0]",
        "services[0].free_paths[0]",
        "services[0].insecure_skip_verify",
        "services[0].routes[0].methods[0]",
        "services[2].name",
    ] {
        assert!(
            keys.iter().any(|k| k == expected),
            "missing {expected} in {keys:?}"
        );
    }
    // Sorted by line.
    let lines: Vec<_> = err.diagnostics().iter().map(|d| d.location.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
}

#[test]
fn backend_sections_are_checked_for_shape() {
    let config = SellerConfig::from_toml("[backend]\nkind = \"lnd\"\n", None).unwrap();
    let err = config.check().unwrap_err();
    assert!(err.to_string().contains("[backend.lnd]"), "{err}");

    let err = SellerConfig::from_toml("[backend]\nkind = \"eclair\"\n", None).unwrap_err();
    assert!(err.to_string().contains("backend.kind"), "{err}");

    let config = SellerConfig::from_toml(
        "[backend]\nkind = \"lnbits\"\n[backend.lnbits]\nurl = \"https://lnbits.example\"\napi_key = \"inline-secret\"\n[backend.nwc]\nuri = { env = \"NOPE\" }\n",
        None,
    )
    .unwrap();
    let warnings = config.check().unwrap();
    let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|w| w.contains("backend.lnbits.api_key") && w.contains("inline")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|w| w.contains("backend.nwc") && w.contains("ignored")),
        "{text:?}"
    );
    // The inline secret never shows in Debug output.
    assert!(!format!("{config:?}").contains("inline-secret"));
}

#[test]
fn defaults_and_overrides() {
    let mut config = SellerConfig::from_toml("[limits]\nidle_timeout = 30\n", None).unwrap();
    assert_eq!(config.proxy.listen.addr, "127.0.0.1:8402".parse().unwrap());
    assert_eq!(config.proxy.limits.idle_timeout.as_secs(), 30);
    assert_eq!(config.l402.backend.kind, BackendKind::Dev);
    assert!(config.data_dir().ends_with("l402") || config.data_dir().ends_with(".l402-data"));

    config.apply(
        &SellerOverrides::new()
            .listen_addr("0.0.0.0:9000".parse().unwrap())
            .data_dir("/tmp/l402-x")
            .backend_kind(BackendKind::Lnd),
    );
    assert_eq!(config.proxy.listen.addr, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(config.data_dir(), std::path::PathBuf::from("/tmp/l402-x"));
    assert_eq!(config.l402.backend.kind, BackendKind::Lnd);
}

#[test]
fn a_service_without_a_price_is_refused_with_its_key_path() {
    let path = write_config(
        "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\n[[services]]\nname = \"b\"\nupstream = \"http://127.0.0.1:1\"\n",
    );
    let err = SellerConfig::load(&path).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax(_)), "{err:?}");
    let d = err.diagnostics()[0].clone();
    assert_eq!(d.location.key, "services[1]", "{err}");
    assert_eq!(d.location.line, Some(6), "{err}");
    assert!(d.message.contains("price_sat"), "{err}");
}

#[test]
fn relative_paths_resolve_against_the_config_file() {
    let path = write_config(
        "data_dir = \"state\"\n[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\nupstream_headers = { X-Key = { file = \"key.txt\" } }\n",
    );
    let config = SellerConfig::load(&path).unwrap();
    let dir = path.parent().unwrap();
    assert_eq!(config.data_dir(), dir.join("state"));
    let with_backend = write_config(
        "[backend]\nkind = \"lnd\"\n[backend.lnd]\naddress = \"127.0.0.1:10009\"\nmacaroon_path = \"m.mac\"\nmacaroon = { file = \"m.hex\" }\n",
    );
    let backend = SellerConfig::load(&with_backend).unwrap().l402.backend;
    let lnd = backend.lnd.unwrap();
    let base = with_backend.parent().unwrap();
    assert_eq!(lnd.macaroon_path, Some(base.join("m.mac")));
    assert_eq!(
        lnd.macaroon,
        Some(l402_server::config::SecretSource::File(base.join("m.hex")))
    );
    // The secret file does not exist yet: check() says so, naming the header.
    let err = config.check().unwrap_err();
    assert!(
        err.to_string()
            .contains("services[0].upstream_headers.X-Key"),
        "{err}"
    );
    std::fs::write(dir.join("key.txt"), "s3cret\n").unwrap();
    config.check().unwrap();
}

const ROUTING: &str = r#"
[[services]]
name = "api"
hosts = ["api.example.com"]
upstream = "http://127.0.0.1:1"
price_sat = 10
free_paths = ["/health", "/public/*"]

[[services.routes]]
methods = ["POST", "PUT"]
path = "/v1/*"
price_sat = 50
capabilities_required = ["write"]

[[services.routes]]
path = "/v1/free"
free = true

[[services.routes]]
path = "/v1/*"
price_sat = 5

[[services]]
name = "weather"
hosts = ["*.example.com"]
path_prefix = "/weather"
upstream = "http://127.0.0.1:1"
price_sat = 2

[[services]]
name = "catchall"
upstream = "http://127.0.0.1:1"
price_sat = 0
"#;

/// (method, host, path, service, price msat, free, required capabilities)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u64,
    bool,
    &'static [&'static str],
);

#[test]
fn routing_table() {
    let config = SellerConfig::from_toml(ROUTING, None).unwrap();
    config.check().unwrap();
    let router = Router::new(&config.proxy).unwrap();
    let prices = PriceTable::new(&config).unwrap();
    // (method, host, path) -> (service, price msat, free, capabilities)
    let table: &[Row] = &[
        (
            "GET",
            "api.example.com",
            "/v1/items",
            "api",
            5_000,
            false,
            &[],
        ),
        (
            "POST",
            "api.example.com",
            "/v1/items",
            "api",
            50_000,
            false,
            &["write"],
        ),
        (
            "PUT",
            "API.example.com:443",
            "/v1/items",
            "api",
            50_000,
            false,
            &["write"],
        ),
        // First route wins: POST /v1/free hits the POST rule before the free rule.
        (
            "POST",
            "api.example.com",
            "/v1/free",
            "api",
            50_000,
            false,
            &["write"],
        ),
        (
            "GET",
            "api.example.com",
            "/v1/free",
            "api",
            10_000,
            true,
            &[],
        ),
        (
            "GET",
            "api.example.com",
            "/health",
            "api",
            10_000,
            true,
            &[],
        ),
        (
            "GET",
            "api.example.com",
            "/public",
            "api",
            10_000,
            true,
            &[],
        ),
        (
            "GET",
            "api.example.com",
            "/public/a/b",
            "api",
            10_000,
            true,
            &[],
        ),
        (
            "GET",
            "api.example.com",
            "/other",
            "api",
            10_000,
            false,
            &[],
        ),
        // The wildcard host matches subdomains, not the apex; first match wins.
        (
            "GET",
            "eu.example.com",
            "/weather/today",
            "weather",
            2_000,
            false,
            &[],
        ),
        (
            "GET",
            "a.b.example.com",
            "/weather",
            "weather",
            2_000,
            false,
            &[],
        ),
        (
            "GET",
            "eu.example.com",
            "/weatherman",
            "catchall",
            0,
            true,
            &[],
        ),
        ("GET", "example.com", "/weather", "catchall", 0, true, &[]),
        (
            "GET",
            "elsewhere.org",
            "/anything",
            "catchall",
            0,
            true,
            &[],
        ),
    ];
    for &(method, host, path, service, price, free, caps) in table {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let d = router.route(&method, Some(host), path).unwrap();
        let what = format!("{method} {host}{path}");
        assert_eq!(d.service.name, service, "{what}");
        let (_, p) = prices.price(&d, path).unwrap();
        assert_eq!(p.price_msat, price, "{what}");
        assert_eq!(p.free, free, "{what}");
        assert_eq!(p.required_capabilities, caps, "{what}");
    }
}

#[test]
fn the_example_in_config_md_parses() {
    let doc = include_str!("../CONFIG.md");
    let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let config = SellerConfig::from_toml(&doc[start..end], None).unwrap();
    assert_eq!(config.proxy.services.len(), 2);
    assert_eq!(config.l402.backend.kind, BackendKind::Lnd);
    let router = Router::new(&config.proxy).unwrap();
    let path = "/weather/reports/today";
    let d = router
        .route(&Method::POST, Some("api.example.com"), path)
        .unwrap();
    let (_, price) = PriceTable::new(&config).unwrap().price(&d, path).unwrap();
    assert_eq!(
        (d.service.name.as_str(), price.price_msat),
        ("weather", 100_000)
    );
}

#[test]
fn lnd_macaroon_from_a_file_or_text_exactly_one() {
    let base = "[backend]\nkind = \"lnd\"\n[backend.lnd]\naddress = \"127.0.0.1:10009\"\n";
    let check = |extra: &str| {
        SellerConfig::from_toml(&format!("{base}{extra}"), None).and_then(|c| c.check())
    };
    assert!(check("macaroon = { env = \"LND_MACAROON_HEX\" }\n").is_ok());
    assert!(check("macaroon = { env = \"M\" }\ntls_cert = { env = \"C\" }\n").is_ok());
    let both = check("macaroon = { env = \"M\" }\nmacaroon_path = \"/x\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        both.contains("backend.lnd.macaroon") && both.contains("not both"),
        "{both}"
    );
    let neither = check("").unwrap_err().to_string();
    assert!(
        neither.contains("macaroon_path") && neither.contains("required"),
        "{neither}"
    );
}
