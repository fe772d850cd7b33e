//! The HTTP server: an accept loop over hyper's HTTP/1 connections instead of `axum::serve`,
//! because that one has no connection cap and no timeouts. Connections are capped in all and
//! per source (refused with a 503 and closed), a request head must arrive within
//! `header_timeout` (so an idle keep-alive connection closes then too), and a connection that
//! carries no byte either way for `idle_timeout` is closed. Graceful shutdown: stop
//! accepting, let every connection finish its response, then return.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::shell::clock;
use crate::shell::conn_limit::{self, AcceptBackoff, ConnCounters, ConnLimits, ConnSlot, LogLimit};

/// How HTTP connections are limited.
#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

/// The longest wait at shutdown for open connections to finish their responses.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What a refused connection is told before it is closed.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 82\r\n\r\n{\"code\":\"too_many_connections\",\"message\":\"too many connections; try again later\"}\n";

/// Serves `app` on `listener` until `shutdown` turns true, then shuts down gracefully.
/// With `tls` every connection speaks HTTPS (its handshake held to the header timeout).
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Arc<ConnLimits>,
    settings: HttpSettings,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut backoff = AcceptBackoff::default();
    let mut refusals = LogLimit::default();
    loop {
        let (stream, from) = tokio::select! {
            c = conn_limit::accept(&listener, &mut backoff, &limits.counters, "http") => c,
            _ = stopped(&mut shutdown) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let slot = match limits.try_open(from.ip(), false) {
            Ok(slot) => slot,
            Err(why) => {
                if let Some(refused) = refusals.hit(clock::now()) {
                    let open = limits.open();
                    tracing::warn!(%from, ?why, refused, open, "HTTP connections refused: too many open");
                }
                // Best effort, never waiting on the peer: the drop closes the connection.
                let _ = stream.try_write(REFUSED);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tasks.spawn(connection(
            stream,
            from,
            slot,
            app.clone(),
            settings,
            limits.clone(),
            stop_rx.clone(),
            tls.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = tasks.len(),
            "HTTP connections still open after the grace period; closing them"
        );
        tasks.abort_all();
    }
}

/// Resolves when the watched flag is (or becomes) true, or its sender is gone.
async fn stopped(flag: &mut watch::Receiver<bool>) {
    while !*flag.borrow_and_update() {
        if flag.changed().await.is_err() {
            return;
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn connection(
    stream: TcpStream,
    from: std::net::SocketAddr,
    _slot: ConnSlot,
    app: axum::Router,
    settings: HttpSettings,
    limits: Arc<ConnLimits>,
    stop: watch::Receiver<bool>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let counters: &ConnCounters = &limits.counters;
    // The activity clock sees the raw bytes, so a TLS connection is idle when its TCP is.
    let activity = Activity::new(stream);
    let seen = (activity.last.clone(), activity.born);
    let Some(acceptor) = tls else {
        return serve_io(activity, from, app, settings, counters, seen, stop).await;
    };
    match tokio::time::timeout(settings.header_timeout, acceptor.accept(activity)).await {
        Ok(Ok(tls)) => serve_io(tls, from, app, settings, counters, seen, stop).await,
        Ok(Err(e)) => {
            ConnCounters::bump(&counters.tls_handshake_failures);
            tracing::debug!(%from, error = %e, "TLS handshake failed");
        }
        Err(_elapsed) => {
            ConnCounters::bump(&counters.header_timeouts);
            tracing::trace!(%from, "TLS handshake too slow: closed");
        }
    }
}

/// Serves HTTP/1 (with upgrades) over one connection, plain or TLS.
async fn serve_io<IO>(
    io: IO,
    from: std::net::SocketAddr,
    app: axum::Router,
    settings: HttpSettings,
    counters: &ConnCounters,
    (last, born): (Arc<AtomicU64>, Instant),
    mut stop: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Handlers that limit per client (the public routes) read the TCP peer, never a header.
    let app = tower::ServiceExt::map_request(
        app,
        move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(from));
            req
        },
    );
    let service = hyper_util::service::TowerToHyperService::new(app);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .keep_alive(true);
    // With upgrades: `/ws` turns a connection into SIP over WebSocket (`shell::sip_ws`).
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    if e.is_timeout() {
                        ConnCounters::bump(&counters.header_timeouts);
                    }
                    tracing::trace!(error = %e, "HTTP connection ended");
                }
                return;
            }
            _ = idle(&last, born, settings.idle_timeout) => {
                ConnCounters::bump(&counters.idle_timeouts);
                tracing::trace!("HTTP connection idle: closed");
                return; // dropping the connection closes it
            }
            _ = stopped(&mut stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves once no byte moved for `limit`.
async fn idle(last: &AtomicU64, born: Instant, limit: Duration) {
    loop {
        let seen = last.load(Ordering::Relaxed);
        let at = born + Duration::from_millis(seen) + limit;
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        if last.load(Ordering::Relaxed) == seen {
            return;
        }
    }
}

/// A TCP stream that notes when a byte last moved either way (ms since `born`).
struct Activity {
    inner: TcpStream,
    born: Instant,
    last: Arc<AtomicU64>,
}

impl Activity {
    fn new(inner: TcpStream) -> Self {
        Self {
            inner,
            born: clock::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = clock::now()
            .saturating_duration_since(self.born)
            .as_millis();
        self.last
            .store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

impl AsyncRead for Activity {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl AsyncWrite for Activity {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_whole_http_response() {
        let text = std::str::from_utf8(REFUSED).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(body.len(), len);
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "too_many_connections");
    }
}
