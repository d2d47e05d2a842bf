//! Conversions between our typed values and SQLite columns. Values that do not decode become
//! conversion errors, which the store reports as [`StoreError::Corrupt`](crate::StoreError).

use l402_core::challenge::Scheme;
use l402_core::{Msat, PaymentHash, Preimage, TokenId};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// A conversion failure with a message (never containing the secret value itself).
fn bad(what: &'static str) -> FromSqlError {
    FromSqlError::Other(what.into())
}

/// Unix seconds or millisatoshis as a SQLite integer; values above `i64::MAX` saturate (they are
/// not reachable in practice: that is year 292 billion, or 92 million BTC).
pub(crate) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A non-negative SQLite integer as `u64`.
pub(crate) fn uint(v: i64) -> rusqlite::Result<u64> {
    u64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, v))
}

/// A 32-byte value stored as lower-case hex text.
pub(crate) struct Hex32(pub [u8; 32]);

impl ToSql for Hex32 {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(l402_core::types::encode_hex(&self.0)))
    }
}

impl FromSql for Hex32 {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(value.as_str()?, &mut out)
            .map_err(|_| bad("expected 64 hex characters"))?;
        Ok(Self(out))
    }
}

/// A payment hash column.
pub(crate) fn hash(h: &PaymentHash) -> Hex32 {
    Hex32(h.0)
}

/// A token id column.
pub(crate) fn token_id(t: &TokenId) -> Hex32 {
    Hex32(t.0)
}

/// A preimage column (a 32-byte blob).
pub(crate) fn preimage_from_blob(bytes: &[u8]) -> rusqlite::Result<Preimage> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "a preimage must be 32 bytes".into(),
        )
    })?;
    Ok(Preimage(arr))
}

/// A scheme column: `L402` or `LSAT`.
pub(crate) fn scheme_str(s: Scheme) -> &'static str {
    s.as_str()
}

/// Reads a scheme column.
pub(crate) fn scheme_from(s: &str) -> rusqlite::Result<Scheme> {
    match s {
        "L402" => Ok(Scheme::L402),
        "LSAT" => Ok(Scheme::Lsat),
        _ => Err(rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            "unknown scheme".into(),
        )),
    }
}

/// Reads a millisatoshi column.
pub(crate) fn msat(v: i64) -> rusqlite::Result<Msat> {
    uint(v).map(Msat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let mut b = [0u8; 32];
        b[0] = 0xab;
        b[31] = 0x01;
        let s = match Hex32(b).to_sql().unwrap() {
            ToSqlOutput::Owned(rusqlite::types::Value::Text(s)) => s,
            _ => panic!("text expected"),
        };
        assert_eq!(s, format!("ab{}01", "0".repeat(60)));
        let back = Hex32::column_result(ValueRef::Text(s.as_bytes())).unwrap();
        assert_eq!(back.0, b);
        assert!(Hex32::column_result(ValueRef::Text(b"zz")).is_err());
    }

    #[test]
    fn ints_saturate_and_reject_negatives() {
        assert_eq!(int(u64::MAX), i64::MAX);
        assert!(uint(-1).is_err());
        assert_eq!(uint(5).unwrap(), 5);
    }
}
