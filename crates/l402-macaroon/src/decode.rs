//! Strict V2 binary decoding: canonical input only, every malformation a typed error.

use crate::crypto::Signature;
use crate::encode::{EOS, TAG_IDENTIFIER, TAG_LOCATION, TAG_SIGNATURE, TAG_VID, VERSION_V2};
use crate::error::DecodeError;
use crate::macaroon::{Caveat, Macaroon};
use crate::{MAX_CAVEATS, MAX_FIELD_LEN, varint};

/// A cursor over the input bytes.
struct Reader<'a> {
    rest: &'a [u8],
}

/// One `tag length data` field, or the end-of-section marker.
enum Item<'a> {
    Eos,
    Field(u32, &'a [u8]),
}

impl<'a> Reader<'a> {
    fn next_item(&mut self, what: &'static str) -> Result<Item<'a>, DecodeError> {
        let (tag, used) = varint::get(self.rest, what)?;
        self.rest = &self.rest[used..];
        if tag == u32::from(EOS) {
            return Ok(Item::Eos);
        }
        if ![TAG_LOCATION, TAG_IDENTIFIER, TAG_VID, TAG_SIGNATURE].contains(&tag) {
            return Err(DecodeError::UnknownField(tag));
        }
        let (len, used) = varint::get(self.rest, what)?;
        self.rest = &self.rest[used..];
        let len = len as usize;
        if len > MAX_FIELD_LEN {
            return Err(DecodeError::FieldTooLarge(len));
        }
        if self.rest.len() < len {
            return Err(DecodeError::Truncated(what));
        }
        let (data, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(Item::Field(tag, data))
    }

    /// Reads fields up to EOS. `allowed` lists the tags this section may hold; the returned
    /// array is indexed by tag.
    fn section(
        &mut self,
        section: &'static str,
        allowed: &[u32],
    ) -> Result<[Option<&'a [u8]>; 5], DecodeError> {
        let mut fields: [Option<&'a [u8]>; 5] = [None; 5];
        let mut last_tag = 0;
        loop {
            match self.next_item(section)? {
                Item::Eos => return Ok(fields),
                Item::Field(tag, data) => {
                    if !allowed.contains(&tag) {
                        return Err(DecodeError::FieldNotAllowed { tag, section });
                    }
                    if tag <= last_tag {
                        return Err(DecodeError::FieldOutOfOrder(tag));
                    }
                    last_tag = tag;
                    fields[tag as usize] = Some(data);
                }
            }
        }
    }
}

impl Macaroon {
    /// The identifier of a V2 macaroon, read from its header alone: the caveats and the
    /// signature are neither decoded nor checked (for a holder that only needs to know which
    /// token it holds, on every response). Errors as [`Macaroon::decode_v2`] does on a bad
    /// header.
    ///
    /// ```
    /// use l402_macaroon::{Macaroon, RootKey};
    ///
    /// let mut mac = Macaroon::new(&RootKey::new(vec![7; 32]), b"id-1".to_vec(), None);
    /// mac.add_first_party_caveat(b"a=b".to_vec());
    /// assert_eq!(Macaroon::peek_identifier_v2(&mac.encode_v2()), Ok(&b"id-1"[..]));
    /// ```
    pub fn peek_identifier_v2(bytes: &[u8]) -> Result<&[u8], DecodeError> {
        let (&version, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if version != VERSION_V2 {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let header = Reader { rest }.section("header", &[TAG_LOCATION, TAG_IDENTIFIER])?;
        header[TAG_IDENTIFIER as usize].ok_or(DecodeError::MissingIdentifier("header"))
    }

    /// Decodes a V2 binary macaroon. Refuses anything non-canonical: fields out of order,
    /// non-minimal varints, oversized fields, too many caveats and trailing bytes.
    pub fn decode_v2(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (&version, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if version != VERSION_V2 {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let mut reader = Reader { rest };
        let header = reader.section("header", &[TAG_LOCATION, TAG_IDENTIFIER])?;
        let identifier =
            header[TAG_IDENTIFIER as usize].ok_or(DecodeError::MissingIdentifier("header"))?;
        let location = header[TAG_LOCATION as usize];

        let mut caveats = Vec::new();
        loop {
            match reader.rest.first() {
                None => return Err(DecodeError::Truncated("caveats")),
                Some(&EOS) => {
                    reader.rest = &reader.rest[1..];
                    break;
                }
                Some(_) => {}
            }
            if caveats.len() == MAX_CAVEATS {
                return Err(DecodeError::TooManyCaveats);
            }
            let fields = reader.section("caveat", &[TAG_LOCATION, TAG_IDENTIFIER, TAG_VID])?;
            let id =
                fields[TAG_IDENTIFIER as usize].ok_or(DecodeError::MissingIdentifier("caveat"))?;
            let vid = fields[TAG_VID as usize];
            let caveat_location = fields[TAG_LOCATION as usize];
            match vid {
                Some([]) => return Err(DecodeError::EmptyVid),
                None if caveat_location.is_some() => return Err(DecodeError::LocationWithoutVid),
                _ => {}
            }
            caveats.push(Caveat {
                location: caveat_location.map(<[u8]>::to_vec),
                id: id.to_vec(),
                vid: vid.map(<[u8]>::to_vec),
            });
        }

        if reader.rest.is_empty() {
            return Err(DecodeError::MissingSignature);
        }
        let signature = match reader.next_item("signature")? {
            Item::Field(TAG_SIGNATURE, data) => data,
            Item::Field(tag, _) => {
                return Err(DecodeError::FieldNotAllowed {
                    tag,
                    section: "signature",
                });
            }
            Item::Eos => return Err(DecodeError::MissingSignature),
        };
        let signature: [u8; 32] = signature
            .try_into()
            .map_err(|_| DecodeError::BadSignatureLength(signature.len()))?;
        if !reader.rest.is_empty() {
            return Err(DecodeError::TrailingBytes(reader.rest.len()));
        }
        Ok(Macaroon {
            location: location.map(<[u8]>::to_vec),
            identifier: identifier.to_vec(),
            caveats,
            signature: Signature::from_bytes(signature),
        })
    }
}
