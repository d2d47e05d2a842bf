//! V2 binary encoding (libmacaroons `doc/format.txt`, go-macaroon `marshal-v2.go`).

use crate::macaroon::Macaroon;
use crate::varint;

pub(crate) const VERSION_V2: u8 = 0x02;
pub(crate) const EOS: u8 = 0x00;
pub(crate) const TAG_LOCATION: u32 = 1;
pub(crate) const TAG_IDENTIFIER: u32 = 2;
pub(crate) const TAG_VID: u32 = 4;
pub(crate) const TAG_SIGNATURE: u32 = 6;

fn put_field(out: &mut Vec<u8>, tag: u32, data: &[u8]) {
    varint::put(out, tag as usize);
    varint::put(out, data.len());
    out.extend_from_slice(data);
}

impl Macaroon {
    /// Encodes as V2 binary:
    /// `0x02 [location] identifier EOS {[location] id [vid] EOS} EOS signature`.
    pub fn encode_v2(&self) -> Vec<u8> {
        let caveat_bytes: usize = self
            .caveats
            .iter()
            .map(|c| {
                c.id.len()
                    + c.vid.as_ref().map_or(0, Vec::len)
                    + c.location.as_ref().map_or(0, Vec::len)
                    + 12
            })
            .sum();
        let mut out = Vec::with_capacity(48 + self.identifier.len() + caveat_bytes);
        out.push(VERSION_V2);
        if let Some(location) = &self.location {
            put_field(&mut out, TAG_LOCATION, location);
        }
        put_field(&mut out, TAG_IDENTIFIER, &self.identifier);
        out.push(EOS);
        for caveat in &self.caveats {
            if let Some(location) = &caveat.location {
                put_field(&mut out, TAG_LOCATION, location);
            }
            put_field(&mut out, TAG_IDENTIFIER, &caveat.id);
            if let Some(vid) = &caveat.vid {
                put_field(&mut out, TAG_VID, vid);
            }
            out.push(EOS);
        }
        out.push(EOS);
        put_field(&mut out, TAG_SIGNATURE, self.signature.as_bytes());
        out
    }
}
