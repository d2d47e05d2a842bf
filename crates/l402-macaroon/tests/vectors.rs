//! Published vectors from libmacaroons, go-macaroon, lsat-js and Aperture
//! (sources in the protocol reference, sections 5.1 to 5.6).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use l402_macaroon::{DecodeError, Macaroon, RootKey, VerifyError};

fn key(s: &str) -> RootKey {
    RootKey::new(s.as_bytes().to_vec())
}

fn b64url(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).unwrap()
}

#[test]
fn libmacaroons_readme_chain() {
    let k = key("this is our super secret key; only we should know it");
    let mut m = Macaroon::new(
        &k,
        b"we used our secret key".to_vec(),
        Some(b"http://mybank/".to_vec()),
    );
    let expect = [
        "e3d9e02908526c4c0039ae15114115d97fdd68bf2ba379b342aaf0f617d0552f",
        "1efe4763f290dbce0c1d08477367e11f4eee456a64933cf662d79772dbb82128",
        "b5f06c8c8ef92f6c82c6ff282cd1f8bd1849301d09a2db634ba182536a611c49",
        "ddf553e46083e55b8d71ab822be3d8fcf21d6bf19c40d617bb9fb438934474b6",
    ];
    assert_eq!(hex::encode(m.signature().as_bytes()), expect[0]);
    for (caveat, sig) in [
        "account = 3735928559",
        "time < 2020-01-01T00:00",
        "email = alice@example.org",
    ]
    .iter()
    .zip(&expect[1..])
    {
        m.add_first_party_caveat(caveat.as_bytes().to_vec());
        assert_eq!(hex::encode(m.signature().as_bytes()), *sig);
    }
    assert!(m.verify(&k).is_ok());
}

#[test]
fn libmacaroons_unit_root_v2() {
    let bytes = b64url(
        "AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAAYgfN7nklEcW8b1KEhYBd_psk54XijiqZMB-dcRxgnjjvc",
    );
    let m = Macaroon::decode_v2(&bytes).unwrap();
    assert_eq!(m.location(), Some(&b"http://example.org/"[..]));
    assert_eq!(m.identifier(), b"keyid");
    assert_eq!(
        hex::encode(m.signature().as_bytes()),
        "7cdee792511c5bc6f528485805dfe9b24e785e28e2a99301f9d711c609e38ef7"
    );
    assert!(m.verify(&key("this is the key")).is_ok());
    assert_eq!(
        m.verify(&key("this is not the key")),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(m.encode_v2(), bytes);
}

#[test]
fn libmacaroons_unit_caveat_v2() {
    let bytes = b64url(
        "AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAhRhY2NvdW50ID0gMzczNTkyODU1OQAABiD1SAf23G7fiL8PcwazgiVio2JTPb9zObphdl2kvSWdhw",
    );
    let m = Macaroon::decode_v2(&bytes).unwrap();
    assert_eq!(m.caveats().len(), 1);
    assert_eq!(m.caveats()[0].id, b"account = 3735928559");
    assert!(m.verify(&key("this is the key")).is_ok());
    assert_eq!(m.encode_v2(), bytes);
}

#[test]
fn libmacaroons_serialization_3_encodes_byte_for_byte() {
    let k = key("this is the key");
    let mut m = Macaroon::new(&k, b"keyid".to_vec(), Some(b"http://example.org/".to_vec()));
    m.add_first_party_caveat(b"account = 3735928559".to_vec());
    m.add_first_party_caveat(b"user = alice".to_vec());
    assert_eq!(
        hex::encode(m.signature().as_bytes()),
        "4be967cd1ea0c6b26baf6a4a94ee9b05b15886da0ba85e8c42a93c8d0e125efc"
    );
    let expected = b64url(
        "AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAhRhY2NvdW50ID0gMzczNTkyODU1OQACDHVzZXIgPSBhbGljZQAABiBL6WfNHqDGsmuvakqU7psFsViG2guoXoxCqTyNDhJe_A==",
    );
    assert_eq!(m.encode_v2(), expected);
}

#[test]
fn go_macaroon_third_party_vector() {
    let hex_bytes = "02010e687474703a2f2f6d7962616e6b2f021c77652075736564206f7572206f7468657220736563726574206b65790002146163636f756e74203d2033373335393238353539000113687474703a2f2f617574682e6d7962616e6b2f0227746869732077617320686f772077652072656d696e642061757468206f66206b65792f707265640448000000000000000000000000000000000000000000000000d36ec502e05886d1f0279f055fa52554d16d16c1b14074bbb83ff0fdd79dc2fe098f0ed4a2b091130e6b5db46a20a86b00000620d27db2fd1f22760e4c3dae8137e2d8fc1df6c0741c18aed4b97256bf78d1f55c";
    let bytes = hex::decode(hex_bytes).unwrap();
    assert_eq!(bytes.len(), 243);
    let m = Macaroon::decode_v2(&bytes).unwrap();
    assert_eq!(m.caveats().len(), 2);
    let third = &m.caveats()[1];
    assert_eq!(third.location.as_deref(), Some(&b"http://auth.mybank/"[..]));
    assert_eq!(third.id, b"this was how we remind auth of key/pred");
    assert_eq!(third.vid.as_ref().unwrap().len(), 72);
    assert_eq!(m.encode_v2(), bytes);

    let k = key("this is a different super-secret key; never use the same secret twice");
    assert_eq!(
        hex::encode(m.expected_signature(&k).as_bytes()),
        "d27db2fd1f22760e4c3dae8137e2d8fc1df6c0741c18aed4b97256bf78d1f55c"
    );
    // Rebuilding it with the raw third-party API gives the same bytes.
    let mut rebuilt = Macaroon::new(
        &k,
        b"we used our other secret key".to_vec(),
        Some(b"http://mybank/".to_vec()),
    );
    rebuilt.add_first_party_caveat(b"account = 3735928559".to_vec());
    rebuilt.add_third_party_caveat_raw(
        Some(b"http://auth.mybank/".to_vec()),
        b"this was how we remind auth of key/pred".to_vec(),
        third.vid.clone().unwrap(),
    );
    assert_eq!(rebuilt.encode_v2(), bytes);
    // This verifier takes no discharges, so it refuses third-party caveats.
    assert_eq!(m.verify(&k), Err(VerifyError::ThirdPartyCaveat(1)));
}

#[test]
fn aperture_authenticator_vector() {
    let k = key("aabbccddeeff00112233445566778899");
    let mut m = Macaroon::new(&k, b"AA==".to_vec(), Some(b"aperture".to_vec()));
    m.add_first_party_caveat(
        b"preimage=49349dfea4abed3cd14f6d356afa83de9787b609f088c8df09bacc7b4bd21b39".to_vec(),
    );
    assert_eq!(
        hex::encode(m.signature().as_bytes()),
        "a329f0d7149ad54162e7448d868825e9a508d4de95fb86d5d0060002493ca6b5"
    );
    assert_eq!(
        STANDARD.encode(m.encode_v2()),
        "AgEIYXBlcnR1cmUCBEFBPT0AAklwcmVpbWFnZT00OTM0OWRmZWE0YWJlZDNjZDE0ZjZkMzU2YWZhODNkZTk3ODdiNjA5ZjA4OGM4ZGYwOWJhY2M3YjRiZDIxYjM5AAAGIKMp8NcUmtVBYudEjYaIJemlCNTelfuG1dAGAAJJPKa1"
    );
}

#[test]
fn real_aperture_macaroon_from_lsat_js_decodes() {
    let b64 = "AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD";
    let bytes = STANDARD.decode(b64).unwrap();
    let m = Macaroon::decode_v2(&bytes).unwrap();
    assert_eq!(m.location(), Some(&b"lsat"[..]));
    assert_eq!(m.identifier().len(), 66);
    assert_eq!(
        hex::encode(&m.identifier()[2..34]),
        "30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff"
    );
    let caveats: Vec<_> = m.first_party_caveats().collect();
    assert_eq!(
        caveats,
        vec![&b"services=meme:0"[..], &b"meme_capabilities="[..]]
    );
    assert_eq!(m.encode_v2(), bytes);
}

#[test]
fn golang_generated_macaroon_from_lsat_js_decodes() {
    let b64 = "AgESMy4xMzYuMTc4LjE1OjM0MjM4AkIAAD2b0rX78LATiVo8bKgHuurefeF5OeX2H5ZuacBIK3+RAR1PKU1oZpfCZFib4zdDoj0pOpgPmhtuzNllU+y//D0AAAYgcWFs9FIteCzpCcEPSwmXKBpcx97hyL5Yt99cbLjRHzU=";
    let m = Macaroon::decode_v2(&STANDARD.decode(b64).unwrap()).unwrap();
    assert_eq!(m.location(), Some(&b"3.136.178.15:34238"[..]));
    assert_eq!(
        hex::encode(&m.identifier()[2..34]),
        "3d9bd2b5fbf0b013895a3c6ca807baeade7de17939e5f61f966e69c0482b7f91"
    );
    assert!(m.caveats().is_empty());
}

#[test]
fn js_generated_url_safe_macaroon_decodes() {
    let m = Macaroon::decode_v2(&b64url(
        "AgEIbG9jYXRpb24ChAEwMDAwN2NlZjkzZjJjNTFhYTY1MjA4YmVjMTQ0N2ZjMzhmYzU4ZDliY2UxMzc1YTUzMmVkYjBkY2QyOTBhMmMzMzBhZTljNTMyNjZiMWJlMzE1MGI2NjZiM2Y2ZWM3MGYyOGJkNDNhOWQ0ZmQxOTQ2MWE2MjBmYmFjYzMzNzY4YTk5OTQAAhhleHBpcmF0aW9uPTE2NDQxOTQyNjM2OTMAAAYg_1CMq8TuMXv-ERHDWQCtlIhsQwwKiUDmnnh1maDFpkQ",
    ))
    .unwrap();
    assert_eq!(m.identifier().len(), 132);
    assert_eq!(m.caveats()[0].id, b"expiration=1644194263693");
}

#[test]
fn synthetic_l402_vector_chain() {
    let k = RootKey::new(vec![0x11; 32]);
    let id = hex::decode("00007cef93f2c51aa65208bec1447fc38fc58d9bce1375a532edb0dcd290a2c330ae000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap();
    let mut m = Macaroon::new(&k, id, Some(b"lsat".to_vec()));
    let chain = [
        "9f4cfddbee46ac611a7de9a9b87f7b8f435728b72ddc605849094bd00706a79d",
        "f833ddf1c9b0190db63b5d9f8f9618c683d2ab04f7ebc1d80c5728cb9aa97643",
        "a99aa1114f6adae8c5ec00ac035a7d324b7d8654e7647735d206c0582cf5a4a4",
        "5c14c04214dc25ef2a3692ca34b1c1914cc996c0f6309dc377a0d59c4ce304f5",
    ];
    assert_eq!(hex::encode(m.signature().as_bytes()), chain[0]);
    for (c, sig) in [
        "services=meme:0",
        "meme_capabilities=",
        "meme_valid_until=1700000000",
    ]
    .iter()
    .zip(&chain[1..])
    {
        m.add_first_party_caveat(c.as_bytes().to_vec());
        assert_eq!(hex::encode(m.signature().as_bytes()), *sig);
    }
    assert_eq!(
        STANDARD.encode(m.encode_v2()),
        "AgEEbHNhdAJCAAB875PyxRqmUgi+wUR/w4/FjZvOE3WlMu2w3NKQosMwrgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fAAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAIbbWVtZV92YWxpZF91bnRpbD0xNzAwMDAwMDAwAAAGIFwUwEIU3CXvKjaSyjSxwZFMyZbA9jCdw3eg1ZxM4wT1"
    );
    m.add_first_party_caveat(b"meme_valid_until=1690000000".to_vec());
    assert_eq!(
        hex::encode(m.signature().as_bytes()),
        "8566f8ae938e81661cb1e00f4749db1762c74d503ce0a03b0207020cdbe68950"
    );
    assert!(m.verify(&k).is_ok());
}

#[test]
fn v1_text_is_refused_with_a_clear_error() {
    assert_eq!(
        Macaroon::decode_v2(b"0021location"),
        Err(DecodeError::UnsupportedVersion(b'0'))
    );
}
