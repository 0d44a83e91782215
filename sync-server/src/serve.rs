//! Serving the API over TCP, with the connection timeouts `axum::serve` has no knobs for: a
//! request's head must arrive promptly, an idle kept-alive connection is closed, and a request
//! that outlives its deadline loses its connection. Each connection has a watchdog that drops
//! it (closing the socket) when its current deadline passes.
//!
//! The body and whole-request deadlines that answer with a JSON error live in the router
//! (`api::deadline`); the watchdog here is the backstop for what the router cannot see: bytes
//! before a request exists, and an answer the client reads too slowly.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::{Router, body::Body, http::Request};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tower::{Service, ServiceExt};
use tracing::{debug, warn};

/// How long the watchdog waits past the whole-request timeout before dropping a connection:
/// the router answers `503 request_timeout` at the timeout itself, and that answer needs a
/// moment to be written.
const ANSWER_GRACE: Duration = Duration::from_secs(5);

/// The connection and request timeouts (settings `header_timeout_secs`, `body_timeout_secs`,
/// `request_timeout_secs`, `keep_alive_secs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// A request's head (request line and headers) must arrive within this, counted from the
    /// connection's opening or, on a kept-alive connection, from the head's first byte.
    pub header: Duration,
    /// A request's body must have arrived this long after its head (`408 body_timeout`).
    pub body: Duration,
    /// A request must be answered within this (`503 request_timeout`); its connection is
    /// dropped a little later if the answer is still being written.
    pub request: Duration,
    /// A kept-alive connection with no request under way is closed after this.
    pub keep_alive: Duration,
}

impl Default for Timeouts {
    /// Generous for a field worker's slow mobile link, short enough that a connection held open
    /// on purpose is freed within a minute or two. The client gives up on a request after 120 s,
    /// so the server need not wait longer.
    fn default() -> Self {
        Self {
            header: Duration::from_secs(10),
            body: Duration::from_secs(60),
            request: Duration::from_secs(120),
            keep_alive: Duration::from_secs(60),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets the
/// requests under way finish (within their timeouts) and returns. Each request carries the
/// peer's address as `ConnectInfo<SocketAddr>` (the enrolment rate limits need it).
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    // Connections hold a receiver; `closed()` on the sender tells when the last one is gone.
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: pause rather than spin, as axum does.
                warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = match make_service.call(peer).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        tokio::spawn(connection(stream, service, timeouts, stopping.clone()));
    }
    drop(stopping);
    let _ = stop.send(true);
    stop.closed().await;
    Ok(())
}

/// What the watchdog knows of a connection.
#[derive(Debug)]
struct Activity {
    /// Requests being answered (one at a time on HTTP/1; pipelined ones wait in hyper).
    in_flight: usize,
    /// No request has been answered yet on this connection.
    fresh: bool,
    /// When the current state began: the connection's opening, a request's start or the end
    /// of the last answer.
    since: Instant,
    /// The first byte of the next request's head, read while no request was under way.
    head_started: Option<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: 0,
            fresh: true,
            since: Instant::now(),
            head_started: None,
        }
    }

    /// When the connection is to be dropped if nothing changes, and why.
    fn deadline(&self, t: &Timeouts) -> (Instant, &'static str) {
        if self.in_flight > 0 {
            (
                self.since + t.request + ANSWER_GRACE,
                "request outlived its timeout",
            )
        } else if self.fresh {
            (self.since + t.header, "no complete request head in time")
        } else if let Some(started) = self.head_started {
            (started + t.header, "no complete request head in time")
        } else {
            (self.since + t.keep_alive, "idle keep-alive connection")
        }
    }
}

type Shared = Arc<Mutex<Activity>>;

fn with<T>(activity: &Shared, f: impl FnOnce(&mut Activity) -> T) -> T {
    // A poisoned lock only means another thread panicked mid-update of plain fields.
    let mut guard = activity.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut guard)
}

/// Serves one connection until it ends, the watchdog's deadline passes, or shutdown completes
/// its requests.
async fn connection<S>(
    stream: TcpStream,
    service: S,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
) where
    S: Service<Request<Body>, Response = axum::response::Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let activity: Shared = Arc::new(Mutex::new(Activity::new()));
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let per_request = activity.clone();
    let hyper_service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let guard = InFlight::begin(per_request.clone());
        let service = service.clone();
        async move {
            let response = service.oneshot(request.map(Body::new)).await?;
            // The request counts as under way until hyper has taken the whole answer.
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(Guarded {
                    body,
                    _guard: guard,
                })
            }))
        }
    });
    let mut builder = http1::Builder::new();
    // hyper's own header timer needs a timer and also ends idle keep-alive connections at the
    // header timeout; the watchdog does both, each with its own setting.
    builder.keep_alive(true).header_read_timeout(None);
    let conn = builder.serve_connection(io, hyper_service);
    tokio::pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let (deadline, reason) = with(&activity, |a| a.deadline(&timeouts));
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                // The state may have moved on while we slept; only a deadline still passed counts.
                let (now_deadline, _) = with(&activity, |a| a.deadline(&timeouts));
                if now_deadline <= Instant::now() {
                    debug!(reason, "dropping connection");
                    return;
                }
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                // A closed channel means the server is going away too.
                if changed.is_err() || *stop.borrow() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Marks a request under way from its start until its answer's body is dropped.
#[derive(Debug)]
struct InFlight(Shared);

impl InFlight {
    fn begin(activity: Shared) -> Self {
        with(&activity, |a| {
            a.in_flight += 1;
            a.since = Instant::now();
            a.head_started = None;
        });
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        with(&self.0, |a| {
            a.in_flight = a.in_flight.saturating_sub(1);
            a.fresh = false;
            a.since = Instant::now();
            a.head_started = None;
        });
    }
}

/// An answer's body that keeps its request counted as under way until hyper drops it.
#[derive(Debug)]
struct Guarded {
    body: Body,
    _guard: InFlight,
}

impl http_body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The socket, noting when the first byte of a request head arrives between requests.
#[derive(Debug)]
struct Tracked {
    inner: TcpStream,
    activity: Shared,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            with(&self.activity, |a| {
                if a.in_flight == 0 && a.head_started.is_none() {
                    a.head_started = Some(Instant::now());
                }
            });
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_follow_the_connection_state() {
        let t = Timeouts {
            header: Duration::from_secs(1),
            body: Duration::from_secs(2),
            request: Duration::from_secs(3),
            keep_alive: Duration::from_secs(4),
        };
        let mut a = Activity::new();
        let start = a.since;
        assert_eq!(a.deadline(&t).0, start + t.header);
        a.in_flight = 1;
        assert_eq!(a.deadline(&t).0, start + t.request + ANSWER_GRACE);
        a.in_flight = 0;
        a.fresh = false;
        assert_eq!(a.deadline(&t).0, start + t.keep_alive);
        let head = start + Duration::from_millis(500);
        a.head_started = Some(head);
        assert_eq!(a.deadline(&t).0, head + t.header);
    }
}
