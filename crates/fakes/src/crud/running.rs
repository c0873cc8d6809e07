//! A CRUD fake serving on a local port, with its shutdown.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{lock, router, CrudFakeState};

/// How long [`RunningCrudFake::shutdown`] waits for in-flight requests before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A fake serving in a background task. Derefs to [`CrudFakeState`] for inspection and fault
/// injection (`documents`, `insert_raw`, `fail_next`, `request_count`, ...). Dropping it stops
/// the server too (without waiting).
#[derive(Debug)]
pub struct RunningCrudFake {
    addr: SocketAddr,
    state: CrudFakeState,
    server: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl RunningCrudFake {
    /// Binds `addr` and serves `state` in a tokio task.
    pub(crate) async fn start(state: CrudFakeState, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = router(state.clone());
        let handle = tokio::spawn(async move {
            crate::chaos::serve(listener, app, async move {
                let _ = rx.await;
            })
            .await;
        });
        Ok(Self {
            addr,
            state,
            server: Mutex::new(Some((tx, handle))),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (also reachable through `Deref`).
    pub fn state(&self) -> &CrudFakeState {
        &self.state
    }

    /// Stops accepting connections (the port refuses them once this returns), lets in-flight
    /// requests finish for up to 5 s, then aborts. Idempotent.
    pub async fn shutdown(&self) {
        let Some((tx, mut handle)) = lock(&self.server).take() else {
            return;
        };
        let _ = tx.send(());
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut handle).await.is_err() {
            handle.abort();
            let _ = handle.await;
        }
    }
}

impl Deref for RunningCrudFake {
    type Target = CrudFakeState;

    fn deref(&self) -> &CrudFakeState {
        &self.state
    }
}

impl Drop for RunningCrudFake {
    fn drop(&mut self) {
        if let Some((tx, _)) = lock(&self.server).take() {
            let _ = tx.send(());
        }
    }
}
