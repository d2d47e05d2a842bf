use std::collections::HashMap;

use super::*;
use l402_lightning::spec::{BackendKind, SecretSource};

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_without_a_file() {
    let c = ClientConfig::from_toml("", None).unwrap();
    assert_eq!(c, ClientConfig::default());
    let b = c.budget();
    assert_eq!(b.hourly, Some(Msat::from_sat(10_000)));
    assert_eq!(b.daily, Some(Msat::from_sat(50_000)));
    assert_eq!(b.max_fee, Msat::from_sat(10));
    assert_eq!(c.max_cost(), Msat::from_sat(1000));
    assert_eq!(c.wallet.kind, BackendKind::Dev);
}

#[test]
fn full_file() {
    let text = r#"
data_dir = "/tmp/l402-data"
network = "regtest"

[budget]
max_cost_sat = 500
max_fee_sat = 3
max_per_request_sat = 503
hourly_sat = "none"
daily_sat = 2000
total_sat = 9000
allow_domains = ["api.example.com", "*.example.org"]
deny_domains = ["evil.example.org"]

[budget.per_domain_sat]
"API.example.com" = 700

[payment]
timeout_secs = 15

[http]
timeout_secs = 5
user_agent = "agent/1"

[wallet]
kind = "dev"
[wallet.dev]
connection_file = "/tmp/wallet/dev-wallet.json"
"#;
    let c = ClientConfig::from_toml(text, None).unwrap();
    assert_eq!(c.network, Some(Network::Regtest));
    assert_eq!(
        c.store_path().unwrap(),
        PathBuf::from("/tmp/l402-data/client.db")
    );
    let b = c.budget();
    assert_eq!(b.hourly, None);
    assert_eq!(b.daily, Some(Msat::from_sat(2000)));
    assert_eq!(b.total, Some(Msat::from_sat(9000)));
    assert_eq!(b.max_per_request, Some(Msat::from_sat(503)));
    assert_eq!(b.max_fee, Msat::from_sat(3));
    assert_eq!(
        b.per_domain.get("api.example.com"),
        Some(&Msat::from_sat(700))
    );
    assert_eq!(b.deny_domains, vec!["evil.example.org".to_owned()]);
    assert_eq!(c.max_cost(), Msat::from_sat(500));
    assert_eq!(c.payment.timeout_secs, 15);
    assert_eq!(c.http.user_agent.as_deref(), Some("agent/1"));
    assert_eq!(
        c.dev_connection_file().unwrap(),
        PathBuf::from("/tmp/wallet/dev-wallet.json")
    );
    assert!(c.client_builder().is_ok());
}

#[test]
fn unknown_keys_name_file_line_and_key() {
    let text = "network = \"regtest\"\n\n[budget]\nmax_cost_sat = 5\ndayly_sat = 10\n";
    let err = ClientConfig::from_toml(text, Some(Path::new("/etc/l402.toml"))).unwrap_err();
    let ConfigError::Invalid { location, message } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(location.file.as_deref(), Some(Path::new("/etc/l402.toml")));
    assert_eq!(location.line, Some(5), "{err}");
    assert_eq!(location.key, "budget.dayly_sat");
    assert!(message.contains("unknown field"), "{message}");
    assert!(
        err.to_string()
            .starts_with("/etc/l402.toml:5: key `budget.dayly_sat`"),
        "{err}"
    );

    let top = ClientConfig::from_toml("colour = 1\n", None).unwrap_err();
    assert!(top.to_string().contains("key `colour`"), "{top}");
}

#[test]
fn bad_values_name_their_key() {
    let err = ClientConfig::from_toml("network = \"moon\"\n", None).unwrap_err();
    assert!(err.to_string().contains("network"), "{err}");
    assert!(err.to_string().contains("unknown network"), "{err}");
    let err = ClientConfig::from_toml("[budget]\ndaily_sat = \"lots\"\n", None).unwrap_err();
    assert!(err.to_string().contains("budget.daily_sat"), "{err}");
    let err = ClientConfig::from_toml("[wallet]\nkind = \"phoenixd\"\n", None).unwrap_err();
    assert!(err.to_string().contains("wallet.kind"), "{err}");
    let err = ClientConfig::from_toml("[budget\n", None).unwrap_err();
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
}

#[test]
fn env_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[budget]\nmax_cost_sat = 5\ndaily_sat = 100\n").unwrap();
    let c = ClientConfig::load_with_env(
        Some(&path),
        &env(&[
            (ENV_MAX_COST_SAT, "42"),
            (ENV_DAILY_SAT, "none"),
            (ENV_TOTAL_SAT, "7"),
            (ENV_DATA_DIR, "/tmp/x"),
            (ENV_NETWORK, "signet"),
            (ENV_ALLOW_DOMAINS, "a.test, b.test,"),
            (ENV_PAYMENT_TIMEOUT_SECS, "9"),
        ]),
    )
    .unwrap();
    assert_eq!(c.source.as_deref(), Some(path.as_path()));
    assert_eq!(c.budget.max_cost_sat, 42);
    assert_eq!(c.budget.daily_sat, None);
    assert_eq!(c.budget.total_sat, Some(7));
    assert_eq!(c.data_dir().unwrap(), PathBuf::from("/tmp/x"));
    assert_eq!(c.network, Some(Network::Signet));
    assert_eq!(
        c.budget.allow_domains,
        vec!["a.test".to_owned(), "b.test".to_owned()]
    );
    assert_eq!(c.payment.timeout_secs, 9);

    let err =
        ClientConfig::load_with_env(Some(&path), &env(&[(ENV_MAX_FEE_SAT, "ten")])).unwrap_err();
    assert!(err.to_string().contains(ENV_MAX_FEE_SAT), "{err}");
}

#[test]
fn a_named_file_must_exist() {
    let err = ClientConfig::load_with_env(Some(Path::new("/nonexistent/l402.toml")), &env(&[]))
        .unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
}

#[test]
fn the_dev_wallet_is_found_through_its_connection_file() {
    let dir = tempfile::tempdir().unwrap();
    let c =
        ClientConfig::load_with_env(None, &env(&[(ENV_DATA_DIR, dir.path().to_str().unwrap())]))
            .unwrap();
    assert_eq!(
        c.dev_connection_file().unwrap(),
        dir.path().join("dev-wallet.json")
    );
    let err = c.open_wallet().err().expect("no wallet is running");
    assert!(err.to_string().contains("wallet serve"), "{err}");
    l402_lightning::dev::write_connection_file(
        dir.path(),
        &l402_lightning::dev::ConnectionInfo {
            url: "http://127.0.0.1:9".into(),
            access_token: "t".into(),
        },
    )
    .unwrap();
    assert!(c.open_wallet().is_ok());
}

/// The whole error chain, as the binary prints it.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

#[test]
fn lnd_lnbits_and_cln_wallets_parse_and_report_missing_credentials() {
    let c = ClientConfig::from_toml(
        "[wallet]\nkind = \"lnd\"\n[wallet.lnd]\nrest_address = \"127.0.0.1:8080\"\nmacaroon_path = \"/nonexistent/admin.macaroon\"\n",
        None,
    )
    .unwrap();
    assert_eq!(c.wallet.kind, BackendKind::Lnd);
    let err = c
        .open_wallet()
        .err()
        .expect("a missing macaroon file must fail");
    assert_eq!(err.category(), crate::ErrorCategory::BadInput);
    let text = chain(&err);
    assert!(
        text.contains("[wallet.lnd]") && text.contains("admin.macaroon"),
        "{text}"
    );

    // LNbits: the admin key comes from L402_LNBITS_ADMIN_KEY unless `api_key` says otherwise.
    let c = ClientConfig::from_toml(
        "[wallet]\nkind = \"lnbits\"\n[wallet.lnbits]\nurl = \"http://127.0.0.1:5000\"\n",
        None,
    )
    .unwrap();
    assert_eq!(c.wallet.kind, BackendKind::Lnbits);
    assert_eq!(
        c.wallet_spec().lnbits.unwrap().api_key,
        Some(SecretSource::Env(ENV_LNBITS_ADMIN_KEY.into()))
    );
    let c = ClientConfig::from_toml(
        "[wallet]\nkind = \"lnbits\"\n[wallet.lnbits]\nurl = \"http://127.0.0.1:5000\"\napi_key = { env = \"L402_TEST_NEVER_SET_KEY\" }\n",
        None,
    )
    .unwrap();
    let text = chain(&c.open_wallet().err().expect("an unset variable must fail"));
    assert!(text.contains("L402_TEST_NEVER_SET_KEY"), "{text}");

    // Core Lightning pays too; building it contacts nothing.
    let dir = tempfile::tempdir().unwrap();
    let c = ClientConfig::from_toml(
        &format!(
            "data_dir = \"{}\"\n[wallet]\nkind = \"cln\"\n[wallet.cln]\nrest_url = \"https://127.0.0.1:9\"\nrune = {{ env = \"L402_TEST_NEVER_SET_RUNE\" }}\n",
            dir.path().display()
        ),
        None,
    )
    .unwrap();
    let text = chain(&c.open_wallet().err().expect("an unset rune must fail"));
    assert!(
        text.contains("[wallet.cln] rune") && text.contains("L402_TEST_NEVER_SET_RUNE"),
        "{text}"
    );
    std::fs::write(dir.path().join("rune"), "c29tZS1ydW5l\n").unwrap();
    let c = ClientConfig::from_toml(
        &format!(
            "[wallet]\nkind = \"cln\"\n[wallet.cln]\nrest_url = \"https://127.0.0.1:9\"\nrune = {{ file = \"{}\" }}\n",
            dir.path().join("rune").display()
        ),
        None,
    )
    .unwrap();
    assert!(c.open_wallet().is_ok(), "a CLN wallet is built lazily");

    let bad = ClientConfig::from_toml(
        "[wallet]\nkind = \"lnd\"\n[wallet.lnd]\nmacaroon_path = \"x\"\nbogus = 1\n",
        None,
    );
    assert!(bad.unwrap_err().to_string().contains("bogus"));
}

#[test]
fn the_environment_names_the_wallet_and_its_credentials() {
    let c = ClientConfig::load_with_env(
        None,
        &env(&[
            ("L402_WALLET", "nwc"),
            (ENV_NWC_URI, "nostr+walletconnect://x"),
        ]),
    )
    .unwrap();
    assert_eq!(c.wallet.kind, BackendKind::Nwc);
    assert_eq!(
        c.wallet.nwc.unwrap().uri,
        SecretSource::Env(ENV_NWC_URI.into())
    );
    let err = ClientConfig::load_with_env(None, &env(&[("L402_WALLET", "phoenixd")])).unwrap_err();
    assert!(
        err.to_string().contains("L402_WALLET") && err.to_string().contains("cln"),
        "{err}"
    );
    // Without a table or the variable, an nwc wallet names the variable it reads.
    let c = ClientConfig::load_with_env(None, &env(&[("L402_WALLET", "nwc")])).unwrap();
    assert_eq!(
        c.wallet_spec().nwc.unwrap().uri,
        SecretSource::Env(ENV_NWC_URI.into())
    );
}

#[test]
fn the_mcp_section_and_its_variable() {
    let c = ClientConfig::default();
    assert!(
        !c.mcp.allow_private_networks,
        "private networks are refused by default"
    );
    let c = ClientConfig::from_toml(
        "[mcp]\nallow_private_networks = true\nallowed_origins = [\"https://a.test\"]\n",
        None,
    )
    .unwrap();
    assert!(c.mcp.allow_private_networks);
    assert_eq!(c.mcp.allowed_origins, vec!["https://a.test".to_owned()]);
    let c = ClientConfig::load_with_env(None, &env(&[(ENV_MCP_ALLOW_PRIVATE_NETWORKS, "true")]))
        .unwrap();
    assert!(c.mcp.allow_private_networks);
    let err = ClientConfig::load_with_env(None, &env(&[(ENV_MCP_ALLOW_PRIVATE_NETWORKS, "maybe")]))
        .unwrap_err();
    assert!(
        err.to_string().contains(ENV_MCP_ALLOW_PRIVATE_NETWORKS),
        "{err}"
    );
}
