//! The conformance suite against every dev wallet arrangement, and proof that the suite catches
//! broken backends.

mod common;

mod dev_same_wallet {
    crate::conformance_tests!(crate::common::dev_same_wallet);
}

mod dev_two_wallets_one_ledger {
    crate::conformance_tests!(crate::common::dev_two_wallets_one_ledger);
}

mod http_clients {
    crate::conformance_tests!(crate::common::http_clients);
}

mod wallet_seller_http_payer {
    crate::conformance_tests!(crate::common::wallet_seller_http_payer);
}

mod broken_backends {
    //! Backends with one deliberate bug each: the matching check must fail.

    use std::sync::Arc;

    use async_trait::async_trait;
    use l402_lightning::conformance as c;
    use l402_lightning::{
        BackendError, InvoiceState, LightningBackend, Msat, Network, NodeInfo, PayOptions,
        PaymentHash, PaymentResult, PaymentState, Preimage, Settlement,
    };
    use l402_testkit::hooked::{Hooked, WalletHook};
    use l402_testkit::wallet::TestWallet;
    use tokio::sync::broadcast;

    #[derive(Clone, Copy, PartialEq)]
    enum Bug {
        /// Returns a wrong preimage.
        WrongPreimage,
        /// Pays the same invoice twice (returns the old result).
        PaysTwice,
        /// Reports open invoices as open forever.
        NeverExpires,
        /// Claims to stream but never delivers.
        SilentStream,
        /// Forgets payments.
        ForgetsPayments,
        /// Reports mainnet.
        WrongNetwork,
        /// `pay_amount` ignores the amount and pays the invoice's own.
        IgnoresAmount,
        /// `pay_amount` is not implemented (the trait's default).
        NoPayAmount,
    }

    /// A dev wallet with `bug` (the hook keeps the wallet's directory alive).
    struct Broken {
        bug: Bug,
        _wallet: TestWallet,
    }

    fn broken(bug: Bug) -> Arc<Hooked<Broken>> {
        let wallet = TestWallet::new();
        Hooked::new(
            wallet.wallet.clone(),
            Broken {
                bug,
                _wallet: wallet,
            },
        )
    }

    #[async_trait]
    impl WalletHook for Broken {
        async fn invoice_state(
            &self,
            inner: &dyn LightningBackend,
            hash: &PaymentHash,
        ) -> Result<InvoiceState, BackendError> {
            match inner.invoice_state(hash).await {
                Ok(InvoiceState::Expired) if self.bug == Bug::NeverExpires => {
                    Ok(InvoiceState::Open)
                }
                other => other,
            }
        }
        async fn subscribe_settlements(
            &self,
            inner: &dyn LightningBackend,
        ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
            if self.bug == Bug::SilentStream {
                let (tx, rx) = broadcast::channel(1);
                std::mem::forget(tx);
                return Ok(Some(rx));
            }
            inner.subscribe_settlements().await
        }
        async fn pay_invoice(
            &self,
            inner: &dyn LightningBackend,
            bolt11: &str,
            opts: PayOptions,
        ) -> Result<PaymentResult, BackendError> {
            let result = inner.pay_invoice(bolt11, opts).await;
            match (self.bug, result) {
                (Bug::WrongPreimage, Ok(mut r)) => {
                    r.preimage = Preimage([9; 32]);
                    Ok(r)
                }
                (Bug::PaysTwice, Err(BackendError::AlreadyPaid)) => {
                    let hash = l402_core::invoice::parse_bolt11(bolt11)
                        .unwrap()
                        .payment_hash;
                    match inner.payment_state(&hash).await? {
                        PaymentState::Succeeded { preimage, fee } => Ok(PaymentResult {
                            preimage,
                            fee,
                            amount: c::AMOUNT,
                            payment_hash: hash,
                        }),
                        _ => Err(BackendError::AlreadyPaid),
                    }
                }
                (Bug::NeverExpires, Err(BackendError::InvoiceExpired)) => {
                    Err(BackendError::NoRoute)
                }
                (_, r) => r,
            }
        }
        async fn pay_amount(
            &self,
            inner: &dyn LightningBackend,
            bolt11: &str,
            amount: Msat,
            opts: PayOptions,
        ) -> Result<PaymentResult, BackendError> {
            match self.bug {
                Bug::IgnoresAmount => inner.pay_invoice(bolt11, opts).await,
                Bug::NoPayAmount => Err(BackendError::Unsupported {
                    backend: "broken".into(),
                    operation: l402_lightning::PAY_AMOUNT_OPERATION,
                }),
                _ => inner.pay_amount(bolt11, amount, opts).await,
            }
        }
        async fn payment_state(
            &self,
            inner: &dyn LightningBackend,
            hash: &PaymentHash,
        ) -> Result<PaymentState, BackendError> {
            if self.bug == Bug::ForgetsPayments {
                return Ok(PaymentState::Unknown);
            }
            inner.payment_state(hash).await
        }
        async fn node_info(&self, inner: &dyn LightningBackend) -> Result<NodeInfo, BackendError> {
            let mut info = inner.node_info().await?;
            if self.bug == Bug::WrongNetwork {
                info.network = Network::Bitcoin;
            }
            Ok(info)
        }
    }

    fn failed_check(r: Result<c::Outcome, c::ConformanceFailure>) -> &'static str {
        match r {
            Err(e) => e.check,
            Ok(o) => panic!("the broken backend passed: {o:?}"),
        }
    }

    #[tokio::test]
    async fn wrong_preimage_fails_pay_checks() {
        let b = broken(Bug::WrongPreimage);
        assert_eq!(
            failed_check(c::pay_settles_invoice(&*b, &*b).await),
            "pay_settles_invoice"
        );
    }

    #[tokio::test]
    async fn paying_twice_fails_already_paid_check() {
        let b = broken(Bug::PaysTwice);
        assert_eq!(
            failed_check(c::pay_twice_is_already_paid(&*b, &*b).await),
            "pay_twice_is_already_paid"
        );
    }

    #[tokio::test]
    async fn never_expiring_fails_expiry_check() {
        let b = broken(Bug::NeverExpires);
        assert_eq!(
            failed_check(c::expired_invoice_is_refused(&*b, &*b).await),
            "expired_invoice_is_refused"
        );
    }

    #[tokio::test]
    async fn silent_stream_fails_stream_check() {
        let b = broken(Bug::SilentStream);
        assert_eq!(
            failed_check(c::settlement_stream_delivers(&*b, &*b).await),
            "settlement_stream_delivers"
        );
    }

    #[tokio::test]
    async fn forgotten_payments_fail_payment_state_check() {
        let b = broken(Bug::ForgetsPayments);
        assert_eq!(
            failed_check(c::payment_state_after_success(&*b, &*b).await),
            "payment_state_after_success"
        );
    }

    #[tokio::test]
    async fn wrong_network_fails_network_checks_and_run_all() {
        let b = broken(Bug::WrongNetwork);
        assert_eq!(
            failed_check(c::node_info_reports_network(&*b, Network::Regtest).await),
            "node_info_reports_network"
        );
        // The invoice says regtest while the node claims mainnet.
        assert_eq!(
            failed_check(c::create_invoice_is_open(&*b).await),
            "create_invoice_is_open"
        );
        let err = c::run_all(&b, &b, Network::Regtest, c::Supports::ALL)
            .await
            .unwrap_err();
        assert_eq!(err.check, "node_info_reports_network");
    }

    #[tokio::test]
    async fn an_ignored_amount_fails_the_pay_amount_checks() {
        let b = broken(Bug::IgnoresAmount);
        let all = c::Supports::ALL;
        assert_eq!(
            failed_check(c::pay_amount_settles_amountless_invoice(&*b, &*b, all).await),
            "pay_amount_settles_amountless_invoice"
        );
        assert_eq!(
            failed_check(c::pay_amount_checks_the_named_amount(&*b, &*b, all).await),
            "pay_amount_checks_the_named_amount"
        );
    }

    #[tokio::test]
    async fn a_missing_pay_amount_fails_when_claimed_and_is_skipped_when_not() {
        let b = broken(Bug::NoPayAmount);
        let claimed = c::Supports::ALL;
        assert_eq!(
            failed_check(c::pay_amount_settles_amountless_invoice(&*b, &*b, claimed).await),
            "pay_amount_settles_amountless_invoice"
        );
        assert_eq!(
            failed_check(c::pay_amount_refuses_zero(&*b, &*b, claimed).await),
            "pay_amount_refuses_zero"
        );
        let not_claimed = c::Supports {
            pay_amount: false,
            ..c::Supports::ALL
        };
        let outcomes = c::run_all(&b, &b, Network::Regtest, not_claimed)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let skipped: Vec<_> = outcomes
            .iter()
            .filter(|(_, o)| *o != c::Outcome::Passed)
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(
            skipped,
            [
                "pay_amount_settles_amountless_invoice",
                "pay_amount_checks_the_named_amount",
                "pay_amount_refuses_zero"
            ]
        );
    }

    #[tokio::test]
    async fn features_that_work_but_are_not_claimed_fail() {
        let wallet = TestWallet::new();
        let w = &*wallet.wallet;
        assert_eq!(
            failed_check(c::amountless_invoice_is_open(w, c::Supports::NONE).await),
            "amountless_invoice_is_open"
        );
        let no_pay_amount = c::Supports {
            pay_amount: false,
            ..c::Supports::ALL
        };
        assert_eq!(
            failed_check(c::pay_amount_refuses_zero(w, w, no_pay_amount).await),
            "pay_amount_refuses_zero"
        );
    }
}
