//! The seller's prepaid, metered sessions: a balance per session (the `Payment` scheme's
//! Lightning session, or an L402 token sold as a balance), debited atomically per request,
//! credited once per paid deposit, closed once, with every change in a ledger.
//!
//! A session's balance is `deposit - spent - refunded`. A request first **reserves** its most
//! possible cost (one conditional `UPDATE`: two requests cannot spend the same millisatoshi,
//! and a crash after it loses nothing: the reservation stays billed), then **settles** what it
//! really used (the difference goes back to the balance). **Closing** freezes the balance as the
//! refund owed; the refund's outcome is recorded after the payment was tried.

use l402_core::session::{Close, Credit, Opened, RefundOutcome, Reserve};
use l402_core::{Msat, PaymentHash};

use crate::codec::int;
use crate::engine::{EngineError, Param, Row, Sql};
use crate::error::StoreError;
use crate::store::Store;

fn id_param(h: &PaymentHash) -> Param {
    Param::text(h.to_hex())
}

fn msat(v: u64) -> Param {
    Param::int(int(v))
}

/// A session to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession<'a> {
    /// The session id: the opening deposit's payment hash.
    pub session_id: PaymentHash,
    /// The service it pays for.
    pub service: &'a str,
    /// The opening deposit.
    pub deposit: Msat,
    /// Where the rest is refunded on close (`None`: not refundable, e.g. an L402 token).
    pub return_invoice: Option<&'a str>,
    /// Seconds without use after which the session may be closed and refunded; 0: never.
    pub idle_timeout_secs: u64,
    /// Unix seconds now.
    pub now: u64,
}

/// One session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Its id.
    pub session_id: PaymentHash,
    /// The service it pays for.
    pub service: String,
    /// Every deposit credited.
    pub deposit: Msat,
    /// Used or reserved.
    pub spent: Msat,
    /// Paid back.
    pub refunded: Msat,
    /// Open or closed.
    pub open: bool,
    /// The refund owed at closing.
    pub refund: Option<Msat>,
    /// The refund's outcome (`succeeded`, `failed`, `skipped`).
    pub refund_status: Option<String>,
    /// Unix seconds.
    pub opened_at: u64,
    /// Unix seconds of the last change.
    pub updated_at: u64,
}

impl SessionRecord {
    /// What is left: `deposit - spent - refunded`.
    pub fn balance(&self) -> Msat {
        Msat(
            self.deposit
                .0
                .saturating_sub(self.spent.0)
                .saturating_sub(self.refunded.0),
        )
    }
}

/// One ledger line: an operation and its signed effect on the balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    /// `open`, `topup`, `reserve`, `settle`, `close` or `refund`.
    pub op: String,
    /// Signed millisatoshis added to the balance (negative for a debit).
    pub amount_msat: i64,
    /// The balance after it.
    pub balance: Msat,
    /// Unix seconds.
    pub at: u64,
}

/// The `mpp_sessions` table and its ledger. Get one with [`Store::sessions`].
#[derive(Debug, Clone, Copy)]
pub struct SessionTable<'a> {
    store: &'a Store,
}

impl Store {
    /// The seller's prepaid sessions.
    pub fn sessions(&self) -> SessionTable<'_> {
        SessionTable { store: self }
    }
}

const COLUMNS: &str = "session_id, service, deposit_msat, spent_msat, refunded_msat, status, \
                       refund_msat, refund_status, opened_at, updated_at";

fn record(row: &Row) -> Result<SessionRecord, EngineError> {
    Ok(SessionRecord {
        session_id: PaymentHash(row.hex32(0)?),
        service: row.text(1)?,
        deposit: Msat(row.uint(2)?),
        spent: Msat(row.uint(3)?),
        refunded: Msat(row.uint(4)?),
        open: row.text(5)? == "open",
        refund: row.opt_uint(6)?.map(Msat),
        refund_status: row.opt_text(7)?,
        opened_at: row.uint(8)?,
        updated_at: row.uint(9)?,
    })
}

fn find(sql: &mut dyn Sql, id: &PaymentHash) -> Result<Option<SessionRecord>, EngineError> {
    sql.query_opt(
        &format!("SELECT {COLUMNS} FROM mpp_sessions WHERE session_id = ?1"),
        &[id_param(id)],
    )?
    .map(|r| record(&r))
    .transpose()
}

impl SessionTable<'_> {
    /// Opens a session with its deposit (crediting the deposit's payment once). Opening an
    /// existing session changes nothing.
    pub fn open(&self, new: &NewSession<'_>) -> Result<Opened, StoreError> {
        self.store.transact(|sql| {
            let credited = sql.execute(
                "INSERT INTO mpp_session_credits (payment_hash, session_id, amount_msat, credited_at)
                 VALUES (?1, ?1, ?2, ?3) ON CONFLICT DO NOTHING",
                &[id_param(&new.session_id), msat(new.deposit.0), msat(new.now)],
            )?;
            if credited == 0 {
                return Ok(Opened::AlreadyOpen);
            }
            sql.execute(
                "INSERT INTO mpp_sessions (session_id, service, deposit_msat, spent_msat,
                     return_invoice, status, idle_timeout, opened_at, updated_at, last_op,
                     last_amount_msat)
                 VALUES (?1, ?2, ?3, 0, ?4, 'open', ?6, ?5, ?5, 'open', ?3)",
                &[
                    id_param(&new.session_id),
                    Param::text(new.service),
                    msat(new.deposit.0),
                    Param::Text(new.return_invoice.map(str::to_owned)),
                    msat(new.now),
                    msat(new.idle_timeout_secs),
                ],
            )?;
            Ok(Opened::Opened)
        })
    }

    /// Credits a paid top-up (`payment_hash`, `amount`) to an open session, once per payment.
    pub fn credit(
        &self,
        session_id: &PaymentHash,
        payment_hash: &PaymentHash,
        amount: Msat,
        now: u64,
    ) -> Result<Credit, StoreError> {
        self.store.transact(|sql| {
            let Some(session) = find(sql, session_id)? else {
                return Ok(Credit::NotFound);
            };
            if !session.open {
                return Ok(Credit::Closed);
            }
            let fresh = sql.execute(
                "INSERT INTO mpp_session_credits (payment_hash, session_id, amount_msat, credited_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                &[
                    id_param(payment_hash),
                    id_param(session_id),
                    msat(amount.0),
                    msat(now),
                ],
            )?;
            if fresh == 0 {
                return Ok(Credit::AlreadyCredited);
            }
            let row = sql.query_one(
                "UPDATE mpp_sessions SET deposit_msat = deposit_msat + ?2, updated_at = ?3,
                     last_op = 'topup', last_amount_msat = ?2
                 WHERE session_id = ?1
                 RETURNING deposit_msat - spent_msat - refunded_msat",
                &[id_param(session_id), msat(amount.0), msat(now)],
            )?;
            Ok(Credit::Credited(Msat(row.uint(0)?)))
        })
    }

    /// Reserves `amount` of an open session of `service`: one conditional statement (a single
    /// round trip to PostgreSQL), so concurrent reservations never overspend. The reason for a
    /// refusal is read afterwards, on the refusal path only.
    pub fn reserve(
        &self,
        session_id: &PaymentHash,
        service: &str,
        amount: Msat,
        now: u64,
    ) -> Result<Reserve, StoreError> {
        let reserved = self.store.single(|sql| {
            sql.query_opt(
                "UPDATE mpp_sessions SET spent_msat = spent_msat + ?3, updated_at = ?4,
                     last_op = 'reserve', last_amount_msat = -?3
                 WHERE session_id = ?1 AND service = ?2 AND status = 'open'
                   AND deposit_msat - spent_msat - refunded_msat >= ?3
                 RETURNING deposit_msat - spent_msat - refunded_msat",
                &[
                    id_param(session_id),
                    Param::text(service),
                    msat(amount.0),
                    msat(now),
                ],
            )?
            .map(|row| row.uint(0))
            .transpose()
            .map_err(EngineError::from)
        })?;
        if let Some(balance) = reserved {
            return Ok(Reserve::Reserved(Msat(balance)));
        }
        Ok(match self.get(session_id)? {
            None => Reserve::NotFound,
            Some(s) if s.service != service => Reserve::WrongService,
            Some(s) if !s.open => Reserve::Closed,
            Some(s) => Reserve::Insufficient(s.balance()),
        })
    }

    /// Settles a reservation: of `reserved`, `used` was consumed and the rest goes back to the
    /// balance (`used` above `reserved` is billed as `reserved`: a reservation is the most a
    /// request costs). Nothing changes once the session is closed (its in-flight requests
    /// stay billed their reservation). Returns whether it applied.
    pub fn settle(
        &self,
        session_id: &PaymentHash,
        reserved: Msat,
        used: Msat,
        now: u64,
    ) -> Result<bool, StoreError> {
        let release = reserved.0.saturating_sub(used.0);
        if release == 0 {
            return Ok(true);
        }
        self.store
            .single(|sql| {
                sql.execute(
                    "UPDATE mpp_sessions SET spent_msat = spent_msat - ?2, updated_at = ?3,
                         last_op = 'settle', last_amount_msat = ?2
                     WHERE session_id = ?1 AND status = 'open' AND spent_msat >= ?2",
                    &[id_param(session_id), msat(release), msat(now)],
                )
            })
            .map(|n| n > 0)
    }

    /// Settles many reservations in one transaction (one flush), each session's releases summed
    /// into one ledger line: `(session, total released)`. Closed sessions are skipped, as with
    /// [`settle`](Self::settle). Returns how many sessions changed.
    pub fn settle_many(
        &self,
        releases: &[(PaymentHash, Msat)],
        now: u64,
    ) -> Result<usize, StoreError> {
        if releases.is_empty() {
            return Ok(0);
        }
        self.store.transact(|sql| {
            let mut changed = 0;
            for (session_id, release) in releases {
                if release.0 == 0 {
                    continue;
                }
                changed += sql.execute(
                    "UPDATE mpp_sessions SET spent_msat = spent_msat - ?2, updated_at = ?3,
                         last_op = 'settle', last_amount_msat = ?2
                     WHERE session_id = ?1 AND status = 'open' AND spent_msat >= ?2",
                    &[id_param(session_id), msat(release.0), msat(now)],
                )? as usize;
            }
            Ok(changed)
        })
    }

    /// Closes an open session: its balance becomes the refund owed (see
    /// [`record_refund`](Self::record_refund)).
    pub fn close(&self, session_id: &PaymentHash, now: u64) -> Result<Close, StoreError> {
        self.store.transact(|sql| {
            let closed = sql.query_opt(
                "UPDATE mpp_sessions SET status = 'closed', updated_at = ?2,
                     refund_msat = deposit_msat - spent_msat - refunded_msat,
                     last_op = 'close', last_amount_msat = 0
                 WHERE session_id = ?1 AND status = 'open'
                 RETURNING refund_msat, return_invoice",
                &[id_param(session_id), msat(now)],
            )?;
            Ok(match closed {
                Some(row) => Close::Closed {
                    refund: Msat(row.uint(0)?),
                    return_invoice: row.opt_text(1)?,
                },
                None if find(sql, session_id)?.is_some() => Close::AlreadyClosed,
                None => Close::NotFound,
            })
        })
    }

    /// Records how the refund of a closed session ended; a success takes the refund out of
    /// the balance (the ledger's `refund` line).
    pub fn record_refund(
        &self,
        session_id: &PaymentHash,
        outcome: RefundOutcome,
        now: u64,
    ) -> Result<(), StoreError> {
        self.store.transact(|sql| {
            let paid = if outcome == RefundOutcome::Succeeded {
                "refund_msat"
            } else {
                "0"
            };
            sql.execute(
                &format!(
                    "UPDATE mpp_sessions SET refunded_msat = refunded_msat + {paid},
                         refund_status = ?2, updated_at = ?3,
                         last_op = 'refund', last_amount_msat = -{paid}
                     WHERE session_id = ?1 AND status = 'closed' AND refund_status IS NULL"
                ),
                &[
                    id_param(session_id),
                    Param::text(outcome.as_str()),
                    msat(now),
                ],
            )?;
            Ok(())
        })
    }

    /// One session.
    pub fn get(&self, session_id: &PaymentHash) -> Result<Option<SessionRecord>, StoreError> {
        self.store.read(|sql| find(sql, session_id))
    }

    /// Open sessions whose idle timeout has run out at `now` (Unix seconds), the longest idle
    /// first, at most `limit`: to be closed and refunded. Sessions without a timeout never are.
    pub fn idle(&self, now: u64, limit: u32) -> Result<Vec<SessionRecord>, StoreError> {
        self.store.read(|sql| {
            sql.query(
                &format!(
                    "SELECT {COLUMNS} FROM mpp_sessions
                     WHERE status = 'open' AND idle_timeout > 0
                       AND updated_at + idle_timeout <= ?1
                     ORDER BY updated_at + idle_timeout LIMIT ?2"
                ),
                &[msat(now), Param::int(i64::from(limit))],
            )?
            .iter()
            .map(record)
            .collect()
        })
    }

    /// Sessions, the most recently used first, at most `limit`; only open (`Some(true)`) or
    /// closed (`Some(false)`) ones when asked.
    pub fn list(&self, open: Option<bool>, limit: u32) -> Result<Vec<SessionRecord>, StoreError> {
        let status = open.map(|o| if o { "open" } else { "closed" });
        self.store.read(|sql| {
            sql.query(
                &format!(
                    "SELECT {COLUMNS} FROM mpp_sessions
                     WHERE (?1 IS NULL OR status = ?1)
                     ORDER BY updated_at DESC, session_id LIMIT ?2"
                ),
                &[
                    Param::Text(status.map(str::to_owned)),
                    Param::int(i64::from(limit)),
                ],
            )?
            .iter()
            .map(record)
            .collect()
        })
    }

    /// A session's ledger, oldest line first.
    pub fn ledger(&self, session_id: &PaymentHash) -> Result<Vec<LedgerLine>, StoreError> {
        self.store.read(|sql| {
            sql.query(
                "SELECT op, amount_msat, balance_msat, at FROM mpp_session_ledger
                 WHERE session_id = ?1 ORDER BY id",
                &[id_param(session_id)],
            )?
            .iter()
            .map(|row| {
                Ok(LedgerLine {
                    op: row.text(0)?,
                    amount_msat: row.int(1)?,
                    balance: Msat(row.uint(2)?),
                    at: row.uint(3)?,
                })
            })
            .collect()
        })
    }
}
