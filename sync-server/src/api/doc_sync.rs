//! `POST /v1/households/{id}/sync`: Automerge's own per-document sync, for a household whose
//! changes the change log cannot place (their dependencies are missing on one side). One round
//! per request. The server keeps nothing between rounds: its Automerge sync state travels in
//! the round's `state` marker ([`marker`]), which the client sends back unread, so a session
//! begun on one server instance goes on on any other sharing the database.

use std::sync::Arc;

use automerge::sync::{self, SyncDoc};
use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use madadkar_schema::wire::{DocSyncFrame, WireChange};
use tracing::instrument;
use uuid::Uuid;

use super::{
    AppState, blocking, case_scope,
    error::{ApiError, ApiResult},
    extract::{ApiPath, Authenticated, Body},
    push::{check_push, writes_nothing},
};
use crate::storage::{Principal, Scope, Storage};

#[utoipa::path(post, path = "/v1/households/{id}/sync", tag = "sync", summary = "One round of Automerge's per-document sync for a household the change log cannot place", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "The household")), request_body(description = "One round of Automerge's per-document sync, little-endian: `u32:len state, u32:len message`. `state` is the opaque marker the server last returned (empty to start); `message` an Automerge sync message (empty when the client has nothing to say).", content((inline(super::openapi::schemas::Binary) = "application/octet-stream"))), responses((status = 200, description = "The server's round, in the same format as the request: its marker and its sync message (empty when it has nothing to send)", content_type = "application/octet-stream", body = inline(super::openapi::schemas::Binary))))]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id, household = %household))]
pub async fn doc_sync<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    ApiPath(household): ApiPath<Uuid>,
    Body(body): Body,
) -> ApiResult<Response> {
    let scope = case_scope(&principal)?;
    let frame = DocSyncFrame::decode(&body)?;
    let sync_state = if frame.state.is_empty() {
        sync::State::new()
    } else {
        marker::decode(&frame.state, household)?
    };
    let reply = blocking(move || {
        let (message, sync_state) = sync_round(
            &state,
            &principal,
            &scope,
            household,
            &frame.message,
            sync_state,
        )?;
        Ok(DocSyncFrame {
            state: marker::encode(&sync_state, household)?,
            message,
        })
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        reply.encode(),
    )
        .into_response())
}

/// One round: rebuilds the household from the stored changes, takes in the client's message
/// (storing what it brings, through the same checks as a push, the document it makes
/// included, and the committer) and answers with ours (empty when we have nothing to say),
/// with the sync state to send back in the marker.
fn sync_round<S: Storage>(
    state: &AppState<S>,
    principal: &Principal,
    scope: &Scope,
    household: Uuid,
    message: &[u8],
    mut sync_state: sync::State,
) -> ApiResult<(Vec<u8>, sync::State)> {
    let storage = state.storage.as_ref();
    let standing = storage.standings(&[household])?.remove(&household);
    if standing.as_ref().is_some_and(|s| !scope.sees(s)) {
        return Err(ApiError::Forbidden {
            code: "out_of_scope",
            message: format!("household {household} is outside your scope"),
        });
    }
    crate::audit::synced(storage, principal, household)?;
    let mut doc = state.documents.read(storage, household)?;
    let bad_message =
        |e: &dyn std::fmt::Display| ApiError::malformed_change(format!("sync message: {e}"));
    if !message.is_empty() {
        let before = doc.get_heads();
        let message = sync::Message::decode(message).map_err(|e| bad_message(&e))?;
        // Automerge would take the chunks in unbounded; each must pass a pushed change's bounds.
        super::validate::parse_chunks(household, message.changes.iter())?;
        // Automerge panics on some malformed input: a panic is a refusal, not a crash.
        madadkar_schema::document::untrusted("the sync message", || {
            doc.sync().receive_sync_message(&mut sync_state, message)
        })
        .map_err(|e| bad_message(&e))?
        .map_err(|e| bad_message(&e))?;
        let new: Vec<WireChange> = doc
            .get_changes(&before)
            .into_iter()
            .map(|c| WireChange {
                household,
                seq: 0,
                bytes: c.raw_bytes().to_vec(),
                signature: None,
            })
            .collect();
        if !new.is_empty() && doc.get_missing_deps(&[]).is_empty() {
            let write = check_push(storage, &state.documents, principal, new)?;
            if !writes_nothing(&write) {
                state.committer.commit_blocking(write)?;
            }
        }
    }
    // Without the flags the client takes the server for a peer of the first message version
    // and never answers with a whole document, which `validate::parse_chunks` refuses. The
    // state comes from the client's marker: a panic on what it holds is a refusal too.
    let reply = madadkar_schema::document::untrusted("the sync state", || {
        doc.sync().generate_sync_message(&mut sync_state)
    })
    .map_err(|e| ApiError::BadRequest {
        code: "malformed_body",
        message: format!("the sync session marker: {e}"),
    })?
    .map(|mut m| {
        m.flags = None;
        m.encode()
    })
    .unwrap_or_default();
    Ok((reply, sync_state))
}

/// The round's `state` marker: the server's Automerge sync state for the session, handed to
/// the client and sent back by it with the next round, so that no server instance keeps
/// sessions in memory. The client never reads it (`madadkar_schema::wire::DocSyncFrame`).
///
/// Automerge's own `sync::State::encode` keeps only the shared heads (what it means to be
/// persisted across sessions); a session also needs what was last sent, whether the peer has
/// answered and what the peer last said its heads were, or a round in which the client has
/// nothing to say would be answered with a needless message instead of ending the session. So
/// the marker holds those too, little-endian:
///
/// `"MDKS" u8:1 uuid:16 household u8:flags  list:shared_heads list:last_sent_heads
/// [list:their_heads] list:sent_hashes`, each `list` a `u32:count` and `count` 32-byte hashes.
/// Flags: 1 responded, 2 in flight, 4 their heads known (the list is there), 8 their
/// capabilities known, 16/32/64 they support message v1/v2/sync reset, 128 they are read-only.
///
/// What the peer last offered (`their_have`, `their_need`) is left out: it only matters in the
/// round that received it, and the next round's message brings it again. A marker is at most
/// [`MAX_BYTES`]; `sent_hashes` (which only saves resending) is dropped to fit.
///
/// A client can send anything back: a marker is decoded within its bound, refused with a
/// clear `400 malformed_body` when it is not one this server makes (or is another
/// household's), and Automerge's use of it is guarded against panics. A client that forges
/// one can only spoil its own session (the scope checks stay as they are).
pub mod marker {
    use std::collections::BTreeSet;

    use automerge::{
        ChangeHash,
        sync::{Capability, State},
    };
    use madadkar_schema::wire::{ByteReader, Truncated};
    use uuid::Uuid;

    use crate::api::error::{ApiError, ApiResult};

    const MAGIC: &[u8; 4] = b"MDKS";
    const VERSION: u8 = 1;
    /// The largest marker made or accepted (32,000-odd hashes): far above any household's
    /// session, small beside the 32 MiB body limit.
    pub const MAX_BYTES: usize = 1024 * 1024;

    const RESPONDED: u8 = 1;
    const IN_FLIGHT: u8 = 2;
    const THEIR_HEADS: u8 = 4;
    const CAPABILITIES: u8 = 8;
    const V1: u8 = 16;
    const V2: u8 = 32;
    const SYNC_RESET: u8 = 64;
    const PEER_READ_ONLY: u8 = 128;

    fn malformed(why: &str) -> ApiError {
        ApiError::BadRequest {
            code: "malformed_body",
            message: format!(
                "the sync session marker {why}; send back the marker the server last returned, or an empty one to start again"
            ),
        }
    }

    fn put_list(out: &mut Vec<u8>, hashes: impl ExactSizeIterator<Item = ChangeHash>) {
        out.extend_from_slice(&(hashes.len() as u32).to_le_bytes());
        for h in hashes {
            out.extend_from_slice(&h.0);
        }
    }

    /// The marker for `state` in a session of `household`.
    pub fn encode(state: &State, household: Uuid) -> ApiResult<Vec<u8>> {
        let caps = state.their_capabilities.as_deref();
        let has = |c: Capability| caps.is_some_and(|caps| caps.contains(&c));
        let flags = [
            (state.have_responded, RESPONDED),
            (state.in_flight, IN_FLIGHT),
            (state.their_heads.is_some(), THEIR_HEADS),
            (caps.is_some(), CAPABILITIES),
            (has(Capability::MessageV1), V1),
            (has(Capability::MessageV2), V2),
            (has(Capability::SyncReset), SYNC_RESET),
            (state.peer_read_only, PEER_READ_ONLY),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0u8, |f, (_, bit)| f | bit);
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(household.as_bytes());
        out.push(flags);
        put_list(&mut out, state.shared_heads.iter().copied());
        put_list(&mut out, state.last_sent_heads.iter().copied());
        if let Some(theirs) = &state.their_heads {
            put_list(&mut out, theirs.iter().copied());
        }
        let sent = state.sent_hashes.len().saturating_mul(32).saturating_add(4);
        if out.len().saturating_add(sent) <= MAX_BYTES {
            put_list(&mut out, state.sent_hashes.iter().copied());
        } else {
            put_list(&mut out, std::iter::empty());
        }
        if out.len() > MAX_BYTES {
            // Millions of heads: no household document holds that many (document limits).
            return Err(ApiError::Internal(format!(
                "the sync state of household {household} does not fit a marker ({} bytes)",
                out.len()
            )));
        }
        Ok(out)
    }

    /// The marker's parts as `ByteReader` reads them: a short marker is malformed.
    fn cut_short(_: Truncated) -> ApiError {
        malformed("is cut short")
    }

    /// A `u32` count of change hashes, then the hashes.
    fn list(r: &mut ByteReader<'_>) -> ApiResult<Vec<ChangeHash>> {
        let count = r.u32("a count of hashes").map_err(cut_short)? as usize;
        // Checked before anything is allocated for it.
        if count > r.remaining() / 32 {
            return Err(malformed("is cut short"));
        }
        let bytes = r.take(count * 32, "the hashes").map_err(cut_short)?;
        Ok(bytes
            .chunks_exact(32)
            .map(|h| {
                let mut hash = [0u8; 32];
                hash.copy_from_slice(h);
                ChangeHash(hash)
            })
            .collect())
    }

    /// The sync state a marker holds, if it is one this server makes for `household`.
    pub fn decode(bytes: &[u8], household: Uuid) -> ApiResult<State> {
        if bytes.len() > MAX_BYTES {
            return Err(malformed("is larger than any the server makes"));
        }
        let mut r = ByteReader::new(bytes);
        if r.take(MAGIC.len(), "the magic").ok() != Some(MAGIC.as_slice()) {
            return Err(malformed("is not one this server makes"));
        }
        let version = r.u8("the version").map_err(cut_short)?;
        if version != VERSION {
            return Err(malformed(&format!("is of an unknown version {version}")));
        }
        if r.uuid("the household").map_err(cut_short)? != household {
            return Err(malformed("belongs to another household"));
        }
        let flags = r.u8("the flags").map_err(cut_short)?;
        let on = |bit: u8| flags & bit != 0;
        let mut state = State::new();
        state.shared_heads = list(&mut r)?;
        state.last_sent_heads = list(&mut r)?;
        if on(THEIR_HEADS) {
            state.their_heads = Some(list(&mut r)?);
        }
        state.sent_hashes = list(&mut r)?.into_iter().collect::<BTreeSet<_>>();
        if r.remaining() > 0 {
            return Err(malformed("has bytes after its end"));
        }
        state.have_responded = on(RESPONDED);
        state.in_flight = on(IN_FLIGHT);
        state.peer_read_only = on(PEER_READ_ONLY);
        if on(CAPABILITIES) {
            let caps = [
                (V1, Capability::MessageV1),
                (V2, Capability::MessageV2),
                (SYNC_RESET, Capability::SyncReset),
            ];
            state.their_capabilities = Some(
                caps.into_iter()
                    .filter(|(bit, _)| on(*bit))
                    .map(|(_, c)| c)
                    .collect(),
            );
        }
        Ok(state)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use axum::response::IntoResponse;

        fn hash(b: u8) -> ChangeHash {
            ChangeHash([b; 32])
        }

        fn status_and_message(e: ApiError) -> (u16, String) {
            match e {
                ApiError::BadRequest { code, message } => {
                    assert_eq!(code, "malformed_body");
                    (400, message)
                }
                other => (other.into_response().status().as_u16(), String::new()),
            }
        }

        #[test]
        fn a_session_state_goes_round_the_marker_whole() {
            let household = Uuid::now_v7();
            let mut state = State::new();
            state.shared_heads = vec![hash(1), hash(2)];
            state.last_sent_heads = vec![hash(3)];
            state.their_heads = Some(vec![]);
            state.sent_hashes = [hash(4), hash(5)].into_iter().collect();
            state.have_responded = true;
            state.in_flight = true;
            state.their_capabilities = Some(vec![Capability::MessageV2, Capability::SyncReset]);
            let back =
                decode(&encode(&state, household).expect("encode"), household).expect("decode");
            assert_eq!(back.shared_heads, state.shared_heads);
            assert_eq!(back.last_sent_heads, state.last_sent_heads);
            assert_eq!(back.their_heads, state.their_heads);
            assert_eq!(back.sent_hashes, state.sent_hashes);
            assert_eq!(
                (back.have_responded, back.in_flight, back.peer_read_only),
                (true, true, false)
            );
            assert_eq!(back.their_capabilities, state.their_capabilities);
            // A fresh state: nothing known of the peer.
            let fresh = decode(
                &encode(&State::new(), household).expect("encode"),
                household,
            )
            .expect("decode");
            assert_eq!(fresh.their_heads, None);
            assert_eq!(fresh.their_capabilities, None);
        }

        #[test]
        fn garbage_is_a_clear_400_never_a_panic_or_a_huge_allocation() {
            let household = Uuid::now_v7();
            let good = encode(&State::new(), household).expect("encode");
            let mut claims_a_lot = good[..MAGIC.len() + 1 + 16 + 1].to_vec();
            claims_a_lot.extend_from_slice(&u32::MAX.to_le_bytes());
            let mut trailing = good.clone();
            trailing.push(0);
            let mut version_2 = good.clone();
            version_2[4] = 2;
            let cases: Vec<(Vec<u8>, &str)> = vec![
                (vec![1], "not one"),
                (b"MDKS".to_vec(), "cut short"),
                (version_2, "version 2"),
                (good[..good.len() - 1].to_vec(), "cut short"),
                (claims_a_lot, "cut short"),
                (trailing, "after its end"),
                (vec![0; MAX_BYTES + 1], "larger"),
            ];
            for (bytes, why) in cases {
                let (status, message) =
                    status_and_message(decode(&bytes, household).expect_err("refused"));
                assert_eq!(status, 400);
                assert!(message.contains(why), "{message:?} should say {why:?}");
            }
            let (status, message) =
                status_and_message(decode(&good, Uuid::now_v7()).expect_err("refused"));
            assert_eq!(status, 400);
            assert!(message.contains("another household"), "{message}");
        }

        #[test]
        fn too_many_sent_hashes_are_dropped_to_fit() {
            let household = Uuid::now_v7();
            let mut state = State::new();
            state.sent_hashes = (0..40_000u32)
                .map(|i| {
                    let mut h = [0u8; 32];
                    h[..4].copy_from_slice(&i.to_le_bytes());
                    ChangeHash(h)
                })
                .collect();
            state.shared_heads = vec![hash(9)];
            let marker = encode(&state, household).expect("encode");
            assert!(marker.len() <= MAX_BYTES);
            let back = decode(&marker, household).expect("decode");
            assert!(back.sent_hashes.is_empty());
            assert_eq!(back.shared_heads, vec![hash(9)]);
        }
    }
}
