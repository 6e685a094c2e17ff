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

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
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

use super::deadlines::{IdleBody, WriteDeadline};

/// How many connections the server keeps open (in all, and from one
/// address), and how long it waits for a request's headers.
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    /// Connections open at once, from all clients; further ones wait to be accepted.
    pub max_connections: usize,
    /// Connections one client address may hold: its event streams (which
    /// last as long as they have events) cannot take every slot.
    pub max_connections_per_client: usize,
    /// How long a connection may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a request body may pause, and a client go without reading
    /// its response, before the connection is cut.
    pub stall_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 512,
            max_connections_per_client: 64,
            header_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(30),
        }
    }
}

/// The message of one of this module's deadlines, if `e` is one passing.
fn deadline_passed(e: &hyper::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return Some(io.to_string());
            }
        }
        cause = c.source();
    }
    None
}

/// Open connections by client address.
#[derive(Default)]
struct PerClient(std::sync::Mutex<HashMap<IpAddr, usize>>);

impl PerClient {
    /// Counts a connection from `ip`, unless it holds `max` already.
    fn enter(&self, ip: IpAddr, max: usize) -> bool {
        let Ok(mut open) = self.0.lock() else { return false };
        let n = open.entry(ip).or_default();
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    fn leave(&self, ip: IpAddr) {
        if let Ok(mut open) = self.0.lock() {
            if let Some(n) = open.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&ip);
                }
            }
        }
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
    let per_client = Arc::new(PerClient::default());
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
        if !per_client.enter(remote.ip(), limits.max_connections_per_client) {
            // Closed at once (the permit is given back with it).
            tracing::debug!(client = %remote.ip(), "a client holds its most connections already; closing another");
            continue;
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(|body| Body::new(IdleBody::new(body, limits.stall_timeout)));
            // Handlers that need the client's address (a cap per client) read it here.
            request.extensions_mut().insert(axum::extract::ConnectInfo(remote));
            app.clone().oneshot(request)
        });
        let stop = stop_tx.clone();
        let per_client = Arc::clone(&per_client);
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let stream = WriteDeadline::new(stream, limits.stall_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let mut stopping = std::pin::pin!(stop.closed().fuse());
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(e) = served {
                            if let Some(cut) = deadline_passed(&e) {
                                tracing::warn!(client = %remote.ip(), "a connection was cut: {cut}");
                            }
                        }
                        break;
                    }
                    () = &mut stopping => connection.as_mut().graceful_shutdown(),
                }
            }
            per_client.leave(remote.ip());
            drop(permit);
        });
    }
    // Every connection has ended once all the slots are back.
    let _ = slots.acquire_many(limits.max_connections as u32).await;
}
