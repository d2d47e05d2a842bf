//! The NIP-47 payloads: the wallet's info event, request events (signed, encrypted, with an
//! expiration), and decryption of responses and notifications in whichever scheme the wallet
//! used.

use nostr::event::{Event, EventBuilder, FinalizeEvent, Kind, Tag};
use nostr::key::{Keys, PublicKey, SecretKey};
use nostr::nips::nip47::{Notification, NotificationResult, PaymentNotification, Response};
use nostr::nips::{nip04, nip44};
use nostr::types::Timestamp;

use crate::error::BackendError;

/// How NIP-47 payloads are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encryption {
    /// NIP-04 (AES-256-CBC). Every wallet service understands it; the default when the wallet
    /// advertises nothing.
    Nip04,
    /// NIP-44 version 2 (ChaCha20 + HMAC-SHA256), used when the wallet advertises `nip44_v2`.
    Nip44V2,
}

impl Encryption {
    /// The name in the info event's `encryption` tag and in a request's `encryption` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::Nip04 => "nip04",
            Encryption::Nip44V2 => "nip44_v2",
        }
    }
}

impl std::fmt::Display for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the wallet's info event (kind 13194) advertises.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct WalletInfo {
    /// The `encryption` tag lists `nip44_v2`.
    pub nip44: bool,
    /// The methods in the event's content.
    pub methods: Vec<String>,
    /// The `notifications` tag.
    pub notifications: Vec<String>,
}

impl WalletInfo {
    /// Reads an info event. No `encryption` tag means NIP-04 only (NIP-47).
    pub fn parse(event: &Event) -> Self {
        let tag_words = |name: &str| -> Vec<String> {
            event
                .tags
                .iter()
                .filter(|t| t.kind() == name)
                .filter_map(|t| t.content())
                .flat_map(|c| c.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                .collect()
        };
        Self {
            nip44: tag_words("encryption").iter().any(|e| e == "nip44_v2"),
            methods: event
                .content
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            notifications: tag_words("notifications"),
        }
    }

    /// The scheme requests are sent with: NIP-44 when advertised, NIP-04 otherwise.
    pub fn request_encryption(&self) -> Encryption {
        if self.nip44 {
            Encryption::Nip44V2
        } else {
            Encryption::Nip04
        }
    }

    /// True when the wallet pushes `payment_received` notifications.
    pub fn notifies_payments(&self) -> bool {
        self.notifications.iter().any(|n| n == "payment_received")
    }
}

fn crypto_error(what: &str) -> BackendError {
    // Never the payload or the keys: only what failed.
    BackendError::Other(format!("NWC {what} failed"))
}

/// Encrypts `plaintext` from `secret` to `peer`.
pub(super) fn encrypt(
    encryption: Encryption,
    secret: &SecretKey,
    peer: &PublicKey,
    plaintext: &str,
) -> Result<String, BackendError> {
    match encryption {
        Encryption::Nip04 => nip04::encrypt(secret, peer, plaintext),
        Encryption::Nip44V2 => nip44::encrypt(secret, peer, plaintext, nip44::Version::V2),
    }
    .map_err(|_| crypto_error("encryption"))
}

/// Which scheme a payload uses: NIP-04 payloads end in `?iv=<base64>`, NIP-44 payloads are
/// plain base64 of a version byte and the ciphertext.
pub(super) fn detect(content: &str) -> Encryption {
    if content.contains("?iv=") {
        Encryption::Nip04
    } else {
        Encryption::Nip44V2
    }
}

/// Decrypts a payload from `peer` in whichever scheme it was encrypted with.
pub(super) fn decrypt(
    secret: &SecretKey,
    peer: &PublicKey,
    content: &str,
) -> Result<String, BackendError> {
    match detect(content) {
        Encryption::Nip04 => nip04::decrypt(secret, peer, content),
        Encryption::Nip44V2 => nip44::decrypt(secret, peer, content),
    }
    .map_err(|_| crypto_error("decryption"))
}

/// A signed request event (kind 23194) carrying `json` to `wallet`, encrypted with
/// `encryption`, that the wallet must ignore after `expires_at` (NIP-40 `expiration`).
pub(super) fn request_event(
    keys: &Keys,
    wallet: &PublicKey,
    encryption: Encryption,
    json: &str,
    expires_at: Timestamp,
) -> Result<Event, BackendError> {
    let content = encrypt(encryption, keys.secret_key(), wallet, json)?;
    let encryption_tag = (encryption == Encryption::Nip44V2)
        .then(|| Tag::parse(["encryption", encryption.as_str()]))
        .transpose()
        .map_err(|_| crypto_error("building the encryption tag"))?;
    EventBuilder::new(Kind::WalletConnectRequest, content)
        .tag(Tag::public_key(*wallet))
        .tag(Tag::expiration(expires_at))
        .tag_maybe(encryption_tag)
        .finalize(keys)
        .map_err(|_| crypto_error("signing the request"))
}

/// Decrypts and parses a response event (its author and signature were checked on arrival).
pub(super) fn response(keys: &Keys, event: &Event) -> Result<Response, BackendError> {
    let json = decrypt(keys.secret_key(), &event.pubkey, &event.content)?;
    // The JSON may hold a preimage: name the failure, never the content.
    Response::from_json(json).map_err(|_| {
        BackendError::Other("the NWC wallet service sent a response that does not parse".into())
    })
}

/// The `payment_received` notification in a notification event (kind 23196, NIP-04, or 23197,
/// NIP-44), or `None` for anything else.
pub(super) fn payment_received(keys: &Keys, event: &Event) -> Option<PaymentNotification> {
    let json = decrypt(keys.secret_key(), &event.pubkey, &event.content).ok()?;
    match Notification::from_json(json).ok()?.notification {
        NotificationResult::PaymentReceived(p) => Some(p),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemes_round_trip_and_are_detected() {
        let a = Keys::generate();
        let b = Keys::generate();
        for enc in [Encryption::Nip04, Encryption::Nip44V2] {
            let c = encrypt(enc, a.secret_key(), &b.public_key(), "{\"x\":1}").unwrap();
            assert_eq!(detect(&c), enc);
            assert_eq!(
                decrypt(b.secret_key(), &a.public_key(), &c).unwrap(),
                "{\"x\":1}"
            );
        }
        assert!(decrypt(b.secret_key(), &a.public_key(), "garbage").is_err());
    }

    #[test]
    fn info_event_drives_the_request_scheme() {
        let wallet = Keys::generate();
        let event = |tags: Vec<Tag>| {
            EventBuilder::new(Kind::WalletConnectInfo, "get_info make_invoice pay_invoice")
                .tags(tags)
                .finalize(&wallet)
                .unwrap()
        };
        let legacy = WalletInfo::parse(&event(vec![]));
        assert_eq!(legacy.request_encryption(), Encryption::Nip04);
        assert_eq!(legacy.methods.len(), 3);
        assert!(!legacy.notifies_payments());
        let modern = WalletInfo::parse(&event(vec![
            Tag::parse(["encryption", "nip44_v2 nip04"]).unwrap(),
            Tag::parse(["notifications", "payment_received payment_sent"]).unwrap(),
        ]));
        assert_eq!(modern.request_encryption(), Encryption::Nip44V2);
        assert!(modern.notifies_payments());
    }

    #[test]
    fn request_events_are_signed_tagged_and_decryptable() {
        let client = Keys::generate();
        let wallet = Keys::generate();
        let exp = Timestamp::from_secs(2_000_000_000);
        for enc in [Encryption::Nip04, Encryption::Nip44V2] {
            let e = request_event(&client, &wallet.public_key(), enc, "{}", exp).unwrap();
            e.verify().unwrap();
            assert_eq!(e.kind, Kind::WalletConnectRequest);
            assert_eq!(
                e.tags.public_keys().collect::<Vec<_>>(),
                vec![wallet.public_key()]
            );
            assert_eq!(e.tags.expiration(), Some(exp));
            let has_tag = e.tags.iter().any(|t| t.kind() == "encryption");
            assert_eq!(has_tag, enc == Encryption::Nip44V2);
            assert_eq!(
                decrypt(wallet.secret_key(), &client.public_key(), &e.content).unwrap(),
                "{}"
            );
        }
    }
}
