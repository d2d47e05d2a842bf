// The `Payment` scheme (MPP) checks: Aperture v0.5.0's own mpp package run on our challenges,
// credentials and receipts.
//
//	l402check mpp-challenge FILE SECRET      FILE: WWW-Authenticate values, one per line
//	l402check mpp-credential VALUE SECRET    VALUE: an `Authorization: Payment …` value
//	l402check mpp-receipt VALUE              VALUE: a Payment-Receipt value
//
// SECRET is the seller's challenge-id secret as text (ours: the 64 hex digits kept in l402.db,
// settings key mpp_challenge_secret, used as the HMAC key in that text form).
//
// `mpp-challenge` parses every `Payment` value with mpp.ParseChallengeHeader, checks its id with
// mpp.VerifyChallengeID, and decodes its request with mpp.DecodeRequest into mpp.ChargeRequest or
// mpp.SessionRequest (by intent). `mpp-credential` reads the value with mpp.ParseCredential,
// checks the echoed challenge's id, decodes its request and the payload (mpp.ChargePayload or
// mpp.SessionPayload), and checks sha256(preimage) against the request's payment hash (charge,
// session open) or the session id (bearer, close). `mpp-receipt` reads it with
// mpp.ParseReceiptHeader. Each prints JSON and exits 1 on a failed check.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"strings"

	"github.com/lightninglabs/aperture/mpp"
)

func preimageHashes(preimageHex, hashHex string) bool {
	raw, err := hex.DecodeString(preimageHex)
	if err != nil || len(raw) != 32 {
		return false
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]) == hashHex
}

func mppChallenge(path, secret string) {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	var out []map[string]any
	ok := true
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if !strings.HasPrefix(line, mpp.AuthScheme+" ") {
			continue
		}
		params, err := mpp.ParseChallengeHeader(line)
		if err != nil {
			fail("mpp.ParseChallengeHeader: %v", err)
		}
		entry := map[string]any{
			"intent":    params.Intent,
			"method":    params.Method,
			"realm":     params.Realm,
			"expires":   params.Expires,
			"id_valid":  mpp.VerifyChallengeID([]byte(secret), params),
			"has_scope": params.Opaque != "",
		}
		switch params.Intent {
		case "charge":
			var req mpp.ChargeRequest
			if err := mpp.DecodeRequest(params.Request, &req); err != nil {
				fail("mpp.DecodeRequest (charge): %v", err)
			}
			entry["amount"] = req.Amount
			entry["payment_hash"] = req.MethodDetails.PaymentHash
			entry["invoice"] = req.MethodDetails.Invoice
			entry["network"] = req.MethodDetails.Network
		case "session":
			var req mpp.SessionRequest
			if err := mpp.DecodeRequest(params.Request, &req); err != nil {
				fail("mpp.DecodeRequest (session): %v", err)
			}
			entry["amount"] = req.Amount
			entry["payment_hash"] = req.PaymentHash
			entry["invoice"] = req.DepositInvoice
			entry["deposit_amount"] = req.DepositAmount
			entry["unit_type"] = req.UnitType
			entry["idle_timeout"] = req.IdleTimeout
		}
		ok = ok && entry["id_valid"] == true
		out = append(out, entry)
	}
	if len(out) == 0 {
		fail("no Payment challenge in %s", path)
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"challenges": out})
	if !ok {
		os.Exit(1)
	}
}

func mppCredential(value, secret string) {
	h := http.Header{}
	h.Set("Authorization", value)
	cred, err := mpp.ParseCredential(&h)
	if err != nil {
		fail("mpp.ParseCredential: %v", err)
	}
	params := cred.Challenge.ToChallengeParams()
	idValid := mpp.VerifyChallengeID([]byte(secret), params)
	result := map[string]any{"intent": params.Intent, "id_valid": idValid}
	paid := false
	switch params.Intent {
	case "charge":
		var req mpp.ChargeRequest
		var payload mpp.ChargePayload
		if err := mpp.DecodeRequest(params.Request, &req); err != nil {
			fail("mpp.DecodeRequest: %v", err)
		}
		if err := json.Unmarshal(cred.Payload, &payload); err != nil {
			fail("charge payload: %v", err)
		}
		paid = preimageHashes(payload.Preimage, req.MethodDetails.PaymentHash)
	case "session":
		var req mpp.SessionRequest
		var payload mpp.SessionPayload
		if err := mpp.DecodeRequest(params.Request, &req); err != nil {
			fail("mpp.DecodeRequest: %v", err)
		}
		if err := json.Unmarshal(cred.Payload, &payload); err != nil {
			fail("session payload: %v", err)
		}
		result["action"] = string(payload.Action)
		switch payload.Action {
		case mpp.SessionActionOpen:
			paid = preimageHashes(payload.Preimage, req.PaymentHash) && payload.ReturnInvoice != ""
		case mpp.SessionActionTopUp:
			paid = preimageHashes(payload.TopUpPreimage, req.PaymentHash) && payload.SessionID != ""
		default:
			paid = preimageHashes(payload.Preimage, payload.SessionID)
		}
	default:
		fail("unknown intent %q", params.Intent)
	}
	result["preimage_valid"] = paid
	_ = json.NewEncoder(os.Stdout).Encode(result)
	if !idValid || !paid {
		os.Exit(1)
	}
}

func mppReceipt(value string) {
	h := http.Header{}
	h.Set("Payment-Receipt", value)
	receipt, err := mpp.ParseReceiptHeader(h)
	if err != nil {
		fail("mpp.ParseReceiptHeader: %v", err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(receipt)
}
