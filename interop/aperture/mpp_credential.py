"""Builds `Authorization: Payment` credentials for the aperture-interop tier, as a Lightning
client would, independently of our Rust code: reads the `Payment` challenge of the wanted intent
from a file of WWW-Authenticate values (one per line), echoes it unchanged, adds the payload.

    mpp_credential.py FILE charge PREIMAGE
    mpp_credential.py FILE open PREIMAGE RETURN_INVOICE
    mpp_credential.py FILE bearer|close PREIMAGE SESSION_ID
    mpp_credential.py FILE field NAME        # prints a field of the session/charge request

Prints the header value (or the field).
"""
import base64
import json
import re
import sys


def challenge(path, intent):
    for line in open(path):
        line = line.strip()
        if not line.startswith("Payment "):
            continue
        params = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if params.get("intent") == intent:
            return {k: params[k] for k in
                    ("id", "realm", "method", "intent", "request", "expires", "digest",
                     "description", "opaque") if k in params}
    sys.exit(f"no Payment {intent} challenge in {path}")


def request_of(c):
    raw = c["request"]
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def value(c, payload):
    body = json.dumps({"challenge": c, "payload": payload}, separators=(",", ":")).encode()
    return "Payment " + base64.urlsafe_b64encode(body).rstrip(b"=").decode()


def main():
    path, what = sys.argv[1], sys.argv[2]
    if what == "field":
        for intent in ("session", "charge"):
            try:
                req = request_of(challenge(path, intent))
                break
            except SystemExit:
                continue
        details = req.get("methodDetails", {})
        print(req.get(sys.argv[3], details.get(sys.argv[3], "")))
    elif what == "charge":
        print(value(challenge(path, "charge"), {"preimage": sys.argv[3]}))
    elif what == "open":
        print(value(challenge(path, "session"),
                    {"action": "open", "preimage": sys.argv[3], "returnInvoice": sys.argv[4]}))
    elif what in ("bearer", "close"):
        print(value(challenge(path, "session"),
                    {"action": what, "sessionId": sys.argv[4], "preimage": sys.argv[3]}))
    else:
        sys.exit(f"unknown action {what}")


main()
