//! What the tools return, as serializable structs (field order is the order a model reads), and
//! the hints attached to failures.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use l402_client::budget::Limit;
use l402_client::{
    BudgetError, BudgetStatus, ClientError, ClosedSession, Receipt, ReportedStatus, SessionUse,
    TokenInfo, WindowStatus,
};
use l402_core::Msat;
use l402_core::client::StopReason;
use l402_core::invoice::InvoiceCheckError;
use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;

/// An amount in sat for JSON: a whole number when it is whole, else a decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sat(pub Msat);

impl Serialize for Sat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let msat = self.0.0;
        if msat.is_multiple_of(1000) {
            s.serialize_u64(msat / 1000)
        } else {
            // Exact enough: msat amounts are far below 2^53.
            s.serialize_f64(msat as f64 / 1000.0)
        }
    }
}

/// `Some(limit)` as sat, `None` (JSON `null`) for "no limit".
fn opt_sat(m: Option<Msat>) -> Option<Sat> {
    m.map(Sat)
}

/// Text for a limit that may be absent.
pub(crate) fn limit_text(m: Option<Msat>) -> String {
    m.map_or_else(|| "no limit".to_owned(), |m| m.to_string())
}

/// What one `l402_fetch` call paid.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PaymentReport {
    /// True when this call made a Lightning payment.
    pub paid: bool,
    /// The invoice amount (0 when nothing was paid).
    pub amount_sat: Sat,
    /// The routing fee.
    pub fee_sat: Sat,
    /// Amount plus fee: what this call cost the budget.
    pub total_sat: Sat,
    /// The payment hash, when paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_hash: Option<String>,
    /// True when a token bought earlier was reused (nothing paid).
    pub reused_token: bool,
}

impl PaymentReport {
    /// Nothing paid.
    pub fn none(reused_token: bool) -> Self {
        Self {
            paid: false,
            amount_sat: Sat(Msat(0)),
            fee_sat: Sat(Msat(0)),
            total_sat: Sat(Msat(0)),
            payment_hash: None,
            reused_token,
        }
    }

    /// From the receipt of this call's payment.
    pub fn of(receipt: Option<&Receipt>, reused_token: bool) -> Self {
        match receipt {
            None => Self::none(reused_token),
            Some(r) => Self {
                paid: true,
                amount_sat: Sat(r.amount),
                fee_sat: Sat(r.fee),
                total_sat: Sat(r.total()),
                payment_hash: Some(r.payment_hash.to_hex()),
                reused_token: false,
            },
        }
    }

    /// One sentence.
    pub fn sentence(&self) -> String {
        if self.paid {
            format!(
                "Paid {} (fee {}) for this call.",
                self.amount_sat.0, self.fee_sat.0
            )
        } else if self.reused_token {
            "Nothing paid: a token bought earlier was reused.".to_owned()
        } else {
            "Nothing paid.".to_owned()
        }
    }
}

/// What a paid response said about its token (`L402-Token`; token introspection).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TokenStatusReport {
    /// When the token expires for this service, Unix seconds (`null`: never).
    pub expires_at: Option<u64>,
    /// Seconds it had left, by the server's clock (`null`: never expires).
    pub seconds_left: Option<u64>,
    /// What it has left to spend, when the server meters it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_msat: Option<u64>,
}

impl TokenStatusReport {
    /// From what the client kept.
    pub fn of(status: &ReportedStatus) -> Self {
        Self {
            expires_at: status.expires_at,
            seconds_left: status.ttl_secs,
            balance_msat: status.balance_msat,
        }
    }

    /// One sentence.
    pub fn sentence(&self) -> String {
        let mut text = match self.seconds_left {
            None => {
                "The token does not expire: further fetches under its scope reuse it.".to_owned()
            }
            Some(0) => "The token has expired: the next fetch pays again.".to_owned(),
            Some(s) => {
                format!("The token has {s} s left: fetches under its scope reuse it until then.")
            }
        };
        if let Some(balance) = self.balance_msat {
            text.push_str(&format!(" Balance left: {balance} msat."));
        }
        text
    }
}

/// What is left of each limit, in sat (`null`: no limit).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BudgetLeft {
    /// Left in the rolling hour.
    pub hourly_sat: Option<Sat>,
    /// Left in the rolling 24 hours.
    pub daily_sat: Option<Sat>,
    /// Left of the all-time total.
    pub total_sat: Option<Sat>,
    /// Left for the fetched host, when it has its own limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_sat: Option<Sat>,
}

impl BudgetLeft {
    /// From a status; `host` picks the per-domain window.
    pub fn of(status: &BudgetStatus, host: Option<&str>) -> Self {
        Self {
            hourly_sat: opt_sat(status.hourly.remaining),
            daily_sat: opt_sat(status.daily.remaining),
            total_sat: opt_sat(status.total.remaining),
            domain_sat: host
                .and_then(|h| status.per_domain.get(h))
                .and_then(|w| w.remaining)
                .map(Sat),
        }
    }

    /// One sentence.
    pub fn sentence(&self) -> String {
        let part = |s: Option<Sat>| s.map_or_else(|| "no limit".to_owned(), |s| s.0.to_string());
        let mut out = format!(
            "Budget left: hourly {}, daily {}, total {}",
            part(self.hourly_sat),
            part(self.daily_sat),
            part(self.total_sat)
        );
        if let Some(d) = self.domain_sat {
            let _ = write!(out, ", this host {}", d.0);
        }
        out.push('.');
        out
    }
}

/// The `l402_fetch` result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FetchReport {
    /// One paragraph: status, payment, budget left.
    pub summary: String,
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type`, if any.
    pub content_type: Option<String>,
    /// What this call paid.
    pub payment: PaymentReport,
    /// What the server said about the token this call carried (its `L402-Token` header):
    /// whether the token is worth reusing. Absent without a token or without the header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenStatusReport>,
    /// What this call did with a prepaid `Payment` session (metered APIs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionReport>,
    /// What is left of the budget after this call.
    pub budget_left: Option<BudgetLeft>,
    /// The most this call could pay for one invoice.
    pub max_cost_sat: Sat,
    /// Notes about the arguments (e.g. a `max_cost_sat` above the configured maximum).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// About the body: truncation, binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_note: Option<String>,
    /// True when the body was cut.
    pub body_truncated: bool,
    /// The body as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// A small binary body, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

/// A failed tool call as the model sees it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorReport {
    /// A stable kind: `over_budget`, `over_max_cost`, `domain_not_allowed`, `payment_failed`,
    /// `payment_pending`, `payment_required`, `refused`, `network`, `invalid_request`,
    /// `unsupported`, `wallet`, `local`.
    pub error: &'static str,
    /// The error message (names the limit and the overshoot for budget refusals).
    pub message: String,
    /// What the model can do about it.
    pub hint: String,
    /// True when it is certain nothing was paid by this call.
    pub nothing_paid: bool,
    /// What this call paid, when something was (e.g. the body could not be read after paying).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentReport>,
    /// What is left of the budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_left: Option<BudgetLeft>,
    /// Notes about the arguments (e.g. a `max_cost_sat` above the configured maximum).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ErrorReport {
    /// The tool result: `isError: true`, a readable text and the same as structured content.
    pub fn into_result(self) -> CallToolResult {
        let mut text = String::new();
        if self.nothing_paid {
            text.push_str("Nothing was paid. ");
        }
        let _ = write!(text, "Error ({}): {}", self.error, self.message);
        if let Some(p) = &self.payment {
            let _ = write!(text, "\n{}", p.sentence());
        }
        let _ = write!(text, "\nHint: {}", self.hint);
        if let Some(b) = &self.budget_left {
            let _ = write!(text, "\n{}", b.sentence());
        }
        for n in &self.notes {
            let _ = write!(text, "\nNote: {n}.");
        }
        let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
        result.structured_content = serde_json::to_value(&self).ok();
        result
    }
}

/// A success result whose text is the JSON of `value`, also given as structured content.
pub(crate) fn json_result<T: Serialize>(value: &T) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(v) => {
            let text = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
            let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
            r.structured_content = Some(v);
            r
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
            "internal error: cannot serialize the result: {e}"
        ))]),
    }
}

/// Where the user changes limits, for hints.
const RAISE: &str =
    "in the [budget] section of the l402 client config (~/.config/l402/config.toml)";

/// Kind, hint and whether nothing was paid, for a client error. `call_max` is the maximum cost
/// that applied to this call and `configured_max` the configured one.
pub(crate) fn classify(
    err: &ClientError,
    call_max: Msat,
    configured_max: Msat,
) -> (&'static str, String) {
    match err {
        ClientError::Budget(b) => budget_hint(b),
        ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax {
            amount,
            ..
        })) => {
            let hint = if call_max < configured_max && *amount <= configured_max {
                format!(
                    "The price ({amount}) is above the max_cost_sat of this call ({call_max}) but \
                     within the configured maximum ({configured_max}): retry with max_cost_sat \
                     of at least {} if it is worth it.",
                    amount.to_sat_ceil()
                )
            } else {
                format!(
                    "The price ({amount}) is above the configured maximum per payment \
                     ({configured_max}); max_cost_sat cannot raise it. Pick a cheaper resource, \
                     or ask the user to raise max_cost_sat {RAISE} (or L402_MAX_COST_SAT)."
                )
            };
            ("over_max_cost", hint)
        }
        ClientError::PaymentRequired { amount, .. } => (
            "payment_required",
            format!(
                "Automatic payment is off for this client; the resource costs {amount}. Ask the \
                 user whether to pay it."
            ),
        ),
        ClientError::PaymentFailed(_) => (
            "payment_failed",
            "The wallet could not pay (nothing was paid, the budget reservation was released). \
             Retry later; if it keeps failing, ask the user to check the wallet (is it running \
             and funded?)."
                .to_owned(),
        ),
        ClientError::PaymentPending { .. } => (
            "payment_pending",
            "A payment for this resource is in flight or its outcome is unknown. Do not retry \
             now: it is resolved automatically (never paid twice); check l402_receipts in a \
             minute, then fetch again."
                .to_owned(),
        ),
        ClientError::Refused(
            StopReason::StillRequiredAfterPayment | StopReason::PreimageMismatch,
        ) => (
            "refused",
            "The server still asked for payment after being paid. Do not retry this resource; \
             tell the user (see l402_receipts for what was paid)."
                .to_owned(),
        ),
        ClientError::Refused(_)
        | ClientError::BadPaymentChallenge(_)
        | ClientError::SchemeNotAllowed(_) => (
            "refused",
            "The server's payment request (L402 challenge or invoice) is unusable or failed a \
             safety check, so it was not paid. Do not retry; pick another resource or tell the \
             user."
                .to_owned(),
        ),
        ClientError::Http(_) => match l402_tls::explain(err) {
            Some(tls) => (
                "tls",
                format!(
                    "{tls} Nothing was paid. Do not retry with the same URL unless the user fixes \
                     the server's certificate or the trusted CA (l402 mcp --cacert FILE)."
                ),
            ),
            None => (
                "network",
                "Check the URL and that the server is reachable; retrying later may help."
                    .to_owned(),
            ),
        },
        ClientError::DestinationRefused { .. } => (
            "destination_refused",
            format!(
                "Nothing was sent and nothing was paid: the address is not on the public \
                 internet. Do not retry it; if the user really wants l402_fetch to reach local \
                 or private networks, they can set {}.",
                crate::network_guard::ALLOW_PRIVATE_SETTING
            ),
        ),
        ClientError::RedirectRefused { .. } => (
            "redirect_refused",
            "The server redirected somewhere the client does not follow (a host the domain \
             lists refuse, too many hops, or not http/https); nothing was sent there and \
             nothing was paid. Do not retry; tell the user if the resource matters."
                .to_owned(),
        ),
        ClientError::InvalidRequest(_) => (
            "invalid_request",
            "Fix the arguments (URL, method, headers) and call again.".to_owned(),
        ),
        ClientError::Wallet(_) => (
            "wallet",
            "The wallet cannot be reached. Ask the user to start it (for the dev wallet: \
             `l402 serve` or `l402 wallet serve` with the same data directory)."
                .to_owned(),
        ),
        ClientError::Config(_) | ClientError::Build(_) => (
            "local",
            "The l402 client configuration is invalid; ask the user to fix it.".to_owned(),
        ),
        ClientError::NoToken(_) | ClientError::InvalidToken(_) => (
            "invalid_request",
            "No usable token for this; call l402_tokens to see what is held.".to_owned(),
        ),
        _ => (
            "local",
            "A local error (storage or internal). Retry once; if it persists, tell the user."
                .to_owned(),
        ),
    }
}

fn budget_hint(b: &BudgetError) -> (&'static str, String) {
    match b {
        BudgetError::Exceeded { limit, .. } => {
            let hint = match limit {
                Limit::PerRequest => format!(
                    "One payment may cost at most the per-request limit. Pick a cheaper \
                     resource, or ask the user to raise max_per_request_sat {RAISE} (or \
                     L402_MAX_PER_REQUEST_SAT)."
                ),
                Limit::Hourly => format!(
                    "The hourly budget is a rolling hour: wait, lower the request or pick a \
                     cheaper resource, or ask the user to raise the hourly budget (hourly_sat \
                     {RAISE}, or L402_HOURLY_BUDGET_SAT). `l402 budget` shows the limits."
                ),
                Limit::Daily => format!(
                    "Lower the request or pick a cheaper resource, or ask the user to raise the \
                     daily budget (daily_sat {RAISE}, or L402_DAILY_BUDGET_SAT). \
                     `l402 budget` shows the limits."
                ),
                Limit::Total => format!(
                    "The total budget is nearly used up. Ask the user to raise it (total_sat \
                     {RAISE}, or L402_TOTAL_BUDGET_SAT). `l402 budget` shows the limits."
                ),
                Limit::Domain(host) => format!(
                    "The budget for {host} is used up. Pick another provider, or ask the user \
                     to raise per_domain_sat.\"{host}\" {RAISE}."
                ),
            };
            ("over_budget", hint)
        }
        BudgetError::DomainDenied { domain, .. } | BudgetError::DomainNotAllowed { domain } => (
            "domain_not_allowed",
            format!(
                "The user does not allow payments to {domain}. Do not retry; use another \
                 provider or ask the user to allow it (allow_domains / deny_domains {RAISE})."
            ),
        ),
        _ => (
            "over_budget",
            format!("Ask the user to review the budget {RAISE}; `l402 budget` shows it."),
        ),
    }
}

/// One window of the `l402_budget` result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WindowReport {
    /// The limit (`null`: none).
    pub limit_sat: Option<Sat>,
    /// Spent or reserved in the window.
    pub spent_sat: Sat,
    /// Left (`null`: no limit).
    pub remaining_sat: Option<Sat>,
}

impl From<&WindowStatus> for WindowReport {
    fn from(w: &WindowStatus) -> Self {
        Self {
            limit_sat: opt_sat(w.limit),
            spent_sat: Sat(w.spent),
            remaining_sat: opt_sat(w.remaining),
        }
    }
}

/// The `l402_budget` result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BudgetReport {
    /// One paragraph.
    pub summary: String,
    /// The most one `l402_fetch` pays for one invoice when `max_cost_sat` is not given.
    pub default_max_cost_sat: Sat,
    /// The most one invoice may cost at all (fee excluded); `max_cost_sat` cannot go above it.
    pub max_cost_sat: Sat,
    /// The routing-fee cap per payment (counted against the limits while a payment is in
    /// flight).
    pub max_fee_sat: Sat,
    /// The most one payment may cost, amount plus maximum fee (`null`: no such limit).
    pub max_per_request_sat: Option<Sat>,
    /// The rolling last hour.
    pub hourly: WindowReport,
    /// The rolling last 24 hours.
    pub daily: WindowReport,
    /// Everything ever paid from this store.
    pub total: WindowReport,
    /// Hosts with their own all-time limit.
    pub per_domain: BTreeMap<String, WindowReport>,
    /// Hosts payments may go to (empty: any host).
    pub allow_domains: Vec<String>,
    /// Hosts payments never go to.
    pub deny_domains: Vec<String>,
}

/// One receipt of the `l402_receipts` result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReceiptReport {
    /// When paid, Unix seconds.
    pub paid_at: u64,
    /// Seconds ago.
    pub age_secs: u64,
    /// The URL paid for.
    pub url: String,
    /// The token scope bought.
    pub scope: String,
    /// The invoice amount.
    pub amount_sat: Sat,
    /// The routing fee.
    pub fee_sat: Sat,
    /// The payment hash.
    pub payment_hash: String,
}

impl ReceiptReport {
    /// From a receipt, at `now`.
    pub fn of(r: &Receipt, now: u64) -> Self {
        Self {
            paid_at: r.paid_at,
            age_secs: now.saturating_sub(r.paid_at),
            url: r.url.clone(),
            scope: r.scope.clone(),
            amount_sat: Sat(r.amount),
            fee_sat: Sat(r.fee),
            payment_hash: r.payment_hash.to_hex(),
        }
    }
}

/// The `l402_receipts` result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReceiptsReport {
    /// One sentence.
    pub summary: String,
    /// Newest first.
    pub receipts: Vec<ReceiptReport>,
}

/// One token of the `l402_tokens` result. Never the macaroon or the preimage.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TokenReport {
    /// The scope key: requests under it reuse the token.
    pub scope: String,
    /// The origin.
    pub origin: String,
    /// What it cost.
    pub amount_sat: Sat,
    /// The routing fee paid.
    pub fee_sat: Sat,
    /// When bought, Unix seconds.
    pub created_at: u64,
    /// When it expires, Unix seconds (`null`: no expiry caveat).
    pub expires_at: Option<u64>,
    /// Seconds it has left (`null`: it does not expire): counted from what the server last
    /// said (`status_reported_at`) when it has, else from its caveats.
    pub seconds_left: Option<u64>,
    /// True when it has expired (it will not be used; the next request pays again).
    pub expired: bool,
    /// When the server last reported on it in a paid response (`L402-Token`), Unix seconds;
    /// absent if it never has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reported_at: Option<u64>,
    /// What it had left to spend then, when the server meters it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_msat: Option<u64>,
    /// A label (imported tokens say where from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The payment hash it was bought with.
    pub payment_hash: String,
}

impl TokenReport {
    /// From a token, at `now`.
    pub fn of(t: &TokenInfo, now: u64) -> Self {
        Self {
            scope: t.scope.clone(),
            origin: t.origin.clone(),
            amount_sat: Sat(t.amount),
            fee_sat: Sat(t.fee),
            created_at: t.created_at,
            expires_at: t.status.map_or(t.expires_at, |s| s.expires_at),
            seconds_left: t.remaining_secs(now),
            expired: t.remaining_secs(now) == Some(0),
            status_reported_at: t.status.map(|s| s.at),
            balance_msat: t.status.and_then(|s| s.balance_msat),
            label: t.label.clone(),
            payment_hash: t.payment_hash.to_hex(),
        }
    }
}

/// The `l402_tokens` result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TokensReport {
    /// One sentence.
    pub summary: String,
    /// Every held token.
    pub tokens: Vec<TokenReport>,
}

/// What one `l402_fetch` call did with a prepaid `Payment` session (a metered API).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SessionReport {
    /// The session id.
    pub id: String,
    /// True when this call opened it (and paid its deposit).
    pub opened: bool,
    /// True when this call topped it up (and paid another deposit).
    pub topped_up: bool,
    /// Every deposit paid into it so far.
    pub deposit_sat: Sat,
    /// The balance after this call's reservation, as the seller reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_msat: Option<u64>,
    /// What this call reserved (it is billed at most that).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_msat: Option<u64>,
}

impl SessionReport {
    /// From what the client said.
    pub fn of(s: &SessionUse) -> Self {
        Self {
            id: s.session_id.to_hex(),
            opened: s.opened,
            topped_up: s.topped_up,
            deposit_sat: Sat(s.deposit),
            balance_msat: s.balance.map(|b| b.0),
            reserved_msat: s.reserved.map(|r| r.0),
        }
    }

    /// One sentence.
    pub fn sentence(&self) -> String {
        let what = match (self.opened, self.topped_up) {
            (true, _) => "Opened a prepaid session (the payment is its deposit)",
            (false, true) => "Topped up the prepaid session (the payment is a new deposit)",
            (false, false) => "Spent from the prepaid session opened earlier",
        };
        let left = self
            .balance_msat
            .map(|b| format!("; {} sat left after this call's reservation", b / 1000))
            .unwrap_or_default();
        format!("{what}{left}. l402_close_sessions gets what is left refunded.")
    }
}

/// A closed session, as `l402_close_sessions` reports it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClosedReport {
    /// The session id.
    pub id: String,
    /// The token scope it served.
    pub scope: String,
    /// What its deposits paid together.
    pub deposit_sat: Sat,
    /// What its usage cost (deposits less the refund announced).
    pub spent_msat: Option<u64>,
    /// The refund the seller announced.
    pub refund_msat: Option<u64>,
    /// The seller's word on the refund (`succeeded`, `failed`, `skipped`), or `gone`.
    pub refund_status: Option<String>,
    /// What the wallet saw arrive (only that goes back to the budget).
    pub refund_received_msat: Option<u64>,
}

impl ClosedReport {
    /// From what the client said.
    pub fn of(c: &ClosedSession) -> Self {
        Self {
            id: c.session_id.to_hex(),
            scope: c.scope.clone(),
            deposit_sat: Sat(c.deposit),
            spent_msat: c.spent().map(|s| s.0),
            refund_msat: c.refund.map(|r| r.0),
            refund_status: c.refund_status.clone(),
            refund_received_msat: c.refund_received.map(|r| r.0),
        }
    }
}

/// `l402_close_sessions`'s answer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClosedSessionsReport {
    /// One sentence.
    pub summary: String,
    /// Each session closed.
    pub sessions: Vec<ClosedReport>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_reports_count_from_the_servers_report() {
        use l402_core::PaymentHash;

        let mut info = TokenInfo {
            scope: "http://h/a".into(),
            origin: "http://h".into(),
            payment_hash: PaymentHash([1; 32]),
            token_id: None,
            amount: Msat(1000),
            fee: Msat(0),
            created_at: 0,
            expires_at: Some(1_000),
            label: None,
            status: None,
        };
        let from_caveats = TokenReport::of(&info, 400);
        assert_eq!(
            (from_caveats.seconds_left, from_caveats.expired),
            (Some(600), false)
        );
        assert_eq!(from_caveats.status_reported_at, None);
        info.status = Some(ReportedStatus {
            at: 300,
            expires_at: Some(900),
            ttl_secs: Some(50),
            balance_msat: None,
        });
        let reported = TokenReport::of(&info, 340);
        assert_eq!(
            (reported.expires_at, reported.seconds_left, reported.expired),
            (Some(900), Some(10), false)
        );
        assert_eq!(reported.status_reported_at, Some(300));
        assert!(TokenReport::of(&info, 350).expired);

        let status = TokenStatusReport::of(info.status.as_ref().unwrap());
        assert_eq!(
            status.sentence(),
            "The token has 50 s left: fetches under its scope reuse it until then."
        );
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"expires_at": 900, "seconds_left": 50})
        );
        let forever = TokenStatusReport {
            expires_at: None,
            seconds_left: None,
            balance_msat: Some(7),
        };
        assert!(forever.sentence().starts_with("The token does not expire"));
        assert!(forever.sentence().ends_with("Balance left: 7 msat."));
    }

    #[test]
    fn sat_serializes_whole_and_fractional() {
        assert_eq!(serde_json::to_string(&Sat(Msat(2000))).unwrap(), "2");
        assert_eq!(serde_json::to_string(&Sat(Msat(2500))).unwrap(), "2.5");
    }

    #[test]
    fn budget_refusal_names_the_limit_in_text_and_hint() {
        let err = ClientError::Budget(BudgetError::Exceeded {
            limit: Limit::Daily,
            would_spend: Msat::from_sat(6),
            limit_value: Msat::from_sat(6),
            already_spent: Msat::from_sat(2),
        });
        let (kind, hint) = classify(&err, Msat::from_sat(1000), Msat::from_sat(1000));
        assert_eq!(kind, "over_budget");
        assert!(hint.contains("daily budget"), "{hint}");
        let r = ErrorReport {
            error: kind,
            message: err.to_string(),
            hint,
            nothing_paid: err.nothing_paid(),
            payment: None,
            budget_left: None,
            notes: Vec::new(),
        }
        .into_result();
        assert_eq!(r.is_error, Some(true));
        let text = r.content[0].as_text().unwrap().text.clone();
        assert!(text.starts_with("Nothing was paid."), "{text}");
        assert!(
            text.contains("would exceed the daily budget by 2 sat"),
            "{text}"
        );
    }

    #[test]
    fn over_max_hint_depends_on_which_maximum_applied() {
        let err = |amount, max| {
            ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax {
                amount: Msat::from_sat(amount),
                max: Msat::from_sat(max),
            }))
        };
        let (_, lowered) = classify(&err(5, 3), Msat::from_sat(3), Msat::from_sat(10));
        assert!(
            lowered.contains("retry with max_cost_sat of at least 5"),
            "{lowered}"
        );
        let (_, configured) = classify(&err(5, 3), Msat::from_sat(3), Msat::from_sat(3));
        assert!(configured.contains("cannot raise it"), "{configured}");
    }
}
