//! What the dev wallet spends to issue one invoice (the work behind every unpaid 402 on the
//! embedded default), with 2,000 invoices and some settlements already in its ledger.
//!
//! `cargo bench -p l402-lightning --bench dev_wallet`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use l402_lightning::dev::DevWallet;
use l402_lightning::{CreateInvoice, LightningBackend, Msat, Network, PayOptions};

fn request() -> CreateInvoice {
    CreateInvoice {
        amount: Msat(1_000),
        memo: "bench".into(),
        expiry_secs: 600,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let wallet = DevWallet::open(dir.path(), Network::Regtest).expect("the dev wallet opens");
    let pay = PayOptions {
        max_fee: Msat(0),
        timeout: Duration::from_secs(10),
    };
    rt.block_on(async {
        for i in 0..2_000 {
            let created = wallet.create_invoice(request()).await.expect("an invoice");
            if i % 100 == 0 {
                // Settlements rewrite the ledger, as a seller's sales would.
                wallet
                    .pay_invoice(&created.bolt11, pay)
                    .await
                    .expect("the dev wallet pays its own invoice");
            }
        }
    });
    c.bench_function("dev_wallet/create_invoice_ledger_2000", |b| {
        b.iter(|| rt.block_on(wallet.create_invoice(black_box(request()))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
