//! The full verify path (parse the Authorization header, rebuild the root key, check the HMAC
//! chain with 3 caveats, hash the preimage, run the satisfiers), beside bare HMAC-SHA256 of the
//! same bytes as the baseline; and the same path for a token attenuated up to the verifier's
//! limits (`l402_core::limits::MAX_CAVEATS` caveats, the dearest a credential can be). Run:
//! `cargo bench -p l402-core --bench verify`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use l402_core::Preimage;
use l402_core::caveat::ServiceTier;
use l402_core::credential::{CredentialHeaders, authorization_header_values, parse_credential};
use l402_core::env::{FixedClock, Rng};
use l402_core::keys::{KeyRing, MasterKey};
use l402_core::macaroon::Macaroon;
use l402_core::mint::{MintRequest, Minter, ServiceGrant};
use l402_core::verify::{
    NoRevocations, RequestContext, TokenError, VerifiedToken, verify_credential,
};
use sha2::Sha256;

struct Fixed;
impl Rng for Fixed {
    fn fill(&mut self, buf: &mut [u8]) {
        buf.fill(0x5a);
    }
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

const NOW: u64 = 1_700_000_000;

/// Parses one `Authorization` value (behind `black_box`) and verifies it: what every case
/// times.
fn verify_header(
    header: &str,
    ring: &KeyRing,
    ctx: &RequestContext<'_>,
) -> Result<VerifiedToken, TokenError> {
    let headers = CredentialHeaders {
        authorization: vec![black_box(header)],
        grpc_metadata_macaroon: None,
        macaroon: None,
    };
    let cred = parse_credential(&headers).expect("valid header");
    verify_credential(&cred, ring, &NoRevocations, ctx)
}

/// A `weather` token paid by `preimage` granting `capabilities`.
fn mint(ring: &KeyRing, preimage: &Preimage, capabilities: Vec<String>) -> Macaroon {
    Minter::new(ring.clone())
        .mint(
            &MintRequest {
                payment_hash: preimage.payment_hash(),
                grants: vec![ServiceGrant {
                    service: ServiceTier {
                        name: "weather".into(),
                        tier: 0,
                    },
                    capabilities,
                    lifetime_secs: Some(3600),
                }],
                extra_caveats: vec![],
            },
            &FixedClock(NOW),
            &mut Fixed,
        )
        .expect("epoch 1 is in the ring")
}

fn bench(c: &mut Criterion) {
    let ring = KeyRing::new(1, &MasterKey::from_bytes([7; 32]));
    let preimage = Preimage([9; 32]);
    let mac = mint(&ring, &preimage, vec!["read".into(), "write".into()]);
    assert_eq!(mac.caveats().len(), 3);
    let header = authorization_header_values(&mac.encode_v2(), &preimage)[1].clone();
    let required = vec!["read".to_string()];
    let ctx = RequestContext {
        service: "weather",
        required_capabilities: &required,
        price: l402_core::Msat(0),
        base_price: l402_core::Msat(0),
        now_unix: NOW + 1,
        custom: &[],
    };
    let identifier = mac.identifier().to_vec();
    let caveats: Vec<Vec<u8>> = mac.caveats().iter().map(|c| c.id.clone()).collect();

    // The verifier's worst case for a token it accepts: a grant of the longest capability list,
    // attenuated (no key needed) with that list less its first entry (as many list entries as
    // allowed, compared in full), then notes up to the most caveats and bytes allowed (one HMAC
    // each).
    use l402_core::limits::{MAX_CAVEATS, MAX_LIST_ENTRIES, MAX_MACAROON_BYTES};
    let full_list: Vec<String> = (0..MAX_LIST_ENTRIES).map(|i| format!("c{i}")).collect();
    let mut widest = mint(&ring, &preimage, full_list.clone());
    let narrower = format!("weather_capabilities={}", full_list[1..].join(","));
    widest.add_first_party_caveat(narrower.into_bytes());
    let notes = MAX_CAVEATS - widest.caveats().len();
    let room = MAX_MACAROON_BYTES - widest.encode_v2().len();
    for i in 0..notes {
        // Each caveat costs its bytes plus four of framing (type, 2-byte length, end).
        let note = format!("n{i:02}={}", "x".repeat(room / notes - 4 - 4));
        widest.add_first_party_caveat(note.into_bytes());
    }
    assert_eq!(widest.caveats().len(), MAX_CAVEATS);
    let size = widest.encode_v2().len();
    assert!(
        size <= MAX_MACAROON_BYTES && size + 64 > MAX_MACAROON_BYTES,
        "{size}"
    );
    let widest_header = authorization_header_values(&widest.encode_v2(), &preimage)[1].clone();
    let last_cap = vec![full_list[full_list.len() - 1].clone()];
    let widest_ctx = RequestContext {
        required_capabilities: &last_cap,
        ..ctx
    };
    let mut group = c.benchmark_group("verify");
    group.bench_function("full_verify_path", |b| {
        b.iter(|| verify_header(&header, &ring, &ctx).expect("valid token"))
    });
    group.bench_function("full_verify_path_max_caveats", |b| {
        b.iter(|| verify_header(&widest_header, &ring, &widest_ctx).expect("valid token"))
    });
    // What a client that never paid can make the verifier do: a token of its own making (its
    // own preimage pays the payment hash it wrote into the identifier) at the limits, refused
    // only once the whole HMAC chain is computed under this server's key. The caveats are
    // never looked at.
    let other_ring = KeyRing::new(1, &MasterKey::from_bytes([8; 32]));
    group.bench_function("forged_max_caveats", |b| {
        b.iter(|| {
            let refused = verify_header(&widest_header, &other_ring, &widest_ctx);
            assert_eq!(refused, Err(TokenError::BadSignature));
        })
    });
    group.bench_function("baseline_hmac_x1_header_bytes", |b| {
        b.iter(|| hmac(&[7; 32], black_box(header.as_bytes())))
    });
    group.bench_function("baseline_hmac_x4_chain", |b| {
        b.iter(|| {
            let mut sig = hmac(&[7; 32], black_box(&identifier));
            for c in &caveats {
                sig = hmac(&sig, c);
            }
            sig
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
