//! Serving a workspace on a TCP port: the listener that can refuse and reset
//! connections for outages, and [`MockServer`], the in-process handle that
//! tests, rehearsals and `standby demo` start and stop.

use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::fixture::Fixture;
use super::state::{MockOptions, MockState, OutageMode};

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The address could not be bound.
    #[error("cannot listen on `{addr}`: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: io::Error,
    },
}

/// A handle on one accepted connection, which an outage can kill.
#[derive(Clone, Debug)]
pub(crate) struct ConnHandle(Arc<AtomicBool>);

impl ConnHandle {
    /// Makes the connection fail at its next read or write, with a reset.
    pub(crate) fn kill(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A TCP stream that fails once killed, closing with a reset.
#[derive(Debug)]
pub(crate) struct MockStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl MockStream {
    fn check(&mut self) -> io::Result<()> {
        if self.killed.load(Ordering::Acquire) {
            // SO_LINGER 0: closing sends RST instead of FIN.
            let _ = self.inner.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "outage: connection reset",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for MockStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for MockStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The listener: closes its port while connections are to be refused and
/// reopens it (same address) when the outage lifts.
#[derive(Debug)]
pub(crate) struct MockListener {
    addr: SocketAddr,
    listener: Option<TcpListener>,
    outage: watch::Receiver<Option<OutageMode>>,
}

impl Connected<IncomingStream<'_, MockListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, MockListener>) -> Self {
        ConnHandle(stream.io().killed.clone())
    }
}

impl Listener for MockListener {
    type Io = MockStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (MockStream, SocketAddr) {
        loop {
            let mode = *self.outage.borrow_and_update();
            if mode == Some(OutageMode::Refuse) {
                self.listener = None;
                if self.outage.changed().await.is_err() {
                    // The state is gone: nothing will ever lift the outage.
                    std::future::pending::<()>().await;
                }
                continue;
            }
            let listener = match &self.listener {
                Some(l) => l,
                None => match TcpListener::bind(self.addr).await {
                    Ok(l) => self.listener.insert(l),
                    Err(_) => {
                        // Another socket may hold the port a moment longer.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        return (MockStream { inner: stream, killed: Arc::new(AtomicBool::new(false)) }, peer);
                    }
                    // Out of file descriptors and the like: wait, as axum's own listener does.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                changed = self.outage.changed() => {
                    if changed.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

/// A workspace served on a local port, in this process.
///
/// Derefs to its [`MockState`], the control API: `server.advance(…)`,
/// `server.set_outage(…)`, `server.requests(…)`, `server.dump()`.
#[derive(Debug)]
pub struct MockServer {
    state: MockState,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    ticker: JoinHandle<()>,
}

impl MockServer {
    /// Binds `options.addr` (127.0.0.1:0 by default) and serves the fixture.
    pub async fn start(fixture: Fixture, options: MockOptions) -> Result<MockServer, MockError> {
        let state = MockState::new(fixture, &options);
        Self::serve_state(state, options.addr).await
    }

    /// Serves an existing state on `addr` (one state per server).
    pub async fn serve_state(state: MockState, addr: SocketAddr) -> Result<MockServer, MockError> {
        let tcp = TcpListener::bind(addr)
            .await
            .map_err(|source| MockError::Bind { addr, source })?;
        let bound = tcp
            .local_addr()
            .map_err(|source| MockError::Bind { addr, source })?;
        let listener = MockListener {
            addr: bound,
            listener: Some(tcp),
            outage: state.watch_outage(),
        };
        let app = super::app(state.clone()).into_make_service_with_connect_info::<ConnHandle>();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        // Real-time mode needs state changes applied as the wall clock
        // passes them; in virtual mode nothing becomes due by itself.
        let tick_state = state.clone();
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(100));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                interval.tick().await;
                tick_state.tick();
            }
        });
        Ok(MockServer {
            state,
            addr: bound,
            shutdown: Some(tx),
            task: Some(task),
            ticker,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The served state (the control API).
    pub fn state(&self) -> &MockState {
        &self.state
    }

    /// Stops serving: open connections finish their request, then close.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // A lifted outage lets the listener notice the shutdown promptly.
        self.state.set_outage(None);
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
        self.ticker.abort();
    }
}

impl Deref for MockServer {
    type Target = MockState;

    fn deref(&self) -> &MockState {
        &self.state
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.ticker.abort();
    }
}
