//! [`LndGrpc`]: LND's gRPC API (`lnd --rpclisten`, usually port 10009) as a
//! [`LightningBackend`].
//!
//! The client stubs are generated once from wire-compatible subsets of lnd's protos
//! (`crates/l402-lightning/proto/lnd/`) and committed in `generated/`; the build needs no `protoc`.
//! Regenerate after editing the protos with `scripts/lib/lnd-gen-grpc.sh` (a throwaway crate
//! running `protox` and `tonic-prost-build`). TLS is the same pinned rustls configuration as
//! REST, over HTTP/2; the macaroon travels as `macaroon` metadata.

mod generated;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use l402_core::PaymentHash;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use self::generated::lnrpc::lightning_client::LightningClient;
use self::generated::lnrpc::{self, invoice::InvoiceState, payment::PaymentStatus};
use self::generated::routerrpc::{self, router_client::RouterClient};
use super::api::{Failure, LndApi, MsgStream, RpcStatus};
use super::core::{Core, unreachable_at};
use super::credentials::{Macaroon, PinnedCert};
use super::wire::{AddInvoiceResponse, Amount, Chain, ChannelBalance, GetInfo, Invoice, Payment};
use super::{LndConfig, LndSetupError, tls};
use crate::error::BackendError;
use crate::node_http::error_chain;

crate::lnd::lnd_client!(
    /// An LND node over gRPC. Cheap to clone (clones share the HTTP/2 connection and the
    /// settlement stream, which stops when the last clone is dropped).
    LndGrpc,
    address: "The node's gRPC address (`https://host:port`)."
);

impl LndGrpc {
    /// Loads the credentials and builds the client. `config.address` is the gRPC address
    /// (`host:port` or `https://host:port`, `lnd --rpclisten`, usually port 10009). Does no
    /// network IO: the connection is made (and remade after failures) on use.
    pub fn new(config: LndConfig) -> Result<Self, LndSetupError> {
        let base = super::rest::normalize_address(&config.address)?;
        let Some(authority) = base.strip_prefix("https://") else {
            return Err(LndSetupError::Address {
                address: config.address.clone(),
                detail: "LND's gRPC is always TLS: use host:port or https://host:port".into(),
            });
        };
        let macaroon = Macaroon::load(&config.macaroon)?;
        let pinned = config.tls_cert.as_ref().map(PinnedCert::load).transpose()?;
        let https = l402_tls::grpc_tls_connector(
            &super::tls::trust(pinned.as_ref()),
            Some(config.connect_timeout),
        )
        .map_err(|e| LndSetupError::Tls(e.to_string()))?;
        // tonic gets an http:// URI and this connector does the TLS: tonic's own TLS (when a
        // `tls-*` feature is on anywhere in the build) would refuse an https:// URI it has no
        // configuration for.
        let endpoint = Endpoint::from_shared(format!("http://{authority}"))
            .map_err(|e| LndSetupError::Address {
                address: config.address.clone(),
                detail: e.to_string(),
            })?
            .connect_timeout(config.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        let mut value = MetadataValue::try_from(macaroon.header_value())
            .map_err(|_| LndSetupError::Tls("macaroon is not metadata-safe".into()))?;
        value.set_sensitive(true);
        Ok(Self {
            core: Arc::new(Core::new(Arc::new(GrpcApi {
                address: base,
                endpoint,
                connector: https,
                channel: OnceLock::new(),
                macaroon: MacaroonInterceptor(value),
                request_timeout: config.request_timeout,
            }))),
        })
    }
}

/// Adds the hex macaroon as `macaroon` metadata (a secret: marked sensitive).
#[derive(Clone)]
struct MacaroonInterceptor(MetadataValue<Ascii>);

impl Interceptor for MacaroonInterceptor {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("macaroon", self.0.clone());
        Ok(req)
    }
}

type Intercepted = InterceptedService<Channel, MacaroonInterceptor>;

/// The gRPC calls behind [`LndApi`].
struct GrpcApi {
    address: String,
    endpoint: Endpoint,
    connector: l402_tls::GrpcTlsConnector,
    /// Made on first use (it needs a Tokio runtime); reconnects by itself.
    channel: OnceLock<Channel>,
    macaroon: MacaroonInterceptor,
    request_timeout: Duration,
}

impl GrpcApi {
    fn channel(&self) -> Channel {
        self.channel
            .get_or_init(|| {
                self.endpoint
                    .connect_with_connector_lazy(self.connector.clone())
            })
            .clone()
    }

    fn lightning(&self) -> LightningClient<Intercepted> {
        LightningClient::with_interceptor(self.channel(), self.macaroon.clone())
    }

    fn router(&self) -> RouterClient<Intercepted> {
        RouterClient::with_interceptor(self.channel(), self.macaroon.clone())
    }

    /// A local transport failure (connect, TLS) or LND's own status.
    fn failure(&self, status: tonic::Status) -> Failure {
        status_failure(&self.address, status)
    }

    async fn unary<T>(
        &self,
        call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.request_timeout, call).await {
            Err(_) => Err(Failure::Backend(BackendError::Timeout)),
            Ok(Ok(resp)) => Ok(resp.into_inner()),
            Ok(Err(status)) => Err(self.failure(status)),
        }
    }

    /// Opens a server stream; its messages are converted with `convert`.
    async fn stream<M: Send + 'static, T: Send + 'static>(
        &self,
        call: impl Future<Output = Result<tonic::Response<tonic::Streaming<M>>, tonic::Status>>,
        convert: fn(M) -> T,
    ) -> Result<Box<dyn MsgStream<T>>, Failure> {
        let inner = call.await.map_err(|s| self.failure(s))?.into_inner();
        Ok(Box::new(GrpcStream {
            inner,
            convert,
            address: self.address.clone(),
        }))
    }
}

fn status_failure(address: &str, status: tonic::Status) -> Failure {
    // A status carrying a source error was made locally by tonic from a transport error.
    if let Some(source) = std::error::Error::source(&status) {
        let detail = tls::explain(source).unwrap_or_else(|| {
            format!(
                "{}: {} (is lnd running, with --rpclisten on this address?)",
                status.message(),
                error_chain(source)
            )
        });
        return Failure::Backend(unreachable_at(address, detail));
    }
    Failure::Rpc(RpcStatus {
        code: status.code() as i32,
        message: status.message().to_owned(),
        http: 0,
    })
}

/// A gRPC server stream, converted to the shared message shapes.
struct GrpcStream<M, T> {
    inner: tonic::Streaming<M>,
    convert: fn(M) -> T,
    address: String,
}

#[async_trait]
impl<M: Send + 'static, T: Send + 'static> MsgStream<T> for GrpcStream<M, T> {
    async fn next(&mut self) -> Result<Option<Result<T, RpcStatus>>, BackendError> {
        match self.inner.message().await {
            Ok(Some(m)) => Ok(Some(Ok((self.convert)(m)))),
            Ok(None) => Ok(None),
            Err(status) => match status_failure(&self.address, status) {
                Failure::Backend(e) => Err(e),
                Failure::Rpc(s) if s.code == tonic::Code::Unavailable as i32 => Err(
                    unreachable_at(&self.address, format!("stream interrupted: {}", s.message)),
                ),
                Failure::Rpc(s) => Ok(Some(Err(s))),
            },
        }
    }
}

fn nonneg(v: i64) -> u64 {
    v.max(0) as u64
}

fn invoice(i: lnrpc::Invoice) -> Invoice {
    Invoice {
        r_hash: STANDARD.encode(&i.r_hash),
        creation_date: nonneg(i.creation_date),
        settle_date: nonneg(i.settle_date),
        expiry: nonneg(i.expiry),
        amt_paid_msat: nonneg(i.amt_paid_msat),
        settle_index: i.settle_index,
        state: InvoiceState::try_from(i.state)
            .map(|s| s.as_str_name().to_owned())
            .unwrap_or_default(),
    }
}

fn payment(p: lnrpc::Payment) -> Payment {
    Payment {
        payment_preimage: p.payment_preimage,
        value_msat: nonneg(p.value_msat),
        fee_msat: nonneg(p.fee_msat),
        status: PaymentStatus::try_from(p.status)
            .map(|s| s.as_str_name().to_owned())
            .unwrap_or_default(),
        failure_reason: lnrpc::PaymentFailureReason::try_from(p.failure_reason)
            .map(|r| r.as_str_name().to_owned())
            .unwrap_or_default(),
    }
}

#[async_trait]
impl LndApi for GrpcApi {
    fn address(&self) -> &str {
        &self.address
    }

    fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    async fn get_info(&self) -> Result<GetInfo, Failure> {
        let mut client = self.lightning();
        let info = self
            .unary(client.get_info(lnrpc::GetInfoRequest {}))
            .await?;
        Ok(GetInfo {
            identity_pubkey: info.identity_pubkey,
            alias: info.alias,
            chains: info
                .chains
                .into_iter()
                .map(|c| Chain {
                    chain: c.chain,
                    network: c.network,
                })
                .collect(),
            synced_to_chain: info.synced_to_chain,
        })
    }

    async fn channel_balance(&self) -> Result<ChannelBalance, Failure> {
        let mut client = self.lightning();
        let balance = self
            .unary(client.channel_balance(lnrpc::ChannelBalanceRequest {}))
            .await?;
        Ok(ChannelBalance {
            local_balance: Amount {
                msat: balance.local_balance.map_or(0, |a| a.msat),
            },
        })
    }

    async fn add_invoice(
        &self,
        value_msat: u64,
        memo: &str,
        expiry_secs: u64,
    ) -> Result<AddInvoiceResponse, Failure> {
        let mut client = self.lightning();
        let added = self
            .unary(client.add_invoice(lnrpc::Invoice {
                memo: memo.to_owned(),
                value_msat: i64::try_from(value_msat).unwrap_or(i64::MAX),
                expiry: i64::try_from(expiry_secs).unwrap_or(i64::MAX),
                ..Default::default()
            }))
            .await?;
        Ok(AddInvoiceResponse {
            r_hash: STANDARD.encode(&added.r_hash),
            payment_request: added.payment_request,
        })
    }

    async fn lookup_invoice(&self, hash: &PaymentHash) -> Result<Invoice, Failure> {
        let mut client = self.lightning();
        self.unary(client.lookup_invoice(lnrpc::PaymentHash {
            r_hash: hash.0.to_vec(),
        }))
        .await
        .map(invoice)
    }

    async fn newest_invoice(&self) -> Result<Option<String>, Failure> {
        let mut client = self.lightning();
        let list = self
            .unary(client.list_invoices(lnrpc::ListInvoiceRequest {
                reversed: true,
                num_max_invoices: 1,
                ..Default::default()
            }))
            .await?;
        Ok(list.invoices.into_iter().next().map(|i| i.payment_request))
    }

    async fn subscribe_invoices(
        &self,
        settle_index: u64,
    ) -> Result<Box<dyn MsgStream<Invoice>>, Failure> {
        let mut client = self.lightning();
        self.stream(
            client.subscribe_invoices(lnrpc::InvoiceSubscription {
                add_index: 0,
                settle_index,
            }),
            invoice,
        )
        .await
    }

    async fn send_payment(
        &self,
        bolt11: &str,
        amt_msat: Option<u64>,
        fee_limit_msat: u64,
        timeout_seconds: i32,
    ) -> Result<Box<dyn MsgStream<Payment>>, Failure> {
        let mut client = self.router();
        self.stream(
            client.send_payment_v2(routerrpc::SendPaymentRequest {
                payment_request: bolt11.to_owned(),
                timeout_seconds,
                // 0 is "not set" in proto3, which is what an invoice with an amount needs.
                amt_msat: amt_msat.map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX)),
                fee_limit_msat: i64::try_from(fee_limit_msat).unwrap_or(i64::MAX),
                no_inflight_updates: true,
            }),
            payment,
        )
        .await
    }

    async fn track_payment(
        &self,
        hash: &PaymentHash,
    ) -> Result<Box<dyn MsgStream<Payment>>, Failure> {
        let mut client = self.router();
        self.stream(
            client.track_payment_v2(routerrpc::TrackPaymentRequest {
                payment_hash: hash.0.to_vec(),
                no_inflight_updates: false,
            }),
            payment,
        )
        .await
    }
}
