//! The buyer's `Payment` sessions: a prepaid balance at a seller, opened with a deposit whose
//! preimage is the bearer secret, topped up with further deposits, closed with the rest
//! refunded to the client's return invoice. One open session per scope is used (the newest;
//! the client keys them by exact path); closed sessions stay listed with what they cost.
//!
//! Budget accounting: every deposit is an ordinary payment (journal, spend ledger, receipt),
//! counted in full when paid. A refund is credited back only once the client's own wallet saw
//! it arrive on the return invoice (`refund_received`), and at the session's opening time, so
//! it only lowers a budget window that counted the deposits it refunds.

use l402_core::{Msat, PaymentHash, Preimage};
use rusqlite::{OptionalExtension, Row, params};

use crate::codec::{Hex32, hash, int, msat, preimage_from_blob, uint};
use crate::error::StoreError;
use crate::store::Store;

/// A session held (or once held) by the client. Holds a secret: `Debug` hides the preimage.
#[derive(Clone, PartialEq, Eq)]
pub struct HeldSession {
    /// The session id: the opening deposit's payment hash.
    pub session_id: PaymentHash,
    /// The token scope it serves.
    pub scope: String,
    /// The seller's origin.
    pub origin: String,
    /// The host, for per-domain budgets.
    pub domain: String,
    /// The opening request's URL (top-ups and the close are sent there).
    pub url: String,
    /// The opening request's method.
    pub method: String,
    /// The opening challenge, as a `WWW-Authenticate` value (echoed by `bearer` and `close`).
    pub challenge: String,
    /// The opening deposit's preimage: the session's bearer secret.
    pub preimage: Preimage,
    /// The client's amountless invoice for the refund.
    pub return_invoice: String,
    /// The return invoice's payment hash.
    pub return_hash: PaymentHash,
    /// How many deposits were paid (the opening one and each top-up).
    pub deposits: u32,
    /// What the deposits paid together (invoice amounts, fees excluded).
    pub deposit: Msat,
    /// The balance the seller last reported (its `L402-Session` header).
    pub balance: Option<Msat>,
    /// When it was opened, Unix seconds.
    pub opened_at: u64,
    /// When it last changed, Unix seconds.
    pub updated_at: u64,
    /// When it was closed, Unix seconds; `None` while open.
    pub closed_at: Option<u64>,
    /// The refund the seller announced on close.
    pub refund: Option<Msat>,
    /// The seller's word on the refund: `succeeded`, `failed`, `skipped`.
    pub refund_status: Option<String>,
    /// What the client's wallet saw arrive on the return invoice.
    pub refund_received: Option<Msat>,
}

impl std::fmt::Debug for HeldSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldSession")
            .field("session_id", &self.session_id)
            .field("scope", &self.scope)
            .field("url", &self.url)
            .field("method", &self.method)
            .field("deposits", &self.deposits)
            .field("deposit", &self.deposit)
            .field("balance", &self.balance)
            .field("opened_at", &self.opened_at)
            .field("closed_at", &self.closed_at)
            .field("refund", &self.refund)
            .field("refund_status", &self.refund_status)
            .field("refund_received", &self.refund_received)
            .finish_non_exhaustive()
    }
}

/// How a session ended, as recorded by [`HeldSessionTable::close`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionClosing {
    /// Now, Unix seconds.
    pub at: u64,
    /// The refund the seller announced (none when it said nothing, e.g. an unknown session).
    pub refund: Option<Msat>,
    /// The seller's word on the refund, or why the session was dropped.
    pub refund_status: Option<String>,
    /// What the client's wallet saw arrive on the return invoice.
    pub refund_received: Option<Msat>,
}

/// The `held_sessions` table. Get one with [`Store::held_sessions`].
#[derive(Debug, Clone, Copy)]
pub struct HeldSessionTable<'a> {
    store: &'a Store,
}

const COLUMNS: &str = "session_id, scope, origin, domain, url, method, challenge, preimage, \
                       return_invoice, return_hash, deposits, deposit_msat, balance_msat, \
                       opened_at, updated_at, closed_at, refund_msat, refund_status, \
                       refund_received_msat";

impl Store {
    /// The buyer's `Payment` sessions.
    pub fn held_sessions(&self) -> HeldSessionTable<'_> {
        HeldSessionTable { store: self }
    }
}

impl HeldSessionTable<'_> {
    /// Stores a session just opened.
    pub fn put(&self, s: &HeldSession) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO held_sessions ({COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                      ?17, ?18, ?19)"
                ),
                params![
                    hash(&s.session_id),
                    s.scope,
                    s.origin,
                    s.domain,
                    s.url,
                    s.method,
                    s.challenge,
                    s.preimage.0.as_slice(),
                    s.return_invoice,
                    hash(&s.return_hash),
                    s.deposits,
                    int(s.deposit.0),
                    s.balance.map(|b| int(b.0)),
                    int(s.opened_at),
                    int(s.updated_at),
                    s.closed_at.map(int),
                    s.refund.map(|r| int(r.0)),
                    s.refund_status,
                    s.refund_received.map(|r| int(r.0)),
                ],
            )
            .map(|_| ())
        })
    }

    /// The newest open session held for `scope`, if any.
    pub fn open_for(&self, scope: &str) -> Result<Option<HeldSession>, StoreError> {
        self.store.with_conn(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM held_sessions WHERE scope = ?1 AND closed_at IS NULL \
                 ORDER BY opened_at DESC, rowid DESC LIMIT 1"
            ))?
            .query_row([scope], read)
            .optional()
        })
    }

    /// The session with this id, open or closed.
    pub fn get(&self, session_id: &PaymentHash) -> Result<Option<HeldSession>, StoreError> {
        self.store.with_conn(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM held_sessions WHERE session_id = ?1"),
                [hash(session_id)],
                read,
            )
            .optional()
        })
    }

    /// Every open session, oldest first.
    pub fn list_open(&self) -> Result<Vec<HeldSession>, StoreError> {
        self.list_where("closed_at IS NULL ORDER BY opened_at, rowid", usize::MAX)
    }

    /// The latest `limit` sessions, open or closed, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<HeldSession>, StoreError> {
        self.list_where("1 ORDER BY opened_at DESC, rowid DESC", limit)
    }

    fn list_where(&self, clause: &str, limit: usize) -> Result<Vec<HeldSession>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM held_sessions WHERE {clause} LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit], read)?;
            rows.collect()
        })
    }

    /// Adds a paid top-up of `amount` to an open session. Returns whether it applied.
    pub fn add_deposit(
        &self,
        session_id: &PaymentHash,
        amount: Msat,
        at: u64,
    ) -> Result<bool, StoreError> {
        self.store
            .write(|tx| {
                tx.execute(
                    "UPDATE held_sessions SET deposits = deposits + 1, \
                     deposit_msat = deposit_msat + ?2, updated_at = ?3 \
                     WHERE session_id = ?1 AND closed_at IS NULL",
                    params![hash(session_id), int(amount.0), int(at)],
                )
            })
            .map(|n| n > 0)
    }

    /// Keeps the balance the seller reported. Returns whether it applied (an open session).
    pub fn record_balance(
        &self,
        session_id: &PaymentHash,
        balance: Msat,
        at: u64,
    ) -> Result<bool, StoreError> {
        self.store
            .write(|tx| {
                tx.execute(
                    "UPDATE held_sessions SET balance_msat = ?2, updated_at = ?3 \
                     WHERE session_id = ?1 AND closed_at IS NULL",
                    params![hash(session_id), int(balance.0), int(at)],
                )
            })
            .map(|n| n > 0)
    }

    /// Marks an open session closed, with its refund. Returns whether it applied (a closed
    /// session keeps its first closing).
    pub fn close(
        &self,
        session_id: &PaymentHash,
        closing: &SessionClosing,
    ) -> Result<bool, StoreError> {
        self.store
            .write(|tx| {
                tx.execute(
                    "UPDATE held_sessions SET closed_at = ?2, updated_at = ?2, \
                     refund_msat = ?3, refund_status = ?4, refund_received_msat = ?5 \
                     WHERE session_id = ?1 AND closed_at IS NULL",
                    params![
                        hash(session_id),
                        int(closing.at),
                        closing.refund.map(|r| int(r.0)),
                        closing.refund_status,
                        closing.refund_received.map(|r| int(r.0)),
                    ],
                )
            })
            .map(|n| n > 0)
    }
}

fn read(r: &Row<'_>) -> rusqlite::Result<HeldSession> {
    let session_id: Hex32 = r.get(0)?;
    let preimage: Vec<u8> = r.get(7)?;
    let return_hash: Hex32 = r.get(9)?;
    let opt_msat = |i: usize| -> rusqlite::Result<Option<Msat>> {
        r.get::<_, Option<i64>>(i)?.map(msat).transpose()
    };
    Ok(HeldSession {
        session_id: PaymentHash(session_id.0),
        scope: r.get(1)?,
        origin: r.get(2)?,
        domain: r.get(3)?,
        url: r.get(4)?,
        method: r.get(5)?,
        challenge: r.get(6)?,
        preimage: preimage_from_blob(&preimage)?,
        return_invoice: r.get(8)?,
        return_hash: PaymentHash(return_hash.0),
        deposits: r.get(10)?,
        deposit: msat(r.get(11)?)?,
        balance: opt_msat(12)?,
        opened_at: uint(r.get(13)?)?,
        updated_at: uint(r.get(14)?)?,
        closed_at: r.get::<_, Option<i64>>(15)?.map(uint).transpose()?,
        refund: opt_msat(16)?,
        refund_status: r.get(17)?,
        refund_received: opt_msat(18)?,
    })
}

/// Refunds received, by the opening time of their sessions, in each window of `q` (what
/// [`crate::spend`]'s totals take off). Runs inside the caller's transaction when given one.
pub(crate) fn refunds(
    conn: &rusqlite::Connection,
    q: &crate::spend::SpendQuery,
) -> rusqlite::Result<[u64; 4]> {
    conn.query_row(
        "SELECT
             COALESCE(SUM(CASE WHEN opened_at >= ?1 THEN refund_received_msat END), 0),
             COALESCE(SUM(CASE WHEN opened_at >= ?2 THEN refund_received_msat END), 0),
             COALESCE(SUM(refund_received_msat), 0),
             COALESCE(SUM(CASE WHEN domain = ?3 THEN refund_received_msat END), 0)
         FROM held_sessions WHERE refund_received_msat IS NOT NULL",
        params![int(q.hour_since), int(q.day_since), q.domain],
        |r| {
            Ok([
                uint(r.get(0)?)?,
                uint(r.get(1)?)?,
                uint(r.get(2)?)?,
                uint(r.get(3)?)?,
            ])
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(scope: &str, id: u8, opened_at: u64) -> HeldSession {
        HeldSession {
            session_id: Preimage([id; 32]).payment_hash(),
            scope: scope.into(),
            origin: "http://127.0.0.1:1".into(),
            domain: "127.0.0.1".into(),
            url: "http://127.0.0.1:1/api/complete".into(),
            method: "POST".into(),
            challenge: "Payment id=\"x\"".into(),
            preimage: Preimage([id; 32]),
            return_invoice: "lnbcrt1preturn".into(),
            return_hash: Preimage([id ^ 0xff; 32]).payment_hash(),
            deposits: 1,
            deposit: Msat(200_000),
            balance: None,
            opened_at,
            updated_at: opened_at,
            closed_at: None,
            refund: None,
            refund_status: None,
            refund_received: None,
        }
    }

    #[test]
    fn sessions_are_kept_topped_up_closed_and_refunds_lower_spending() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db")).unwrap();
        let table = store.held_sessions();
        let (old, new) = (session("a", 1, 100), session("a", 2, 200));
        table.put(&old).unwrap();
        table.put(&new).unwrap();
        assert_eq!(
            table.open_for("a").unwrap().unwrap().session_id,
            new.session_id
        );
        assert!(table.open_for("b").unwrap().is_none());
        assert!(
            table
                .add_deposit(&new.session_id, Msat(200_000), 300)
                .unwrap()
        );
        assert!(
            table
                .record_balance(&new.session_id, Msat(150_000), 300)
                .unwrap()
        );
        let held = table.get(&new.session_id).unwrap().unwrap();
        assert_eq!((held.deposits, held.deposit), (2, Msat(400_000)));
        assert_eq!(held.balance, Some(Msat(150_000)));
        assert!(!format!("{held:?}").contains(&Preimage([2; 32]).to_hex()));

        let closing = SessionClosing {
            at: 400,
            refund: Some(Msat(150_000)),
            refund_status: Some("succeeded".into()),
            refund_received: Some(Msat(150_000)),
        };
        assert!(table.close(&new.session_id, &closing).unwrap());
        assert!(
            !table.close(&new.session_id, &closing).unwrap(),
            "closed once"
        );
        assert!(!table.add_deposit(&new.session_id, Msat(1), 500).unwrap());
        assert_eq!(
            table.open_for("a").unwrap().unwrap().session_id,
            old.session_id
        );
        assert_eq!(table.list_open().unwrap().len(), 1);
        assert_eq!(table.list(10).unwrap().len(), 2);

        let q = |since: u64| crate::spend::SpendQuery {
            hour_since: since,
            day_since: 0,
            domain: Some("127.0.0.1".into()),
        };
        let got = store.with_conn(|c| refunds(c, &q(150))).unwrap();
        assert_eq!(got, [150_000; 4]);
        let got = store.with_conn(|c| refunds(c, &q(250))).unwrap();
        assert_eq!(got[0], 0, "a window without the opening is not credited");
    }
}
