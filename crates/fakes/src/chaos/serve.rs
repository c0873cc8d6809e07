//! The HTTP/1 server of both fakes: one task per connection, so a fault can close a connection
//! before any response (which `axum::serve` cannot do from a handler), with graceful shutdown.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Put into each request's extensions: [`Self::kill`] has the connection task drop the
/// connection (closing the socket) without writing anything more.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnectionKiller {
    notify: Arc<Notify>,
}

impl ConnectionKiller {
    /// Asks the connection task to drop the connection.
    pub fn kill(&self) {
        self.notify.notify_one();
    }

    async fn killed(&self) {
        self.notify.notified().await;
    }
}

/// Serves `app` on `listener` until `stop` resolves, then stops accepting, lets every open
/// connection finish its in-flight request and waits for them.
pub(crate) async fn serve(listener: TcpListener, app: Router, stop: impl std::future::Future<Output = ()>) {
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, app.clone(), closing_rx.clone()));
                }
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = closing_tx.send(true);
    while connections.join_next().await.is_some() {}
}

async fn connection(stream: TcpStream, app: Router, mut closing: watch::Receiver<bool>) {
    let killer = ConnectionKiller::default();
    let per_request = killer.clone();
    let service = service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(per_request.clone());
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.oneshot(request).await.unwrap_or_else(|never| match never {})) }
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => log_end(result),
        () = killer.killed() => {}
        () = async { drop(closing.wait_for(|closing| *closing).await) } => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                result = conn.as_mut() => log_end(result),
                () = killer.killed() => {}
            }
        }
    }
}

fn log_end(result: hyper::Result<()>) {
    if let Err(err) = result {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}
