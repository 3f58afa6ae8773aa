//! One connection: HTTP/1.1 with upgrades over a socket that tells the
//! registry when bytes arrive, closed when its client is too slow, when it
//! gives way to a new connection, or (between requests) at shutdown.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tower::ServiceExt;

use super::admission::{Admission, Conn, Phase};
use super::bodies::{DeadlineBody, Finishing};
use super::{Limits, Shutdown};

/// A client socket that marks its connection's request as started when
/// bytes arrive, and holds the connection's place in the registry for as
/// long as it is open (after a WebSocket upgrade too).
struct Watched {
    stream: TcpStream,
    admission: Admission,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.admission.conn().bytes_arrived();
        }
        read
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Serves one connection until its client closes it, it expires, or
/// shutdown ends it (at once if it is between requests; after its request
/// otherwise, unless the listener's grace runs out first).
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    admission: Admission,
    router: Router,
    limits: Arc<Limits>,
    mut shutdown: Shutdown,
) {
    let conn = admission.conn().clone();
    let io = TokioIo::new(Watched { stream, admission });
    let service = {
        let (conn, limits) = (conn.clone(), limits.clone());
        service_fn(move |mut request: Request<Incoming>| {
            // Handlers see the client's address (the login throttles).
            request.extensions_mut().insert(ConnectInfo(peer));
            respond(request, router.clone(), conn.clone(), limits.clone())
        })
    };
    let mut http = http1::Builder::new();
    // Header and idle timeouts are the registry's (hyper's one timer would
    // count the wait for a request as time spent sending it).
    http.header_read_timeout(None);
    let connection = http.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            expiry = conn.expiry(&limits) => {
                tracing::debug!(?expiry, "connection closed");
                return;
            }
            _ = shutdown.changed(), if !draining => {
                draining = true;
                if conn.phase().between_requests() {
                    tracing::debug!("connection closed at shutdown");
                    return;
                }
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Answers one request through the router. Its body gets its deadline; a
/// reply sent while the body is unfinished (it missed its deadline, or was
/// refused unread, e.g. over the size limit) says `Connection: close`:
/// hyper closes such a connection anyway, and the client must not send its
/// next request on it.
async fn respond(
    request: Request<Incoming>,
    router: Router,
    conn: Arc<Conn>,
    limits: Arc<Limits>,
) -> Result<Response<Finishing>, Infallible> {
    conn.request_started(request.body().is_end_stream());
    let request = request.map(|body| axum::body::Body::new(DeadlineBody::new(body, limits.body_timeout, conn.clone())));
    let mut response = router.oneshot(request).await?;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        conn.upgraded();
    } else if matches!(conn.phase(), Phase::Body(_)) {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response.map(|body| Finishing::new(body, conn)))
}
