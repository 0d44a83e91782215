//! The body and whole-request deadlines: a request body must have arrived within the body
//! timeout of its head (a client trickling 32 MiB at one byte a second is cut off), and every
//! request is answered within the request timeout. Both answer with the JSON error and close
//! the connection, since the rest of the body may still be on its way.
//!
//! The connection's own timeouts (a head that never completes, an idle kept-alive connection)
//! are `crate::serve`'s.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use madadkar_schema::wire::ErrorBody;
use tokio::time::{Instant, Sleep};
use tracing::warn;

use super::AppState;
use crate::serve::Timeouts;

/// Runs a request under the body and request deadlines of `state`'s timeouts.
pub async fn deadlines<S: Send + Sync + 'static>(
    State(state): State<Arc<AppState<S>>>,
    request: Request,
    next: Next,
) -> Response {
    let Timeouts {
        body: body_timeout,
        request: request_timeout,
        ..
    } = state.timeouts;
    let expired = Arc::new(AtomicBool::new(false));
    let request = if http_body::Body::is_end_stream(request.body()) {
        request
    } else {
        let flag = expired.clone();
        request.map(|body| {
            Body::new(DeadlineBody {
                body,
                deadline: Box::pin(tokio::time::sleep_until(Instant::now() + body_timeout)),
                expired: flag,
            })
        })
    };
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(request_timeout, next.run(request)).await {
        // Whatever the handler made of the cut-off body, the answer is the timeout.
        Ok(_) if expired.load(Ordering::Relaxed) => {
            warn!(%path, "request body too slow");
            closing(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    body_timeout.as_secs()
                ),
            )
        }
        Ok(response) => response,
        Err(_) => {
            warn!(%path, "request timed out");
            closing(
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                format!(
                    "the request was not answered within {} s; try again later",
                    request_timeout.as_secs()
                ),
            )
        }
    }
}

/// A retryable JSON error that also closes the connection.
fn closing(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        code: code.into(),
        message,
        retry: true,
        households: vec![],
    };
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The body was still arriving at the body deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

/// A request body that fails once its deadline passes, and says so through `expired`.
struct DeadlineBody {
    body: Body,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
