//! The configuration the seller uses when given no file: the built-in sample API behind the
//! embedded dev wallet.

use std::net::SocketAddr;

/// The zero-config TOML, selling the sample API listening on `sample`.
pub(crate) fn toml(sample: SocketAddr) -> String {
    format!(
        r#"# Zero-config dev mode: the built-in sample API, sold through the embedded dev wallet.
[listen]
addr = "127.0.0.1:8402"

[backend]
kind = "dev"

[[services]]
name = "similarity"
path_prefix = "/api/similarity"
upstream = "http://{sample}"
price_sat = 5
token_lifetime_secs = 3600
capabilities = ["compute"]
memo = "l402 sample: cosine similarity"

[[services.routes]]
methods = ["POST"]
path = "/api/similarity"
capabilities_required = ["compute"]

# Priced by method: the sample answers only POST here, so other methods pass unpaid (and get
# its 405) instead of being charged for a request it rejects.
[[services.routes]]
path = "/api/similarity"
free = true

[[services]]
name = "weather"
path_prefix = "/api/weather"
upstream = "http://{sample}"
price_sat = 2
token_lifetime_secs = 3600
memo = "l402 sample: weather"

[[services.routes]]
methods = ["GET", "HEAD"]
path = "/api/weather"

[[services.routes]]
path = "/api/weather"
free = true

# Sold per generated token: a buyer deposits 200 tokens' worth (a `Payment` session, or an
# L402 token whose payment becomes a balance), each completion reserves up to 64 tokens and
# pays for the ones the sample reports it generated.
[[services]]
name = "complete"
path_prefix = "/api/complete"
upstream = "http://{sample}"
price_sat = 1
protocols = ["l402", "mpp"]
billing = "metered"
memo = "l402 sample: completion, per token"

[services.metering]
unit = "token"
reserve_units = 64
deposit_units = 200
idle_timeout_secs = 300

[[services.routes]]
methods = ["POST"]
path = "/api/complete"

[[services.routes]]
path = "/api/complete"
free = true

[[services]]
name = "greeter"
path_prefix = "/helloworld.Greeter"
upstream = "h2c://{sample}"
price_sat = 1
token_lifetime_secs = 3600
memo = "l402 sample: gRPC Greeter"

[[services]]
name = "landing"
path_prefix = "/"
upstream = "http://{sample}"
price_sat = 0
# The sample's own OpenAPI document: the seller's /openapi.json is this one, priced.
openapi = "http://{sample}/openapi.json"
"#
    )
}
