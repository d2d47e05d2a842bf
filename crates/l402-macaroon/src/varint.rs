//! Unsigned LEB128 varints, minimal encoding only, capped at 31 bits like go-macaroon.

use crate::error::DecodeError;

/// Appends `value` as an unsigned LEB128 varint.
pub(crate) fn put(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads one varint from the front of `input`; returns the value and the bytes used.
pub(crate) fn get(input: &[u8], what: &'static str) -> Result<(u32, usize), DecodeError> {
    let mut value: u64 = 0;
    for (i, &byte) in input.iter().enumerate() {
        if i >= 5 {
            return Err(DecodeError::VarintOverflow);
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if byte == 0 && i > 0 {
                return Err(DecodeError::NonMinimalVarint);
            }
            return u32::try_from(value)
                .ok()
                .filter(|v| *v <= 0x7fff_ffff)
                .map(|v| (v, i + 1))
                .ok_or(DecodeError::VarintOverflow);
        }
    }
    Err(DecodeError::Truncated(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        for (v, bytes) in [
            (66usize, vec![0x42]),
            (132, vec![0x84, 0x01]),
            (300, vec![0xac, 0x02]),
        ] {
            let mut out = Vec::new();
            put(&mut out, v);
            assert_eq!(out, bytes);
            assert_eq!(get(&bytes, "x").unwrap(), (v as u32, bytes.len()));
        }
    }

    #[test]
    fn rejects_non_minimal_and_overflow() {
        assert_eq!(get(&[0x80, 0x00], "x"), Err(DecodeError::NonMinimalVarint));
        assert_eq!(
            get(&[0xff, 0xff, 0xff, 0xff, 0x0f], "x"),
            Err(DecodeError::VarintOverflow)
        );
        assert_eq!(get(&[0xff; 6], "x"), Err(DecodeError::VarintOverflow));
        assert_eq!(get(&[0x80], "x"), Err(DecodeError::Truncated("x")));
    }
}
