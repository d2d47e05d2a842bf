//! One logical request: send (with the scope's token if one is held), and on a challenge drive
//! `l402_core`'s decision machine: pay once within the budget, retry, or stop.

use l402_core::client::{Decision, PayPolicy, RequestFlow, ResponseView};
use l402_core::invoice::Network;
use l402_store::{Receipt, TokenRecord};
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};

use crate::blocking::on_store;
use crate::client::L402Client;
use crate::error::ClientError;
use crate::request::{IntoRequestSpec, RequestSpec};
use crate::scope::Target;
use crate::token::{authorization_value, is_expired};

/// The final response of a request, and what it cost.
#[derive(Debug)]
pub struct PaidResponse {
    /// The server's final response (body not yet read).
    pub response: reqwest::Response,
    /// The receipt, when this request made a payment.
    pub payment: Option<Receipt>,
    /// True when the response was obtained with a token already held (no payment by this
    /// request).
    pub reused_token: bool,
}

impl L402Client {
    /// `GET url`.
    pub async fn get(&self, url: &str) -> Result<PaidResponse, ClientError> {
        self.execute(RequestSpec::get(url)?).await
    }

    /// Sends a request, paying the server's L402 challenge if there is one.
    ///
    /// * A token held for the URL's scope is sent first (unless its caveats say it expired).
    /// * On a challenge, the invoice is checked (payment hash matches the macaroon, network,
    ///   expiry, amount ≤ `max_cost`), then the budget, and only then paid; the payment is
    ///   journaled before the wallet is called.
    /// * Concurrent requests for one scope pay once: each waits its turn and reuses a token
    ///   stored meanwhile.
    /// * A held token the server refuses is dropped, and leads to exactly one fresh payment; a
    ///   server that still wants payment after that ends with
    ///   [`StopReason::StillRequiredAfterPayment`](l402_core::client::StopReason).
    ///
    /// The request is sent with the body bytes of `spec` on every attempt.
    pub async fn execute(
        &self,
        request: impl IntoRequestSpec,
    ) -> Result<PaidResponse, ClientError> {
        let spec = request.into_request_spec()?;
        if spec.url.scheme() == "https" && !cfg!(feature = "tls") {
            return Err(ClientError::InvalidRequest(
                "https URLs need l402-client's `tls` feature".into(),
            ));
        }
        let mut target = Target::of(&spec.url, self.inner.scope_rule)
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        // A token learned for this exact path (because the broader scope holds another
        // service's token) takes precedence over the scope's.
        let exact = target.exact_path_scope(&spec.url);
        let mut sent = match self.usable_token(&exact).await? {
            Some(token) if exact != target.scope => {
                target.scope = exact.clone();
                Some(token)
            }
            _ => self.usable_token(&target.scope).await?,
        };
        let mut response = self.send(&spec, sent.as_ref()).await?;
        let mut flow: Option<RequestFlow> = None;
        let mut payment: Option<Receipt> = None;
        // Whether this request already switched to a token another request paid for; it does
        // so at most once, so a refused token can never make it loop.
        let mut adopted = false;
        loop {
            let headers = ChallengeHeaders::of(&response);
            let values: Vec<&str> = headers
                .www_authenticate
                .iter()
                .map(String::as_str)
                .collect();
            let view = ResponseView {
                status: response.status().as_u16(),
                www_authenticate: &values,
                grpc_status: headers.grpc_status,
                grpc_message: headers.grpc_message.as_deref(),
            };
            if flow.is_none() && !view.is_payment_required() {
                break;
            }
            let decision = match &mut flow {
                Some(f) => f.on_response(&view),
                None => {
                    let mut f = RequestFlow::new(self.policy().await?, sent.is_some());
                    let decision = f.on_response(&view);
                    flow = Some(f);
                    decision
                }
            };
            let (plan, drop_cached) = match decision {
                Decision::Done => break,
                Decision::Stop(reason) => return Err(ClientError::Refused(reason)),
                Decision::Pay { plan, drop_cached } => (plan, drop_cached),
            };
            // The held token is for another service behind the same scope (its `services`
            // caveat differs from the new challenge's): keep it, and learn a token for this
            // exact path instead of evicting the other service's token.
            if drop_cached
                && let Some(refused) = &sent
                && target.scope != exact
                && crate::token::other_service(&refused.macaroon, &plan.challenge.macaroon)
            {
                tracing::info!(scope = %exact, "the held token is for another service; scoping a new one to this path");
                target.scope = exact.clone();
            } else if drop_cached && let Some(refused) = &sent {
                tracing::info!(scope = %target.scope, "the server refused the held token; dropping it");
                let (scope, hash) = (target.scope.clone(), refused.payment_hash);
                on_store(&self.inner.store, move |s| {
                    s.tokens().remove_if(&scope, &hash)
                })
                .await?;
            }
            let turn = self.inner.locks.lock(&target.scope).await;
            self.resolve_before_paying(&target).await?;
            if !adopted
                && let Some(fresh) = self.usable_token(&target.scope).await?
                && sent.as_ref().map(|t| t.payment_hash) != Some(fresh.payment_hash)
            {
                drop(turn);
                tracing::debug!(scope = %target.scope, "reusing a token paid for meanwhile");
                adopted = true;
                response = self.send(&spec, Some(&fresh)).await?;
                sent = Some(fresh);
                flow = Some(RequestFlow::new(self.policy().await?, true));
                continue;
            }
            if !self.inner.auto_pay {
                return Err(ClientError::PaymentRequired {
                    amount: plan.amount,
                    scope: target.scope.clone(),
                    payment_hash: plan.payment_hash,
                });
            }
            let (token, receipt) = self.pay(&target, spec.url.as_str(), &plan).await?;
            drop(turn);
            if let Some(f) = flow.as_mut() {
                // Moves the decision machine past the payment, so a further challenge stops
                // instead of paying again. `pay` already checked the preimage.
                f.on_paid(token.preimage.clone())?;
            }
            payment = Some(receipt);
            response = self.send(&spec, Some(&token)).await?;
            sent = Some(token);
        }
        Ok(PaidResponse {
            response,
            reused_token: payment.is_none() && sent.is_some(),
            payment,
        })
    }

    /// The token held for `scope`, unless its caveats say it expired (then it is dropped).
    pub(crate) async fn usable_token(
        &self,
        scope: &str,
    ) -> Result<Option<TokenRecord>, ClientError> {
        let now = self.now();
        let scope = scope.to_owned();
        on_store(&self.inner.store, move |s| {
            let Some(t) = s.tokens().get(&scope)? else {
                return Ok(None);
            };
            if is_expired(&t, now) {
                s.tokens().remove_if(&scope, &t.payment_hash)?;
                return Ok(None);
            }
            Ok(Some(t))
        })
        .await
    }

    /// What the decision machine may pay: the wallet's network, `max_cost`, now.
    async fn policy(&self) -> Result<PayPolicy, ClientError> {
        Ok(PayPolicy {
            network: self.network().await?,
            max_amount: self.inner.max_cost,
            now_unix: self.now(),
        })
    }

    /// The configured network, or the wallet's (asked once).
    async fn network(&self) -> Result<Network, ClientError> {
        if let Some(n) = self.inner.configured_network {
            return Ok(n);
        }
        self.inner
            .network
            .get_or_try_init(|| async {
                self.inner
                    .wallet
                    .node_info()
                    .await
                    .map(|info| info.network)
                    .map_err(ClientError::Wallet)
            })
            .await
            .copied()
    }

    /// Sends one attempt, with `token` as the `Authorization` header when given.
    async fn send(
        &self,
        spec: &RequestSpec,
        token: Option<&TokenRecord>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut headers = spec.headers.clone();
        if let Some(t) = token {
            let mut value = HeaderValue::from_str(&authorization_value(t)).map_err(|_| {
                ClientError::InvalidToken("the held token is not a valid header value".into())
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let mut req = self
            .inner
            .http
            .request(spec.method.clone(), spec.url.clone())
            .headers(headers);
        if let Some(body) = &spec.body {
            req = req.body(body.clone());
        }
        Ok(req.send().await?)
    }
}

/// The response headers the decision needs, owned.
struct ChallengeHeaders {
    www_authenticate: Vec<String>,
    grpc_status: Option<u32>,
    grpc_message: Option<String>,
}

impl ChallengeHeaders {
    fn of(response: &reqwest::Response) -> Self {
        let headers = response.headers();
        Self {
            www_authenticate: headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_owned)
                .collect(),
            grpc_status: headers
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
            grpc_message: headers
                .get("grpc-message")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }
}
