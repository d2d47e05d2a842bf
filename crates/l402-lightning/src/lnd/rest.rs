//! [`LndRest`]: LND's REST API (`lnd --restlisten`) as a [`LightningBackend`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use http::Method;
use l402_core::PaymentHash;

use super::api::{Failure, LndApi, MsgStream, RpcStatus};
use super::core::Core;
use super::credentials::{Macaroon, PinnedCert};
use super::transport::{Lines, Transport};
use super::wire::{
    AddInvoice, AddInvoiceResponse, ChannelBalance, GetInfo, Invoice, Payment, SendPayment,
};
use super::{LndConfig, LndSetupError};
use crate::error::BackendError;

super::lnd_client!(
    /// An LND node over its REST API. Cheap to clone (clones share the connection pool and the
    /// settlement stream, which stops when the last clone is dropped).
    LndRest,
    address: "The node's REST base URL."
);

impl LndRest {
    /// Loads the credentials and builds the client. `config.address` is the REST address
    /// (`lnd --restlisten`, usually port 8080). Does no network IO: a wrong address or a
    /// stopped node shows up at the first call as [`BackendError::Unreachable`].
    pub fn new(config: LndConfig) -> Result<Self, LndSetupError> {
        let base = normalize_address(&config.address)?;
        let macaroon = Macaroon::load(&config.macaroon)?;
        let pinned = config.tls_cert.as_ref().map(PinnedCert::load).transpose()?;
        let transport = Transport::new(
            base,
            pinned.as_ref(),
            &macaroon,
            config.connect_timeout,
            config.request_timeout,
        )?;
        Ok(Self {
            core: Arc::new(Core::new(Arc::new(RestApi {
                transport: Arc::new(transport),
            }))),
        })
    }
}

/// The REST routes behind [`LndApi`].
struct RestApi {
    transport: Arc<Transport>,
}

/// A streamed REST answer, typed.
struct RestStream {
    lines: Lines,
    transport: Arc<Transport>,
}

#[async_trait]
impl<T: serde::de::DeserializeOwned + Send + 'static> MsgStream<T> for RestStream {
    async fn next(&mut self) -> Result<Option<Result<T, RpcStatus>>, BackendError> {
        self.lines.next::<T>(&self.transport).await
    }
}

impl RestApi {
    async fn stream(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<RestStream, Failure> {
        Ok(RestStream {
            lines: self.transport.stream(method, path, body).await?,
            transport: self.transport.clone(),
        })
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(value).map_err(|e| Failure::Backend(BackendError::Other(e.to_string())))
}

#[async_trait]
impl LndApi for RestApi {
    fn address(&self) -> &str {
        self.transport.base()
    }

    fn request_timeout(&self) -> Duration {
        self.transport.request_timeout()
    }

    async fn get_info(&self) -> Result<GetInfo, Failure> {
        self.transport.call(Method::GET, "/v1/getinfo", None).await
    }

    async fn channel_balance(&self) -> Result<ChannelBalance, Failure> {
        self.transport
            .call(Method::GET, "/v1/balance/channels", None)
            .await
    }

    async fn add_invoice(
        &self,
        value_msat: u64,
        memo: &str,
        expiry_secs: u64,
    ) -> Result<AddInvoiceResponse, Failure> {
        let body = to_json(&AddInvoice {
            value_msat: value_msat.to_string(),
            memo,
            expiry: expiry_secs.to_string(),
        })?;
        self.transport
            .call(Method::POST, "/v1/invoices", Some(body))
            .await
    }

    async fn lookup_invoice(&self, hash: &PaymentHash) -> Result<Invoice, Failure> {
        let path = format!("/v1/invoice/{}", hash.to_hex());
        self.transport.call(Method::GET, &path, None).await
    }

    async fn newest_invoice(&self) -> Result<Option<String>, Failure> {
        #[derive(serde::Deserialize)]
        struct List {
            #[serde(default)]
            invoices: Vec<Listed>,
        }
        #[derive(serde::Deserialize)]
        struct Listed {
            #[serde(default)]
            payment_request: String,
        }
        let list: List = self
            .transport
            .call(
                Method::GET,
                "/v1/invoices?reversed=true&num_max_invoices=1",
                None,
            )
            .await?;
        Ok(list.invoices.into_iter().next().map(|i| i.payment_request))
    }

    async fn subscribe_invoices(
        &self,
        settle_index: u64,
    ) -> Result<Box<dyn MsgStream<Invoice>>, Failure> {
        let path = if settle_index > 0 {
            format!("/v1/invoices/subscribe?settle_index={settle_index}")
        } else {
            "/v1/invoices/subscribe".to_owned()
        };
        Ok(Box::new(self.stream(Method::GET, &path, None).await?))
    }

    async fn send_payment(
        &self,
        bolt11: &str,
        amt_msat: Option<u64>,
        fee_limit_msat: u64,
        timeout_seconds: i32,
    ) -> Result<Box<dyn MsgStream<Payment>>, Failure> {
        let body = to_json(&SendPayment {
            payment_request: bolt11,
            amt_msat: amt_msat.map(|a| a.to_string()),
            fee_limit_msat: fee_limit_msat.to_string(),
            timeout_seconds,
            no_inflight_updates: true,
        })?;
        Ok(Box::new(
            self.stream(Method::POST, "/v2/router/send", Some(body))
                .await?,
        ))
    }

    async fn track_payment(
        &self,
        hash: &PaymentHash,
    ) -> Result<Box<dyn MsgStream<Payment>>, Failure> {
        // `bytes` path parameters are base64 (URL-safe, so the path stays one segment).
        let path = format!(
            "/v2/router/track/{}?no_inflight_updates=false",
            URL_SAFE.encode(hash.0)
        );
        Ok(Box::new(self.stream(Method::GET, &path, None).await?))
    }
}

/// `host:port` or `https://host:port[/]` → `https://host:port`.
pub(crate) fn normalize_address(address: &str) -> Result<String, LndSetupError> {
    let a = address.trim().trim_end_matches('/');
    let bad = |detail: &str| LndSetupError::Address {
        address: address.to_owned(),
        detail: detail.to_owned(),
    };
    let with_scheme = if a.starts_with("https://") || a.starts_with("http://") {
        a.to_owned()
    } else if a.contains("://") {
        return Err(bad("expected https://host:port or host:port"));
    } else {
        format!("https://{a}")
    };
    let uri: http::Uri = with_scheme
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if uri.path() != "/" && !uri.path().is_empty() {
        return Err(bad("no path expected after host:port"));
    }
    Ok(with_scheme)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lnd::CredentialSource;

    #[test]
    fn addresses_normalize() {
        assert_eq!(
            normalize_address("127.0.0.1:8080").unwrap(),
            "https://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_address("https://node.example:8080/").unwrap(),
            "https://node.example:8080"
        );
        assert!(normalize_address("grpc://x:1").is_err());
        assert!(normalize_address("https://x:1/v1").is_err());
        assert!(normalize_address("").is_err());
    }

    #[test]
    fn debug_hides_the_macaroon() {
        let mac = vec![2, 1, 3, 108, 110, 100, 2, 4, 49, 50];
        let lnd = LndRest::new(LndConfig::new(
            "127.0.0.1:1",
            None,
            CredentialSource::Bytes(mac.clone()),
        ))
        .unwrap();
        let dbg = format!("{lnd:?}");
        assert!(!dbg.contains(&hex::encode(&mac)), "{dbg}");
        assert!(dbg.contains("127.0.0.1:1"));
    }
}
