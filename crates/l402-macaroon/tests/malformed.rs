//! Malformed macaroons: each shape yields its precise error, never a panic.

use l402_macaroon::{DecodeError, MAX_CAVEATS, Macaroon, RootKey};

fn sample() -> Vec<u8> {
    let mut m = Macaroon::new(
        &RootKey::new(vec![1; 32]),
        b"id".to_vec(),
        Some(b"loc".to_vec()),
    );
    m.add_first_party_caveat(b"a=b".to_vec());
    m.encode_v2()
}

fn sig_field() -> Vec<u8> {
    let mut v = vec![0x06, 0x20];
    v.extend_from_slice(&[7; 32]);
    v
}

fn with(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn malformed_table() {
    let sig = sig_field();
    let cases: Vec<(&str, Vec<u8>, DecodeError)> = vec![
        ("empty", vec![], DecodeError::Empty),
        (
            "version 1 text",
            b"0021loc".to_vec(),
            DecodeError::UnsupportedVersion(b'0'),
        ),
        ("version 3", vec![0x03], DecodeError::UnsupportedVersion(3)),
        (
            "only version byte",
            vec![0x02],
            DecodeError::Truncated("header"),
        ),
        (
            "header without identifier",
            with(&[&[0x02, 0x01, 0x01, b'l', 0x00]]),
            DecodeError::MissingIdentifier("header"),
        ),
        (
            "header fields out of order",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x01, 0x01, b'l', 0x00]]),
            DecodeError::FieldOutOfOrder(1),
        ),
        (
            "duplicate identifier",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x02, 0x01, b'j', 0x00]]),
            DecodeError::FieldOutOfOrder(2),
        ),
        (
            "vid in header",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x04, 0x01, b'v', 0x00]]),
            DecodeError::FieldNotAllowed {
                tag: 4,
                section: "header",
            },
        ),
        (
            "signature in header",
            with(&[&[0x02, 0x02, 0x01, b'i'], &sig]),
            DecodeError::FieldNotAllowed {
                tag: 6,
                section: "header",
            },
        ),
        (
            "unknown field type",
            with(&[&[0x02, 0x03, 0x01, b'x', 0x00]]),
            DecodeError::UnknownField(3),
        ),
        (
            "non-minimal length varint",
            with(&[&[0x02, 0x02, 0x81, 0x00, b'i', 0x00]]),
            DecodeError::NonMinimalVarint,
        ),
        (
            "overflowing varint",
            with(&[&[0x02, 0x02, 0xff, 0xff, 0xff, 0xff, 0x7f]]),
            DecodeError::VarintOverflow,
        ),
        (
            "oversized field",
            with(&[&[0x02, 0x02, 0x80, 0x80, 0x04]]),
            DecodeError::FieldTooLarge(65_536),
        ),
        (
            "identifier longer than input",
            with(&[&[0x02, 0x02, 0x05, b'i']]),
            DecodeError::Truncated("header"),
        ),
        (
            "no caveat terminator",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x00]]),
            DecodeError::Truncated("caveats"),
        ),
        (
            "caveat without identifier",
            with(&[
                &[0x02, 0x02, 0x01, b'i', 0x00, 0x04, 0x01, b'v', 0x00, 0x00],
                &sig,
            ]),
            DecodeError::MissingIdentifier("caveat"),
        ),
        (
            "first-party caveat with location",
            with(&[
                &[
                    0x02, 0x02, 0x01, b'i', 0x00, 0x01, 0x01, b'l', 0x02, 0x01, b'c', 0x00, 0x00,
                ],
                &sig,
            ]),
            DecodeError::LocationWithoutVid,
        ),
        (
            "empty vid",
            with(&[
                &[
                    0x02, 0x02, 0x01, b'i', 0x00, 0x02, 0x01, b'c', 0x04, 0x00, 0x00, 0x00,
                ],
                &sig,
            ]),
            DecodeError::EmptyVid,
        ),
        (
            "signature in caveat",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x00, 0x02, 0x01, b'c'], &sig]),
            DecodeError::FieldNotAllowed {
                tag: 6,
                section: "caveat",
            },
        ),
        (
            "caveat fields out of order",
            with(&[&[
                0x02, 0x02, 0x01, b'i', 0x00, 0x04, 0x01, b'v', 0x02, 0x01, b'c', 0x00,
            ]]),
            DecodeError::FieldOutOfOrder(2),
        ),
        (
            "missing signature",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x00, 0x00]]),
            DecodeError::MissingSignature,
        ),
        (
            "EOS instead of signature",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x00, 0x00, 0x00]]),
            DecodeError::MissingSignature,
        ),
        (
            "identifier where signature belongs",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x00, 0x00, 0x02, 0x01, b'x']]),
            DecodeError::FieldNotAllowed {
                tag: 2,
                section: "signature",
            },
        ),
        (
            "short signature",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x00, 0x00, 0x06, 0x02, 1, 2]]),
            DecodeError::BadSignatureLength(2),
        ),
        (
            "truncated signature",
            with(&[&[0x02, 0x02, 0x01, b'i', 0x00, 0x00, 0x06, 0x20, 1, 2]]),
            DecodeError::Truncated("signature"),
        ),
        (
            "trailing bytes",
            with(&[&sample(), &[0x00, 0x01]]),
            DecodeError::TrailingBytes(2),
        ),
        (
            "EOS after signature (macaroon-spec.md erratum layout)",
            with(&[&sample(), &[0x00]]),
            DecodeError::TrailingBytes(1),
        ),
    ];
    assert!(cases.len() >= 25);
    for (name, input, expected) in cases {
        assert_eq!(Macaroon::decode_v2(&input), Err(expected), "case {name}");
    }
}

#[test]
fn too_many_caveats() {
    let mut bytes = vec![0x02, 0x02, 0x01, b'i', 0x00];
    for _ in 0..=MAX_CAVEATS {
        bytes.extend_from_slice(&[0x02, 0x01, b'c', 0x00]);
    }
    bytes.push(0x00);
    bytes.extend_from_slice(&sig_field());
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(DecodeError::TooManyCaveats)
    );
}

#[test]
fn every_truncation_of_a_valid_macaroon_is_an_error() {
    let bytes = sample();
    assert!(Macaroon::decode_v2(&bytes).is_ok());
    for len in 0..bytes.len() {
        assert!(
            Macaroon::decode_v2(&bytes[..len]).is_err(),
            "prefix of {len} bytes accepted"
        );
    }
}
