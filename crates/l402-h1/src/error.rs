//! What can be wrong with an upstream's answer.

/// Why an upstream's answer cannot be read. Each means the connection must be closed: the
/// bytes that follow cannot be trusted to start where the codec thinks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The response head is not HTTP/1.x (httparse's reason kept).
    #[error("the response head is not valid HTTP/1.1")]
    Head(#[source] httparse::Error),
    /// The response head (or a trailer block) is larger than [`crate::MAX_HEAD_BYTES`].
    #[error("the response head is larger than {} bytes", crate::MAX_HEAD_BYTES)]
    HeadTooLarge,
    /// The response head carries more than [`crate::MAX_HEADERS`] header lines.
    #[error("the response head has more than {} header lines", crate::MAX_HEADERS)]
    TooManyHeaders,
    /// A header line's name or value is not one `http` accepts.
    #[error("the response head has an invalid header line")]
    HeaderLine,
    /// `Content-Length` is not one decimal number (or several copies of one).
    #[error("the response's Content-Length is not a valid length")]
    ContentLength,
    /// A chunk-size line is not hexadecimal digits, optionally followed by extensions.
    #[error("a chunk-size line of the chunked body is invalid")]
    ChunkSize,
    /// A chunk's data is not followed by CRLF.
    #[error("a chunk of the chunked body does not end with CRLF")]
    ChunkEnd,
    /// The connection closed before the body's end.
    #[error("the connection closed before the end of the response body")]
    Truncated,
}
