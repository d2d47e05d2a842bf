//! Macaroons as libmacaroons and go-macaroon define them: the V2 binary codec and the
//! HMAC-SHA256 signature chain with first-party caveats. Does no IO.
