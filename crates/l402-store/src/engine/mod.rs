//! The one place that knows both engines. The seller's tables write each query once, in SQL
//! that SQLite and PostgreSQL both accept, with `?N` placeholders and typed [`Param`]s, and read
//! engine-neutral [`Row`]s; [`Sql`] runs it on SQLite or (feature `postgres`) PostgreSQL.

#[cfg(feature = "postgres")]
pub(crate) mod pg;
pub(crate) mod sqlite;

use zeroize::Zeroizing;

/// One typed query parameter. The type holds even when the value is `None`, so PostgreSQL
/// knows every parameter's type from the call site alone.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    /// A 64-bit integer (`BIGINT` on PostgreSQL).
    Int(Option<i64>),
    /// Text.
    Text(Option<String>),
    /// Bytes (`BYTEA` on PostgreSQL).
    Blob(Option<Vec<u8>>),
}

impl Param {
    /// A non-null integer.
    pub(crate) fn int(v: i64) -> Self {
        Self::Int(Some(v))
    }

    /// A non-null text.
    pub(crate) fn text(v: impl Into<String>) -> Self {
        Self::Text(Some(v.into()))
    }
}

/// One column value read back.
#[derive(Debug)]
pub(crate) enum Cell {
    /// SQL `NULL`.
    Null,
    /// An integer (booleans read as 0 and 1).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes, wiped when dropped (they may be a master key).
    Blob(Zeroizing<Vec<u8>>),
}

/// A column that does not hold what the schema says: the store reports it as corrupt.
#[derive(Debug)]
pub(crate) struct Decode(pub(crate) String);

/// One result row.
#[derive(Debug)]
pub(crate) struct Row(pub(crate) Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, Decode> {
        self.0
            .get(i)
            .ok_or_else(|| Decode(format!("column {i} is missing")))
    }

    /// Column `i` as an integer, or `None` when NULL.
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, Decode> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            _ => Err(Decode(format!("column {i} should be an integer"))),
        }
    }

    /// Column `i` as an integer.
    pub(crate) fn int(&self, i: usize) -> Result<i64, Decode> {
        self.opt_int(i)?
            .ok_or_else(|| Decode(format!("column {i} should not be NULL")))
    }

    /// Column `i` as a non-negative integer, or `None` when NULL.
    pub(crate) fn opt_uint(&self, i: usize) -> Result<Option<u64>, Decode> {
        self.opt_int(i)?
            .map(|v| u64::try_from(v).map_err(|_| Decode(format!("column {i} is negative"))))
            .transpose()
    }

    /// Column `i` as a non-negative integer.
    pub(crate) fn uint(&self, i: usize) -> Result<u64, Decode> {
        self.opt_uint(i)?
            .ok_or_else(|| Decode(format!("column {i} should not be NULL")))
    }

    /// Column `i` as text.
    pub(crate) fn text(&self, i: usize) -> Result<String, Decode> {
        match self.cell(i)? {
            Cell::Text(s) => Ok(s.clone()),
            _ => Err(Decode(format!("column {i} should be text"))),
        }
    }

    /// Column `i` as text, or `None` when NULL.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, Decode> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            _ => Err(Decode(format!("column {i} should be text"))),
        }
    }

    /// Column `i` as bytes.
    pub(crate) fn blob(&self, i: usize) -> Result<&[u8], Decode> {
        match self.cell(i)? {
            Cell::Blob(b) => Ok(b),
            _ => Err(Decode(format!("column {i} should be bytes"))),
        }
    }

    /// Column `i` as 32 bytes written as 64 lower-case hex characters.
    pub(crate) fn hex32(&self, i: usize) -> Result<[u8; 32], Decode> {
        let mut out = [0u8; 32];
        match self.cell(i)? {
            Cell::Text(s) => hex::decode_to_slice(s, &mut out)
                .map_err(|_| Decode(format!("column {i}: expected 64 hex characters")))?,
            _ => return Err(Decode(format!("column {i} should be hex text"))),
        }
        Ok(out)
    }
}

/// Why one engine call failed, before the store names the database.
#[derive(Debug)]
pub(crate) enum EngineError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// PostgreSQL failed.
    #[cfg(feature = "postgres")]
    Postgres(postgres::Error),
    /// A value read back does not decode.
    Decode(Decode),
}

impl From<Decode> for EngineError {
    fn from(e: Decode) -> Self {
        Self::Decode(e)
    }
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for EngineError {
    fn from(e: postgres::Error) -> Self {
        Self::Postgres(e)
    }
}

/// A connection (inside a transaction or not) that runs engine-neutral SQL.
pub(crate) trait Sql {
    /// Runs a statement; returns how many rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, EngineError>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, EngineError>;
    /// Runs a query; returns its first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Param]) -> Result<Option<Row>, EngineError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    /// Runs a query that returns exactly one row.
    fn query_one(&mut self, sql: &str, params: &[Param]) -> Result<Row, EngineError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| EngineError::Decode(Decode("the query returned no row".into())))
    }
}

/// `?N` placeholders as PostgreSQL's `$N` (outside quoted strings).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_strings() {
        assert_eq!(
            dollar_placeholders("SELECT '?1', a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT '?1', a FROM t WHERE b = $1 AND c = $12"
        );
    }
}
