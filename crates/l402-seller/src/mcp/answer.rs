//! Edits the upstream's answer to one JSON-RPC request (sans IO): the receipt into a paid
//! call's `result._meta`, the payment capability into `initialize`'s result. The answer is a
//! JSON body or a `text/event-stream` whose event carries it ([`EventEditor`]).

use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};

/// The longest server-sent event the editor holds while looking for the answer; past it, the
/// stream passes unedited.
pub(crate) const MAX_EVENT_BYTES: usize = 16 << 20;

/// What to change in the answer to the request with a given id.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    /// `result._meta["org.paymentauth/receipt"]` = the receipt.
    Receipt(Value),
    /// `result.capabilities.experimental.payment` names the Lightning charge.
    AdvertisePayment,
}

impl Edit {
    /// Applies the edit to `message` if it is the successful answer to `id`; whether it was.
    pub(crate) fn apply(&self, message: &mut Value, id: &Value) -> bool {
        if message.get("id") != Some(id) {
            return false;
        }
        let Some(result) = message.get_mut("result").and_then(Value::as_object_mut) else {
            return false;
        };
        match self {
            Edit::Receipt(receipt) => {
                let meta = result.entry("_meta").or_insert_with(|| json!({}));
                let Some(meta) = meta.as_object_mut() else {
                    return false;
                };
                meta.insert(l402_mpp::mcp::RECEIPT_META_KEY.to_owned(), receipt.clone());
            }
            Edit::AdvertisePayment => {
                let capabilities = result.entry("capabilities").or_insert_with(|| json!({}));
                let Some(capabilities) = capabilities.as_object_mut() else {
                    return false;
                };
                let experimental = capabilities
                    .entry("experimental")
                    .or_insert_with(|| json!({}));
                let Some(experimental) = experimental.as_object_mut() else {
                    return false;
                };
                experimental.insert(
                    "payment".to_owned(),
                    json!({"methods": {"lightning": {"intents": ["charge"]}}}),
                );
            }
        }
        true
    }

    /// A JSON answer body with the edit applied; `None` when it is not JSON or not the answer.
    pub(crate) fn json_body(&self, body: &[u8], id: &Value) -> Option<Bytes> {
        let mut message: Value = serde_json::from_slice(body).ok()?;
        self.apply(&mut message, id)
            .then(|| Bytes::from(serde_json::to_vec(&message).expect("JSON serialises")))
    }
}

/// Edits the event carrying the answer in a server-sent event stream, fed chunk by chunk;
/// every other byte passes unchanged, in order.
#[derive(Debug)]
pub(crate) struct EventEditor {
    edit: Edit,
    id: Value,
    pending: BytesMut,
    /// How far into `pending` complete lines have been scanned (where the scan resumes).
    scanned: usize,
    /// Edited, or gave up: pass the rest through.
    done: bool,
}

impl EventEditor {
    /// An editor applying `edit` to the answer to `id`.
    pub(crate) fn new(edit: Edit, id: Value) -> Self {
        Self {
            edit,
            id,
            pending: BytesMut::new(),
            scanned: 0,
            done: false,
        }
    }

    /// Takes a chunk of the stream; returns what can be sent on now.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Bytes {
        if self.done {
            return Bytes::copy_from_slice(chunk);
        }
        self.pending.extend_from_slice(chunk);
        let mut out = BytesMut::new();
        while !self.done {
            let (end, next) = match event_end(&self.pending, self.scanned) {
                Ok(found) => found,
                Err(resume) => {
                    self.scanned = resume;
                    break;
                }
            };
            let event = self.pending.split_to(next).freeze();
            self.scanned = 0;
            out.extend_from_slice(&self.edited(&event[..end], &event[end..]));
        }
        if self.done || self.pending.len() > MAX_EVENT_BYTES {
            self.done = true;
            out.extend_from_slice(&self.pending.split());
        }
        out.freeze()
    }

    /// The end of the stream: whatever is held.
    pub(crate) fn finish(&mut self) -> Bytes {
        self.done = true;
        self.pending.split().freeze()
    }

    /// One event (without its blank-line separator `sep`), edited if it carries the answer.
    fn edited(&mut self, event: &[u8], sep: &[u8]) -> Bytes {
        let unchanged = || {
            let mut b = BytesMut::from(event);
            b.extend_from_slice(sep);
            b.freeze()
        };
        let Ok(text) = std::str::from_utf8(event) else {
            return unchanged();
        };
        let mut data = Vec::new();
        let mut others = Vec::new();
        for line in lines(text) {
            match line.strip_prefix("data:") {
                Some(d) => data.push(d.strip_prefix(' ').unwrap_or(d)),
                None => others.push(line),
            }
        }
        let Ok(mut message) = serde_json::from_str::<Value>(&data.join("\n")) else {
            return unchanged();
        };
        if !self.edit.apply(&mut message, &self.id) {
            return unchanged();
        }
        self.done = true;
        let mut b = BytesMut::new();
        for line in others {
            b.extend_from_slice(line.as_bytes());
            b.extend_from_slice(b"\n");
        }
        b.extend_from_slice(b"data: ");
        b.extend_from_slice(&serde_json::to_vec(&message).expect("JSON serialises"));
        b.extend_from_slice(b"\n\n");
        b.freeze()
    }
}

/// Where the first event of `buf` ends, scanning complete lines from `from` (the start of a
/// line): `Ok((end, next))` when a blank line ends it (the event is `buf[..end]`, its last line
/// ending included, and the blank line runs to `next`), else `Err(resume)`, the start of the
/// first line not yet complete. Lines end with CRLF, LF or CR, as server-sent events allow; a CR
/// at the end of `buf` waits for the next byte (it may start a CRLF).
fn event_end(buf: &[u8], from: usize) -> Result<(usize, usize), usize> {
    let mut line = from;
    loop {
        let Some(offset) = buf[line..].iter().position(|&b| b == b'\n' || b == b'\r') else {
            return Err(line);
        };
        let at = line + offset;
        let next = match buf[at] {
            b'\r' => match buf.get(at + 1) {
                None => return Err(line),
                Some(b'\n') => at + 2,
                Some(_) => at + 1,
            },
            _ => at + 1,
        };
        if at == line {
            return Ok((line, next));
        }
        line = next;
    }
}

/// The lines of an event's text, each without its ending (CRLF, LF or CR).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = match rest.as_bytes().get(end) {
            Some(b'\r') if rest.as_bytes().get(end + 1) == Some(&b'\n') => 2,
            Some(_) => 1,
            None => 0,
        };
        rest = &rest[end + skip..];
        Some(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Edit {
        Edit::Receipt(json!({"status": "success"}))
    }

    #[test]
    fn the_receipt_goes_into_the_answer_with_the_id_only() {
        let body = br#"{"jsonrpc":"2.0","id":3,"result":{"content":[]}}"#;
        let edited: Value =
            serde_json::from_slice(&receipt().json_body(body, &json!(3)).unwrap()).unwrap();
        assert_eq!(
            edited["result"]["_meta"]["org.paymentauth/receipt"]["status"],
            "success"
        );
        assert!(receipt().json_body(body, &json!(4)).is_none());
        let failed = br#"{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"x"}}"#;
        assert!(
            receipt().json_body(failed, &json!(3)).is_none(),
            "no receipt on an error"
        );
        assert!(receipt().json_body(b"not json", &json!(3)).is_none());
    }

    #[test]
    fn initialize_advertises_the_charge() {
        let body = br#"{"jsonrpc":"2.0","id":0,"result":{"capabilities":{"tools":{}}}}"#;
        let edited: Value =
            serde_json::from_slice(&Edit::AdvertisePayment.json_body(body, &json!(0)).unwrap())
                .unwrap();
        assert_eq!(
            edited["result"]["capabilities"]["experimental"]["payment"]["methods"]["lightning"]["intents"],
            json!(["charge"])
        );
        assert_eq!(edited["result"]["capabilities"]["tools"], json!({}));
    }

    /// Feeds `stream` in chunks of `size` bytes.
    fn edit_stream(stream: &str, size: usize) -> String {
        let mut editor = EventEditor::new(receipt(), json!(3));
        let mut out = Vec::new();
        for chunk in stream.as_bytes().chunks(size) {
            out.extend_from_slice(&editor.push(chunk));
        }
        out.extend_from_slice(&editor.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_event_carrying_the_answer_is_edited_whatever_the_chunking() {
        let stream = "event: message\r\nid: 1\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n\r\n\
                      id: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\ndata: \"result\":{}}\n\n\
                      data: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}\n\n: tail";
        for size in [1, 2, 7, 64, 4096] {
            let out = edit_stream(stream, size);
            assert!(
                out.starts_with(
                    "event: message\r\nid: 1\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n\r\n"
                ),
                "{out}"
            );
            let (_, rest) = out.split_once("\r\n\r\n").unwrap();
            let (answer, rest) = rest.split_once("\n\n").unwrap();
            assert!(answer.starts_with("id: 2\ndata: "), "{answer}");
            let json: Value =
                serde_json::from_str(answer.strip_prefix("id: 2\ndata: ").unwrap()).unwrap();
            assert_eq!(
                json["result"]["_meta"]["org.paymentauth/receipt"]["status"],
                "success"
            );
            // Only the first answer is edited; the rest passes as it came.
            assert_eq!(
                rest,
                "data: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}\n\n: tail"
            );
        }
    }

    #[test]
    fn events_ended_by_cr_only_or_mixed_line_endings_are_found() {
        for (stream, answer_at) in [
            ("data: {\"id\":3,\"result\":{}}\r\rdata: x\r\r", 0),
            (": hi\n\r\ndata: {\"id\":3,\"result\":{}}\r\n\n", 1),
        ] {
            for size in [1, 3, 64] {
                let out = edit_stream(stream, size);
                assert!(out.contains("org.paymentauth/receipt"), "{size}: {out:?}");
                if answer_at == 0 {
                    assert!(out.ends_with("data: x\r\r"), "{out:?}");
                } else {
                    assert!(out.starts_with(": hi\n\r\n"), "{out:?}");
                }
            }
        }
        // A lone CR at the end of a chunk waits: it may be the first half of a CRLF.
        assert_eq!(event_end(b"data: 1\r", 0), Err(0));
        assert_eq!(event_end(b"data: 1\r\n", 0), Err(9));
        assert_eq!(event_end(b"data: 1\r\n\r\n", 9), Ok((9, 11)));
    }

    #[test]
    fn an_oversized_event_passes_unedited() {
        let mut editor = EventEditor::new(receipt(), json!(3));
        let big = vec![b'x'; MAX_EVENT_BYTES + 1];
        assert_eq!(editor.push(&big).len(), big.len());
        assert_eq!(&editor.push(b"data: 1\n\n")[..], b"data: 1\n\n");
    }
}
