//! RFC 9110 auth-params: quoting on the way out, and a tokenizer for a (possibly comma-folded)
//! `WWW-Authenticate` value on the way in.

/// Why a header value could not be written or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    /// A value holds a character a quoted-string cannot carry (a control other than tab).
    #[error("parameter {0} holds a character a quoted-string cannot carry")]
    Unquotable(&'static str),
    /// The value does not parse as auth-params.
    #[error("malformed authentication header: {0}")]
    Malformed(&'static str),
    /// No complete `Payment` challenge was found.
    #[error("no complete Payment challenge")]
    NoChallenge,
}

/// Appends `name="value"` with `"` and `\` escaped as quoted-pairs.
pub(crate) fn push_quoted(
    out: &mut String,
    name: &'static str,
    value: &str,
) -> Result<(), HeaderError> {
    if value
        .chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}')
    {
        return Err(HeaderError::Unquotable(name));
    }
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(())
}

/// One challenge as read: its scheme and its parameters (names lower-cased, first occurrence
/// kept).
#[derive(Debug, Default)]
pub(crate) struct RawChallenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl RawChallenge {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Splits a `WWW-Authenticate` value into challenges. A token followed by `=` is a parameter of
/// the current challenge; any other token starts a new challenge (its scheme).
pub(crate) fn parse_challenges(input: &str) -> Result<Vec<RawChallenge>, HeaderError> {
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    let mut out: Vec<RawChallenge> = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i] == ' ' || chars[*i] == '\t') {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        if chars[i] == ',' {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_tchar(chars[i]) {
            i += 1;
        }
        if start == i {
            return Err(HeaderError::Malformed("expected a token"));
        }
        let token: String = chars[start..i].iter().collect();
        let after_token = i;
        skip_ws(&mut i);
        if i < chars.len() && chars[i] == '=' {
            // A parameter (or the `=` padding of a token68, read as an empty value).
            i += 1;
            skip_ws(&mut i);
            let value = if i < chars.len() && chars[i] == '"' {
                i += 1;
                let mut v = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(HeaderError::Malformed("unterminated quoted-string")),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            let Some(&c) = chars.get(i + 1) else {
                                return Err(HeaderError::Malformed("dangling quoted-pair"));
                            };
                            v.push(c);
                            i += 2;
                        }
                        Some(&c) => {
                            v.push(c);
                            i += 1;
                        }
                    }
                }
                v
            } else {
                let s = i;
                while i < chars.len() && (is_tchar(chars[i]) || chars[i] == '=' || chars[i] == '/')
                {
                    i += 1;
                }
                chars[s..i].iter().collect()
            };
            if let Some(current) = out.last_mut() {
                let name = token.to_ascii_lowercase();
                if current.get(&name).is_none() {
                    current.params.push((name, value));
                }
            } else {
                return Err(HeaderError::Malformed("parameter before any scheme"));
            }
            skip_ws(&mut i);
            if i < chars.len() && chars[i] != ',' {
                return Err(HeaderError::Malformed("expected a comma after a parameter"));
            }
        } else {
            i = after_token;
            out.push(RawChallenge {
                scheme: token,
                params: Vec::new(),
            });
        }
    }
    Ok(out)
}
