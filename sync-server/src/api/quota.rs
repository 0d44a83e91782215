//! Per-device push quotas: the bytes and changes one device may push in a rolling day, so a
//! single device cannot fill every replica in its scope with junk. A layer on the routes that
//! store changes (`/v1/push` and the per-household sync): it charges the request to the calling
//! device before the handler runs, atomically in the storage (parallel pushes cannot slip
//! under together), and refunds the charge when the handler refuses the request.
//!
//! What counts is the request as sent: its body's bytes and, for a push, the change count its
//! frame announces (the per-household sync counts bytes only, its changes being inside an
//! Automerge sync message). A push sent again after a lost answer counts again; the defaults
//! leave room for that many times over.

use std::sync::Arc;

use axum::{
    extract::{FromRequest, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::{AppState, blocking, extract, ratelimit::too_many_requests};
use crate::auth;
use crate::storage::{Charge, PushQuota, PushUsage, QUOTA_WINDOW_HOURS, Storage};

/// Charges the request to its device's quota, or answers `429 quota_exceeded`.
pub async fn push_quota<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    request: Request,
    next: Next,
) -> Response {
    // Only an enrolled, active device has a quota; anything else goes on to the handler, whose
    // extractor gives the usual 401 or 403 without reading the body.
    let Some(token) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(auth::hash)
    else {
        return next.run(request).await;
    };
    let storage = state.storage.clone();
    let principal = match blocking(move || Ok(storage.principal_by_token(token, Utc::now())?)).await
    {
        Ok(Some(p)) if p.device.revoked_at.is_none() => p,
        Ok(_) => return next.run(request).await,
        Err(e) => return e.into_response(),
    };
    let device = principal.device.id;
    let (mut parts, body) = request.into_parts();
    // The handler's `Authenticated` takes the principal from here rather than looking the
    // token up a second time (the same request, the same header, checked just now).
    parts
        .extensions
        .insert(super::extract::Authenticated(principal));
    // Read within the body limit and deadline the handler would have applied.
    let body =
        match extract::Body::from_request(Request::from_parts(parts.clone(), body), &()).await {
            Ok(extract::Body(b)) => b,
            Err(e) => return e.into_response(),
        };
    let amount = PushUsage {
        bytes: body.len() as u64,
        changes: announced_changes(&body),
    };
    let quota = state.push_quota;
    let now = Utc::now();
    let storage = state.storage.clone();
    match blocking(move || Ok(storage.charge_push(device, amount, quota, now)?)).await {
        Ok(Charge::Charged) => {}
        Ok(Charge::Refused { usage, resets_at }) => {
            info!(%device, bytes = usage.bytes, changes = usage.changes, "push quota exceeded");
            return exceeded(quota, usage, amount, resets_at, now);
        }
        Err(e) => return e.into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, axum::body::Body::from(body)))
        .await;
    if !response.status().is_success() {
        let storage = state.storage.clone();
        if let Err(e) = blocking(move || Ok(storage.refund_push(device, amount, now)?)).await {
            // The device keeps a charge for a push that was refused: conservative, and logged.
            warn!(%device, error = ?e, "refunding a refused push's quota charge failed");
        }
    }
    response
}

/// The change count a push frame announces (`"MDKC" u8:1 u32:count ...`); 0 for a body that is
/// no push frame (the per-household sync's, or a malformed one the handler will refuse).
fn announced_changes(body: &[u8]) -> u64 {
    match body {
        [b'M', b'D', b'K', b'C', 1, a, b, c, d, ..] => {
            u64::from(u32::from_le_bytes([*a, *b, *c, *d]))
        }
        _ => 0,
    }
}

fn exceeded(
    quota: PushQuota,
    usage: PushUsage,
    amount: PushUsage,
    resets_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Response {
    let limits = format!(
        "this device may push {} bytes and {} changes in {QUOTA_WINDOW_HOURS} hours and has pushed {} bytes and {} changes",
        quota.bytes, quota.changes, usage.bytes, usage.changes
    );
    match resets_at {
        Some(at) => too_many_requests(
            "quota_exceeded",
            format!(
                "{limits}; this push ({} bytes, {} changes) fits again at {}",
                amount.bytes,
                amount.changes,
                at.to_rfc3339()
            ),
            true,
            (at - now).to_std().ok(),
        ),
        None => too_many_requests(
            "quota_exceeded",
            format!(
                "{limits}; this push ({} bytes, {} changes) is over the quota on its own: send fewer changes at a time or ask the administrator",
                amount.bytes, amount.changes
            ),
            false,
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_announced_count_is_read_from_a_push_frame_only() {
        let frame = madadkar_schema::wire::encode_push(&vec![
            madadkar_schema::wire::WireChange {
                household: uuid::Uuid::nil(),
                seq: 0,
                bytes: vec![1],
                signature: None,
            };
            3
        ]);
        assert_eq!(announced_changes(&frame), 3);
        assert_eq!(announced_changes(b"MDKC"), 0);
        assert_eq!(announced_changes(&[0; 16]), 0);
    }

    #[test]
    fn a_refusal_names_when_it_resets() {
        let now = Utc::now();
        let at = now + chrono::Duration::minutes(90);
        let usage = PushUsage {
            bytes: 10,
            changes: 1,
        };
        let response = exceeded(PushQuota::default(), usage, usage, Some(at), now);
        assert_eq!(response.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers()[header::RETRY_AFTER],
            (90 * 60).to_string().as_str()
        );
    }
}
