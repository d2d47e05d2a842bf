//! Mock servers' accept loop: every connection on its own task.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

/// Listens on an ephemeral loopback port and runs `on_connection` for every connection (see
/// [`accept_each`]); returns the address.
pub async fn serve_each<F, Fut>(on_connection: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0");
    let addr = listener.local_addr().expect("the listener's address");
    accept_each(listener, on_connection);
    addr
}

/// Accepts connections on `listener` until it fails or the runtime ends, running
/// `on_connection` on its own task for each.
pub fn accept_each<F, Fut>(listener: TcpListener, on_connection: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(on_connection(tcp));
        }
    });
}
