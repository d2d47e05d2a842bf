#!/usr/bin/env bash
# The metrics tier: Prometheus's own tools judge `l402 serve`'s /metrics.
#
# 1. Installs Debian's `prometheus` package (promtool and the server) when missing.
# 2. Runs crates/l402-cli/tests/metrics_tier.rs with `--include-ignored`: `l402 serve
#    --admin-listen` sells the sample API, a buyer pays and uses a token, `promtool check
#    metrics` must accept the exposition, and a Prometheus server scraping the admin listener
#    must see the paid request and its revenue.
# Every wait is bounded; anything missing fails the tier.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/steps.sh

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  step "apt-get install prometheus" 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus
fi
PROMTOOL=$(command -v promtool) || fail "promtool not found after installing prometheus"
PROMETHEUS=$(command -v prometheus) || fail "prometheus not found after installing it"
echo "using $("$PROMTOOL" --version 2>&1 | head -1)"

step "cargo test --test metrics_tier" 2400 \
  env L402_PROMTOOL="$PROMTOOL" L402_PROMETHEUS="$PROMETHEUS" \
  cargo test -p l402-cli --locked --test metrics_tier -- --include-ignored --nocapture
echo "PASS metrics tier"
