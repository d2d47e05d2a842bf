//! What a JSON-RPC message posted to an MCP service asks of the paywall (sans IO): which
//! `tools/call` is priced, where its credential is, and the JSON-RPC answers the paywall gives
//! itself.
//!
//! The proxy forwards exactly what it parsed, serialised again: duplicate members are gone, a
//! message with a member JSON-RPC does not define is refused, and so is a `params` member that
//! a loose decoder could take for `name`, `arguments` or `_meta` (`Name`, `na_me`, a Cyrillic
//! `е`: Go's decoders fold case, Unicode included), so the upstream cannot read a different
//! tool than the one priced.

use bytes::Bytes;
use serde_json::{Map, Value, json};

/// JSON-RPC: the body is not JSON.
pub(crate) const PARSE_ERROR: i32 = -32700;
/// JSON-RPC: not a valid request.
pub(crate) const INVALID_REQUEST: i32 = -32600;
/// JSON-RPC: invalid parameters (an unreadable credential).
pub(crate) const INVALID_PARAMS: i32 = -32602;
/// JSON-RPC: an internal error (the payment backend or the store failed).
pub(crate) const INTERNAL_ERROR: i32 = -32603;

/// The only members a JSON-RPC message may have (requests, notifications and responses; MCP's
/// root-level `_meta`). Anything else is refused: some decoders match member names loosely
/// (Go's folds case, Unicode included, and its v2 can ignore `-` and `_`), so an unknown member
/// could be read as one of these.
const MESSAGE_KEYS: [&str; 7] = [
    "jsonrpc", "id", "method", "params", "result", "error", "_meta",
];
/// The members of `params` that decide what a `tools/call` runs or pays: a member that a loose
/// decoder could read as one of them (another case, other Unicode, `-`/`_` dropped) is refused.
const PARAMS_KEYS: [&str; 3] = ["name", "arguments", "_meta"];

/// What the paywall does with one posted body.
#[derive(Debug)]
pub(crate) enum Inspected {
    /// Nothing priced: forward this body (the message as parsed, serialised again).
    Forward(Bytes),
    /// `initialize`: forward the body; the answer with this id advertises the payment method.
    Initialize(Bytes, Value),
    /// A `tools/call` of a priced tool.
    Priced(PricedCall),
    /// Refused before forwarding: the JSON-RPC answer.
    Refused(Value),
}

/// A `tools/call` of a priced tool.
#[derive(Debug)]
pub(crate) struct PricedCall {
    /// The request's id.
    pub(crate) id: Value,
    /// The tool's name.
    pub(crate) tool: String,
    /// The price in sats (at least 1).
    pub(crate) price_sat: u64,
    /// The credential found in `params._meta` or the root `_meta`, if any.
    pub(crate) credential: Option<Value>,
    /// The message, without the credential.
    message: Map<String, Value>,
}

impl PricedCall {
    /// The body to forward once paid: the message without the credential.
    pub(crate) fn forwarded(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(&self.message).expect("a JSON map serialises"))
    }
}

/// A JSON-RPC error answer.
pub(crate) fn error(id: &Value, code: i32, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

/// A member name as a loose decoder may see it: `-` and `_` dropped, lower case.
fn loosely(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A member of `o` that a loose decoder could take for one of `keys` without being it: a
/// non-ASCII name, or one equal to a key once loosened.
fn loose_variant<'a>(o: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    o.keys()
        .find(|k| {
            !keys.contains(&k.as_str())
                && (!k.is_ascii() || keys.iter().any(|key| loosely(k) == loosely(key)))
        })
        .map(String::as_str)
}

/// Whether `message` is a `tools/call` and, if so, its tool name.
fn tool_of(message: &Map<String, Value>) -> Option<&str> {
    if message.get("method").and_then(Value::as_str) != Some("tools/call") {
        return None;
    }
    message
        .get("params")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
}

/// Reads `body` (one JSON-RPC message or a batch) for a service whose tools cost
/// `price_of(name)` sats (0: free).
pub(crate) fn inspect(body: &[u8], price_of: impl Fn(&str) -> u64) -> Inspected {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Inspected::Refused(error(
                &Value::Null,
                PARSE_ERROR,
                &format!("Parse error: {e}"),
                None,
            ));
        }
    };
    let reserialised = || Bytes::from(serde_json::to_vec(&value).expect("JSON serialises"));
    match &value {
        Value::Array(batch) => {
            let ambiguous = batch
                .iter()
                .filter_map(Value::as_object)
                .find_map(ambiguity);
            if let Some(key) = ambiguous {
                return Inspected::Refused(error(&Value::Null, INVALID_REQUEST, &key, None));
            }
            let priced = batch
                .iter()
                .filter_map(Value::as_object)
                .filter_map(tool_of)
                .any(|tool| price_of(tool) > 0);
            if !priced {
                return Inspected::Forward(reserialised());
            }
            let answers: Vec<Value> = batch
                .iter()
                .filter_map(|m| m.get("id").filter(|id| !id.is_null()))
                .map(|id| {
                    error(
                        id,
                        INVALID_REQUEST,
                        "a batch may not contain a priced tools/call: send paid calls one at a time",
                        None,
                    )
                })
                .collect();
            Inspected::Refused(match answers.is_empty() {
                true => error(
                    &Value::Null,
                    INVALID_REQUEST,
                    "a batch may not contain a priced tools/call",
                    None,
                ),
                false => Value::Array(answers),
            })
        }
        Value::Object(message) => {
            if let Some(why) = ambiguity(message) {
                let id = message.get("id").cloned().unwrap_or(Value::Null);
                return Inspected::Refused(error(&id, INVALID_REQUEST, &why, None));
            }
            if message.get("method").and_then(Value::as_str) == Some("initialize")
                && let Some(id) = message.get("id").filter(|id| !id.is_null())
            {
                return Inspected::Initialize(reserialised(), id.clone());
            }
            let Some(tool) = tool_of(message) else {
                return Inspected::Forward(reserialised());
            };
            let price_sat = price_of(tool);
            if price_sat == 0 {
                return Inspected::Forward(reserialised());
            }
            let Some(id) = message.get("id").filter(|id| !id.is_null()).cloned() else {
                return Inspected::Refused(error(
                    &Value::Null,
                    INVALID_REQUEST,
                    "a priced tools/call must be a request with an id (a notification cannot be paid)",
                    None,
                ));
            };
            let tool = tool.to_owned();
            let Value::Object(mut message) = value else {
                unreachable!("matched an object")
            };
            let credential = take_credential(&mut message);
            Inspected::Priced(PricedCall {
                id,
                tool,
                price_sat,
                credential,
                message,
            })
        }
        _ => Inspected::Refused(error(
            &Value::Null,
            INVALID_REQUEST,
            "a JSON-RPC message is an object or an array of objects",
            None,
        )),
    }
}

/// Why `message` is ambiguous (a member another decoder could read as a significant one), if
/// it is.
fn ambiguity(message: &Map<String, Value>) -> Option<String> {
    if let Some(key) = message.keys().find(|k| !MESSAGE_KEYS.contains(&k.as_str())) {
        return Some(format!(
            "unknown member {key:?}: a JSON-RPC message has only jsonrpc, id, method, params, result, error and _meta"
        ));
    }
    let params = message.get("params").and_then(Value::as_object)?;
    loose_variant(params, &PARAMS_KEYS).map(|key| {
        format!(
            "ambiguous member params.{key:?}: member names are exact (no case or Unicode variants)"
        )
    })
}

/// Removes the credential from `params._meta` and the root `_meta` (dropping a `_meta` left
/// empty); the `params` one wins when both carry one.
fn take_credential(message: &mut Map<String, Value>) -> Option<Value> {
    let key = l402_mpp::mcp::CREDENTIAL_META_KEY;
    let take = |holder: Option<&mut Map<String, Value>>| {
        let holder = holder?;
        let meta = holder.get_mut("_meta")?.as_object_mut()?;
        let found = meta.remove(key);
        if meta.is_empty() {
            holder.remove("_meta");
        }
        found
    };
    let from_params = take(message.get_mut("params").and_then(Value::as_object_mut));
    let from_root = take(Some(message));
    from_params.or(from_root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(tool: &str) -> u64 {
        match tool {
            "search" => 10,
            _ => 0,
        }
    }

    fn inspect_json(v: Value) -> Inspected {
        inspect(&serde_json::to_vec(&v).unwrap(), price)
    }

    fn call(name: &str) -> Value {
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
               "params": {"name": name, "arguments": {"q": "x"}}})
    }

    #[test]
    fn a_free_tool_and_other_methods_are_forwarded_as_parsed() {
        for v in [
            call("echo"),
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        ] {
            let Inspected::Forward(body) = inspect_json(v.clone()) else {
                panic!("{v}")
            };
            assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), v);
        }
        // Duplicate members: what is forwarded is what was read (the last one).
        let raw = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","name":"echo"}}"#;
        let Inspected::Forward(body) = inspect(raw, price) else {
            panic!("the last name is the one read, and forwarded")
        };
        assert!(!String::from_utf8_lossy(&body).contains("search"));
    }

    #[test]
    fn a_priced_call_is_found_with_its_credential_removed() {
        let mut v = call("search");
        v["params"]["_meta"] = json!({"org.paymentauth/credential": {"payload": {}}, "k": 1});
        let Inspected::Priced(c) = inspect_json(v) else {
            panic!()
        };
        assert_eq!(
            (c.id.clone(), c.tool.as_str(), c.price_sat),
            (json!(7), "search", 10)
        );
        assert_eq!(c.credential, Some(json!({"payload": {}})));
        let forwarded: Value = serde_json::from_slice(&c.forwarded()).unwrap();
        assert_eq!(forwarded["params"]["_meta"], json!({"k": 1}));
        // The root `_meta` is read too, and an emptied `_meta` disappears.
        let mut v = call("search");
        v["_meta"] = json!({"org.paymentauth/credential": 1});
        let Inspected::Priced(c) = inspect_json(v) else {
            panic!()
        };
        assert_eq!(c.credential, Some(json!(1)));
        assert!(
            serde_json::from_slice::<Value>(&c.forwarded()).unwrap()["_meta"].is_null(),
            "no empty _meta left"
        );
        let Inspected::Priced(c) = inspect_json(call("search")) else {
            panic!()
        };
        assert_eq!(c.credential, None);
    }

    #[test]
    fn initialize_is_marked_for_the_capability() {
        let v = json!({"jsonrpc": "2.0", "id": "a", "method": "initialize", "params": {}});
        assert!(matches!(inspect_json(v), Inspected::Initialize(_, id) if id == json!("a")));
    }

    fn refused(i: Inspected) -> Value {
        match i {
            Inspected::Refused(v) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_the_upstream_could_read_differently_is_refused() {
        assert_eq!(
            refused(inspect(b"\xef\xbb\xbf{}", price))["error"]["code"],
            json!(PARSE_ERROR),
            "a BOM is not skipped"
        );
        assert_eq!(
            refused(inspect(b"{\"id\":1} x", price))["error"]["code"],
            json!(PARSE_ERROR)
        );
        let mut v = call("echo");
        v["params"]["Name"] = json!("search");
        let answer = refused(inspect_json(v));
        assert_eq!(answer["error"]["code"], json!(INVALID_REQUEST));
        assert_eq!(answer["id"], json!(7));
        let mut v = call("search");
        v["METHOD"] = json!("tools/list");
        refused(inspect_json(v));
        assert_eq!(refused(inspect_json(json!(5)))["id"], Value::Null);
        // What Go's decoder folds: Unicode case (ſ is s), and `-`/`_` in its v2.
        let mut v = call("echo");
        v["paramſ"] = json!({"name": "search"});
        refused(inspect_json(v));
        for key in ["nam\u{0435}", "na_me", "NA-ME", "\u{17f}ame"] {
            let mut v = call("echo");
            v["params"][key] = json!("search");
            assert_eq!(
                refused(inspect_json(v))["error"]["code"],
                json!(INVALID_REQUEST),
                "{key}"
            );
        }
        // Other members of params pass (MCP adds some), as do responses.
        let mut v = call("echo");
        v["params"]["task"] = json!({"ttl": 1});
        assert!(matches!(inspect_json(v), Inspected::Forward(_)));
        let response = json!({"jsonrpc": "2.0", "id": 3, "result": {}});
        assert!(matches!(inspect_json(response), Inspected::Forward(_)));
    }

    #[test]
    fn a_priced_notification_or_batch_is_refused() {
        let mut v = call("search");
        v.as_object_mut().unwrap().remove("id");
        assert_eq!(
            refused(inspect_json(v))["error"]["code"],
            json!(INVALID_REQUEST)
        );
        let batch = json!([call("search"), {"jsonrpc": "2.0", "id": 8, "method": "tools/list"},
                           {"jsonrpc": "2.0", "method": "notifications/x"}]);
        let answers = refused(inspect_json(batch));
        let ids: Vec<_> = answers
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["id"])
            .collect();
        assert_eq!(ids, [&json!(7), &json!(8)]);
        let free_batch = json!([call("echo"), call("echo")]);
        assert!(matches!(inspect_json(free_batch), Inspected::Forward(_)));
    }
}
