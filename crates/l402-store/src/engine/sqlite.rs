//! [`Sql`] on a SQLite connection (or a transaction, which derefs to one).

use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use zeroize::Zeroizing;

use super::{Cell, EngineError, Param, Row, Sql};

/// A borrowed SQLite connection seen through [`Sql`].
pub(crate) struct Lite<'a>(pub(crate) &'a Connection);

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Self::Int(Some(v)) => ToSqlOutput::Owned(Value::Integer(*v)),
            Self::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Self::Blob(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            Self::Int(None) | Self::Text(None) | Self::Blob(None) => {
                ToSqlOutput::Owned(Value::Null)
            }
        })
    }
}

impl Sql for Lite<'_> {
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, EngineError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let n = stmt.execute(rusqlite::params_from_iter(params))?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, EngineError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(match row.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Text(v.to_string()),
                    ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Cell::Blob(Zeroizing::new(b.to_vec())),
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }
}
