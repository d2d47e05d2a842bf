//! `l402 serve --check` compares priced routes with the upstream's OpenAPI document (the sample
//! API publishes one at `/openapi.json`): a route charging a method the upstream rejects is
//! flagged, from a URL or a file, and a document that cannot be read is a warning, not an
//! error.

mod common;

use common::*;
use l402_testkit::sample::sample_upstream;

fn config(upstream: std::net::SocketAddr, openapi: &str, methods: &str) -> String {
    format!(
        "[backend]\nkind = \"dev\"\n\n[[services]]\nname = \"similarity\"\n\
         path_prefix = \"/api/similarity\"\nupstream = \"http://{upstream}\"\nprice_sat = 5\n\
         openapi = \"{openapi}\"\n\n[[services.routes]]\n{methods}path = \"/api/similarity\"\n"
    )
}

fn check(path: &std::path::Path) -> (i32, String) {
    let path = path.display().to_string();
    let out = l402()
        .command(["serve", "--check", "--config", &path])
        .output()
        .unwrap();
    (out.status.code().unwrap(), stderr(&out))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_charging_every_method_of_a_post_only_endpoint_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let up = sample_upstream(dir.path(), |addr| {
        config(addr, &format!("http://{addr}/openapi.json"), "")
    })
    .await;
    let (code, err) = check(&up.config);
    assert_eq!(code, 0, "a warning, not an error: {err}");
    assert!(err.contains("accepts only POST"), "{err}");
    assert!(err.contains("services[0].routes[0]"), "{err}");
    assert_eq!(err.matches("warning:").count(), 1, "said once: {err}");
    assert!(
        err.contains("l402.toml:11:"),
        "the warning points into the file: {err}"
    );

    // Priced by method: nothing to say.
    std::fs::write(
        &up.config,
        config(
            up.addr,
            &format!("http://{}/openapi.json", up.addr),
            "methods = [\"POST\"]\n",
        ),
    )
    .unwrap();
    let (code, err) = check(&up.config);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_file_next_to_the_config_is_read_and_an_unreadable_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openapi.json"), l402_sample::OPENAPI_JSON).unwrap();
    let up = sample_upstream(dir.path(), |addr| {
        config(addr, "openapi.json", "methods = [\"GET\"]\n")
    })
    .await;
    let (code, err) = check(&up.config);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("charges GET"), "{err}");

    let gone = format!("http://127.0.0.1:{}/openapi.json", free_port());
    std::fs::write(&up.config, config(up.addr, &gone, "")).unwrap();
    let (code, err) = check(&up.config);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("cannot fetch"), "{err}");
    assert!(err.contains("services[0].openapi"), "{err}");
}
