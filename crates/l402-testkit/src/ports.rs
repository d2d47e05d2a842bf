//! Free loopback ports.

use std::net::{SocketAddr, TcpListener};

/// A loopback port that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    free_addr().port()
}

/// `127.0.0.1:<a free port>`: nothing listens there until a test starts something.
pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0")
}
