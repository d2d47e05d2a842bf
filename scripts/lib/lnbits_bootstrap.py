"""Bootstraps a fresh LNbits (FakeWallet) instance for tests, without the web UI.

Usage: lnbits_bootstrap.py BASE_URL OUT_ENV_FILE [FUND_SATS]

1. Finishes the first install (PUT /api/v1/auth/first_install), which creates the super user
   and returns its access token. Until then every route redirects to /first_install.
2. Creates two accounts, each with one wallet: `seller` and `buyer` (POST /api/v1/account).
3. Clears each wallet's fiat currency (PATCH /api/v1/wallet). LNbits gives a new wallet USD,
   and then prices every invoice in it, asking a dozen exchanges first; offline, those requests
   can take longer than a paywall waits for an invoice.
4. Funds the buyer through the super-user API (PUT /users/api/v1/balance, amount in sats):
   FakeWallet cannot receive money from outside.
5. Writes `export NAME=value` lines for the test (keys, URL) to OUT_ENV_FILE, mode 0600.
   Nothing secret is printed.

Standard library only; run it with any Python 3.
"""

import json
import os
import sys
import urllib.error
import urllib.request

TIMEOUT = 15


def call(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")[:500]
        sys.exit(f"lnbits bootstrap: {method} {url} -> HTTP {e.code}: {detail}")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    base = sys.argv[1].rstrip("/")
    out = sys.argv[2]
    fund_sats = int(sys.argv[3]) if len(sys.argv) == 4 else 100_000

    token = call(
        "PUT",
        f"{base}/api/v1/auth/first_install",
        {"username": "l402admin", "password": "l402-tier-pw", "password_repeat": "l402-tier-pw"},
    )["access_token"]

    wallets = {}
    for name in ("seller", "buyer"):
        w = call("POST", f"{base}/api/v1/account", {"name": name})
        for field in ("id", "adminkey", "inkey"):
            if not w.get(field):
                sys.exit(f"lnbits bootstrap: account {name} has no {field}: fields {sorted(w)}")
        wallets[name] = w
        cleared = call(
            "PATCH", f"{base}/api/v1/wallet", {"currency": ""}, {"X-Api-Key": w["adminkey"]}
        )
        if cleared.get("currency"):
            sys.exit(f"lnbits bootstrap: wallet {name} kept currency {cleared['currency']!r}")

    funded = call(
        "PUT",
        f"{base}/users/api/v1/balance",
        {"id": wallets["buyer"]["id"], "amount": fund_sats},
        {"Authorization": f"Bearer {token}"},
    )
    if not funded or not funded.get("success"):
        sys.exit(f"lnbits bootstrap: funding the buyer failed: {funded}")

    balance = call(
        "GET", f"{base}/api/v1/wallet", headers={"X-Api-Key": wallets["buyer"]["inkey"]}
    )["balance"]
    if balance != fund_sats * 1000:
        sys.exit(f"lnbits bootstrap: buyer balance {balance} msat, expected {fund_sats * 1000}")

    lines = [
        f"export L402_LNBITS_URL={base}",
        f"export L402_LNBITS_SELLER_INVOICE_KEY={wallets['seller']['inkey']}",
        f"export L402_LNBITS_SELLER_ADMIN_KEY={wallets['seller']['adminkey']}",
        f"export L402_LNBITS_BUYER_INVOICE_KEY={wallets['buyer']['inkey']}",
        f"export L402_LNBITS_BUYER_ADMIN_KEY={wallets['buyer']['adminkey']}",
    ]
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"lnbits bootstrap: wallets seller and buyer created, buyer funded with {fund_sats} sat")


if __name__ == "__main__":
    main()
