//! Fuzz targets as plain `fn(&[u8])`, in the style of rust-lightning: any engine (libFuzzer,
//! AFL++, honggfuzz) can drive them, and `cargo test` replays the saved corpus in
//! `fuzz/corpus/<target>/` on stable Rust. Each target must never panic; each also checks an
//! invariant (re-encoding round-trips) so a silent mis-parse is caught too.

use l402_core::caveat;
use l402_core::challenge::Scheme;
use l402_core::challenge::{challenge_header_values, parse_challenges};
use l402_core::credential::{
    CredentialHeaders, PreimageSource, authorization_header_values, multi_authorization_value,
    parse_credential,
};
use l402_core::identifier::Identifier;
use l402_macaroon::Macaroon;
use l402_server::routing::normalize::{
    EscapedSlashes, NormalizeOptions, PathParameters, normalize,
};

/// The names of every target, matching the corpus folders.
pub const TARGETS: &[&str] = &[
    "macaroon_v2",
    "identifier",
    "caveat",
    "challenge",
    "authorization",
    "path_normalize",
    "bolt11",
    "verify",
    "seller_config",
    "mpp_challenge",
    "mpp_credential",
    "h1_response",
    "h1_request",
];

/// Runs the target called `name` on `data`. Returns false for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "macaroon_v2" => macaroon_v2(data),
        "identifier" => identifier(data),
        "caveat" => caveat_target(data),
        "challenge" => challenge(data),
        "authorization" => authorization(data),
        "path_normalize" => path_normalize(data),
        "bolt11" => bolt11(data),
        "verify" => verify(data),
        "seller_config" => seller_config(data),
        "mpp_challenge" => mpp_challenge(data),
        "mpp_credential" => mpp_credential(data),
        "h1_response" => h1_response(data),
        "h1_request" => h1_request(data),
        _ => return false,
    }
    true
}

/// Decodes a V2 macaroon; whatever decodes must re-encode to the same bytes (canonical form).
pub fn macaroon_v2(data: &[u8]) {
    if let Ok(mac) = Macaroon::decode_v2(data) {
        assert_eq!(
            mac.encode_v2(),
            data,
            "decoded macaroon does not re-encode identically"
        );
    }
}

/// Decodes an L402 identifier; whatever decodes must re-encode to the same bytes.
pub fn identifier(data: &[u8]) {
    if let Ok(id) = Identifier::decode(data) {
        assert_eq!(&id.encode()[..], data);
    }
}

/// Parses a caveat and the standard values it may hold.
pub fn caveat_target(data: &[u8]) {
    if let Some(c) = caveat::parse_caveat(data) {
        assert_eq!(caveat::format_caveat(c.condition, c.value).as_bytes(), data);
        // A tier may be spelled with leading zeros (`svc:01`, as Go's Atoi reads it); the
        // canonical spelling must parse back to the same list.
        if let Ok(list) = caveat::parse_services(c.value) {
            let canonical = caveat::format_services(&list);
            assert_eq!(caveat::parse_services(&canonical).as_ref(), Ok(&list));
        }
        let _ = caveat::parse_timestamp(c.value);
        let _ = caveat::parse_capabilities(c.value).count();
    }
}

/// Parses `WWW-Authenticate` values (split on newlines); every parsed challenge re-emits into
/// values that parse to the same macaroon and invoice.
pub fn challenge(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(found) = parse_challenges(text.split('\n')) {
        for c in found {
            if c.invoice.contains('"') || c.invoice.contains('\\') {
                continue;
            }
            let again = challenge_header_values(&c.macaroon, &c.invoice);
            let reparsed = parse_challenges(again.iter().map(String::as_str))
                .expect("emitted challenge must parse");
            assert_eq!(reparsed[0].macaroon, c.macaroon);
            assert_eq!(reparsed[0].invoice, c.invoice);
        }
    }
}

/// Parses credentials: the first line is `Authorization`, the second `Macaroon`, the third
/// `Grpc-Metadata-Macaroon`. A credential never lists more than
/// [`MAX_MACAROONS_PER_CREDENTIAL`](l402_core::limits::MAX_MACAROONS_PER_CREDENTIAL)
/// macaroons, and an explicit one re-emits (one macaroon or several) to one that parses the
/// same.
pub fn authorization(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let authorization: Vec<&str> = lines.next().into_iter().collect();
    let macaroon = lines.next().filter(|s| !s.is_empty());
    let grpc = lines.next().filter(|s| !s.is_empty());
    let headers = CredentialHeaders {
        authorization,
        grpc_metadata_macaroon: grpc,
        macaroon,
    };
    let Ok(cred) = parse_credential(&headers) else {
        return;
    };
    assert!(!cred.macaroons.is_empty());
    assert!(cred.macaroons.len() <= l402_core::limits::MAX_MACAROONS_PER_CREDENTIAL);
    let PreimageSource::Explicit(p) = &cred.preimage else {
        return;
    };
    let emitted = if let [only] = cred.macaroons.as_slice() {
        authorization_header_values(only, p).to_vec()
    } else {
        vec![multi_authorization_value(
            Scheme::L402,
            cred.macaroons.iter().map(Vec::as_slice),
            p,
        )]
    };
    let headers = CredentialHeaders {
        authorization: emitted.iter().map(String::as_str).collect(),
        grpc_metadata_macaroon: None,
        macaroon: None,
    };
    let reparsed = parse_credential(&headers).expect("emitted credential must parse");
    assert_eq!(reparsed.macaroons, cred.macaroons);
}

/// Normalises a request path under every option combination. A normalised path starts with
/// `/`, has no empty, `.` or `..` segment, no control or non-ASCII character, no escaped
/// unreserved character, no escaped slash or backslash, only upper-case escapes, no `\`, and
/// no `;` unless `path_parameters = keep`; normalising it again changes nothing.
pub fn path_normalize(data: &[u8]) {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    for escaped_slashes in [EscapedSlashes::Reject, EscapedSlashes::Decode] {
        for path_parameters in [
            PathParameters::Reject,
            PathParameters::Strip,
            PathParameters::Keep,
        ] {
            let options = NormalizeOptions {
                escaped_slashes,
                path_parameters,
            };
            let Ok(out) = normalize(path, options) else {
                continue;
            };
            check_normalized(&out, options);
            assert_eq!(
                normalize(&out, options).as_ref(),
                Ok(&out),
                "not idempotent"
            );
        }
    }
}

fn check_normalized(out: &str, options: NormalizeOptions) {
    assert!(out.starts_with('/'), "{out:?}");
    let inner = out[1..].strip_suffix('/').unwrap_or(&out[1..]);
    if !inner.is_empty() {
        for segment in inner.split('/') {
            assert!(!matches!(segment, "" | "." | ".."), "{out:?}");
        }
    }
    assert!(
        out.bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_control() && b != b' ' && b != b'\\'),
        "{out:?}"
    );
    if options.path_parameters != PathParameters::Keep {
        assert!(!out.contains(';'), "{out:?}");
    }
    let bytes = out.as_bytes();
    for (i, _) in out.match_indices('%') {
        let hex = &bytes[i + 1..i + 3];
        assert!(
            hex.iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
            "{out:?}"
        );
        let value = u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap();
        assert!(
            !(value.is_ascii_alphanumeric() || b"-._~/\\".contains(&value)),
            "{out:?}"
        );
    }
}

/// Parses a BOLT11 invoice (with or without `lightning:`); a parsed invoice's amount and expiry
/// are consistent, and its payment hash re-encodes as 64 hex digits.
pub fn bolt11(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(invoice) = l402_core::invoice::parse_bolt11(text) {
        assert_eq!(invoice.payment_hash.to_hex().len(), 64);
        assert!(invoice.expires_at_unix() >= invoice.created_at_unix);
        assert_eq!(invoice.payee_pubkey_hex.len(), 66);
    }
}

/// The master key every `verify` input is checked against (the corpus holds tokens minted
/// with it, so mutations reach the signature and caveat checks).
pub const VERIFY_KEY: [u8; 32] = [7; 32];

/// A `verify` input that verifies: a token for service `svc` with capability `read`, minted
/// with [`VERIFY_KEY`] (deterministic, so `fuzz/corpus/verify/valid_token` is checked against
/// it by `cargo test`).
pub fn valid_verify_input() -> Vec<u8> {
    let (macaroon, preimage) = verify_seed_token(9, "svc");
    let [_, l402] = authorization_header_values(&macaroon.encode_v2(), &preimage);
    format!("{l402}\nsvc\nread").into_bytes()
}

/// A `verify` input listing two tokens that verifies (`fuzz/corpus/verify/two_tokens`): one
/// for service `other` carrying its preimage in a caveat, then the one for `svc` the preimage
/// after `:` pays; the request is for `svc`, so mutations reach the second token's checks
/// after the first's.
pub fn valid_two_token_verify_input() -> Vec<u8> {
    let (other, other_preimage) = verify_seed_token(5, "other");
    let (svc, preimage) = verify_seed_token(9, "svc");
    let other = l402_core::mint::with_preimage_caveat(&other, &other_preimage).encode_v2();
    let value = multi_authorization_value(
        Scheme::L402,
        [other.as_slice(), svc.encode_v2().as_slice()],
        &preimage,
    );
    format!("{value}\nsvc\nread").into_bytes()
}

/// A token for `service` with capability `read`, minted with [`VERIFY_KEY`]; `seed` picks its
/// token id and preimage.
fn verify_seed_token(seed: u8, service: &str) -> (Macaroon, l402_core::Preimage) {
    use l402_core::Preimage;
    use l402_core::TokenId;
    use l402_core::caveat::ServiceTier;
    use l402_core::keys::{KeyRing, MasterKey};
    use l402_core::mint::{DEFAULT_LOCATION, MintRequest, ServiceGrant, mint_with_root_key};

    let preimage = Preimage([seed.wrapping_sub(6); 32]);
    let mut token_id = [seed; 32];
    token_id[..4].copy_from_slice(&1u32.to_be_bytes());
    let identifier = Identifier {
        payment_hash: preimage.payment_hash(),
        token_id: TokenId(token_id),
    };
    let keys = KeyRing::new(1, &MasterKey::from_bytes(VERIFY_KEY));
    let root_key = keys
        .derive(&identifier.token_id)
        .expect("epoch 1 is in the ring");
    let request = MintRequest {
        payment_hash: identifier.payment_hash,
        grants: vec![ServiceGrant {
            service: ServiceTier {
                name: service.into(),
                tier: 0,
            },
            capabilities: vec!["read".into()],
            lifetime_secs: Some(3_600),
        }],
        extra_caveats: Vec::new(),
    };
    let macaroon = mint_with_root_key(
        &root_key,
        &identifier,
        DEFAULT_LOCATION,
        &request,
        1_799_999_000,
    );
    (macaroon, preimage)
}

/// The paywall's verification of a request: line 1 is the `Authorization` value, line 2 the
/// service, line 3 the required capabilities (comma-separated), line 4 the route's price in
/// msat (also the base price). Whatever verifies must carry a preimage that pays its payment
/// hash.
pub fn verify(data: &[u8]) {
    verifies(data);
}

/// [`verify`], telling whether the credential verified.
pub fn verifies(data: &[u8]) -> bool {
    use l402_core::keys::{KeyRing, MasterKey};
    use l402_core::verify::{RequestContext, verify_credential_all};

    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let authorization: Vec<&str> = lines.next().into_iter().collect();
    let service = lines.next().unwrap_or("svc");
    let capabilities: Vec<String> = lines
        .next()
        .map(|l| {
            l.split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let price = l402_core::Msat(lines.next().and_then(|l| l.parse().ok()).unwrap_or(0));
    let headers = CredentialHeaders {
        authorization,
        grpc_metadata_macaroon: None,
        macaroon: None,
    };
    let Ok(credential) = parse_credential(&headers) else {
        return false;
    };
    let keys = KeyRing::new(1, &MasterKey::from_bytes(VERIFY_KEY));
    let request = RequestContext {
        service,
        required_capabilities: &capabilities,
        price,
        base_price: price,
        now_unix: 1_800_000_000,
        custom: &[],
    };
    match verify_credential_all(
        &credential,
        &keys,
        &l402_core::verify::NoRevocations,
        &request,
    ) {
        Ok(verified) => {
            // The granting token is paid for: by the preimage after `:` or by its own
            // `preimage=` caveat; and it is for the requested service.
            let hash = verified.token.identifier.payment_hash;
            let explicit = match &credential.preimage {
                PreimageSource::Explicit(p) => p.pays(&hash),
                PreimageSource::InCaveat => false,
            };
            let granting = Macaroon::decode_v2(&credential.macaroons[verified.position])
                .expect("a verified macaroon decodes");
            let presented: Vec<_> = granting
                .first_party_caveats()
                .filter_map(caveat::parse_caveat)
                .collect();
            let last = |condition: &str| presented.iter().rfind(|c| c.condition == condition);
            let in_caveat = last(caveat::PREIMAGE)
                .and_then(|c| l402_core::Preimage::from_hex(c.value).ok())
                .is_some_and(|p| p.pays(&hash));
            assert!(explicit || in_caveat, "a verified token must be paid for");
            // Read from the macaroon as presented, not from what the verifier reports: the
            // deciding (last) `services` caveat names the requested service.
            assert!(last(caveat::SERVICES).is_some_and(|c| {
                c.value
                    .split(',')
                    .any(|s| s.split(':').next() == Some(service))
            }));
            assert_eq!(verified.others.len(), credential.macaroons.len() - 1);
            true
        }
        Err(_) => false,
    }
}

/// Parses and checks a seller configuration file (`l402.toml`): never a panic, whatever the
/// text.
pub fn seller_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = l402_seller::SellerConfig::from_toml(text, None) {
        let _ = config.check();
        let _ = l402_seller::pricing::PriceTable::new(&config);
    }
}

/// Parses a `WWW-Authenticate` value for `Payment` challenges (a folded list, other schemes
/// mixed in); each one found re-emits to a value that parses back to it.
pub fn mpp_challenge(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(found) = l402_mpp::Challenge::parse_list(&text) {
        for c in found {
            let Ok(again) = c.to_header() else {
                continue; // a control character a quoted-string cannot carry
            };
            let reparsed =
                l402_mpp::Challenge::parse_list(&again).expect("emitted challenge must parse");
            assert_eq!(reparsed, vec![c]);
        }
    }
}

/// Reads an `Authorization: Payment …` value and verifies it as a Lightning charge (never
/// accepted: no challenge of this fuzz run was bound under the secret); whatever reads
/// re-encodes to a value that reads back the same.
pub fn mpp_credential(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let verifier = l402_mpp::ChargeVerifier::new("fuzz", b"fuzz-secret".to_vec());
    let expect = l402_mpp::Expectation {
        price_sat: 1,
        scope: Some("svc"),
        now_unix: 1_700_000_000,
    };
    assert!(verifier.verify_header(&text, &expect).is_err());
    if let Ok(c) = l402_mpp::Credential::from_authorization(&text) {
        let again = l402_mpp::Credential::from_authorization(&c.to_authorization())
            .expect("emitted credential must parse");
        assert_eq!(again, c);
    }
}

/// Bytes handed out `step` at a time, as a socket might deliver them.
struct Pieces<'a> {
    wire: &'a [u8],
    step: usize,
    fed: usize,
}

impl<'a> Pieces<'a> {
    fn new(wire: &'a [u8], step: usize) -> Self {
        Self { wire, step, fed: 0 }
    }

    /// Appends the next piece to `buf`; false when nothing was left.
    fn feed(&mut self, buf: &mut bytes::BytesMut) -> bool {
        let end = (self.fed + self.step).min(self.wire.len());
        buf.extend_from_slice(&self.wire[self.fed..end]);
        let more = end > self.fed;
        self.fed = end;
        more
    }

    /// What has not been handed out.
    fn rest(&self) -> &'a [u8] {
        &self.wire[self.fed..]
    }
}

/// What one reading of an upstream's answer produced: the head's status, framing and
/// keep-alive, the body's bytes, the trailers, how it ended, and the bytes left after it.
#[derive(Debug, PartialEq)]
struct H1Reading {
    head: Option<(u16, l402_h1::BodyFraming, bool)>,
    data: Vec<u8>,
    trailers: Vec<(String, Vec<u8>)>,
    outcome: Result<(), String>,
    left: Vec<u8>,
}

/// Reads `wire` as an answer (to `method`) arriving `step` bytes at a time, then closing.
fn read_h1(wire: &[u8], method: &http::Method, step: usize) -> H1Reading {
    use l402_h1::{BodyDecoder, Decoded, response};
    let mut reading = H1Reading {
        head: None,
        data: Vec::new(),
        trailers: Vec::new(),
        outcome: Ok(()),
        left: Vec::new(),
    };
    let mut buf = bytes::BytesMut::new();
    let mut wire = Pieces::new(wire, step);
    let head = loop {
        match response::parse(&mut buf, method) {
            Ok(Some(head)) => break head,
            Ok(None) if wire.feed(&mut buf) => {}
            Ok(None) => {
                reading.outcome = Err("closed before the head".into());
                return reading;
            }
            Err(e) => {
                reading.outcome = Err(format!("{e:?}"));
                return reading;
            }
        }
    };
    reading.head = Some((head.status.as_u16(), head.framing, head.keep_alive));
    let mut body = BodyDecoder::new(head.framing);
    loop {
        let step = match body.decode(&mut buf) {
            Ok(Some(step)) => Ok(step),
            Ok(None) if wire.feed(&mut buf) => continue,
            Ok(None) => body.decode_eof(&mut buf),
            Err(e) => Err(e),
        };
        match step {
            Ok(Decoded::Data(data)) => {
                assert!(!data.is_empty(), "an empty data frame");
                reading.data.extend_from_slice(&data);
            }
            Ok(Decoded::Trailers(trailers)) => {
                reading.trailers = trailers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                    .collect();
                break;
            }
            Ok(Decoded::End) => break,
            Err(e) => {
                reading.outcome = Err(format!("{e:?}"));
                break;
            }
        }
    }
    assert!(
        reading.outcome.is_err() || body.is_end(),
        "ended without the decoder at its end"
    );
    buf.extend_from_slice(wire.rest());
    reading.left = buf.to_vec();
    reading
}

/// Reads an upstream's answer (the first byte picks `GET` or `HEAD`, the rest is the wire)
/// with `l402-h1`, whole and in pieces of 1 and 7 bytes: every split must read the same, and a
/// body of declared length that ends must hold exactly that many bytes.
pub fn h1_response(data: &[u8]) {
    let Some((&first, wire)) = data.split_first() else {
        return;
    };
    let method = if first & 1 == 0 {
        http::Method::GET
    } else {
        http::Method::HEAD
    };
    let whole = read_h1(wire, &method, wire.len().max(1));
    for step in [1, 7] {
        assert_eq!(
            read_h1(wire, &method, step),
            whole,
            "split into pieces of {step}"
        );
    }
    if let (Some((_, l402_h1::BodyFraming::Length(n), _)), Ok(())) = (whole.head, &whole.outcome) {
        assert_eq!(
            whole.data.len() as u64,
            n,
            "a length body of another length"
        );
    }
}

/// One request as read: method, target, header lines, body, keep-alive, trailers taken.
#[derive(Debug, PartialEq)]
struct ReadRequest {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    keep_alive: bool,
    takes_trailers: bool,
}

/// What one reading of a client's bytes produced: each request taken, then why the reading
/// stopped and the bytes left.
#[derive(Debug, PartialEq)]
struct ClientReading {
    requests: Vec<ReadRequest>,
    end: String,
    left: Vec<u8>,
}

/// The head limit of the `h1_request` target: small, so that inputs reach it.
const FUZZ_MAX_HEAD: usize = 512;

/// Reads `wire` as pipelined requests arriving `step` bytes at a time.
fn read_client(wire: &[u8], step: usize) -> ClientReading {
    use l402_h1::server::parse_request;
    let mut reading = ClientReading {
        requests: Vec::new(),
        end: String::new(),
        left: Vec::new(),
    };
    let mut buf = bytes::BytesMut::new();
    let mut wire = Pieces::new(wire, step);
    'requests: loop {
        let before = buf.clone();
        let head = match parse_request(&mut buf, FUZZ_MAX_HEAD) {
            Ok(Some(head)) => head,
            Ok(None) if wire.feed(&mut buf) => continue,
            Ok(None) => {
                reading.end = "closed".into();
                break;
            }
            Err(_) => {
                assert_eq!(buf, before, "a declined request must leave its bytes");
                // The reason is diagnostic only (a head past the limit with a bad byte after
                // it is too large in pieces, malformed whole): either way the same bytes go
                // to the server that takes the rest.
                reading.end = "declined".into();
                break;
            }
        };
        assert!(!head.headers.contains_key(http::header::TRANSFER_ENCODING));
        assert!(
            head.headers
                .get_all(http::header::CONTENT_LENGTH)
                .iter()
                .count()
                <= 1
        );
        if let Some(length) = head.headers.get(http::header::CONTENT_LENGTH) {
            let digits = length.to_str().unwrap();
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{digits:?}");
            assert_eq!(digits.parse::<u64>().ok(), Some(head.body_len));
        }
        if !head.headers.contains_key(http::header::CONTENT_LENGTH) {
            assert_eq!(head.body_len, 0);
        }
        // What the reader noted as it built the map, against the map itself.
        assert!(!head.headers.contains_key(http::header::UPGRADE));
        assert!(!head.headers.contains_key(http::header::EXPECT));
        let lists = |name, token| l402_h1::lists_token(&head.headers, &name, token);
        assert!(!lists(http::header::CONNECTION, "upgrade"));
        assert_eq!(head.keep_alive, !lists(http::header::CONNECTION, "close"));
        assert_eq!(head.takes_trailers, lists(http::header::TE, "trailers"));
        let mut body = Vec::new();
        while (body.len() as u64) < head.body_len {
            if buf.is_empty() && !wire.feed(&mut buf) {
                reading.end = "closed in a body".into();
                break 'requests;
            }
            let n = (head.body_len - body.len() as u64).min(buf.len() as u64) as usize;
            body.extend_from_slice(&buf.split_to(n));
        }
        reading.requests.push(ReadRequest {
            method: head.method.to_string(),
            target: head.uri.to_string(),
            headers: head
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body,
            keep_alive: head.keep_alive,
            takes_trailers: head.takes_trailers,
        });
    }
    buf.extend_from_slice(wire.rest());
    reading.left = buf.to_vec();
    reading
}

/// Reads a client's bytes as pipelined requests with `l402-h1`'s server side, whole and in
/// pieces of 1 and 7 bytes: every split must read the same requests and stop the same way
/// (with the same bytes left), a declined request leaves its bytes as they were, and a request taken carries no
/// `Transfer-Encoding` and at most one `Content-Length`, its body's.
pub fn h1_request(data: &[u8]) {
    let whole = read_client(data, data.len().max(1));
    for step in [1, 7] {
        assert_eq!(
            read_client(data, step),
            whole,
            "split into pieces of {step}"
        );
    }
}
