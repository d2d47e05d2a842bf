use std::str::FromStr;

use super::*;
use crate::Network;

fn parse(text: &str) -> BackendSpec {
    toml::from_str(text).unwrap()
}

fn errors(findings: &Findings) -> Vec<(String, String)> {
    findings
        .errors()
        .map(|f| (f.key.clone(), f.message.clone()))
        .collect()
}

#[test]
fn kinds_parse_by_name_and_unknown_ones_list_the_choices() {
    for kind in BackendKind::ALL {
        assert_eq!(BackendKind::from_str(kind.as_str()).unwrap(), *kind);
        assert!(kind.is_built(), "the tests build every backend");
    }
    assert_eq!(BackendKind::from_str(" LND ").unwrap(), BackendKind::Lnd);
    let err = BackendKind::from_str("phoenixd").unwrap_err().to_string();
    assert!(
        err.contains("phoenixd") && err.contains("dev, lnd, lnbits, nwc, cln"),
        "{err}"
    );
    let err = toml::from_str::<BackendSpec>("kind = \"phoenixd\"").unwrap_err();
    assert!(err.to_string().contains("phoenixd"), "{err}");
}

#[test]
fn an_empty_section_is_the_dev_wallet_and_passes() {
    let spec = parse("");
    assert_eq!(spec.kind, BackendKind::Dev);
    assert!(spec.check(Role::Receive, "backend").is_usable());
    assert!(spec.check(Role::Pay, "wallet").is_usable());
}

#[test]
fn a_missing_table_and_an_unused_one_are_reported() {
    let spec = parse("kind = \"lnd\"\n[nwc]\nuri = { env = \"X\" }\n");
    let findings = spec.check(Role::Receive, "backend");
    assert_eq!(
        errors(&findings),
        vec![(
            "kind".to_owned(),
            "`kind = \"lnd\"` needs a `[backend.lnd]` table".to_owned()
        )]
    );
    let warned: Vec<_> = findings.warnings().map(|f| f.key.as_str()).collect();
    assert_eq!(warned, ["nwc"]);
}

#[test]
fn unknown_keys_are_refused() {
    let err =
        toml::from_str::<BackendSpec>("kind = \"lnd\"\n[lnd]\naddress = \"a:1\"\nbogus = 1\n")
            .unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");
}

#[test]
fn lnd_needs_an_address_and_exactly_one_macaroon() {
    let spec = parse("kind = \"lnd\"\n[lnd]\n");
    let found = errors(&spec.check(Role::Pay, "wallet"));
    assert!(found.iter().any(|(k, _)| k == "lnd.address"), "{found:?}");
    let (_, macaroon) = found
        .iter()
        .find(|(k, _)| k == "lnd.macaroon_path")
        .unwrap();
    assert!(
        macaroon.contains("admin.macaroon"),
        "the buyer's hint: {macaroon}"
    );

    let spec = parse(
        "kind = \"lnd\"\n[lnd]\nrest_address = \"https://127.0.0.1:8080\"\nmacaroon_path = \"/nonexistent/m\"\nmacaroon = \"00\"\n",
    );
    let found = errors(&spec.check(Role::Receive, "backend"));
    assert!(
        found
            .iter()
            .any(|(k, m)| k == "lnd.macaroon" && m.contains("not both")),
        "{found:?}"
    );

    let spec = parse("kind = \"lnd\"\n[lnd]\naddress = \"https://x\"\nmacaroon = \"00\"\n");
    let found = errors(&spec.check(Role::Receive, "backend"));
    assert_eq!(
        found,
        vec![("lnd.address".to_owned(), "expected `host:port`".to_owned())]
    );
}

#[test]
fn secrets_are_read_at_check_time_and_inline_ones_draw_a_warning() {
    let spec = parse(
        "kind = \"lnbits\"\n[lnbits]\nurl = \"https://lnbits.test\"\napi_key = { env = \"L402_SPEC_TEST_UNSET_VARIABLE\" }\n",
    );
    let found = errors(&spec.check(Role::Receive, "backend"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "lnbits.api_key");
    assert!(
        found[0].1.contains("L402_SPEC_TEST_UNSET_VARIABLE"),
        "{found:?}"
    );

    let spec = parse("kind = \"lnbits\"\n[lnbits]\nurl = \"ftp://x\"\napi_key = \"inline\"\n");
    let findings = spec.check(Role::Receive, "backend");
    assert_eq!(errors(&findings)[0].0, "lnbits.url");
    assert!(findings.warnings().any(|f| f.key == "lnbits.api_key"));

    let spec = parse("kind = \"lnbits\"\n[lnbits]\nurl = \"http://x\"\n");
    let found = errors(&spec.check(Role::Pay, "wallet"));
    assert!(found[0].1.contains("admin key"), "{found:?}");
}

#[test]
fn nwc_wants_its_uri_scheme_and_cln_one_transport() {
    let spec = parse("kind = \"nwc\"\n[nwc]\nuri = \"https://not-nwc\"\n");
    let found = errors(&spec.check(Role::Pay, "wallet"));
    assert_eq!(found[0].0, "nwc.uri");

    let spec = parse(
        "kind = \"cln\"\n[cln]\nrest_url = \"https://127.0.0.1:3010\"\ngrpc_address = \"127.0.0.1:9736\"\n",
    );
    let found = errors(&spec.check(Role::Receive, "backend"));
    assert!(found[0].1.contains("exactly one"), "{found:?}");

    let spec = parse("kind = \"cln\"\n[cln]\nrest_url = \"https://127.0.0.1:3010\"\n");
    let found = errors(&spec.check(Role::Pay, "wallet"));
    assert!(
        found
            .iter()
            .any(|(k, m)| k == "cln.rune" && m.contains("pay")),
        "{found:?}"
    );
}

#[test]
fn relative_paths_follow_the_configuration_file() {
    let mut spec = parse(
        "kind = \"lnd\"\n[lnd]\naddress = \"a:1\"\nmacaroon_path = \"m\"\ntls_cert = { file = \"c\" }\n[dev]\nconnection_file = \"d.json\"\n",
    );
    spec.resolve_relative_paths(Path::new("/etc/l402"));
    let lnd = spec.lnd.as_ref().unwrap();
    assert_eq!(lnd.macaroon_path.as_deref(), Some(Path::new("/etc/l402/m")));
    assert_eq!(lnd.tls_cert, Some(SecretSource::File("/etc/l402/c".into())));
    assert_eq!(
        spec.dev.unwrap().connection_file.as_deref(),
        Some(Path::new("/etc/l402/d.json"))
    );
}

#[test]
fn a_missing_table_or_wallet_is_a_clear_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context {
        section: "wallet",
        data_dir: dir.path(),
    };
    let err = parse("kind = \"cln\"")
        .connect(Role::Pay, &ctx)
        .err()
        .unwrap();
    assert!(err.is_bad_input());
    assert!(err.to_string().contains("[wallet.cln]"), "{err}");

    let err = parse("").connect(Role::Pay, &ctx).err().unwrap();
    assert!(
        !err.is_bad_input(),
        "no wallet running is not a configuration error"
    );
    assert!(err.to_string().contains("l402 wallet serve"), "{err}");

    let err = parse("kind = \"cln\"\n[cln]\nrpc_socket_path = \"/run/cln\"\n")
        .connect(Role::Pay, &ctx)
        .err()
        .unwrap();
    assert!(err.to_string().contains("CLNRest only"), "{err}");
}

#[tokio::test]
async fn a_seller_runs_the_dev_wallet_and_a_buyer_reaches_it_through_the_connection_file() {
    let dir = tempfile::tempdir().unwrap();
    let seller_ctx = Context {
        section: "backend",
        data_dir: dir.path(),
    };
    let opened = parse("").open(Role::Receive, &seller_ctx).await.unwrap();
    let server = opened
        .embedded
        .expect("the seller's wallet runs in-process");
    assert_eq!(
        opened.dev_wallet_url.as_deref(),
        Some(server.url().as_str())
    );

    let buyer_ctx = Context {
        section: "wallet",
        data_dir: dir.path(),
    };
    let wallet = parse("").connect(Role::Pay, &buyer_ctx).unwrap();
    let info = wallet.node_info().await.unwrap();
    assert_eq!(info.network, Network::Regtest);
    let opened = parse("").open(Role::Pay, &buyer_ctx).await.unwrap();
    assert!(opened.embedded.is_none());
    server.shutdown().await.unwrap();
}
