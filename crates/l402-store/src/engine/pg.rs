//! [`Sql`] on PostgreSQL (feature `postgres`): one blocking client, reconnected on the next call
//! after the server went away, with a statement cache per connection.

use std::collections::HashMap;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};
use zeroize::Zeroizing;

use super::{Cell, Decode, EngineError, Param, Row, Sql, dollar_placeholders};

/// How long connecting may take when the URL sets no `connect_timeout`: a database that is down
/// must fail a request quickly, not hang it.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A lazily (re)connected PostgreSQL client.
pub(crate) struct Pg {
    config: postgres::Config,
    client: Option<Client>,
    statements: HashMap<String, Statement>,
}

impl Pg {
    /// A client for `config`; connects on first use.
    pub(crate) fn new(mut config: postgres::Config) -> Self {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.keepalives(true);
        Self {
            config,
            client: None,
            statements: HashMap::new(),
        }
    }

    /// The connected client, connecting first if there is none or the last one was closed.
    pub(crate) fn client(&mut self) -> Result<&mut Client, EngineError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.drop_connection();
            self.statements.clear();
            self.client = Some(self.config.connect(NoTls)?);
        }
        Ok(self.client.as_mut().unwrap_or_else(|| unreachable!()))
    }

    /// Forgets the connection (after an error that may have broken it). Called only outside
    /// any async runtime (see `outside_runtime`), where closing the client may block.
    pub(crate) fn drop_connection(&mut self) {
        self.client = None;
        self.statements.clear();
    }

    /// Runs `sql` (several statements allowed, no parameters) with the simple query protocol.
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), EngineError> {
        self.client()?.batch_execute(sql).map_err(EngineError::from)
    }

    fn statement(&mut self, sql: &str, params: &[Param]) -> Result<Statement, EngineError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let types: Vec<Type> = params.iter().map(Param::pg_type).collect();
        let stmt = self
            .client()?
            .prepare_typed(&dollar_placeholders(sql), &types)?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

impl Drop for Pg {
    /// Closing the client blocks on its runtime, which cannot happen inside another one: close
    /// it on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            crate::store::outside_runtime(move || drop(client));
        }
    }
}

impl Sql for Pg {
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, EngineError> {
        let stmt = self.statement(sql, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        Ok(self.client()?.execute(&stmt, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, EngineError> {
        let stmt = self.statement(sql, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let rows = self.client()?.query(&stmt, &refs)?;
        rows.iter().map(read_row).collect()
    }
}

fn read_row(row: &postgres::Row) -> Result<Row, EngineError> {
    read_cells(row).map_err(|e| Decode(e.to_string()).into())
}

fn read_cells(row: &postgres::Row) -> Result<Row, postgres::Error> {
    let mut cells = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_();
        let cell = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Cell::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Cell::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Cell::Int(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map(|v| Cell::Int(v.into()))
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::NAME {
            row.try_get::<_, Option<String>>(i)?.map(Cell::Text)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?
                .map(|b| Cell::Blob(Zeroizing::new(b)))
        } else {
            // Our queries select only the types above; any other type fails to decode as
            // text, which the store reports as corrupt.
            row.try_get::<_, Option<String>>(i)?.map(Cell::Text)
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row(cells))
}

impl Param {
    fn pg_type(&self) -> Type {
        match self {
            Self::Int(_) => Type::INT8,
            Self::Text(_) => Type::TEXT,
            Self::Blob(_) => Type::BYTEA,
        }
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Self::Int(v) => v.to_sql(ty, out),
            Self::Text(v) => v.to_sql(ty, out),
            Self::Blob(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INT8 || *ty == Type::TEXT || *ty == Type::BYTEA
    }

    to_sql_checked!();
}

/// Whether `e` means the database cannot be reached now (down, restarting, refusing
/// connections, or the connection broke), as opposed to a failing statement.
pub(crate) fn is_unavailable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            code.code().starts_with("08")
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || *code == SqlState::TOO_MANY_CONNECTIONS
        }
        // No server error: the socket failed (refused, reset, timed out).
        // No server error: the socket failed (refused, reset, timed out). Decoding failures
        // never get here: rows are decoded into `Decode` errors.
        None => true,
    }
}
