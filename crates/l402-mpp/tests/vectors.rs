//! Every vector of Aperture's `mpp/testdata/vectors.json` (see `tests/vectors/README.md`).

use l402_mpp::{Challenge, Credential, Receipt, b64, jcs};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/aperture-mpp-vectors.json")).unwrap()
}

fn section(name: &str) -> Vec<Value> {
    let v = vectors()[name].as_array().unwrap().clone();
    assert!(!v.is_empty(), "section {name} is empty");
    v
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn is_error(v: &Value) -> bool {
    v["error"].as_bool() == Some(true)
}

fn challenge_of(p: &Value) -> Challenge {
    serde_json::from_value(p.clone()).unwrap()
}

#[test]
fn canonicalization() {
    for v in section("canonicalization") {
        let out = jcs::canonicalize(s(&v, "input"));
        if is_error(&v) {
            assert!(out.is_err(), "{}: accepted", s(&v, "name"));
        } else {
            assert_eq!(out.unwrap(), s(&v, "canonical"), "{}", s(&v, "name"));
        }
    }
}

#[test]
fn base64url() {
    for v in section("base64url") {
        let name = s(&v, "name");
        let out = b64::decode(s(&v, "encoded"));
        if is_error(&v) {
            assert!(out.is_err(), "{name}: accepted");
            continue;
        }
        let bytes = out.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = hex::decode(v["decodedHex"].as_str().unwrap_or("")).unwrap();
        assert_eq!(bytes, want, "{name}");
        if v["canonical"].as_bool() == Some(true) {
            assert_eq!(b64::encode(&bytes), s(&v, "encoded"), "{name}");
        }
    }
}

#[test]
fn challenge_headers() {
    for v in section("challengeHeaders") {
        let name = s(&v, "name");
        let challenge = challenge_of(&v["params"]);
        assert_eq!(challenge.to_header().unwrap(), s(&v, "header"), "{name}");
        let parsed = Challenge::parse_list(s(&v, "header")).unwrap();
        assert_eq!(parsed, vec![challenge_of(&v["parsed"])], "{name}");
    }
}

#[test]
fn challenge_lists() {
    for v in section("challengeLists") {
        let name = s(&v, "name");
        let out = Challenge::parse_list(s(&v, "header"));
        if is_error(&v) {
            assert!(out.is_err(), "{name}: accepted {out:?}");
            continue;
        }
        let want: Vec<Challenge> = v["challenges"]
            .as_array()
            .unwrap()
            .iter()
            .map(challenge_of)
            .collect();
        assert_eq!(out.unwrap(), want, "{name}");
    }
}

#[test]
fn challenge_ids() {
    let secret = hex::decode(s(&vectors(), "hmacSecretHex")).unwrap();
    for v in section("challengeIds") {
        let name = s(&v, "name");
        let challenge = challenge_of(&v["params"]);
        assert_eq!(challenge.hmac_input(), s(&v, "hmacInput"), "{name}");
        assert_eq!(challenge.compute_id(&secret), challenge.id, "{name}");
        assert!(challenge.id_matches(&secret), "{name}");
        assert!(!challenge.id_matches(b"another secret"), "{name}");
        let rebound = challenge.clone().bind(&secret);
        assert_eq!(rebound, challenge, "{name}");
    }
}

#[test]
fn credentials() {
    for v in section("credentials") {
        let name = s(&v, "name");
        let out = Credential::from_authorization(s(&v, "header"));
        if is_error(&v) {
            assert!(out.is_err(), "{name}: accepted");
            continue;
        }
        let credential = out.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want: Value = serde_json::from_str(s(&v, "credentialJson")).unwrap();
        assert_eq!(serde_json::to_value(&credential).unwrap(), want, "{name}");
        // Our own encoding reads back to the same credential.
        let again = Credential::from_authorization(&credential.to_authorization()).unwrap();
        assert_eq!(again, credential, "{name}");
        // The header is the base64url of exactly the vector's JSON bytes.
        let token = s(&v, "header").split_once(' ').unwrap().1;
        assert_eq!(
            b64::decode(token).unwrap(),
            s(&v, "credentialJson").as_bytes()
        );
    }
}

#[test]
fn receipts() {
    for v in section("receipts") {
        let name = s(&v, "name");
        let json = s(&v, "receiptJson");
        assert_eq!(
            b64::decode(s(&v, "header")).unwrap(),
            json.as_bytes(),
            "{name}"
        );
        assert_eq!(b64::encode(json.as_bytes()), s(&v, "header"), "{name}");
        let want: Value = serde_json::from_str(json).unwrap();
        if want.get("status").is_none() {
            // A session's need-top-up event: integers beyond 2^53 read exactly.
            let got: Value =
                serde_json::from_slice(&b64::decode(s(&v, "header")).unwrap()).unwrap();
            assert_eq!(got, want, "{name}");
            assert_eq!(got["balanceSpent"].as_u64(), want["balanceSpent"].as_u64());
            continue;
        }
        let receipt =
            Receipt::from_header(s(&v, "header")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(serde_json::to_value(&receipt).unwrap(), want, "{name}");
        if json.starts_with("{\"status\"") {
            // Charge receipts: we write Aperture's field order, byte for byte.
            assert_eq!(receipt.to_header(), s(&v, "header"), "{name}");
        }
    }
}
