//! The HTTP server around the routes: at most so many open connections, a
//! deadline for a client to send a request's headers (and for an idle
//! connection's next request), and graceful shutdown.
//!
//! `axum::serve` sets neither: 500 slow connections stayed open for good
//! and 1,100 exhausted the process's file descriptors, failing `/health`.
//! Connections beyond the cap wait in the kernel's backlog until one ends.
//! The header deadline does not cut a response being sent (an event stream
//! goes on as long as it has events); it only runs while the server waits
//! for a request.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use futures_util::FutureExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// How many connections the server keeps open, and how long it waits for a request's headers.
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits { max_connections: 512, header_timeout: Duration::from_secs(10) }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting, asks open connections to finish their current request and
/// returns once they have.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = stop_tx.closed() => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, a reset before accept, ...: wait a moment.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop_tx.closed() => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(Body::new);
            // Handlers that need the client's address (a cap per client) read it here.
            request.extensions_mut().insert(axum::extract::ConnectInfo(remote));
            app.clone().oneshot(request)
        });
        let stop = stop_tx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let mut stopping = std::pin::pin!(stop.closed().fuse());
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    () = &mut stopping => connection.as_mut().graceful_shutdown(),
                }
            }
            drop(permit);
        });
    }
    // Every connection has ended once all the slots are back.
    let _ = slots.acquire_many(limits.max_connections as u32).await;
}
