//! The scheme over JSON-RPC and MCP (the draft's MCP transport): the error codes, the `_meta`
//! keys, and the JSON form of challenges and credentials.
//!
//! Over HTTP a challenge's `request` is base64url of the JCS bytes of the request object; over
//! JSON-RPC it is the object itself. [`challenge_from_json`] turns the JSON form into a
//! [`Challenge`] whose `request` is the JCS base64url string (what the HTTP binding of the id
//! covers, so one verifier serves both transports), and [`challenge_to_json`] goes back.
//!
//! - An unpaid call: JSON-RPC error [`PAYMENT_REQUIRED_CODE`] `"Payment Required"` with
//!   `data: {httpStatus: 402, challenges: [<JSON form>…]}` (or, as mppx also does, a tool result
//!   whose `_meta[`[`PAYMENT_REQUIRED_META_KEY`]`]` holds the same `data`).
//! - The retry: `params._meta[`[`CREDENTIAL_META_KEY`]`] = {challenge: <echo>, payload}`.
//! - A paid answer: `result._meta[`[`RECEIPT_META_KEY`]`]` = the receipt object.
//! - A credential that does not verify: error [`VERIFICATION_FAILED_CODE`] with fresh
//!   challenges.

use serde_json::{Map, Value};

use crate::challenge::Challenge;
use crate::credential::Credential;

/// JSON-RPC error code of a call that needs payment.
pub const PAYMENT_REQUIRED_CODE: i32 = -32042;
/// JSON-RPC error code of a credential that did not verify (fresh challenges in `data`).
pub const VERIFICATION_FAILED_CODE: i32 = -32043;
/// The `_meta` key of the credential in a request's `params`.
pub const CREDENTIAL_META_KEY: &str = "org.paymentauth/credential";
/// The `_meta` key of the receipt in a paid result.
pub const RECEIPT_META_KEY: &str = "org.paymentauth/receipt";
/// The `_meta` key of a payment-required `data` object in a tool *result* (mppx's variant of
/// the error).
pub const PAYMENT_REQUIRED_META_KEY: &str = "org.paymentauth/payment-required";

/// Why a JSON value is not a challenge (or credential) in its JSON form.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonFormError {
    /// Not a JSON object.
    #[error("{0} is not a JSON object")]
    NotAnObject(&'static str),
    /// A required string member is missing, empty or not a string.
    #[error("challenge.{0} is missing, empty or not a string")]
    Missing(&'static str),
    /// An optional member is present but not of its type.
    #[error("challenge.{0} has the wrong type")]
    WrongType(&'static str),
    /// The request object could not be canonicalised.
    #[error("challenge.request cannot be canonicalised")]
    Jcs(#[source] crate::jcs::JcsError),
    /// The base64url request does not decode to a JSON object.
    #[error("challenge.request does not decode to a JSON object")]
    Request(#[source] crate::challenge::RequestError),
}

fn required(o: &Map<String, Value>, name: &'static str) -> Result<String, JsonFormError> {
    o.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or(JsonFormError::Missing(name))
}

fn optional(o: &Map<String, Value>, name: &'static str) -> Result<Option<String>, JsonFormError> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JsonFormError::WrongType(name)),
    }
}

/// The [`Challenge`] a JSON-form challenge stands for: `request` (an object) becomes the
/// base64url of its JCS bytes; `opaque` may be the wire string or a flat object (encoded the
/// same way); unknown members are ignored.
pub fn challenge_from_json(value: &Value) -> Result<Challenge, JsonFormError> {
    let o = value
        .as_object()
        .ok_or(JsonFormError::NotAnObject("challenge"))?;
    let request = match o.get("request") {
        Some(r @ Value::Object(_)) => crate::jcs::encode_b64(r).map_err(JsonFormError::Jcs)?,
        Some(_) => return Err(JsonFormError::WrongType("request")),
        None => return Err(JsonFormError::Missing("request")),
    };
    let opaque = match o.get("opaque") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(obj @ Value::Object(_)) => {
            Some(crate::jcs::encode_b64(obj).map_err(JsonFormError::Jcs)?)
        }
        Some(_) => return Err(JsonFormError::WrongType("opaque")),
    };
    Ok(Challenge {
        id: required(o, "id")?,
        realm: required(o, "realm")?,
        method: required(o, "method")?,
        intent: required(o, "intent")?,
        request,
        expires: optional(o, "expires")?,
        digest: optional(o, "digest")?,
        description: optional(o, "description")?,
        opaque,
    })
}

/// The JSON form of `challenge`: its `request` decoded to the object (`opaque`, if any, stays
/// the wire string).
pub fn challenge_to_json(challenge: &Challenge) -> Result<Value, JsonFormError> {
    let request: Map<String, Value> = challenge.decode_request().map_err(JsonFormError::Request)?;
    let mut value = serde_json::to_value(challenge).expect("a challenge serialises");
    value["request"] = Value::Object(request);
    Ok(value)
}

/// The `challenges` of a payment-required `data` object (the error's `data`, or the value of
/// [`PAYMENT_REQUIRED_META_KEY`] in a result): every element, unchecked; empty when absent.
pub fn challenges_of(data: &Value) -> Vec<Value> {
    data.get("challenges")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The credential for the `_meta` of a retried call: `{challenge: <echo>, payload}`, the
/// challenge echoed exactly as it was received.
pub fn credential_json(echo: Value, payload: Map<String, Value>) -> Value {
    let mut credential = Map::new();
    credential.insert("challenge".into(), echo);
    credential.insert("payload".into(), Value::Object(payload));
    Value::Object(credential)
}

/// Reads a JSON-form credential (what a server finds at [`CREDENTIAL_META_KEY`]) into a
/// [`Credential`] whose challenge is the HTTP form (see [`challenge_from_json`]).
pub fn credential_from_json(value: &Value) -> Result<Credential, JsonFormError> {
    let o = value
        .as_object()
        .ok_or(JsonFormError::NotAnObject("credential"))?;
    let challenge = challenge_from_json(o.get("challenge").unwrap_or(&Value::Null))?;
    let payload = match o.get("payload") {
        Some(Value::Object(p)) => p.clone(),
        _ => return Err(JsonFormError::NotAnObject("payload")),
    };
    Ok(Credential {
        challenge,
        source: optional(o, "source")?,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "id": "abc", "realm": "mcp.example", "method": "lightning", "intent": "charge",
            "request": {"currency": "sat", "amount": "10",
                        "methodDetails": {"invoice": "lnbcrt1", "paymentHash": "00"}},
            "expires": "2026-03-15T12:05:00Z", "description": "search", "extra": 1
        })
    }

    #[test]
    fn the_request_object_becomes_its_jcs_base64url_and_back() {
        let c = challenge_from_json(&sample()).unwrap();
        assert_eq!(
            String::from_utf8(crate::b64::decode(&c.request).unwrap()).unwrap(),
            r#"{"amount":"10","currency":"sat","methodDetails":{"invoice":"lnbcrt1","paymentHash":"00"}}"#
        );
        assert_eq!(
            (c.id.as_str(), c.realm.as_str(), c.expires.as_deref()),
            ("abc", "mcp.example", Some("2026-03-15T12:05:00Z"))
        );
        assert_eq!(c.description.as_deref(), Some("search"));
        let back = challenge_to_json(&c).unwrap();
        assert_eq!(back["request"], sample()["request"]);
        assert_eq!(challenge_from_json(&back).unwrap(), c);
    }

    #[test]
    fn the_id_binds_the_same_as_over_http() {
        let secret = b"s";
        let bound = challenge_from_json(&sample()).unwrap().bind(secret);
        let json = challenge_to_json(&bound).unwrap();
        assert!(challenge_from_json(&json).unwrap().id_matches(secret));
        let mut tampered = json.clone();
        tampered["request"]["amount"] = json!("1");
        assert!(!challenge_from_json(&tampered).unwrap().id_matches(secret));
    }

    #[test]
    fn bad_forms_are_named() {
        let mut v = sample();
        v["request"] = json!("eyJ9");
        assert!(matches!(
            challenge_from_json(&v),
            Err(JsonFormError::WrongType("request"))
        ));
        let mut v = sample();
        v["realm"] = json!("");
        assert!(matches!(
            challenge_from_json(&v),
            Err(JsonFormError::Missing("realm"))
        ));
        let mut v = sample();
        v["expires"] = json!(5);
        assert!(matches!(
            challenge_from_json(&v),
            Err(JsonFormError::WrongType("expires"))
        ));
        assert!(challenge_from_json(&json!([])).is_err());
    }

    #[test]
    fn a_credential_round_trips() {
        let mut payload = Map::new();
        payload.insert("preimage".into(), json!("01".repeat(32)));
        let json = credential_json(sample(), payload.clone());
        assert_eq!(json["challenge"], sample(), "echoed unchanged");
        let c = credential_from_json(&json).unwrap();
        assert_eq!(c.payload, payload);
        assert_eq!(c.challenge, challenge_from_json(&sample()).unwrap());
        assert!(credential_from_json(&json!({"challenge": sample()})).is_err());
        assert_eq!(
            challenges_of(&json!({"httpStatus": 402, "challenges": [1, 2]})).len(),
            2
        );
        assert!(challenges_of(&json!({})).is_empty());
    }
}
