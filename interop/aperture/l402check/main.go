// l402check runs Aperture v0.5.0's own L402 code on challenges and credentials, so the
// aperture-interop tier can check our proxy's output with the reference implementation's parsers
// (standing in for lnget, which the Go module proxy does not serve here; see docs/INTEROP.md).
//
// It is built inside the aperture wrapper module by scripts/lib/aperture-build.sh, so it links
// exactly the aperture, macaroon.v2 and lnd/zpay32 versions that aperture v0.5.0 pins.
//
//	l402check challenge FILE      FILE: one WWW-Authenticate value per line (as received)
//	l402check credential MAC_B64 PREIMAGE_HEX
//	l402check mpp-challenge|mpp-credential|mpp-receipt …   (the Payment scheme: see mpp.go)
//
// `challenge` parses the first value matching Aperture's client regex (l402/client_interceptor.go
// authHeaderRegex, copied: it is unexported), base64-decodes the macaroon strictly (StdEncoding, as
// Aperture does), unmarshals it with gopkg.in/macaroon.v2, decodes the identifier with
// l402.DecodeIdentifier, decodes the invoice with zpay32 for regtest and checks that the identifier's
// payment hash is the invoice's (what Aperture's tokenFromChallenge relies on). Prints JSON.
//
// `credential` builds the Authorization values Aperture's client (`LSAT <c>` then `L402 <c>`) and
// lnget (one value, macaroon with a `preimage=` caveat appended) send, runs them through
// Aperture's server parser l402.FromHeader, checks sha256(preimage) = identifier payment hash, and
// prints the header values as JSON for the tier to replay against our proxy.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/lightninglabs/aperture/l402"
	"github.com/lightningnetwork/lnd/lntypes"
	"github.com/lightningnetwork/lnd/zpay32"
	"gopkg.in/macaroon.v2"
)

// Copied from aperture v0.5.0 l402/client_interceptor.go (authHeaderRegex).
var authHeaderRegex = regexp.MustCompile("(LSAT|L402) macaroon=\"(.*?)\", invoice=\"(.*?)\"")

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "l402check: "+format+"\n", a...)
	os.Exit(1)
}

func decodeMac(b64 string) (*macaroon.Macaroon, *l402.Identifier) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		fail("base64 (StdEncoding, as Aperture) decode of macaroon: %v", err)
	}
	mac := &macaroon.Macaroon{}
	if err := mac.UnmarshalBinary(raw); err != nil {
		fail("macaroon.v2 UnmarshalBinary: %v", err)
	}
	id, err := l402.DecodeIdentifier(bytes.NewReader(mac.Id()))
	if err != nil {
		fail("l402.DecodeIdentifier: %v", err)
	}
	return mac, id
}

func caveats(mac *macaroon.Macaroon) []string {
	out := []string{}
	for _, c := range mac.Caveats() {
		out = append(out, string(c.Id))
	}
	return out
}

func challenge(path string) {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	var values []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v := strings.TrimSpace(sc.Text()); v != "" {
			values = append(values, v)
		}
	}
	var m []string
	for _, v := range values {
		if m = authHeaderRegex.FindStringSubmatch(v); len(m) == 4 {
			break
		}
	}
	if len(m) != 4 {
		fail("no WWW-Authenticate value matches Aperture's client regex: %q", values)
	}
	mac, id := decodeMac(m[2])
	inv, err := zpay32.Decode(m[3], &chaincfg.RegressionNetParams)
	if err != nil {
		fail("zpay32.Decode(regtest): %v", err)
	}
	if inv.PaymentHash == nil {
		fail("invoice has no payment hash")
	}
	var amt int64 = -1
	if inv.MilliSat != nil {
		amt = int64(*inv.MilliSat)
	}
	match := bytes.Equal(id.PaymentHash[:], inv.PaymentHash[:])
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"scheme":               m[1],
		"values":               len(values),
		"macaroon_b64":         m[2],
		"invoice":              m[3],
		"identifier_len":       len(mac.Id()),
		"identifier_version":   id.Version,
		"payment_hash":         hex.EncodeToString(id.PaymentHash[:]),
		"token_id":             id.TokenID.String(),
		"invoice_payment_hash": hex.EncodeToString(inv.PaymentHash[:]),
		"invoice_amount_msat":  amt,
		"hash_match":           match,
		"location":             mac.Location(),
		"caveats":              caveats(mac),
	})
	if !match {
		os.Exit(1)
	}
}

func credential(macB64, preimageHex string) {
	mac, id := decodeMac(macB64)
	pre, err := lntypes.MakePreimageFromStr(preimageHex)
	if err != nil {
		fail("preimage: %v", err)
	}
	if pre.Hash() != id.PaymentHash {
		fail("sha256(preimage) %s != identifier payment hash %s", pre.Hash(), id.PaymentHash)
	}
	// Aperture's client: two fields, LSAT then L402 (l402.SetHeader).
	h := http.Header{}
	if err := l402.SetHeader(&h, mac, pre); err != nil {
		fail("l402.SetHeader: %v", err)
	}
	apertureValues := h.Values("Authorization")
	parsed, p2, err := l402.FromHeader(&h)
	if err != nil || p2 != pre || !bytes.Equal(parsed.Id(), mac.Id()) {
		fail("l402.FromHeader on Aperture-client values: %v", err)
	}
	// lnget: one field, the macaroon with `preimage=<hex>` appended (lnget l402/header.go).
	withPre := mac.Clone()
	if err := l402.AddFirstPartyCaveats(withPre, l402.NewCaveat(l402.PreimageKey, pre.String())); err != nil {
		fail("add preimage caveat: %v", err)
	}
	raw, err := withPre.MarshalBinary()
	if err != nil {
		fail("marshal: %v", err)
	}
	lnget := fmt.Sprintf("L402 %s:%s", base64.StdEncoding.EncodeToString(raw), pre.String())
	h2 := http.Header{}
	h2.Set("Authorization", lnget)
	if _, p3, err := l402.FromHeader(&h2); err != nil || p3 != pre {
		fail("l402.FromHeader on lnget-style value: %v", err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"aperture_client": apertureValues,
		"lnget_style":     lnget,
		"from_header_ok":  true,
	})
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: l402check challenge FILE | credential MAC_B64 PREIMAGE_HEX")
	}
	switch os.Args[1] {
	case "challenge":
		if len(os.Args) != 3 {
			fail("usage: l402check challenge FILE")
		}
		challenge(os.Args[2])
	case "credential":
		if len(os.Args) != 4 {
			fail("usage: l402check credential MAC_B64 PREIMAGE_HEX")
		}
		credential(os.Args[2], os.Args[3])
	case "mpp-challenge":
		if len(os.Args) != 4 {
			fail("usage: l402check mpp-challenge FILE SECRET")
		}
		mppChallenge(os.Args[2], os.Args[3])
	case "mpp-credential":
		if len(os.Args) != 4 {
			fail("usage: l402check mpp-credential VALUE SECRET")
		}
		mppCredential(os.Args[2], os.Args[3])
	case "mpp-receipt":
		if len(os.Args) != 3 {
			fail("usage: l402check mpp-receipt VALUE")
		}
		mppReceipt(os.Args[2])
	default:
		fail("unknown command %q", os.Args[1])
	}
}
