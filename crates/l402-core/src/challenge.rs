//! The `WWW-Authenticate` codec: emits challenges exactly as Aperture does and parses every
//! L402/LSAT challenge shape deployed servers send (RFC 7235 syntax, tolerant where real
//! servers differ). Input is header values as `&str`; no IO.

use core::fmt;
use std::collections::HashSet;

use crate::base64_codec::{self, Base64Error};

/// Largest total size of the `WWW-Authenticate` values [`parse_challenges`] reads, counting
/// one extra byte per value. Larger inputs fail fast with [`ChallengeError::TooLong`].
pub const MAX_CHALLENGE_INPUT: usize = 64 * 1024;

/// The two authentication scheme names of the protocol: `L402` and its legacy name `LSAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `L402`, the current name.
    L402,
    /// `LSAT`, the name before 2023; still read and sent for old peers.
    Lsat,
}

impl Scheme {
    /// The exact upper-case spelling on the wire (Aperture matches only this spelling).
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::L402 => "L402",
            Scheme::Lsat => "LSAT",
        }
    }

    /// Recognises a scheme name, ignoring ASCII case as RFC 7235 requires.
    pub fn from_name(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("L402") {
            Some(Scheme::L402)
        } else if name.eq_ignore_ascii_case("LSAT") {
            Some(Scheme::Lsat)
        } else {
            None
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One parsed L402/LSAT challenge.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme the server used, normalised to its canonical spelling.
    pub scheme: Scheme,
    /// The raw (base64-decoded) macaroon bytes, from `macaroon=` or `token=`.
    pub macaroon: Vec<u8>,
    /// The BOLT11 invoice string, unchecked (see the `invoice` module for checks).
    pub invoice: String,
    /// The `version` parameter if the server sent one (2026 spec form, currently `"0"`).
    pub version: Option<String>,
}

impl fmt::Debug for Challenge {
    /// Shows the macaroon's length only: once paid it is half of a bearer credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenge")
            .field("scheme", &self.scheme)
            .field("macaroon_len", &self.macaroon.len())
            .field("invoice", &self.invoice)
            .field("version", &self.version)
            .finish()
    }
}

/// Why `WWW-Authenticate` values hold no usable L402/LSAT challenge.
///
/// Byte indices are offsets inside the header value where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// No L402 or LSAT challenge in any value (other schemes are skipped).
    #[error("no L402 or LSAT challenge found")]
    NoL402Challenge,
    /// The values together exceed [`MAX_CHALLENGE_INPUT`].
    #[error("WWW-Authenticate values exceed {max} bytes")]
    TooLong {
        /// The limit that was exceeded.
        max: usize,
    },
    /// An ASCII control character (other than tab) in a header value.
    #[error("control character at byte {index} of a WWW-Authenticate value")]
    ControlCharacter {
        /// Byte offset in the header value.
        index: usize,
    },
    /// An L402/LSAT challenge without `macaroon=` or `token=`.
    #[error("L402 challenge has no macaroon (or token) parameter")]
    MissingMacaroon,
    /// An L402/LSAT challenge without `invoice=`.
    #[error("L402 challenge has no invoice parameter")]
    MissingInvoice,
    /// `macaroon`, `token` or `invoice` given as a bare token instead of a quoted string.
    #[error("parameter `{param}` must be a double-quoted string")]
    Unquoted {
        /// The parameter name, lower-case.
        param: &'static str,
    },
    /// `macaroon`, `token` or `invoice` present with an empty value.
    #[error("parameter `{param}` is empty")]
    EmptyValue {
        /// The parameter name, lower-case.
        param: &'static str,
    },
    /// A parameter name (compared case-insensitively) occurs twice in one challenge.
    #[error("parameter `{param}` appears more than once in one challenge")]
    DuplicateParameter {
        /// The parameter name, lower-case.
        param: String,
    },
    /// Both `macaroon=` and `token=` are present and decode to different bytes.
    #[error("`macaroon` and `token` parameters carry different macaroons")]
    ConflictingMacaroons,
    /// A quoted string in an L402/LSAT challenge has no closing `"`.
    #[error("quoted string is not terminated")]
    UnterminatedQuote,
    /// An L402/LSAT challenge breaks the RFC 7235 grammar.
    #[error("unexpected input at byte {index}; expected {expected}")]
    Syntax {
        /// Byte offset in the header value.
        index: usize,
        /// What the parser expected there.
        expected: &'static str,
    },
    /// The macaroon is not base64 (standard or URL-safe, padded or not).
    #[error("macaroon is not valid base64: {0}")]
    BadBase64(#[from] Base64Error),
}

/// One challenge value: `<SCHEME> macaroon="<std base64, padded>", invoice="<bolt11>"`, the exact
/// shape Aperture emits and its Go client and lnget require. Never emits `token=` or `version=`.
///
/// `"` and `\` in `invoice` are escaped; a BOLT11 string has neither. The invoice must not hold
/// control characters, which no quoted string can carry.
pub fn challenge_header_value(scheme: Scheme, macaroon: &[u8], invoice: &str) -> String {
    let (macaroon, invoice) = (base64_codec::encode_std(macaroon), quote(invoice));
    header_value(scheme, &macaroon, &invoice)
}

/// The two `WWW-Authenticate` values a server sends, in Aperture's order: `LSAT …` first (old
/// clients read only the first value), then `L402 …`. The macaroon is encoded and the invoice
/// quoted once for both.
pub fn challenge_header_values(macaroon: &[u8], invoice: &str) -> [String; 2] {
    let (macaroon, invoice) = (base64_codec::encode_std(macaroon), quote(invoice));
    [
        header_value(Scheme::Lsat, &macaroon, &invoice),
        header_value(Scheme::L402, &macaroon, &invoice),
    ]
}

/// `<scheme> macaroon="<macaroon>", invoice=<invoice>` from the encoded macaroon and the
/// quoted invoice.
fn header_value(scheme: Scheme, macaroon: &str, invoice: &str) -> String {
    const MACAROON: &str = " macaroon=\"";
    const INVOICE: &str = "\", invoice=";
    let scheme = scheme.as_str();
    let mut value = String::with_capacity(
        scheme.len() + MACAROON.len() + macaroon.len() + INVOICE.len() + invoice.len(),
    );
    for part in [scheme, MACAROON, macaroon, INVOICE, invoice] {
        value.push_str(part);
    }
    value
}

/// Every L402/LSAT challenge in the given `WWW-Authenticate` values, in order.
///
/// Accepts either scheme in any case; `macaroon=` or `token=`; any parameter order; commas with
/// or without spaces (and, as lsat-js does, parameters separated by spaces only); unknown
/// parameters; several values; several challenges folded into one value; standard or URL-safe
/// base64, padded or not. Challenges of other schemes are skipped; if one of them is so
/// malformed that the rest of its value cannot be read, the rest of that value is skipped.
///
/// Never returns an empty vector: no L402/LSAT challenge is [`ChallengeError::NoL402Challenge`].
/// Any malformed L402/LSAT challenge is an error, even if another one is valid.
pub fn parse_challenges<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Challenge>, ChallengeError> {
    let values = bounded_values(values)?;
    for value in &values {
        if let Some(index) = find_control_char(value) {
            return Err(ChallengeError::ControlCharacter { index });
        }
    }
    let mut challenges = Vec::new();
    for value in values {
        parse_value(value, &mut challenges)?;
    }
    if challenges.is_empty() {
        return Err(ChallengeError::NoL402Challenge);
    }
    Ok(challenges)
}

/// The challenge a client should answer: the first one, except that an `L402` challenge is
/// preferred over an earlier `LSAT` challenge carrying the same macaroon (Aperture sends both).
pub fn parse_first_challenge<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Challenge, ChallengeError> {
    let mut challenges = parse_challenges(values)?;
    let preferred = match challenges.first() {
        Some(first) if first.scheme == Scheme::Lsat => challenges
            .iter()
            .position(|c| c.scheme == Scheme::L402 && c.macaroon == first.macaroon)
            .unwrap_or(0),
        Some(_) => 0,
        None => return Err(ChallengeError::NoL402Challenge),
    };
    Ok(challenges.swap_remove(preferred))
}

/// Optional whitespace (RFC 7230 `OWS`): space or horizontal tab.
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Offset of the first ASCII control character other than horizontal tab, if any.
pub(crate) fn find_control_char(s: &str) -> Option<usize> {
    // Printable ASCII only, as a credential is: one vectorised pass proves there is none.
    let (min, max) = crate::scan::min_max(s.as_bytes());
    if min >= b' ' && max < 0x7f {
        return None;
    }
    s.bytes().position(|b| b != b'\t' && b.is_ascii_control())
}

/// Wraps `s` in a quoted string, escaping `"` and `\`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    // An invoice never holds a quote or a backslash: copied whole, then.
    if !s.bytes().any(|b| b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return out;
    }
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Collects the values, failing as soon as their size (plus one per value) passes the cap.
fn bounded_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<&'a str>, ChallengeError> {
    let mut total = 0usize;
    let mut out = Vec::new();
    for value in values {
        total = total.saturating_add(value.len()).saturating_add(1);
        if total > MAX_CHALLENGE_INPUT {
            return Err(ChallengeError::TooLong {
                max: MAX_CHALLENGE_INPUT,
            });
        }
        out.push(value);
    }
    Ok(out)
}

/// Parses one header value (a comma-separated list of challenges), appending L402/LSAT ones.
fn parse_value(value: &str, out: &mut Vec<Challenge>) -> Result<(), ChallengeError> {
    let mut lexer = Lexer { s: value, pos: 0 };
    loop {
        lexer.skip_separators();
        let name = lexer.token();
        if name.is_empty() {
            // End of the value, or something no challenge can start with: nothing more to read.
            return Ok(());
        }
        let body = lexer.challenge_body();
        match Scheme::from_name(name) {
            Some(scheme) => out.push(build_challenge(scheme, body?)?),
            // A foreign challenge we cannot read leaves the lexer at an unknown place.
            None if body.is_err() => return Ok(()),
            None => {}
        }
    }
}

/// Interprets the parameters of one L402/LSAT challenge.
fn build_challenge(scheme: Scheme, body: Body<'_>) -> Result<Challenge, ChallengeError> {
    let params = match body {
        Body::Params(params) => params,
        Body::Empty => return Err(ChallengeError::MissingMacaroon),
        Body::Token68 { index } => {
            return Err(ChallengeError::Syntax {
                index,
                expected: "name=\"value\" parameters",
            });
        }
    };
    let fields = Fields::collect(params)?;
    let macaroon = decode_macaroon(fields.macaroon.as_deref(), fields.token.as_deref())?;
    let invoice = fields.invoice.ok_or(ChallengeError::MissingInvoice)?;
    Ok(Challenge {
        scheme,
        macaroon,
        invoice,
        version: fields.version,
    })
}

/// Decodes the macaroon from `macaroon=` and/or `token=`; both must agree when both are sent.
fn decode_macaroon(macaroon: Option<&str>, token: Option<&str>) -> Result<Vec<u8>, ChallengeError> {
    match (macaroon, token) {
        (None, None) => Err(ChallengeError::MissingMacaroon),
        (Some(b64), None) | (None, Some(b64)) => Ok(base64_codec::decode_lenient(b64)?),
        (Some(a), Some(b)) => {
            let bytes = base64_codec::decode_lenient(a)?;
            if bytes == base64_codec::decode_lenient(b)? {
                Ok(bytes)
            } else {
                Err(ChallengeError::ConflictingMacaroons)
            }
        }
    }
}

/// The parameters of an L402/LSAT challenge this crate understands.
#[derive(Default)]
struct Fields {
    macaroon: Option<String>,
    token: Option<String>,
    invoice: Option<String>,
    version: Option<String>,
}

impl Fields {
    /// Picks out the known parameters, rejecting duplicates and badly quoted values.
    fn collect(params: Vec<Param<'_>>) -> Result<Self, ChallengeError> {
        let mut seen = HashSet::with_capacity(params.len());
        let mut fields = Fields::default();
        for Param { name, value } in params {
            let lower = name.to_ascii_lowercase();
            if seen.contains(&lower) {
                return Err(ChallengeError::DuplicateParameter { param: lower });
            }
            match lower.as_str() {
                "macaroon" => fields.macaroon = Some(value.required("macaroon")?),
                "token" => fields.token = Some(value.required("token")?),
                "invoice" => fields.invoice = Some(value.required("invoice")?),
                "version" => fields.version = Some(value.into_string()),
                _ => {}
            }
            seen.insert(lower);
        }
        Ok(fields)
    }
}

/// The body of one challenge after its scheme.
enum Body<'a> {
    /// No parameters at all.
    Empty,
    /// A `token68` (as in `Negotiate abc==`); starts at `index`.
    Token68 { index: usize },
    /// `name=value` parameters in order.
    Params(Vec<Param<'a>>),
}

/// One `name=value` auth-param.
struct Param<'a> {
    name: &'a str,
    value: Value<'a>,
}

/// An auth-param value as written.
enum Value<'a> {
    /// Unquoted (possibly empty); RFC 7235 allows a token, we read any run without delimiters.
    Bare(&'a str),
    /// A quoted string, with escapes already removed.
    Quoted(String),
}

impl Value<'_> {
    /// The value of a parameter that must be a non-empty quoted string.
    fn required(self, param: &'static str) -> Result<String, ChallengeError> {
        match self {
            Value::Quoted(s) if !s.is_empty() => Ok(s),
            Value::Quoted(_) | Value::Bare("") => Err(ChallengeError::EmptyValue { param }),
            Value::Bare(_) => Err(ChallengeError::Unquoted { param }),
        }
    }

    fn into_string(self) -> String {
        match self {
            Value::Bare(s) => s.to_owned(),
            Value::Quoted(s) => s,
        }
    }
}

/// RFC 7230 `tchar`: the characters of a token (scheme and parameter names).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 7235 `token68` characters, before the trailing `=`.
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// A cursor over one header value. Every predicate it advances on matches ASCII bytes only, so
/// `pos` always lies on a character boundary; slicing uses `get` regardless.
#[derive(Clone)]
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end_or_comma(&self) -> bool {
        matches!(self.peek(), None | Some(b','))
    }

    fn skip_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or_default()
    }

    /// Skips optional whitespace, returning how much was skipped.
    fn skip_ows(&mut self) -> usize {
        self.skip_while(is_ows).len()
    }

    /// Skips whitespace and the commas of empty list elements.
    fn skip_separators(&mut self) {
        self.skip_while(|b| is_ows(b) || b == b',');
    }

    fn token(&mut self) -> &'a str {
        self.skip_while(is_tchar)
    }

    fn syntax(&self, expected: &'static str) -> ChallengeError {
        ChallengeError::Syntax {
            index: self.pos,
            expected,
        }
    }

    /// Whether `token BWS "="` follows, i.e. a parameter rather than a new challenge.
    fn at_param_start(&self) -> bool {
        let mut probe = self.clone();
        if probe.token().is_empty() {
            return false;
        }
        probe.skip_ows();
        probe.peek() == Some(b'=')
    }

    /// Consumes a `token68` if one forms the whole challenge body: it must be followed by the
    /// end of the value or by a comma that does not lead to a parameter (so `macaroon=, x="y"`
    /// reads as an empty parameter, not as a token68).
    fn try_token68(&mut self) -> bool {
        let mut probe = self.clone();
        if probe.skip_while(is_token68_char).is_empty() {
            return false;
        }
        probe.skip_while(|b| b == b'=');
        let end = probe.pos;
        probe.skip_ows();
        if !probe.at_end_or_comma() {
            return false;
        }
        probe.skip_separators();
        if probe.at_param_start() {
            return false;
        }
        self.pos = end;
        true
    }

    /// Reads what follows a scheme name, leaving the lexer at the end of the value or at the
    /// comma before the next challenge.
    fn challenge_body(&mut self) -> Result<Body<'a>, ChallengeError> {
        match self.peek() {
            None | Some(b',') => return Ok(Body::Empty),
            Some(b) if is_ows(b) => self.skip_ows(),
            Some(_) => return Err(self.syntax("a space after the scheme")),
        };
        if self.at_end_or_comma() {
            return Ok(Body::Empty);
        }
        let index = self.pos;
        if self.try_token68() {
            return Ok(Body::Token68 { index });
        }
        let mut params = Vec::new();
        loop {
            params.push(self.auth_param()?);
            if !self.advance_to_next_param()? {
                return Ok(Body::Params(params));
            }
        }
    }

    /// After a parameter value: moves onto the next parameter of the same challenge and returns
    /// true, or stops at the end of the value or before the comma that starts the next challenge
    /// and returns false.
    fn advance_to_next_param(&mut self) -> Result<bool, ChallengeError> {
        let spaces = self.skip_ows();
        match self.peek() {
            None => Ok(false),
            Some(b',') => {
                let comma = self.pos;
                self.skip_separators();
                if self.at_param_start() {
                    Ok(true)
                } else {
                    self.pos = comma;
                    Ok(false)
                }
            }
            // lsat-js "challenge with space": parameters separated by whitespace only.
            Some(_) if spaces > 0 && self.at_param_start() => Ok(true),
            Some(_) => Err(self.syntax("`,` between parameters")),
        }
    }

    /// `name BWS "=" BWS value`.
    fn auth_param(&mut self) -> Result<Param<'a>, ChallengeError> {
        let name = self.token();
        if name.is_empty() {
            return Err(self.syntax("a parameter name"));
        }
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Err(self.syntax("`=` after the parameter name"));
        }
        self.pos += 1;
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            Value::Quoted(self.quoted_string()?)
        } else {
            Value::Bare(self.skip_while(|b| !matches!(b, b',' | b' ' | b'\t' | b'"')))
        };
        Ok(Param { name, value })
    }

    /// A quoted string starting at the current `"`, with `\` escapes removed.
    fn quoted_string(&mut self) -> Result<String, ChallengeError> {
        let start = self.pos + 1;
        let mut out = String::new();
        let mut chars = self.s.get(start..).unwrap_or_default().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(ChallengeError::UnterminatedQuote)
    }
}
