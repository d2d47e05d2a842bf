//! Configuration: parsing errors with file/line/key, semantic checks, overrides, and the routing
//! table.

mod common;

use std::time::Duration;

use http::Method;
use l402_server::config::{ConfigError, ConfigExtension};
use l402_server::{Config, ConfigOverrides, Router};

fn write_config(text: &str) -> std::path::PathBuf {
    let path = common::temp_path("l402.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let path = write_config("[listen]\naddr = \"127.0.0.1:8402\"\nbogus_key = 1\n");
    let err = Config::load(&path).unwrap_err();
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
    let text = "\n[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\n\n[[services]]\nname = \"b\"\nupstream = \"http://127.0.0.1:1\"\ncolour = \"red\"\n";
    let path = write_config(text);
    let err = Config::load(&path).unwrap_err();
    let d = err.diagnostics()[0].clone();
    assert_eq!(d.location.line, Some(9), "{err}");
    assert!(d.location.key.starts_with("services[1]"), "{err}");
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn wrong_type_names_the_key() {
    let path = write_config("[limits]\nmax_body_bytes = \"lots\"\n");
    let err = Config::load(&path).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&format!("{}:2:", path.display())),
        "{message}"
    );
    assert!(message.contains("limits.max_body_bytes"), "{message}");
}

#[test]
fn toml_syntax_error_has_line() {
    let path = write_config("[listen\naddr = 1\n");
    let err = Config::load(&path).unwrap_err();
    assert!(
        err.to_string().contains(&format!("{}:1:", path.display())),
        "{err}"
    );
}

#[test]
fn bad_upstream_scheme_is_rejected_with_key_path_and_line() {
    let path = write_config(
        "[[services]]\nname = \"ok\"\nupstream = \"http://127.0.0.1:1\"\n\n[[services]]\nname = \"bad\"\nupstream = \"ftp://files.example.com\"\n",
    );
    let config = Config::load(&path).unwrap();
    let err = config.check().unwrap_err();
    let message = err.to_string();
    assert!(message.contains("services[1].upstream"), "{message}");
    assert!(
        message.contains(&format!(
            "{}:7:1: key `services[1].upstream`",
            path.display()
        )),
        "{message}"
    );
    assert!(message.contains("ftp"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn tls_cert_without_key_is_rejected() {
    let config = Config::from_toml("[listen]\ntls_cert = \"cert.pem\"\n", None).unwrap();
    let err = config.check().unwrap_err();
    let message = err.to_string();
    assert!(message.contains("listen.tls_cert"), "{message}");
    assert!(message.contains("tls_key"), "{message}");
}

#[test]
fn many_problems_are_all_reported() {
    let config = Config::from_toml(
        r#"
[[services]]
name = "Bad Name"
upstream = "http://127.0.0.1:1"
hosts = ["http://x.com"]
path_prefix = "no-slash"
insecure_skip_verify = true

[[services.routes]]
methods = ["get"]
path = "/x"

[[services]]
name = "dup"
upstream = "h2c://127.0.0.1:1"

[[services]]
name = "dup"
upstream = "http://127.0.0.1:1"
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
        "services[0].path_prefix",
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
fn defaults_units_and_overrides() {
    let mut config = Config::from_toml(
        "[limits]\nheader_read_timeout = \"1500ms\"\nmax_body_bytes = \"10MiB\"\nidle_timeout = 30\n",
        None,
    )
    .unwrap();
    assert_eq!(config.listen.addr, "127.0.0.1:8402".parse().unwrap());
    assert_eq!(
        config.limits.header_read_timeout,
        Duration::from_millis(1500)
    );
    assert_eq!(config.limits.max_body_bytes, 10 << 20);
    assert_eq!(config.limits.idle_timeout, Duration::from_secs(30));
    assert_eq!(config.limits.max_header_bytes, 16 * 1024);

    config.apply(
        &ConfigOverrides::new()
            .listen_addr("0.0.0.0:9000".parse().unwrap())
            .tls("cert.pem", "key.pem"),
    );
    assert_eq!(config.listen.addr, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(
        config.listen.tls_cert.as_deref(),
        Some(std::path::Path::new("cert.pem"))
    );
}

#[test]
fn relative_paths_resolve_against_the_config_file() {
    let path = write_config(
        "[listen]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nupstream_headers = { X-Key = { file = \"key.txt\" } }\n",
    );
    let mut config = Config::load(&path).unwrap();
    let dir = path.parent().unwrap();
    assert_eq!(config.listen.tls_cert, Some(dir.join("c.pem")));
    config.listen.tls_cert = None;
    config.listen.tls_key = None;
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

[[services.routes]]
methods = ["POST", "PUT"]
path = "/v1/*"

[[services.routes]]
path = "/v1/free"

[[services.routes]]
path = "/v1/*"

[[services]]
name = "weather"
hosts = ["*.example.com"]
path_prefix = "/weather"
upstream = "http://127.0.0.1:1"

[[services]]
name = "catchall"
upstream = "http://127.0.0.1:1"
"#;

/// (method, host, path, service, service index, route index)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    usize,
    Option<usize>,
);

#[test]
fn routing_table() {
    let config = Config::from_toml(ROUTING, None).unwrap();
    config.check().unwrap();
    let router = Router::new(&config).unwrap();
    // (method, host, path) -> (service, service index, route index)
    let table: &[Row] = &[
        ("GET", "api.example.com", "/v1/items", "api", 0, Some(2)),
        ("POST", "api.example.com", "/v1/items", "api", 0, Some(0)),
        ("PUT", "API.example.com:443", "/v1/items", "api", 0, Some(0)),
        // First route wins: POST /v1/free hits the POST rule before the /v1/free rule.
        ("POST", "api.example.com", "/v1/free", "api", 0, Some(0)),
        ("GET", "api.example.com", "/v1/free", "api", 0, Some(1)),
        ("GET", "api.example.com", "/other", "api", 0, None),
        // The wildcard host matches subdomains, not the apex; first match wins.
        (
            "GET",
            "eu.example.com",
            "/weather/today",
            "weather",
            1,
            None,
        ),
        ("GET", "a.b.example.com", "/weather", "weather", 1, None),
        ("GET", "eu.example.com", "/weatherman", "catchall", 2, None),
        ("GET", "example.com", "/weather", "catchall", 2, None),
        ("GET", "elsewhere.org", "/anything", "catchall", 2, None),
    ];
    for &(method, host, path, service, index, route) in table {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let d = router.route(&method, Some(host), path).unwrap();
        let what = format!("{method} {host}{path}");
        assert_eq!(d.service.name, service, "{what}");
        assert_eq!(d.service_index, index, "{what}");
        assert_eq!(d.route, route, "{what}");
    }
}

#[test]
fn no_match_and_unsafe_paths() {
    let config = Config::from_toml(
        &ROUTING.replace(
            "[[services]]\nname = \"catchall\"",
            "[[services]]\nname = \"catchall\"\nhosts = [\"only.example.org\"]",
        ),
        None,
    )
    .unwrap();
    let router = Router::new(&config).unwrap();
    let err = router
        .route(&Method::GET, Some("nope.org"), "/x")
        .unwrap_err();
    assert!(err.to_string().contains("nope.org"));
    // Dot segments are resolved before matching; the decision carries the normalised path.
    let resolved = router
        .route(&Method::GET, Some("api.example.com"), "/public/%2e%2e/v1/x")
        .unwrap();
    assert_eq!(resolved.path, "/v1/x");
    for bad in ["/public/../../v1/x", "/public/..%2fv1/x", "/public;x/v1"] {
        assert!(
            router
                .route(&Method::GET, Some("api.example.com"), bad)
                .is_err(),
            "{bad}"
        );
    }
}

/// An application's keys: one top-level section, one key per service, one per route.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Extension {
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    services: Vec<ServiceExtension>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceExtension {
    weight: u32,
    #[serde(default)]
    routes: Vec<RouteExtension>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteExtension {
    #[serde(default)]
    label: Option<String>,
}

impl ConfigExtension for Extension {
    const TOP_LEVEL_KEYS: &'static [&'static str] = &["owner"];
    const SERVICE_KEYS: &'static [&'static str] = &["weight"];
    const ROUTE_KEYS: &'static [&'static str] = &["label"];

    fn resolve_relative_paths(&mut self, _base: &std::path::Path) {}
}

#[test]
fn an_extension_gets_its_keys_in_the_shape_of_the_file() {
    let text = "owner = \"me\"\n[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nweight = 3\n[[services.routes]]\npath = \"/x\"\nlabel = \"x\"\n[[services.routes]]\npath = \"/y\"\n[[services]]\nname = \"b\"\nupstream = \"http://127.0.0.1:1\"\nweight = 5\n";
    let (config, extension) = Config::from_toml_with::<Extension>(text, None).unwrap();
    config.check().unwrap();
    assert_eq!(config.services.len(), 2);
    assert_eq!(config.services[0].routes.len(), 2);
    assert_eq!(extension.owner.as_deref(), Some("me"));
    let weights: Vec<u32> = extension.services.iter().map(|s| s.weight).collect();
    assert_eq!(weights, [3, 5]);
    assert_eq!(extension.services[0].routes.len(), 2);
    assert_eq!(extension.services[0].routes[0].label.as_deref(), Some("x"));
    assert!(extension.services[1].routes.is_empty());

    // Without the extension, its keys are unknown to the proxy.
    let err = Config::from_toml(text, None).unwrap_err();
    assert!(err.to_string().contains("owner"), "{err}");
}

#[test]
fn extension_errors_keep_key_path_and_line() {
    let path = write_config(
        "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nweight = 1\n\n[[services]]\nname = \"b\"\nupstream = \"http://127.0.0.1:1\"\nweight = \"heavy\"\n",
    );
    let err = Config::load_with::<Extension>(&path).unwrap_err();
    let d = err.diagnostics()[0].clone();
    assert_eq!(d.location.line, Some(9), "{err}");
    assert_eq!(d.location.key, "services[1].weight", "{err}");

    // A missing extension key names the service.
    let err = Config::from_toml_with::<Extension>(
        "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\n",
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("services[0]") && err.to_string().contains("weight"),
        "{err}"
    );

    // A key neither knows is still refused, with its line.
    let err = Config::from_toml_with::<Extension>(
        "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nweight = 1\ncolour = 2\n",
        None,
    )
    .unwrap_err();
    assert_eq!(err.diagnostics()[0].location.line, Some(5), "{err}");
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn paths_settings_parse_default_and_are_checked() {
    let defaults = Config::from_toml("", None).unwrap().paths;
    assert_eq!(defaults, l402_server::config::PathsConfig::default());
    assert!(!defaults.case_insensitive);

    let text = "[paths]\nescaped_slashes = \"decode\"\npath_parameters = \"strip\"\ncase_insensitive = true\n";
    let paths = Config::from_toml(text, None).unwrap().paths;
    assert_eq!(paths.escaped_slashes.to_string(), "decode");
    assert_eq!(paths.path_parameters.to_string(), "strip");
    assert!(paths.case_insensitive);

    let err = Config::from_toml("[paths]\nescaped_slashes = \"keep\"\n", None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("paths.escaped_slashes") && err.contains("reject"),
        "{err}"
    );

    // Patterns are matched against normalised paths: one that is not in normal form (or that
    // only matches refused paths) never matches, and the check says so.
    let service = "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\n";
    let check = |text: &str| {
        Config::from_toml(text, None)
            .unwrap()
            .check()
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let bad_prefix = check(&format!("{service}path_prefix = \"/api//v1\"\n")).unwrap_err();
    assert!(bad_prefix.contains("write `/api/v1`"), "{bad_prefix}");
    let bad_route = check(&format!(
        "{service}[[services.routes]]\npath = \"/%77eather/*\"\n"
    ))
    .unwrap_err();
    assert!(
        bad_route.contains("services[0].routes[0].path"),
        "{bad_route}"
    );
    assert!(bad_route.contains("write `/weather/*`"), "{bad_route}");
    let refused = check(&format!(
        "{service}[[services.routes]]\npath = \"/a;v=1\"\n"
    ))
    .unwrap_err();
    assert!(refused.contains("refused"), "{refused}");
    // With `path_parameters = "keep"` the same route is a normal path.
    check(&format!(
        "[paths]\npath_parameters = \"keep\"\n{service}[[services.routes]]\npath = \"/a;v=1\"\n"
    ))
    .unwrap();
}
