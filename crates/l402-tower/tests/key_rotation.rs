//! A paywall sharing its key ring: a replaced ring reaches minting and verification at once,
//! and a retired epoch's token is refused even after it was verified (and cached).

use std::sync::Arc;

use http::Request;
use l402_core::caveat::ServiceTier;
use l402_core::challenge::Scheme;
use l402_core::credential::single_authorization_value;
use l402_core::env::SystemClock;
use l402_core::invoice::Network;
use l402_core::keys::{KeyRing, MasterKey, token_epoch};
use l402_core::mint::{MintRequest, Minter, ServiceGrant};
use l402_core::verify::TokenError;
use l402_core::{Msat, Preimage};
use l402_lightning::dev::DevWallet;
use l402_tower::{Offer, OsRandom, Paywall, RevocationSet, SharedKeyRing, Verdict};

fn key(n: u8) -> MasterKey {
    MasterKey::from_bytes([n; 32])
}

/// `Authorization` for a token of `ring`'s current epoch, for the service `weather`.
fn token(ring: &KeyRing, preimage: &Preimage) -> String {
    let request = MintRequest {
        payment_hash: preimage.payment_hash(),
        grants: vec![ServiceGrant {
            service: ServiceTier {
                name: "weather".into(),
                tier: 0,
            },
            capabilities: Vec::new(),
            lifetime_secs: None,
        }],
        extra_caveats: Vec::new(),
    };
    let mac = Minter::new(ring.clone())
        .mint(&request, &SystemClock, &mut OsRandom)
        .unwrap();
    single_authorization_value(Scheme::L402, &mac.encode_v2(), preimage)
}

fn authorize(paywall: &Paywall, authorization: &str) -> Verdict {
    let (parts, ()) = Request::get("http://x/weather")
        .header("authorization", authorization)
        .body(())
        .unwrap()
        .into_parts();
    paywall.authorize(&parts, &Offer::new("weather", Msat::from_sat(21)))
}

#[tokio::test]
async fn a_replaced_ring_mints_and_verifies_and_retired_epochs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Arc::new(DevWallet::open(dir.path(), Network::Regtest).unwrap());
    let first = KeyRing::new(1, &key(1));
    let shared = SharedKeyRing::new(first.clone());
    let paywall = Paywall::new(shared.clone(), wallet, RevocationSet::default());
    let offer = Offer::new("weather", Msat::from_sat(21));

    let old = token(&first, &Preimage([7; 32]));
    for _ in 0..2 {
        // The second one is answered from the verified-credential cache.
        assert!(matches!(authorize(&paywall, &old), Verdict::Paid(_)));
    }
    assert_eq!(
        token_epoch(&paywall.challenge(&offer).await.unwrap().token_id),
        1
    );

    let mut rotated = KeyRing::new(2, &key(2));
    rotated.insert(1, &key(1));
    shared.replace(rotated.clone());
    assert_eq!(
        token_epoch(&paywall.challenge(&offer).await.unwrap().token_id),
        2,
        "new tokens carry the new epoch"
    );
    assert!(matches!(authorize(&paywall, &old), Verdict::Paid(_)));
    let new = token(&rotated, &Preimage([8; 32]));
    assert!(matches!(authorize(&paywall, &new), Verdict::Paid(_)));

    rotated.retire(1);
    shared.replace(rotated);
    match authorize(&paywall, &old) {
        Verdict::Challenge(e) => {
            assert_eq!(e, TokenError::RetiredKeyEpoch(1));
            assert_eq!(e.reason_code(), "retired_key_epoch");
        }
        other => panic!("a retired epoch's cached token was let through: {other:?}"),
    }
    assert!(matches!(authorize(&paywall, &new), Verdict::Paid(_)));
}
