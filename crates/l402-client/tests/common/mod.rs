//! Fixtures: the kit's in-process paid seller (`l402_testkit::paid_server`) and client helpers.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use l402_client::{Budget, L402Client, L402ClientBuilder};
use l402_lightning::{LightningBackend, Network};
pub use l402_testkit::paid_server::{CountingWallet, PaidServer, ServerOptions};
pub use l402_testkit::wallet::ledger_payments;

/// A client builder paying through `wallet`, storing in `store`, with `budget`.
pub fn builder(
    wallet: Arc<dyn LightningBackend>,
    store: &Path,
    budget: Budget,
) -> L402ClientBuilder {
    L402Client::builder()
        .wallet(wallet)
        .store_path(store)
        .budget(budget)
        .network(Network::Regtest)
        .payment_timeout(Duration::from_secs(20))
        .http_timeout(Duration::from_secs(20))
}

/// A client of `server` paying through a counting wrapper of the server's wallet.
pub fn client(
    server: &PaidServer,
    store: &Path,
    budget: Budget,
) -> (L402Client, Arc<CountingWallet>) {
    let counting = CountingWallet::counting(server.wallet.clone());
    let client = builder(counting.clone(), store, budget).build().unwrap();
    (client, counting)
}

/// Reads a response body as text.
pub async fn text(paid: l402_client::PaidResponse) -> (u16, String) {
    let status = paid.response.status().as_u16();
    (status, paid.response.text().await.unwrap())
}
