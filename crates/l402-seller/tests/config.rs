//! The seller's configuration file: the L402 keys next to the proxy's, parsing errors with
//! file/line/key, semantic checks, overrides, and the price of each route.

use http::Method;
use l402_seller::BackendKind;
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

/// The error `--check` finds in `text`.
fn check_error(text: &str) -> ConfigError {
    SellerConfig::from_toml(text, None)
        .unwrap()
        .check()
        .unwrap_err()
}

/// The line and key path of each diagnostic of `err`.
fn located(err: &ConfigError) -> Vec<(Option<usize>, &str)> {
    err.diagnostics()
        .iter()
        .map(|d| (d.location.line, d.location.key.as_str()))
        .collect()
}

#[test]
fn proxy_backend_and_terms_problems_come_in_one_list_by_line() {
    let text = "[backend]\nkind = \"lnd\"\n[[services]]\nname = \"Bad Name\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\nfree_paths = [\"no-slash\"]\n";
    let err = check_error(text);
    assert_eq!(
        located(&err),
        [
            (Some(2), "backend.kind"),
            (Some(4), "services[0].name"),
            (Some(7), "services[0].free_paths[0]"),
        ],
        "{err}"
    );
}

#[test]
fn a_free_path_not_in_normal_form_is_refused() {
    // Requests are priced by their normalised path: `//health` or `/%68ealth` would never
    // match one, so the check says what to write instead.
    let text = "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\nfree_paths = [\"/ok/*\", \"//health\", \"/%68ealth\"]\n";
    let err = SellerConfig::from_toml(text, None)
        .unwrap()
        .check()
        .unwrap_err();
    let found: Vec<&str> = err
        .diagnostics()
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(found.len(), 2, "{err}");
    assert!(found.iter().all(|m| m.contains("write `/health`")), "{err}");
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
        "data_dir = \"state\"\n[backend]\nkind = \"lnd\"\n[backend.lnd]\naddress = \"127.0.0.1:10009\"\nmacaroon_path = \"m.mac\"\ntls_cert = { file = \"tls.pem\" }\n",
    );
    let config = SellerConfig::load(&path).unwrap();
    let dir = path.parent().unwrap();
    assert_eq!(config.data_dir(), dir.join("state"));
    let lnd = config.l402.backend.lnd.unwrap();
    assert_eq!(lnd.macaroon_path, Some(dir.join("m.mac")));
    assert_eq!(
        lnd.tls_cert,
        Some(l402_server::config::SecretSource::File(dir.join("tls.pem")))
    );
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

#[test]
fn route_prices() {
    let config = SellerConfig::from_toml(ROUTING, None).unwrap();
    config.check().unwrap();
    let router = Router::new(&config.proxy).unwrap();
    let prices = PriceTable::new(&config).unwrap();
    // "METHOD host path" -> "service price_msat free|paid [required capabilities]"
    let table = [
        ("GET api.example.com /v1/items", "api 5000 paid"),
        ("POST api.example.com /v1/items", "api 50000 paid write"),
        ("PUT API.example.com:443 /v1/items", "api 50000 paid write"),
        // First route wins: POST /v1/free hits the POST rule before the free rule.
        ("POST api.example.com /v1/free", "api 50000 paid write"),
        ("GET api.example.com /v1/free", "api 10000 free"),
        ("GET api.example.com /health", "api 10000 free"),
        ("GET api.example.com /public", "api 10000 free"),
        ("GET api.example.com /public/a/b", "api 10000 free"),
        ("GET api.example.com /other", "api 10000 paid"),
        // The wildcard host matches subdomains, not the apex; first match wins.
        ("GET eu.example.com /weather/today", "weather 2000 paid"),
        ("GET a.b.example.com /weather", "weather 2000 paid"),
        ("GET eu.example.com /weatherman", "catchall 0 free"),
        ("GET example.com /weather", "catchall 0 free"),
        ("GET elsewhere.org /anything", "catchall 0 free"),
    ];
    for (request, expected) in table {
        let [method, host, path] = request.split(' ').collect::<Vec<_>>()[..] else {
            panic!("bad row {request}");
        };
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let d = router.route(&method, Some(host), path).unwrap();
        let (_, p) = prices.price(&d).unwrap();
        let free = if p.free { "free" } else { "paid" };
        let got = format!(
            "{} {} {free} {}",
            d.service.name,
            p.price_msat,
            p.required_capabilities.join(",")
        );
        assert_eq!(got.trim_end(), expected, "{request}");
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
    let (_, price) = PriceTable::new(&config).unwrap().price(&d).unwrap();
    assert_eq!(
        (d.service.name.as_str(), price.price_msat),
        ("weather", 100_000)
    );
}

#[test]
fn lnd_macaroon_from_a_file_or_text_exactly_one() {
    let dir = tempfile::tempdir().unwrap();
    let (macaroon, cert) = (dir.path().join("m.hex"), dir.path().join("c.pem"));
    std::fs::write(&macaroon, "0201").unwrap();
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\n").unwrap();
    let base = "[backend]\nkind = \"lnd\"\n[backend.lnd]\naddress = \"127.0.0.1:10009\"\n";
    let check = |extra: &str| {
        SellerConfig::from_toml(&format!("{base}{extra}"), None).and_then(|c| c.check())
    };
    let m = format!("macaroon = {{ file = \"{}\" }}\n", macaroon.display());
    let c = format!("tls_cert = {{ file = \"{}\" }}\n", cert.display());
    assert!(check(&m).is_ok());
    assert!(check(&format!("{m}{c}")).is_ok());
    // Secrets are read at check time: an unset variable is named.
    let unset = check("macaroon = { env = \"L402_TEST_UNSET_LND_MACAROON\" }\n")
        .unwrap_err()
        .to_string();
    assert!(
        unset.contains("backend.lnd.macaroon") && unset.contains("L402_TEST_UNSET_LND_MACAROON"),
        "{unset}"
    );
    let both = check(&format!("{m}macaroon_path = \"/x\"\n"))
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

#[test]
fn forwarding_the_credential_is_a_per_service_choice_off_by_default() {
    use l402_seller::pricing::RoutePricer;
    use l402_tower::Pricer;
    let config = SellerConfig::from_toml(
        "[[services]]\nname = \"a\"\npath_prefix = \"/a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\
         [[services]]\nname = \"b\"\npath_prefix = \"/b\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\nforward_credential = true\n",
        None,
    )
    .unwrap();
    config.check().unwrap();
    let router = Router::new(&config.proxy).unwrap();
    let pricer = RoutePricer::new(PriceTable::new(&config).unwrap());
    for (path, forwarded) in [("/a/x", false), ("/b/x", true)] {
        let decision = router.route(&Method::GET, Some("h"), path).unwrap();
        let mut parts = http::Request::get(path).body(()).unwrap().into_parts().0;
        parts.extensions.insert(decision);
        let offer = pricer.offer(&parts).expect("a priced request");
        assert_eq!(offer.forward_credential, forwarded, "{path}");
    }
}

#[test]
fn a_route_no_challenge_can_satisfy_is_refused_at_its_line() {
    let caps: Vec<String> = (0..l402_core::limits::MAX_LIST_ENTRIES)
        .map(|i| format!("\"c{i}\""))
        .collect();
    let text = format!(
        "[[services]]\nname = \"api\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\ncapabilities = [{}]\n\
         [[services.routes]]\npath = \"/a\"\ncapabilities_required = [\"admin\"]\n\
         [[services.routes]]\npath = \"/b\"\ncapabilities_required = [\"c0\"]\nprice_sat = 9\n\
         [[services.routes]]\npath = \"/c\"\ncapabilities_required = [\"admin\"]\nfree = true\n",
        caps.join(", ")
    );
    let err = check_error(&text);
    // The first route's token would list 33 capabilities, beyond what any verifier accepts;
    // the second (a granted capability) and the free third are fine.
    assert_eq!(located(&err), [(Some(6), "services[0].routes[0]")], "{err}");
    assert!(err.to_string().contains("caveat_list_too_long"), "{err}");

    // A route requiring a capability the service never grants is sellable: its challenges
    // mint it.
    let text = "[[services]]\nname = \"api\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\
                [[services.routes]]\npath = \"/a\"\ncapabilities_required = [\"admin\"]\n";
    assert!(SellerConfig::from_toml(text, None).unwrap().check().is_ok());
}

#[test]
fn rate_limits_and_clients_are_checked_at_their_lines() {
    let text = "[clients]\nipv6_prefix_len = 0\nrate_limit = { requests = 0, per = \"1s\" }\n\
                [[services]]\nname = \"api\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\
                rate_limit = { requests = 5, per = \"500ms\", burst = 0 }\n\
                [[services.routes]]\npath = \"/a\"\nrate_limit = { requests = 1, per = \"1m\" }\n\
                [[services.routes]]\npath = \"/b\"\nrate_limit = { requests = 1, per = 0 }\n";
    let err = check_error(text);
    assert_eq!(
        located(&err),
        [
            (Some(2), "clients.ipv6_prefix_len"),
            (Some(3), "clients.rate_limit.requests"),
            (Some(8), "services[0].rate_limit.per"),
            (Some(8), "services[0].rate_limit.burst"),
            (Some(14), "services[0].routes[1].rate_limit.per"),
        ],
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("whole number of seconds"), "{message}");
    assert!(message.contains("must be at least 1"), "{message}");
    // A typo in a rate limit is refused by name.
    let typo = "[[services]]\nname = \"api\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\
                rate_limit = { requests = 5, per = \"1s\", brust = 9 }\n";
    let err = SellerConfig::from_toml(typo, None).unwrap_err().to_string();
    assert!(err.contains("brust") && err.contains("line 5"), "{err}");
}

#[test]
fn the_route_limit_wins_then_the_service_then_clients() {
    let text = "[clients]\nmax_unpaid_challenges = 0\nipv6_prefix_len = 56\n\
                rate_limit = { requests = 10, per = \"1s\", burst = 20 }\n\
                [[services]]\nname = \"a\"\npath_prefix = \"/a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\
                rate_limit = { requests = 2, per = \"1m\" }\n\
                [[services.routes]]\npath = \"/a/strict\"\nrate_limit = { requests = 1, per = \"1h\" }\n\
                [[services.routes]]\npath = \"/a/dear\"\nprice_sat = 5\n\
                [[services]]\nname = \"b\"\npath_prefix = \"/b\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n";
    let config = SellerConfig::from_toml(text, None).unwrap();
    config.check().unwrap();
    let settings = config.l402.clients.paywall_settings();
    assert_eq!(
        settings.max_unpaid_challenges_per_client, None,
        "0 lifts the cap"
    );
    assert_eq!(settings.ipv6_prefix_len, 56);
    let router = Router::new(&config.proxy).unwrap();
    let prices = PriceTable::new(&config).unwrap();
    let limit = |path: &str| {
        let d = router.route(&Method::GET, None, path).unwrap();
        prices.rate_limit(&d).map(|r| {
            let l = r.limit;
            (r.scope, l.requests, l.per_secs, l.burst)
        })
    };
    let service = limit("/a/x").unwrap();
    assert_eq!(
        (service.1, service.2, service.3),
        (2, 60, 2),
        "burst defaults to requests"
    );
    let strict = limit("/a/strict").unwrap();
    assert_eq!((strict.1, strict.2, strict.3), (1, 3600, 1));
    assert_ne!(strict.0, service.0, "the route fills its own buckets");
    assert_eq!(
        limit("/a/dear"),
        Some(service),
        "a route without one shares the service's"
    );
    let global = limit("/b/x").unwrap();
    assert_eq!((global.1, global.2, global.3), (10, 1, 20));
    assert!(global.0 != service.0 && global.0 != strict.0);

    // No configuration: the cap on, no rate limit.
    let plain = SellerConfig::from_toml(
        "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n",
        None,
    )
    .unwrap();
    let settings = plain.l402.clients.paywall_settings();
    assert_eq!(settings.max_unpaid_challenges_per_client, Some(64));
    assert_eq!(settings.ipv6_prefix_len, 64);
    let router = Router::new(&plain.proxy).unwrap();
    let d = router.route(&Method::GET, None, "/x").unwrap();
    assert_eq!(PriceTable::new(&plain).unwrap().rate_limit(&d), None);
}

#[test]
fn the_stream_grace_is_a_top_level_whole_number_of_seconds() {
    let service = "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n";
    let unset = SellerConfig::from_toml(service, None).unwrap();
    assert_eq!(
        unset.l402.stream_grace_secs, None,
        "the paywall's default applies"
    );
    let set = SellerConfig::from_toml(&format!("stream_grace_secs = 3\n{service}"), None).unwrap();
    assert_eq!(set.l402.stream_grace_secs, Some(3));
    let err =
        SellerConfig::from_toml(&format!("\nstream_grace_secs = -1\n{service}"), None).unwrap_err();
    assert_eq!(located(&err), [(Some(2), "stream_grace_secs")], "{err}");
}

#[test]
fn an_admin_listener_off_loopback_is_warned_about_and_a_bad_one_refused() {
    let warnings_of = |toml: &str| -> Vec<String> {
        let config = SellerConfig::from_toml(toml, None).unwrap();
        config
            .check()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let public = warnings_of("[admin]\nlisten = \"0.0.0.0:9402\"\n");
    assert!(
        public
            .iter()
            .any(|w| w.contains("admin.listen") && w.contains("/metrics")),
        "{public:?}"
    );
    let local = warnings_of("[admin]\nlisten = \"127.0.0.1:9402\"\n");
    assert!(
        !local.iter().any(|w| w.contains("admin.listen")),
        "{local:?}"
    );
    let err = SellerConfig::from_toml("[admin]\nlisten = \"localhost\"\n", None).unwrap_err();
    assert!(err.to_string().contains("admin"), "{err}");
    let err = SellerConfig::from_toml("[admin]\nport = 1\n", None).unwrap_err();
    assert!(err.to_string().contains("port"), "{err}");
}

#[test]
fn discovery_settings_are_checked_at_their_line_and_default_to_on() {
    let err = check_error(
        "[backend]\nkind = \"dev\"\n[discovery]\nprovider_name = \" \"\nprovider_uri = \"api.example.com\"\n\
         [[services]]\nname = \"s\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n",
    );
    assert_eq!(
        located(&err),
        [
            (Some(4), "discovery.provider_name"),
            (Some(5), "discovery.provider_uri")
        ],
        "{err}"
    );
    let ok = SellerConfig::from_toml(
        "[backend]\nkind = \"dev\"\n[[services]]\nname = \"s\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n",
        None,
    )
    .unwrap();
    assert!(ok.l402.discovery.enabled);
    assert!(ok.check().is_ok());
    let unknown = SellerConfig::from_toml(
        "[backend]\nkind = \"dev\"\n[discovery]\nenable = false\n",
        None,
    );
    assert!(unknown.is_err(), "unknown keys are refused");
}

#[test]
fn the_store_url_defaults_to_sqlite_and_reads_postgres_from_a_secret_source() {
    let service = "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n";
    let plain =
        SellerConfig::from_toml(&format!("data_dir = \"/srv/l402\"\n{service}"), None).unwrap();
    assert_eq!(
        plain.store_url().unwrap(),
        l402_store::StoreUrl::Sqlite("/srv/l402/l402.db".into())
    );

    let inline = format!(
        "data_dir = \"/srv/l402\"\n[store]\nurl = \"postgres://l402:s3cret@db:5432/l402\"\n{service}"
    );
    let config = SellerConfig::from_toml(&inline, None).unwrap();
    let url = config.store_url().unwrap();
    assert!(url.is_postgres());
    assert_eq!(url.to_string(), "postgres://l402:***@db:5432/l402");
    assert!(!format!("{config:?}").contains("s3cret"), "{config:?}");
    let warnings = config.check().unwrap();
    assert!(
        warnings.iter().any(|w| w.to_string().contains("store.url")),
        "a password written inline is warned about: {warnings:?}"
    );

    let var = "L402_TEST_STORE_URL_FROM_ENV";
    let from_env = format!("[store]\nurl = {{ env = \"{var}\" }}\n{service}");
    let config = SellerConfig::from_toml(&from_env, None).unwrap();
    assert!(config.store_url().is_err(), "unset variable");
    let empty = SellerConfig::from_toml(&format!("[store]\nurl = \"\"\n{service}"), None).unwrap();
    assert!(empty.check().is_err());
}

#[test]
fn protocols_are_per_service_l402_by_default_and_checked() {
    use l402_tower::Protocols;
    let text = "mpp_realm = \"api.example\"\n\
        [[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\
        [[services]]\nname = \"b\"\nupstream = \"http://127.0.0.1:1\"\npath_prefix = \"/b\"\nprice_sat = 1\nprotocols = [\"mpp\"]\n\
        [[services]]\nname = \"c\"\nupstream = \"http://127.0.0.1:1\"\npath_prefix = \"/c\"\nprice_sat = 1\nprotocols = [\"l402\", \"mpp\"]\n";
    let config = SellerConfig::from_toml(text, None).unwrap();
    assert!(config.check().is_ok(), "{:?}", config.check());
    assert_eq!(config.l402.mpp_realm.as_deref(), Some("api.example"));
    let sold: Vec<Protocols> = config.l402.services.iter().map(|t| t.protocols()).collect();
    assert_eq!(
        sold,
        [
            Protocols {
                l402: true,
                mpp: false
            },
            Protocols {
                l402: false,
                mpp: true
            },
            Protocols {
                l402: true,
                mpp: true
            },
        ]
    );
    let base = "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n";
    let err = check_error(&format!("{base}protocols = []\n"));
    assert_eq!(located(&err), [(Some(5), "services[0].protocols")], "{err}");
    let err = check_error(&format!("{base}protocols = [\"mpp\", \"mpp\"]\n"));
    assert_eq!(
        located(&err),
        [(Some(5), "services[0].protocols[1]")],
        "{err}"
    );
    let err =
        SellerConfig::from_toml(&format!("{base}protocols = [\"x402\"]\n"), None).unwrap_err();
    assert!(err.to_string().contains("protocols"), "{err}");
    let err = check_error(&format!("mpp_realm = \"\"\n{base}"));
    assert_eq!(located(&err), [(Some(1), "mpp_realm")], "{err}");
}

#[test]
fn mcp_tool_prices_are_checked_at_their_lines() {
    let base = "[[services]]\nname = \"tools\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 0\n";
    // Tools without `mcp = true`, a tool named twice, one priced 0, a bad name.
    let text = format!(
        "{base}[[services.tools]]\nname = \"search\"\nprice_sat = 2\n\
         [[services]]\nname = \"mcp\"\nupstream = \"http://127.0.0.1:2\"\nprice_sat = 0\nmcp = true\n\
         [[services.tools]]\nname = \"search\"\nprice_sat = 2\n\
         [[services.tools]]\nname = \"search\"\nprice_sat = 0\n\
         [[services.tools]]\nname = \"no spaces\"\nprice_sat = 1\n"
    );
    let err = check_error(&text);
    let keys: Vec<&str> = located(&err).into_iter().map(|(_, k)| k).collect();
    assert_eq!(
        keys,
        [
            "services[0].tools",
            "services[1].tools[1].name",
            "services[1].tools[1].price_sat",
            "services[1].tools[2].name"
        ],
        "{err}"
    );
    // Routes or metering on an MCP service are refused: it is sold per tool call.
    let text = format!(
        "{}mcp = true\nbilling = \"metered\"\n[[services.routes]]\npath = \"/a\"\n",
        base.replace("price_sat = 0", "price_sat = 1")
    );
    let keys: Vec<String> = located(&check_error(&text))
        .into_iter()
        .map(|(_, k)| k.to_owned())
        .collect();
    assert!(keys.contains(&"services[0].routes".to_owned()), "{keys:?}");
    assert!(keys.contains(&"services[0].billing".to_owned()), "{keys:?}");
    // A good one, and each tool's price.
    let config = SellerConfig::from_toml(
        &format!("{base}mcp = true\n[[services.tools]]\nname = \"search\"\nprice_sat = 3\ndescription = \"d\"\n"),
        None,
    )
    .unwrap();
    config.check().unwrap();
    let terms = &config.l402.services[0];
    assert_eq!(terms.tool_price("search").0, 3);
    assert_eq!(terms.tool_price("other"), (0, None));
}
