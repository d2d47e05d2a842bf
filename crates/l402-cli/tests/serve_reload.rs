//! `l402 serve` takes a changed configuration file on SIGHUP and on `l402 admin reload`,
//! without a restart; a broken file is refused with the reason in the log (and exit code 2 for
//! the admin command) while the running configuration keeps serving.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use l402_testkit::sample::sample_upstream;

fn config_text(sample: std::net::SocketAddr, data: &Path, sat: u64) -> String {
    format!(
        "data_dir = \"{}\"\n\n[[services]]\nname = \"weather\"\npath_prefix = \"/api/weather\"\n\
         upstream = \"http://{sample}\"\nprice_sat = {sat}\n",
        data.display()
    )
}

async fn price_msat(url: &str) -> u64 {
    let r = http_client().get(url).send().await.unwrap();
    challenged_invoice(r).await.amount.unwrap().0
}

/// Waits (10 s at most) until the log of `process` contains `needle`.
async fn wait_log(process: &mut ChildGuard, needle: &str) {
    let start = Instant::now();
    while !process.log().contains(needle) {
        process.assert_running();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no `{needle}` in the log:\n{}",
            process.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_and_admin_reload_apply_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let upstream = sample_upstream(dir.path(), |s| config_text(s, &data, 2)).await;
    let sample = upstream.addr;
    let config = upstream.config_arg();
    let admin_addr = free_addr().to_string();
    let (mut serve, base) = serve(
        dir.path(),
        &["--config", &config, "--admin-listen", &admin_addr],
    )
    .await;
    let weather = format!("{base}/api/weather?city=Lima");
    assert_eq!(price_msat(&weather).await, 2_000);

    std::fs::write(&upstream.config, config_text(sample, &data, 4)).unwrap();
    serve.signal("HUP");
    wait_log(&mut serve, "SIGHUP: reloaded the configuration: 1 services").await;
    assert_eq!(price_msat(&weather).await, 4_000);

    std::fs::write(&upstream.config, "[[services]\n").unwrap();
    serve.signal("HUP");
    wait_log(&mut serve, "SIGHUP: reload refused").await;
    let log = serve.log();
    assert!(
        log.contains("still serving the previous configuration"),
        "{log}"
    );
    assert_eq!(price_msat(&weather).await, 4_000);

    // The same through the admin API, from the CLI.
    let url = format!("http://{admin_addr}");
    let refused = run(&data, &["admin", "--url", &url, "reload"], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("reload_refused"),
        "{}",
        stderr(&refused)
    );
    std::fs::write(&upstream.config, config_text(sample, &data, 6)).unwrap();
    let done = run(&data, &["admin", "--url", &url, "reload"], &[]);
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        stdout(&done).contains("reloaded: 1 services"),
        "{}",
        stdout(&done)
    );
    assert_eq!(price_msat(&weather).await, 6_000);

    // A service added from a TOML snippet, then removed; the file follows.
    let snippet = dir.path().join("similarity.toml");
    std::fs::write(
        &snippet,
        format!(
            "path_prefix = \"/api/similarity\"\nupstream = \"http://{sample}\"\nprice_sat = 3\n"
        ),
    )
    .unwrap();
    let put = run(
        &data,
        &[
            "admin",
            "--url",
            &url,
            "service-put",
            "similarity",
            &snippet.display().to_string(),
        ],
        &[],
    );
    assert!(put.status.success(), "{}", stderr(&put));
    assert!(
        stdout(&put).contains("reloaded: 2 services"),
        "{}",
        stdout(&put)
    );
    let unpaid = http_client()
        .post(format!("{base}/api/similarity"))
        .send()
        .await
        .unwrap();
    assert_eq!(challenged_invoice(unpaid).await.amount.unwrap().0, 3_000);
    let file = std::fs::read_to_string(&upstream.config).unwrap();
    assert!(file.contains("name = \"similarity\""), "{file}");
    let del = run(
        &data,
        &["admin", "--url", &url, "service-delete", "similarity"],
        &[],
    );
    assert!(del.status.success(), "{}", stderr(&del));
    let gone = http_client()
        .post(format!("{base}/api/similarity"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let missing = run(
        &data,
        &["admin", "--url", &url, "service-delete", "similarity"],
        &[],
    );
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    let nonsense = dir.path().join("nonsense.txt");
    std::fs::write(&nonsense, "{ not json\n= nor toml").unwrap();
    let bad = run(
        &data,
        &[
            "admin",
            "--url",
            &url,
            "service-put",
            "x",
            &nonsense.display().to_string(),
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("neither JSON nor TOML"),
        "{}",
        stderr(&bad)
    );

    assert_eq!(
        serve.terminate(Duration::from_secs(10)),
        Some(0),
        "{}",
        serve.log()
    );
}
