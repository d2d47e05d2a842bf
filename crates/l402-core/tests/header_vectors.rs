//! Published and computed header vectors (reference §5.4–§5.6), emit/parse round trips, and
//! property tests that the header parsers never panic.

use l402_core::Preimage;
use l402_core::base64_codec::{decode_lenient, encode_std};
use l402_core::challenge::{
    Challenge, ChallengeError, Scheme, challenge_header_value, challenge_header_values,
    parse_challenges, parse_first_challenge,
};
use l402_core::credential::{
    Credential, CredentialError, CredentialHeaders, CredentialScheme, PreimageSource,
    authorization_header_values, macaroon_metadata_value, parse_credential,
    single_authorization_value,
};
use proptest::prelude::*;

// §5.4a: real Aperture challenge (lsat-js tests/data.ts `aperture`).
const APERTURE_MAC: &str = "AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD";
const APERTURE_INVOICE: &str = "lnbcrt100n1p3qqkygpp5xzj85m5mpvatnapgpuyfxtxhypa5gr6sskqd8664v04550vqp8lsdq8f3f5z4qcqzpgsp5tpzvsq5pckqgln3ltpy3e9cf6tf2aj82ffa2tted77ltweuaweks9qyyssq0w5da3k40wtdukac7hp5s58hsxf8k8f52c5qneezu4xg3xh87xrnkl5jwtw098d2gjywx20nmkxl2y4vq9fr89kg5kzcwupv9xpdaggp4fc4ms";
const APERTURE_HASH: &str = "30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff";
const APERTURE_TOKEN_ID: &str = "349f9841a5229366dd5cf1bb30aa2e1129e4a1a2c8f2d433d2fe91c07bbb34be";

// §5.4c: JS-generated macaroon, URL-safe and unpadded, identifier = ASCII hex.
const JS_MAC: &str = "AgEIbG9jYXRpb24ChAEwMDAwN2NlZjkzZjJjNTFhYTY1MjA4YmVjMTQ0N2ZjMzhmYzU4ZDliY2UxMzc1YTUzMmVkYjBkY2QyOTBhMmMzMzBhZTljNTMyNjZiMWJlMzE1MGI2NjZiM2Y2ZWM3MGYyOGJkNDNhOWQ0ZmQxOTQ2MWE2MjBmYmFjYzMzNzY4YTk5OTQAAhhleHBpcmF0aW9uPTE2NDQxOTQyNjM2OTMAAAYg_1CMq8TuMXv-ERHDWQCtlIhsQwwKiUDmnnh1maDFpkQ";
const JS_INVOICE: &str = "lntb10u1pw7kfm8pp50nhe8uk9r2n9yz97c9z8lsu0ckxehnsnwkjn9mdsmnffpgkrxzhqdq5w3jhxapqd9h8vmmfvdjscqzpgllq2qvdlgkllc27kpd87lz8pdfsfmtteyc3kwq734jpwnvqt96e4nuy0yauzdrtkumxsvawgda8dlljxu3nnjlhs6w75390wy7ukj6cpfmygah";
const JS_HASH: &str = "7cef93f2c51aa65208bec1447fc38fc58d9bce1375a532edb0dcd290a2c330ae";

// §5.4b: go-generated macaroon, standard alphabet with `=` padding.
const GO_MAC: &str = "AgESMy4xMzYuMTc4LjE1OjM0MjM4AkIAAD2b0rX78LATiVo8bKgHuurefeF5OeX2H5ZuacBIK3+RAR1PKU1oZpfCZFib4zdDoj0pOpgPmhtuzNllU+y//D0AAAYgcWFs9FIteCzpCcEPSwmXKBpcx97hyL5Yt99cbLjRHzU=";
const GO_INVOICE: &str = "lntb20n1psza5dwpp58kda9d0m7zcp8z2683k2spa6at08mcte88jlv8ukde5uqjpt07gsdzjfp85gnpqd9h8vmmfvdjjqurp09kk2mn5ypn8ymmdyppksctfdecx76twwssyxmmjv5sxcmny8gcnqvps8ycqzpgsp5m7xru8dlhrhmwjp8gynsj2l9mwan2jk52ah5xucrn9kc3p0pj5ns9qy9qsq7jjxypyyc7hvvs8srh6c3lvcp5l5wka94htnfxak99hd5qrx69sya9sj4zm3w5lncw0tksf944q73tduhlhs5apd63m9dte9dhva5dgqaceunx";
const GO_HASH: &str = "3d9bd2b5fbf0b013895a3c6ca807baeade7de17939e5f61f966e69c0482b7f91";

// §5.5: Aperture authenticator test macaroon (carries a `preimage=` caveat).
const AP_AUTH_MAC: &str = "AgEIYXBlcnR1cmUCBEFBPT0AAklwcmVpbWFnZT00OTM0OWRmZWE0YWJlZDNjZDE0ZjZkMzU2YWZhODNkZTk3ODdiNjA5ZjA4OGM4ZGYwOWJhY2M3YjRiZDIxYjM5AAAGIKMp8NcUmtVBYudEjYaIJemlCNTelfuG1dAGAAJJPKa1";
const AP_AUTH_PREIMAGE: &str = "49349dfea4abed3cd14f6d356afa83de9787b609f088c8df09bacc7b4bd21b39";
const AP_AUTH_SIG: &str = "a329f0d7149ad54162e7448d868825e9a508d4de95fb86d5d0060002493ca6b5";

// §5.6: synthetic full L402 Authorization header.
const SYNTH_AUTH: &str = "L402 AgEEbHNhdAJCAAB875PyxRqmUgi+wUR/w4/FjZvOE3WlMu2w3NKQosMwrgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fAAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAIbbWVtZV92YWxpZF91bnRpbD0xNzAwMDAwMDAwAAAGIFwUwEIU3CXvKjaSyjSxwZFMyZbA9jCdw3eg1ZxM4wT1:2ca931a1c36b48f54948b898a271a53ed91ff7d0081939a5fa511249e81cba5c";
const SYNTH_ID: &str = "00007cef93f2c51aa65208bec1447fc38fc58d9bce1375a532edb0dcd290a2c330ae000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SYNTH_SIG: &str = "5c14c04214dc25ef2a3692ca34b1c1914cc996c0f6309dc377a0d59c4ce304f5";
const SYNTH_PREIMAGE: &str = "2ca931a1c36b48f54948b898a271a53ed91ff7d0081939a5fa511249e81cba5c";

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn one(value: &str) -> Challenge {
    let mut all = parse_challenges([value]).unwrap();
    assert_eq!(all.len(), 1, "{value}");
    all.pop().unwrap()
}

fn authz(values: &[&str]) -> Result<Credential, CredentialError> {
    parse_credential(&CredentialHeaders {
        authorization: values.to_vec(),
        ..Default::default()
    })
}

// ---------------------------------------------------------------- challenges: vectors

#[test]
fn aperture_challenge_5_4a_parses() {
    let c = one(&format!(
        "LSAT macaroon=\"{APERTURE_MAC}\", invoice=\"{APERTURE_INVOICE}\""
    ));
    assert_eq!(c.scheme, Scheme::Lsat);
    assert_eq!(c.invoice, APERTURE_INVOICE);
    assert_eq!(c.version, None);
    let mac = &c.macaroon;
    // 02 | 01 04 "lsat" | 02 42 | identifier (66 B) = 0000 | payment hash | token id
    assert_eq!(&mac[..9], b"\x02\x01\x04lsat\x02\x42");
    assert_eq!(&mac[9..11], &[0, 0]);
    assert_eq!(&mac[11..43], unhex(APERTURE_HASH).as_slice());
    assert_eq!(&mac[43..75], unhex(APERTURE_TOKEN_ID).as_slice());
    // Then: EOS, caveats `services=meme:0` and `meme_capabilities=`, EOS, 32-byte signature.
    assert_eq!(mac.len(), 150);
    assert!(contains(
        mac,
        b"\x02\x0fservices=meme:0\x00\x02\x12meme_capabilities=\x00\x00\x06\x20"
    ));
    assert_eq!(encode_std(mac), APERTURE_MAC);
}

#[test]
fn lsat_js_challenge_shapes_parse() {
    let js = unhex(JS_HASH);
    let js_ascii = JS_HASH.as_bytes();
    let cases = [
        // "challenge with space" (no comma), "challenge without space", and the usual form.
        (
            format!("LSAT macaroon=\"{JS_MAC}\" invoice=\"{JS_INVOICE}\""),
            JS_INVOICE,
        ),
        (
            format!("LSAT macaroon=\"{JS_MAC}\",invoice=\"{JS_INVOICE}\""),
            JS_INVOICE,
        ),
        (
            format!("LSAT macaroon=\"{JS_MAC}\", invoice=\"{JS_INVOICE}\""),
            JS_INVOICE,
        ),
        (
            format!("LSAT macaroon=\"{GO_MAC}\", invoice=\"{GO_INVOICE}\""),
            GO_INVOICE,
        ),
    ];
    for (value, invoice) in &cases {
        let c = one(value);
        assert_eq!(c.invoice, *invoice);
        if *invoice == JS_INVOICE {
            // URL-safe unpadded; its identifier is the ASCII hex of a 66-byte id.
            assert!(contains(&c.macaroon, js_ascii), "{value}");
            assert!(!contains(&c.macaroon, &js));
            assert!(contains(&c.macaroon, b"expiration=1644194263693"));
        } else {
            assert!(contains(&c.macaroon, &unhex(GO_HASH)));
            assert!(contains(&c.macaroon, b"3.136.178.15:34238"));
        }
    }
}

#[test]
fn tolerant_shapes_all_give_the_same_challenge() {
    let url_unpadded = APERTURE_MAC.replace('+', "-").replace('/', "_");
    let std_unpadded = APERTURE_MAC.trim_end_matches('=');
    let i = APERTURE_INVOICE;
    let m = APERTURE_MAC;
    let shapes = [
        format!("l402 macaroon=\"{m}\", invoice=\"{i}\""),
        format!("L402 invoice=\"{i}\", macaroon=\"{m}\""),
        format!("L402 macaroon=\"{m}\",invoice=\"{i}\""),
        format!("L402    macaroon = \"{m}\" ,  invoice=\"{i}\"  "),
        format!("L402 token=\"{m}\", invoice=\"{i}\""),
        format!("L402 MACAROON=\"{m}\", Invoice=\"{i}\""),
        format!("L402 macaroon=\"{url_unpadded}\", invoice=\"{i}\""),
        format!("L402 macaroon=\"{std_unpadded}\", invoice=\"{i}\""),
        format!("L402 macaroon=\"{m}\", invoice=\"{i}\", realm=\"api\", foo=bar"),
        format!("L402 macaroon=\"{m}\", token=\"{url_unpadded}\", invoice=\"{i}\""),
        format!(", ,L402 macaroon=\"{m}\", invoice=\"{i}\",,"),
        // Escapes inside quoted strings (RFC 7230 quoted-pair).
        format!("L402 macaroon=\"{m}\", invoice=\"\\{}\"", i),
    ];
    for shape in &shapes {
        let c = one(shape);
        assert_eq!(c.scheme, Scheme::L402, "{shape}");
        assert_eq!(encode_std(&c.macaroon), APERTURE_MAC, "{shape}");
        assert_eq!(c.invoice, APERTURE_INVOICE, "{shape}");
    }
}

#[test]
fn spec_2026_form_with_version_and_token() {
    let c = one(&format!(
        "L402 version=\"0\", token=\"{APERTURE_MAC}\", invoice=\"{APERTURE_INVOICE}\""
    ));
    assert_eq!(c.version.as_deref(), Some("0"));
    assert_eq!(encode_std(&c.macaroon), APERTURE_MAC);
    let c = one(&format!(
        "L402 version=0, token=\"{APERTURE_MAC}\", invoice=\"{APERTURE_INVOICE}\""
    ));
    assert_eq!(c.version.as_deref(), Some("0"));
}

#[test]
fn quoted_values_with_padding_and_commas_do_not_confuse_the_parser() {
    // Alby #116: `=` inside quotes; also a quoted comma and escaped quote in an unknown param.
    let c = one(&format!(
        "LSAT note=\"a, L402 b=\\\"c\\\"\", macaroon=\"{GO_MAC}\", invoice=\"{GO_INVOICE}\""
    ));
    assert_eq!(encode_std(&c.macaroon), GO_MAC);
    assert_eq!(c.invoice, GO_INVOICE);
}

#[test]
fn folded_and_mixed_challenges() {
    let [lsat, l402] = challenge_header_values(&unhex("0201"), "lnbc1x");
    let folded = format!("{lsat}, {l402}");
    let all = parse_challenges([folded.as_str()]).unwrap();
    assert_eq!(
        all.iter().map(|c| c.scheme).collect::<Vec<_>>(),
        [Scheme::Lsat, Scheme::L402]
    );

    let mixed = format!(
        "Payment id=\"x\", realm=\"y\", method=\"lightning\", {lsat}, Bearer realm=\"y\", \
         Negotiate abc==, Basic, {l402}, Bearer error=\"invalid_token\""
    );
    let all = parse_challenges([mixed.as_str()]).unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .all(|c| c.macaroon == [2, 1] && c.invoice == "lnbc1x")
    );

    let values = [
        "Bearer realm=\"y\"",
        lsat.as_str(),
        "Payment id=\"x\"",
        l402.as_str(),
    ];
    let all = parse_challenges(values).unwrap();
    assert_eq!(
        all.iter().map(|c| c.scheme).collect::<Vec<_>>(),
        [Scheme::Lsat, Scheme::L402]
    );

    // A broken foreign challenge in another value does not hide ours.
    let all = parse_challenges(["Payment id=\"x", l402.as_str()]).unwrap();
    assert_eq!(all.len(), 1);
}

#[test]
fn first_challenge_prefers_l402_with_the_same_macaroon() {
    let [lsat1, l402_1] = challenge_header_values(b"one", "lnbc1");
    let l402_2 = challenge_header_value(Scheme::L402, b"two", "lnbc2");
    let first = parse_first_challenge([lsat1.as_str(), l402_2.as_str(), l402_1.as_str()]).unwrap();
    assert_eq!(
        (first.scheme, first.macaroon.as_slice()),
        (Scheme::L402, &b"one"[..])
    );
    let first = parse_first_challenge([lsat1.as_str(), l402_2.as_str()]).unwrap();
    assert_eq!(
        (first.scheme, first.macaroon.as_slice()),
        (Scheme::Lsat, &b"one"[..])
    );
    let first = parse_first_challenge([l402_2.as_str(), lsat1.as_str()]).unwrap();
    assert_eq!(first.macaroon, b"two");
    assert_eq!(
        parse_first_challenge(["Bearer x=\"y\""]),
        Err(ChallengeError::NoL402Challenge)
    );
}

#[test]
fn emitted_challenges_are_exactly_aperture_shaped() {
    let mac = decode_lenient(APERTURE_MAC).unwrap();
    let values = challenge_header_values(&mac, APERTURE_INVOICE);
    assert_eq!(
        values[0],
        format!("LSAT macaroon=\"{APERTURE_MAC}\", invoice=\"{APERTURE_INVOICE}\"")
    );
    assert_eq!(
        values[1],
        format!("L402 macaroon=\"{APERTURE_MAC}\", invoice=\"{APERTURE_INVOICE}\"")
    );
    for v in &values {
        assert!(!v.contains("token=") && !v.contains("version="));
    }
    let parsed = parse_challenges(values.iter().map(String::as_str)).unwrap();
    assert_eq!(parsed.len(), 2);
    assert!(
        parsed
            .iter()
            .all(|c| c.macaroon == mac && c.invoice == APERTURE_INVOICE)
    );
    // Escaping of characters a BOLT11 string never holds, for completeness.
    assert_eq!(
        challenge_header_value(Scheme::L402, b"\x00", "a\"b\\c"),
        "L402 macaroon=\"AA==\", invoice=\"a\\\"b\\\\c\""
    );
}

#[test]
fn challenge_debug_hides_macaroon_bytes() {
    let c = one(&format!(
        "L402 macaroon=\"{APERTURE_MAC}\", invoice=\"lnbc1\""
    ));
    let dbg = format!("{c:?}");
    assert!(dbg.contains("macaroon_len: 150"), "{dbg}");
    assert!(
        !dbg.contains(APERTURE_MAC) && !dbg.contains("[2, 1, 4"),
        "{dbg}"
    );
}

// ---------------------------------------------------------------- credentials: vectors

#[test]
fn synthetic_authorization_5_6_parses() {
    let cred = authz(&[SYNTH_AUTH]).unwrap();
    assert_eq!(cred.scheme, CredentialScheme::L402);
    assert_eq!(cred.macaroons.len(), 1);
    let mac = cred.primary_macaroon().unwrap();
    assert!(contains(mac, &unhex(SYNTH_ID)));
    assert!(mac.ends_with(&unhex(SYNTH_SIG)));
    let PreimageSource::Explicit(preimage) = &cred.preimage else {
        panic!("expected an explicit preimage");
    };
    assert_eq!(preimage, &Preimage::from_hex(SYNTH_PREIMAGE).unwrap());
    assert_eq!(preimage.payment_hash().to_hex(), JS_HASH);
    // The emitter reproduces the header byte for byte.
    assert_eq!(
        single_authorization_value(Scheme::L402, mac, preimage),
        SYNTH_AUTH
    );
}

#[test]
fn aperture_authenticator_5_5_all_forms() {
    let mac = decode_lenient(AP_AUTH_MAC).unwrap();
    assert!(mac.starts_with(b"\x02\x01\x08aperture\x02\x04AA==\x00"));
    assert!(contains(
        &mac,
        format!("preimage={AP_AUTH_PREIMAGE}").as_bytes()
    ));
    assert!(mac.ends_with(&unhex(AP_AUTH_SIG)));
    let preimage = Preimage::from_hex(AP_AUTH_PREIMAGE).unwrap();

    let lsat = format!("LSAT {AP_AUTH_MAC}:{AP_AUTH_PREIMAGE}");
    let l402 = format!("L402 {AP_AUTH_MAC}:{AP_AUTH_PREIMAGE}");
    for (values, scheme) in [
        (vec![lsat.as_str()], CredentialScheme::Lsat),
        (vec![l402.as_str()], CredentialScheme::L402),
        (vec![lsat.as_str(), l402.as_str()], CredentialScheme::Lsat),
        (vec![l402.as_str(), lsat.as_str()], CredentialScheme::L402),
    ] {
        let cred = authz(&values).unwrap();
        assert_eq!(cred.scheme, scheme);
        assert_eq!(cred.macaroons, vec![mac.clone()]);
        assert_eq!(cred.preimage, PreimageSource::Explicit(preimage.clone()));
    }

    let hex_lower = macaroon_metadata_value(&mac);
    assert_eq!(hex_lower, hex::encode(&mac));
    let hex_upper = hex_lower.to_ascii_uppercase();
    for hex_value in [hex_lower.as_str(), hex_upper.as_str()] {
        let grpc = parse_credential(&CredentialHeaders {
            grpc_metadata_macaroon: Some(hex_value),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(grpc.scheme, CredentialScheme::GrpcMetadataMacaroon);
        assert_eq!(grpc.macaroons, vec![mac.clone()]);
        assert_eq!(grpc.preimage, PreimageSource::InCaveat);
        let plain = parse_credential(&CredentialHeaders {
            macaroon: Some(hex_value),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(plain.scheme, CredentialScheme::MacaroonHeader);
        assert_eq!(plain.macaroons, vec![mac.clone()]);
        assert_eq!(plain.preimage, PreimageSource::InCaveat);
    }
}

#[test]
fn authorization_priority_and_foreign_values() {
    let preimage = Preimage([0xab; 32]);
    let [lsat, l402] = authorization_header_values(b"mac", &preimage);
    let hex_mac = macaroon_metadata_value(b"hexmac");
    let grpc_mac = macaroon_metadata_value(b"grpcmac");

    // Aperture PR #245: a trailing unrelated value must not break auth; leading ones are skipped.
    let cred = authz(&[l402.as_str(), "Bearer xyz"]).unwrap();
    assert_eq!(cred.scheme, CredentialScheme::L402);
    let cred = authz(&["Bearer xyz", "", lsat.as_str()]).unwrap();
    assert_eq!(cred.scheme, CredentialScheme::Lsat);
    // Scheme is case-insensitive on input; surrounding whitespace is not part of the value.
    let lower = format!("  lsat {}", l402.trim_start_matches("L402 "));
    assert_eq!(
        authz(&[lower.as_str()]).unwrap().scheme,
        CredentialScheme::Lsat
    );

    let all = CredentialHeaders {
        authorization: vec!["Bearer x", l402.as_str()],
        grpc_metadata_macaroon: Some(&grpc_mac),
        macaroon: Some(&hex_mac),
    };
    assert_eq!(
        parse_credential(&all).unwrap().scheme,
        CredentialScheme::L402
    );
    let no_authz = CredentialHeaders {
        authorization: vec!["Bearer x"],
        ..all.clone()
    };
    let cred = parse_credential(&no_authz).unwrap();
    assert_eq!(cred.scheme, CredentialScheme::GrpcMetadataMacaroon);
    assert_eq!(cred.macaroons, [b"grpcmac".to_vec()]);
    let only_macaroon = CredentialHeaders {
        grpc_metadata_macaroon: Some("  "),
        ..no_authz.clone()
    };
    let cred = parse_credential(&only_macaroon).unwrap();
    assert_eq!(cred.scheme, CredentialScheme::MacaroonHeader);
    assert_eq!(cred.macaroons, [b"hexmac".to_vec()]);

    let none = parse_credential(&CredentialHeaders::default()).unwrap_err();
    assert!(none.is_missing());
    assert!(!authz(&["L402 x"]).unwrap_err().is_missing());
}

#[test]
fn several_macaroons_keep_order() {
    let hex = "00".repeat(32);
    let value = format!("L402 AgEE,-_8,+/8=:{hex}");
    let cred = authz(&[value.as_str()]).unwrap();
    assert_eq!(
        cred.macaroons,
        [vec![2, 1, 4], vec![0xfb, 0xff], vec![0xfb, 0xff]]
    );
    assert_eq!(cred.primary_macaroon(), Some(&[2u8, 1, 4][..]));
}

#[test]
fn emitted_authorization_is_exactly_aperture_shaped() {
    let mac = decode_lenient(AP_AUTH_MAC).unwrap();
    let preimage = Preimage::from_hex(AP_AUTH_PREIMAGE).unwrap();
    let values = authorization_header_values(&mac, &preimage);
    assert_eq!(values[0], format!("LSAT {AP_AUTH_MAC}:{AP_AUTH_PREIMAGE}"));
    assert_eq!(values[1], format!("L402 {AP_AUTH_MAC}:{AP_AUTH_PREIMAGE}"));
}

#[test]
fn credential_debug_shows_no_secrets() {
    let cred = authz(&[SYNTH_AUTH]).unwrap();
    let dbg = format!("{cred:?}");
    assert!(dbg.contains("macaroon_lens: [180]"), "{dbg}");
    assert!(dbg.contains("Preimage(<redacted>)"), "{dbg}");
    assert!(!dbg.contains(SYNTH_PREIMAGE) && !dbg.contains("AgEE") && !dbg.contains("[2, 1"));
    let headers = CredentialHeaders {
        authorization: vec![SYNTH_AUTH],
        ..Default::default()
    };
    assert!(!format!("{headers:?}").contains("AgEE"));
}

// ---------------------------------------------------------------- property tests

fn invoice_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "ln(bc|tb|bcrt)[0-9]{0,6}[munp]?1[02-9ac-hj-np-z]{10,400}",
        // Any printable ASCII, including `"`, `\`, `,` and `=` that need quoting care.
        "[ -~]{1,200}",
    ]
}

/// Fragments that steer random inputs into the parsers' interesting states.
fn header_soup() -> impl Strategy<Value = String> {
    let piece = proptest::sample::select(vec![
        "L402", "lsat", "Bearer", " ", "\t", ",", ":", "=", "\"", "\\", "macaroon", "token",
        "invoice", "version", "AgEE", "+/", "-_", "ab", "é", "\u{0}",
    ]);
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn all_parsers_on(s: &str) {
    let _ = parse_challenges([s]);
    let _ = parse_challenges([s, s]);
    let _ = parse_first_challenge([s]);
    let prefixed = format!("L402 {s}");
    let _ = parse_challenges([prefixed.as_str()]);
    let _ = parse_credential(&CredentialHeaders {
        authorization: vec![s, prefixed.as_str()],
        ..Default::default()
    });
    let _ = parse_credential(&CredentialHeaders {
        authorization: vec![prefixed.as_str()],
        ..Default::default()
    });
    let _ = parse_credential(&CredentialHeaders {
        grpc_metadata_macaroon: Some(s),
        ..Default::default()
    });
    let _ = parse_credential(&CredentialHeaders {
        macaroon: Some(s),
        ..Default::default()
    });
    let _ = decode_lenient(s);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn challenge_round_trip(
        mac in proptest::collection::vec(any::<u8>(), 1..600),
        invoice in invoice_like(),
    ) {
        let values = challenge_header_values(&mac, &invoice);
        let parsed = parse_challenges(values.iter().map(String::as_str)).unwrap();
        prop_assert_eq!(parsed.len(), 2);
        prop_assert_eq!(parsed[0].scheme, Scheme::Lsat);
        prop_assert_eq!(parsed[1].scheme, Scheme::L402);
        for c in &parsed {
            prop_assert_eq!(&c.macaroon, &mac);
            prop_assert_eq!(&c.invoice, &invoice);
            prop_assert_eq!(&c.version, &None);
        }
        // Folded into one value, as fetch() joins them.
        let folded = values.join(", ");
        prop_assert_eq!(parse_challenges([folded.as_str()]).unwrap(), parsed.clone());
        let first = parse_first_challenge([folded.as_str()]).unwrap();
        prop_assert_eq!(first.scheme, Scheme::L402);
    }

    #[test]
    fn authorization_round_trip(
        macs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 1..4),
        secret in any::<[u8; 32]>(),
    ) {
        let preimage = Preimage(secret);
        let [lsat, l402] = authorization_header_values(&macs[0], &preimage);
        for (value, scheme) in [(lsat, CredentialScheme::Lsat), (l402, CredentialScheme::L402)] {
            let cred = authz(&[value.as_str()]).unwrap();
            prop_assert_eq!(cred.scheme, scheme);
            prop_assert_eq!(&cred.macaroons, &macs[..1]);
            prop_assert_eq!(&cred.preimage, &PreimageSource::Explicit(preimage.clone()));
        }
        // Several macaroons, some URL-safe and unpadded.
        let list: Vec<String> = macs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let b64 = encode_std(m);
                if i % 2 == 1 { b64.replace('+', "-").replace('/', "_").replace('=', "") } else { b64 }
            })
            .collect();
        let value = format!("L402 {}:{}", list.join(","), preimage.to_hex());
        let cred = authz(&[value.as_str()]).unwrap();
        prop_assert_eq!(&cred.macaroons, &macs);
        let hex_value = macaroon_metadata_value(&macs[0]);
        let cred = parse_credential(&CredentialHeaders { macaroon: Some(&hex_value), ..Default::default() }).unwrap();
        prop_assert_eq!(&cred.macaroons, &macs[..1]);
    }

    #[test]
    fn base64_variants_decode_alike(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let std = encode_std(&bytes);
        let url = std.replace('+', "-").replace('/', "_");
        for variant in [std.clone(), std.trim_end_matches('=').to_owned(), url.clone(), url.trim_end_matches('=').to_owned()] {
            prop_assert_eq!(decode_lenient(&variant).unwrap(), bytes.clone());
        }
    }

    #[test]
    fn parsers_never_panic_on_any_string(s in any::<String>()) {
        all_parsers_on(&s);
    }

    #[test]
    fn parsers_never_panic_on_lossy_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        all_parsers_on(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parsers_never_panic_on_header_soup(s in header_soup()) {
        all_parsers_on(&s);
    }
}
