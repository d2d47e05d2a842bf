use std::collections::HashMap;

use super::*;

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
    assert_eq!(c.wallet.kind, WalletKind::Dev);
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

#[test]
fn lnd_and_lnbits_wallets_parse_and_report_missing_credentials() {
    let c = ClientConfig::from_toml(
        "[wallet]\nkind = \"lnd\"\n[wallet.lnd]\nrest_address = \"127.0.0.1:8080\"\nmacaroon_path = \"/nonexistent/admin.macaroon\"\n",
        None,
    )
    .unwrap();
    assert_eq!(c.wallet.kind, WalletKind::Lnd);
    let err = c
        .open_wallet()
        .err()
        .expect("a missing macaroon file must fail");
    assert!(err.to_string().contains("admin.macaroon"), "{err}");

    let c = ClientConfig::from_toml(
        "[wallet]\nkind = \"lnbits\"\n[wallet.lnbits]\nurl = \"http://127.0.0.1:5000\"\n",
        None,
    )
    .unwrap();
    assert_eq!(c.wallet.kind, WalletKind::Lnbits);
    let err = match c.open_wallet() {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    };
    // Either the environment provides a key (then the wallet opens) or the error names where
    // the key must come from.
    if std::env::var(super::ENV_LNBITS_ADMIN_KEY).is_err() {
        assert!(
            err.contains("L402_LNBITS_ADMIN_KEY") && err.contains("admin_key_file"),
            "{err}"
        );
    }
    let bad = ClientConfig::from_toml(
        "[wallet]\nkind = \"lnd\"\n[wallet.lnd]\nmacaroon_path = \"x\"\nbogus = 1\n",
        None,
    );
    assert!(bad.is_err());
}
