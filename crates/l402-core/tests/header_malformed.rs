//! Malformed `WWW-Authenticate` and credential headers, each mapped to its precise error.

use l402_core::HexError;
use l402_core::base64_codec::Base64Error;
use l402_core::challenge::{ChallengeError as CE, MAX_CHALLENGE_INPUT, parse_challenges};
use l402_core::credential::{
    CredentialError as AE, CredentialHeaders, MAX_CREDENTIAL_VALUE, parse_credential,
};

/// A valid standard-alphabet macaroon-ish base64 value and an invoice-ish string.
const M: &str = "AgEEbHNhdA==";
const I: &str = "lnbcrt100n1p3qqkyg";

fn hex64() -> String {
    "ab".repeat(32)
}

struct ChallengeCase {
    name: &'static str,
    values: Vec<String>,
    expect: fn(&CE) -> bool,
}

fn c(name: &'static str, value: impl Into<String>, expect: fn(&CE) -> bool) -> ChallengeCase {
    ChallengeCase {
        name,
        values: vec![value.into()],
        expect,
    }
}

fn challenge_cases() -> Vec<ChallengeCase> {
    let big = format!(
        "L402 macaroon=\"{M}\", invoice=\"{}\"",
        "x".repeat(MAX_CHALLENGE_INPUT)
    );
    let many = vec![format!("L402 macaroon=\"{M}\", invoice=\"{I}\""); 2000];
    vec![
        c("empty value", "", |e| matches!(e, CE::NoL402Challenge)),
        ChallengeCase {
            name: "no values",
            values: vec![],
            expect: |e| matches!(e, CE::NoL402Challenge),
        },
        c("only whitespace and commas", " , ,\t", |e| {
            matches!(e, CE::NoL402Challenge)
        }),
        c("bearer only", "Bearer realm=\"x\"", |e| {
            matches!(e, CE::NoL402Challenge)
        }),
        c("basic without params", "Basic", |e| {
            matches!(e, CE::NoL402Challenge)
        }),
        c(
            "scheme glued to param",
            format!("L402macaroon=\"{M}\""),
            |e| matches!(e, CE::NoL402Challenge),
        ),
        c("broken foreign challenge", "Payment id=\"x", |e| {
            matches!(e, CE::NoL402Challenge)
        }),
        c("junk before any scheme", "\"L402 macaroon\"", |e| {
            matches!(e, CE::NoL402Challenge)
        }),
        c("bare scheme", "L402", |e| matches!(e, CE::MissingMacaroon)),
        c("scheme then comma", "LSAT, Bearer x=\"y\"", |e| {
            matches!(e, CE::MissingMacaroon)
        }),
        c(
            "lsat-js missing macaroon",
            format!("LSAT invoice=\"{I}\""),
            |e| matches!(e, CE::MissingMacaroon),
        ),
        c(
            "only unknown params",
            "L402 realm=\"x\", version=\"0\"",
            |e| matches!(e, CE::MissingMacaroon),
        ),
        c(
            "lsat-js missing invoice",
            format!("LSAT macaroon=\"{M}\""),
            |e| matches!(e, CE::MissingInvoice),
        ),
        c(
            "token without invoice",
            format!("L402 version=\"0\", token=\"{M}\""),
            |e| matches!(e, CE::MissingInvoice),
        ),
        c(
            "lsat-js missing invoice, unquoted",
            format!("LSAT macaroon={M}"),
            |e| matches!(e, CE::Unquoted { param: "macaroon" }),
        ),
        c(
            "lsat-js unquoted macaroon",
            format!("LSAT macaroon={M}, invoice=\"{I}\""),
            |e| matches!(e, CE::Unquoted { param: "macaroon" }),
        ),
        c(
            "lsat-js unquoted invoice",
            format!("LSAT macaroon=\"{M}\" invoice={I}"),
            |e| matches!(e, CE::Unquoted { param: "invoice" }),
        ),
        c(
            "lsat-js neither quoted",
            format!("LSAT macaroon={M} invoice={I}"),
            |e| matches!(e, CE::Unquoted { param: "macaroon" }),
        ),
        c(
            "unquoted token",
            format!("L402 token={M}, invoice=\"{I}\""),
            |e| matches!(e, CE::Unquoted { param: "token" }),
        ),
        c(
            "empty quoted macaroon",
            format!("L402 macaroon=\"\", invoice=\"{I}\""),
            |e| matches!(e, CE::EmptyValue { param: "macaroon" }),
        ),
        c(
            "empty quoted invoice",
            format!("L402 macaroon=\"{M}\", invoice=\"\""),
            |e| matches!(e, CE::EmptyValue { param: "invoice" }),
        ),
        c(
            "empty bare macaroon",
            format!("L402 macaroon=, invoice=\"{I}\""),
            |e| matches!(e, CE::EmptyValue { param: "macaroon" }),
        ),
        c(
            "duplicate macaroon",
            format!("L402 macaroon=\"{M}\", invoice=\"{I}\", macaroon=\"{M}\""),
            |e| matches!(e, CE::DuplicateParameter { param } if param == "macaroon"),
        ),
        c(
            "duplicate differing only in case",
            format!("L402 Invoice=\"{I}\", macaroon=\"{M}\", INVOICE=\"{I}\""),
            |e| matches!(e, CE::DuplicateParameter { param } if param == "invoice"),
        ),
        c(
            "duplicate unknown param",
            format!("L402 version=\"0\", token=\"{M}\", invoice=\"{I}\", version=0"),
            |e| matches!(e, CE::DuplicateParameter { param } if param == "version"),
        ),
        c(
            "macaroon and token disagree",
            format!("L402 macaroon=\"{M}\", token=\"AAAA\", invoice=\"{I}\""),
            |e| matches!(e, CE::ConflictingMacaroons),
        ),
        c(
            "unterminated invoice quote",
            format!("L402 macaroon=\"{M}\", invoice=\"{I}"),
            |e| matches!(e, CE::UnterminatedQuote),
        ),
        c(
            "escape at end of value",
            format!("L402 macaroon=\"{M}\\"),
            |e| matches!(e, CE::UnterminatedQuote),
        ),
        c(
            "params glued together",
            format!("L402 macaroon=\"{M}\"invoice=\"{I}\""),
            |e| matches!(e, CE::Syntax { index: 28, .. }),
        ),
        c(
            "no = after param name",
            format!("L402 macaroon \"{M}\", invoice=\"{I}\""),
            |e| matches!(e, CE::Syntax { index: 14, .. }),
        ),
        c("param without name", format!("L402 =\"{M}\""), |e| {
            matches!(e, CE::Syntax { index: 5, .. })
        }),
        c("token68 instead of params", format!("L402 {M}"), |e| {
            matches!(e, CE::Syntax { index: 5, .. })
        }),
        c("scheme glued to quote", format!("L402\"{M}\""), |e| {
            matches!(e, CE::Syntax { index: 4, .. })
        }),
        c(
            "junk after last param",
            format!("L402 macaroon=\"{M}\", invoice=\"{I}\" \"x\""),
            |e| matches!(e, CE::Syntax { .. }),
        ),
        c(
            "macaroon not base64",
            format!("L402 macaroon=\"Ag$E\", invoice=\"{I}\""),
            |e| matches!(e, CE::BadBase64(Base64Error::InvalidCharacter { index: 2 })),
        ),
        c(
            "mixed alphabets",
            format!("L402 macaroon=\"Ag+_\", invoice=\"{I}\""),
            |e| matches!(e, CE::BadBase64(Base64Error::MixedAlphabets)),
        ),
        c(
            "padding in the middle",
            format!("L402 macaroon=\"Ag=E\", invoice=\"{I}\""),
            |e| matches!(e, CE::BadBase64(Base64Error::MisplacedPadding { index: 2 })),
        ),
        c(
            "too much padding",
            format!("L402 macaroon=\"AgE==\", invoice=\"{I}\""),
            |e| matches!(e, CE::BadBase64(Base64Error::BadPadding)),
        ),
        c(
            "impossible length",
            format!("L402 macaroon=\"AgEEb\", invoice=\"{I}\""),
            |e| matches!(e, CE::BadBase64(Base64Error::InvalidLength { len: 5 })),
        ),
        c(
            "non-canonical last char",
            format!("L402 macaroon=\"YR==\", invoice=\"{I}\""),
            |e| matches!(e, CE::BadBase64(Base64Error::NonCanonical { index: 1 })),
        ),
        c(
            "CRLF injection",
            format!("L402 macaroon=\"{M}\"\r\nX: y, invoice=\"{I}\""),
            |e| matches!(e, CE::ControlCharacter { index: 28 }),
        ),
        c(
            "NUL inside quotes",
            format!("L402 macaroon=\"{M}\0\", invoice=\"{I}\""),
            |e| matches!(e, CE::ControlCharacter { index: 27 }),
        ),
        c("one huge value", big, |e| {
            matches!(
                e,
                CE::TooLong {
                    max: MAX_CHALLENGE_INPUT
                }
            )
        }),
        ChallengeCase {
            name: "many values",
            values: many,
            expect: |e| matches!(e, CE::TooLong { .. }),
        },
        c(
            "valid LSAT then broken L402 in one value",
            format!("LSAT macaroon=\"{M}\", invoice=\"{I}\", L402 macaroon=\"{M}\""),
            |e| matches!(e, CE::MissingInvoice),
        ),
    ]
}

#[test]
fn malformed_challenges_give_precise_errors() {
    let cases = challenge_cases();
    assert!(cases.len() >= 30);
    for case in cases {
        let result = parse_challenges(case.values.iter().map(String::as_str));
        match result {
            Ok(ok) => panic!("{}: accepted {ok:?}", case.name),
            Err(e) => assert!((case.expect)(&e), "{}: wrong error {e:?}", case.name),
        }
    }
}

struct CredentialCase {
    name: &'static str,
    headers: Owned,
    expect: fn(&AE) -> bool,
}

#[derive(Default)]
struct Owned {
    authorization: Vec<String>,
    grpc: Option<String>,
    macaroon: Option<String>,
}

fn a(name: &'static str, value: impl Into<String>, expect: fn(&AE) -> bool) -> CredentialCase {
    CredentialCase {
        name,
        headers: Owned {
            authorization: vec![value.into()],
            ..Default::default()
        },
        expect,
    }
}

fn credential_cases() -> Vec<CredentialCase> {
    let h = hex64();
    vec![
        CredentialCase {
            name: "no headers",
            headers: Owned::default(),
            expect: |e| matches!(e, AE::Missing),
        },
        a("empty authorization", "", |e| matches!(e, AE::Missing)),
        a("bearer only", "Bearer abc", |e| matches!(e, AE::Missing)),
        a(
            "scheme prefix of another word",
            format!("L402x {M}:{h}"),
            |e| matches!(e, AE::Missing),
        ),
        CredentialCase {
            name: "blank macaroon headers",
            headers: Owned {
                authorization: vec!["Basic x".into()],
                grpc: Some(String::new()),
                macaroon: Some(" \t".into()),
            },
            expect: |e| matches!(e, AE::Missing),
        },
        a("scheme only", "L402", |e| matches!(e, AE::EmptyToken)),
        a("scheme and spaces", "LSAT   ", |e| {
            matches!(e, AE::EmptyToken)
        }),
        a("no colon", format!("L402 {M}"), |e| {
            matches!(e, AE::MissingColon)
        }),
        a(
            "no preimage (lsat-js pending form)",
            format!("LSAT {M}:"),
            |e| matches!(e, AE::MissingPreimage),
        ),
        a(
            "trailing colon after preimage",
            format!("L402 {M}:{h}:"),
            |e| {
                matches!(
                    e,
                    AE::BadBase64 {
                        index: 0,
                        source: Base64Error::MisplacedPadding { index: 10 }
                    }
                )
            },
        ),
        a(
            "0x-prefixed preimage",
            format!("L402 {M}:0x{}", &h[2..]),
            |e| matches!(e, AE::BadPreimage(HexError::NotHex)),
        ),
        a(
            "short preimage (spec example)",
            format!("L402 {M}:1234abcd1234abcd1234abcd"),
            |e| matches!(e, AE::BadPreimage(HexError::Length(24))),
        ),
        a("long preimage", format!("L402 {M}:{h}00"), |e| {
            matches!(e, AE::BadPreimage(HexError::Length(66)))
        }),
        a(
            "upper-case preimage",
            format!("L402 {M}:{}", h.to_uppercase()),
            |e| matches!(e, AE::BadPreimage(HexError::UpperCase)),
        ),
        a(
            "non-hex preimage",
            format!("L402 {M}:{}", "zz".repeat(32)),
            |e| matches!(e, AE::BadPreimage(HexError::NotHex)),
        ),
        a("empty macaroon", format!("L402 :{h}"), |e| {
            matches!(e, AE::EmptyMacaroon { index: 0 })
        }),
        a("trailing comma in list", format!("L402 {M},:{h}"), |e| {
            matches!(e, AE::EmptyMacaroon { index: 1 })
        }),
        a("second macaroon bad", format!("L402 {M},A$AA:{h}"), |e| {
            matches!(
                e,
                AE::BadBase64 {
                    index: 1,
                    source: Base64Error::InvalidCharacter { index: 1 }
                }
            )
        }),
        a("colon inside macaroon", format!("L402 {M}:{h}:{h}"), |e| {
            matches!(
                e,
                AE::BadBase64 {
                    index: 0,
                    source: Base64Error::MisplacedPadding { .. }
                }
            )
        }),
        a("mixed alphabets", format!("L402 Ag+_:{h}"), |e| {
            matches!(
                e,
                AE::BadBase64 {
                    index: 0,
                    source: Base64Error::MixedAlphabets
                }
            )
        }),
        a("bad padding", format!("L402 AgE==:{h}"), |e| {
            matches!(
                e,
                AE::BadBase64 {
                    index: 0,
                    source: Base64Error::BadPadding
                }
            )
        }),
        a("space inside token", format!("L402 {M} :{h}"), |e| {
            matches!(e, AE::Whitespace { index: 17 })
        }),
        a("tab after colon", format!("L402 {M}:\t{h}"), |e| {
            matches!(e, AE::Whitespace { index: 18 })
        }),
        a("tab as scheme separator", format!("L402\t{M}:{h}"), |e| {
            matches!(e, AE::Whitespace { index: 4 })
        }),
        a("NUL at end", format!("L402 {M}:{h}\0"), |e| {
            matches!(e, AE::ControlCharacter { index: 82 })
        }),
        a("CRLF inside", format!("L402 {M}\r\n:{h}"), |e| {
            matches!(e, AE::ControlCharacter { index: 17 })
        }),
        a(
            "over-long",
            format!("L402 {}:{h}", "A".repeat(MAX_CREDENTIAL_VALUE)),
            |e| {
                matches!(
                    e,
                    AE::TooLong {
                        max: MAX_CREDENTIAL_VALUE,
                        ..
                    }
                )
            },
        ),
        CredentialCase {
            name: "first L402 value decides even if malformed",
            headers: Owned {
                authorization: vec![format!("LSAT {M}"), format!("L402 {M}:{h}")],
                ..Default::default()
            },
            expect: |e| matches!(e, AE::MissingColon),
        },
        CredentialCase {
            name: "malformed authorization does not fall back to Macaroon",
            headers: Owned {
                authorization: vec![format!("L402 {M}:")],
                macaroon: Some("0201".into()),
                ..Default::default()
            },
            expect: |e| matches!(e, AE::MissingPreimage),
        },
        CredentialCase {
            name: "grpc header not hex",
            headers: Owned {
                grpc: Some(" 02zz".into()),
                ..Default::default()
            },
            expect: |e| {
                matches!(
                    e,
                    AE::InvalidHex {
                        header: "Grpc-Metadata-Macaroon",
                        index: 3
                    }
                )
            },
        },
        CredentialCase {
            name: "macaroon header base64 instead of hex",
            headers: Owned {
                macaroon: Some(M.into()),
                ..Default::default()
            },
            expect: |e| {
                matches!(
                    e,
                    AE::InvalidHex {
                        header: "Macaroon",
                        index: 1
                    }
                )
            },
        },
        CredentialCase {
            name: "macaroon header odd length",
            headers: Owned {
                macaroon: Some("020".into()),
                ..Default::default()
            },
            expect: |e| {
                matches!(
                    e,
                    AE::OddHexLength {
                        header: "Macaroon",
                        len: 3
                    }
                )
            },
        },
        CredentialCase {
            name: "macaroon header over-long",
            headers: Owned {
                macaroon: Some("00".repeat(MAX_CREDENTIAL_VALUE)),
                ..Default::default()
            },
            expect: |e| matches!(e, AE::TooLong { .. }),
        },
    ]
}

#[test]
fn malformed_credentials_give_precise_errors() {
    let cases = credential_cases();
    assert!(cases.len() >= 30);
    for case in cases {
        let headers = CredentialHeaders {
            authorization: case
                .headers
                .authorization
                .iter()
                .map(String::as_str)
                .collect(),
            grpc_metadata_macaroon: case.headers.grpc.as_deref(),
            macaroon: case.headers.macaroon.as_deref(),
        };
        match parse_credential(&headers) {
            Ok(ok) => panic!("{}: accepted {ok:?}", case.name),
            Err(e) => {
                assert!((case.expect)(&e), "{}: wrong error {e:?}", case.name);
                assert_eq!(e.is_missing(), matches!(e, AE::Missing), "{}", case.name);
            }
        }
    }
}
