//! `l402 discover URL`: what a host sells and at what price, without paying (its manifest, or
//! the 402 of a plain unpaid request). `--export` writes the entry a public directory ingests.

use std::path::PathBuf;

use l402_client::{Discovery, DiscoverySource};

use super::{ClientOptions, Tweaks, client_error};
use crate::exit;

/// `l402 discover` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DiscoverArgs {
    /// The seller's URL (its origin is asked for `/.well-known/l402.json`).
    pub url: String,
    /// Write the directory entry (JSON) to FILE, or to stdout with `-` or no FILE. Needs a
    /// manifest.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub export: Option<PathBuf>,
    /// Certificate verification.
    #[command(flatten)]
    pub tls: super::TlsArgs,
    /// Shared client options.
    #[command(flatten)]
    pub client: ClientOptions,
}

/// Runs `l402 discover`.
pub async fn run(args: DiscoverArgs) -> anyhow::Result<u8> {
    let mut config = super::load_config(&args.client)?;
    args.tls.apply(&mut config);
    let client = super::open_with(
        config,
        Tweaks {
            auto_pay: false,
            ..Tweaks::default()
        },
    )?;
    let found = client.discover(&args.url).await.map_err(client_error)?;
    if let Some(path) = &args.export {
        let Some(entry) = found.directory_entry(l402_core::env::now_unix()) else {
            return Err(exit::with_code(
                exit::FAILURE,
                format!(
                    "nothing to export: {} publishes no L402 manifest ({})",
                    found.origin,
                    found.notes.join("; ")
                ),
            ));
        };
        let text = serde_json::to_string_pretty(&entry)?;
        if path.as_os_str() == "-" {
            println!("{text}");
        } else {
            std::fs::write(path, format!("{text}\n")).map_err(|e| {
                exit::with_code(
                    exit::BAD_INPUT,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
            if !args.client.json {
                eprintln!(
                    "wrote the directory entry of {} to {}",
                    found.origin,
                    path.display()
                );
            }
        }
        return Ok(exit::SUCCESS);
    }
    if args.client.json {
        println!("{}", serde_json::to_string(&found)?);
    } else {
        print!("{}", text(&found));
    }
    Ok(exit::SUCCESS)
}

/// The listing for a person.
fn text(found: &Discovery) -> String {
    let mut out = String::new();
    match found.source {
        DiscoverySource::Manifest => {
            out.push_str(&format!(
                "{} sells (from its manifest {}; nothing paid):\n",
                found.origin,
                found.manifest_url.as_deref().unwrap_or("?")
            ));
            if let Some(m) = &found.manifest {
                let node = m
                    .provider
                    .node_pubkey
                    .as_deref()
                    .map(|k| format!(", node {k}"))
                    .unwrap_or_default();
                out.push_str(&format!("provider: {}{node}\n", m.provider.name));
            }
        }
        DiscoverySource::Challenge => out.push_str(&format!(
            "{} publishes no L402 manifest; the price below is from a plain unpaid request's 402 \
             (nothing paid):\n",
            found.origin
        )),
        DiscoverySource::Nothing => out.push_str(&format!(
            "{} publishes no L402 manifest and {} asked for no payment.\n",
            found.origin, found.url
        )),
    }
    let width = found
        .listings
        .iter()
        .map(|l| l.path.len() + l.method.len() + 1 + l.mcp_tool.as_ref().map_or(0, |t| t.len() + 6))
        .max()
        .unwrap_or(0);
    for l in &found.listings {
        let what = match &l.mcp_tool {
            Some(tool) => format!("{} {} tool {tool}", l.method, l.path),
            None => format!("{} {}", l.method, l.path),
        };
        let price = if l.price_msat == 0 {
            "free".to_owned()
        } else if l.price_msat % 1000 == 0 {
            format!("{} sat", l.price_sat)
        } else {
            format!("{} msat", l.price_msat)
        };
        let mut line = format!(
            "  {:<12} {what:<width$}  {price}",
            l.service.as_deref().unwrap_or("?"),
        );
        if !l.capabilities_required.is_empty() && l.price_msat > 0 {
            line.push_str(&format!("  needs {}", l.capabilities_required.join(", ")));
        }
        if let Some(secs) = l.token_lifetime_secs
            && l.price_msat > 0
        {
            line.push_str(&format!("  token lasts {secs} s"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for note in &found.notes {
        if found.source != DiscoverySource::Manifest {
            out.push_str(&format!("note: {note}\n"));
        }
    }
    out
}
