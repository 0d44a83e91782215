//! `POST /v1/push`: the checks a set of changes must pass (scope, authorship, dependencies,
//! the documents they make: `validate`, the merges they make) before it is stored with the
//! facts read from those documents, all or nothing, through the committer
//! (`crate::commit`), which stores the pushes arriving together in one transaction. The
//! per-household fallback reuses them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use automerge::Change;
use axum::{Json, extract::State, http::StatusCode};
use madadkar_schema::{
    AuditAction, ChangeMeta, Role,
    wire::{self, Ack, PushResponse},
};
use tracing::instrument;
use uuid::Uuid;

use super::{
    AppState, blocking, case_scope,
    error::{ApiError, ApiResult},
    extract::{Authenticated, Body},
};
use crate::audit::{self, AuditEvent};
use crate::documents::DocumentCache;
use crate::storage::{
    Assignment, Hash, HouseholdFacts, IncomingChange, Principal, PushWrite, Standing, Storage,
};

#[utoipa::path(post, path = "/v1/push", tag = "sync", summary = "Stores changes the server lacks, all or nothing, after checking scope, authorship and dependencies", security(("bearer" = [])), request_body(description = "A changes frame, little-endian: `\"MDKC\" u8:1 u32:count { uuid:16 household, u64:0, u32:len, len bytes of one Automerge change }*`; at most 5,000 changes of at most 1 MiB each, the body at most 32 MiB. Stored all or nothing.", content((inline(super::openapi::schemas::Binary) = "application/x-madadkar-changes"))), responses((status = 200, description = "Every change stored (or already held), with its sequence number", body = super::openapi::schemas::PushResponse)))]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id, changes))]
pub async fn push<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    Body(body): Body,
) -> ApiResult<Json<PushResponse>> {
    let changes = wire::decode_push(&body)?;
    tracing::Span::current().record("changes", changes.len());
    let shared = state.clone();
    let write = blocking(move || {
        check_push(
            shared.storage.as_ref(),
            &shared.documents,
            &principal,
            changes,
        )
    })
    .await?;
    let hashes: Vec<Hash> = write.changes.iter().map(|c| c.hash).collect();
    let seqs = commit(&state, write).await?;
    let accepted = hashes
        .into_iter()
        .zip(seqs)
        .map(|(hash, seq)| Ack {
            hash: automerge::ChangeHash(hash).to_string(),
            seq,
        })
        .collect();
    Ok(Json(PushResponse { accepted }))
}

/// Stores a checked push through the committer, with the pushes that arrive with it; a push
/// that writes nothing (no changes, facts or entries) answers at once.
async fn commit<S: Storage>(state: &AppState<S>, write: PushWrite) -> ApiResult<Vec<u64>> {
    if writes_nothing(&write) {
        return Ok(Vec::new());
    }
    Ok(state.committer.commit(write).await?)
}

/// Whether storing `write` would change nothing at all (an empty push).
pub(super) fn writes_nothing(write: &PushWrite) -> bool {
    write.changes.is_empty()
        && write.new_households.is_empty()
        && write.facts.is_empty()
        && write.audit.is_empty()
}

/// A change parsed and checked against its claimed household and author.
struct Checked {
    change: IncomingChange,
    deps: Vec<Hash>,
    parsed: Change,
}

/// Parses each change and binds it to an enrolled device: one's own changes must name one's
/// own worker; a change relayed from a colleague's device (a USB bundle) that the server does
/// not hold yet must carry its author's signature (see `madadkar_schema::authorship`), and its
/// author must be a device of one's own group (any group for a coordinator) that is not
/// revoked.
fn check_changes<S: Storage>(
    storage: &S,
    principal: &Principal,
    changes: Vec<wire::WireChange>,
) -> ApiResult<Vec<Checked>> {
    let mut authors: HashMap<Uuid, Option<Principal>> = HashMap::new();
    let mut out = Vec::with_capacity(changes.len());
    for (i, wc) in changes.into_iter().enumerate() {
        let change = super::validate::parse(i, &wc)?;
        let actor = Uuid::from_slice(change.actor_id().to_bytes()).map_err(|_| {
            ApiError::malformed_change(format!(
                "change {} has an actor that is not a device id",
                i + 1
            ))
        })?;
        let author = match authors.get(&actor) {
            Some(a) => a.clone(),
            None => {
                let a = if actor == principal.device.id {
                    Some(principal.clone())
                } else {
                    storage.principal_by_device(actor)?
                };
                authors.insert(actor, a.clone());
                a
            }
        };
        // Relaying a change the server already holds changes nothing, whoever made it.
        let own = actor == principal.device.id;
        if own || !already_held(storage, wc.household, &change)? {
            check_author(author.as_ref(), principal, &wc, &change, i + 1)
                .map_err(|e| e.naming(wc.household))?;
        }
        out.push(Checked {
            deps: change.deps().iter().map(|d| d.0).collect(),
            change: IncomingChange {
                household: wc.household,
                hash: change.hash().0,
                bytes: wc.bytes,
                device_id: actor,
            },
            parsed: change,
        });
    }
    Ok(out)
}

/// The checks on who made a change the server does not hold yet: a known device, naming its
/// own worker, and (when another device relays it) signed by it.
fn check_author(
    author: Option<&Principal>,
    principal: &Principal,
    wc: &wire::WireChange,
    change: &Change,
    nth: usize,
) -> ApiResult<()> {
    let forbid = |message: String| ApiError::Forbidden {
        code: "author_mismatch",
        message,
    };
    let Some(author) = author else {
        return Err(forbid(format!(
            "change {nth} was made on a device the server does not know"
        )));
    };
    if author.device.id != principal.device.id {
        check_relay(author, principal, wc, change, nth)?;
    }
    let meta: Option<ChangeMeta> = change.message().and_then(|m| serde_json::from_str(m).ok());
    let worker_ok = meta.as_ref().is_some_and(|m| {
        m.worker_id == author.worker.id
            || Some(&m.worker_id) == author.device.local_worker_id.as_ref()
    });
    if !worker_ok {
        return Err(forbid(format!(
            "change {nth} names a worker other than its device's"
        )));
    }
    Ok(())
}

/// Whether the server already holds this change (relaying it again changes nothing, whoever
/// made it).
fn already_held<S: Storage>(storage: &S, household: Uuid, change: &Change) -> ApiResult<bool> {
    Ok(!storage
        .known_hashes(household, &[change.hash().0])?
        .is_empty())
}

/// The checks on a change the caller relays for another device: that device is in the
/// caller's group (any, for a coordinator), not revoked, and signed this change.
fn check_relay(
    author: &Principal,
    principal: &Principal,
    wc: &wire::WireChange,
    change: &Change,
    nth: usize,
) -> ApiResult<()> {
    let forbid = |code: &'static str, message: String| ApiError::Forbidden { code, message };
    let same_group =
        author.worker.group_id.is_some() && author.worker.group_id == principal.worker.group_id;
    if !(same_group || principal.worker.role == Role::Coordinator) {
        return Err(forbid(
            "author_mismatch",
            format!("change {nth} was made by a device outside your group"),
        ));
    }
    if author.device.revoked_at.is_some() {
        return Err(forbid(
            "author_revoked",
            format!("change {nth} was made on a device that has been revoked"),
        ));
    }
    let key = author
        .device
        .signing_key
        .as_deref()
        .and_then(madadkar_schema::authorship::parse_public_key);
    let (Some(key), Some(signature)) = (key, wc.signature.as_ref()) else {
        return Err(forbid(
            "unsigned_relay",
            format!(
                "change {nth} was made on another device and carries no signature of it; its author must sync it, or export a bundle from this version"
            ),
        ));
    };
    madadkar_schema::authorship::verify(&key, wc.household, &change.hash().0, signature).map_err(
        |e| {
            forbid(
                "unsigned_relay",
                format!("change {nth} was made on another device: {e}"),
            )
        },
    )
}

/// Where the pushed households stand: those the server holds, and those new to it with the
/// assignment they get (the pusher's group, and the pusher if a field worker).
struct Standings {
    held: HashMap<Uuid, Standing>,
    new: Vec<(Uuid, Assignment)>,
}

impl Standings {
    /// A household's own assignment, as stored or as it is about to be given.
    fn own(&self, household: Uuid) -> Option<&Assignment> {
        self.held.get(&household).map(|s| &s.own).or_else(|| {
            self.new
                .iter()
                .find(|(h, _)| *h == household)
                .map(|(_, a)| a)
        })
    }
}

/// Where `households` stand; refuses any the server holds outside the caller's scope
/// ([`crate::storage::Scope::sees`]).
fn standings<S: Storage>(
    storage: &S,
    principal: &Principal,
    households: &[Uuid],
) -> ApiResult<Standings> {
    let scope = case_scope(principal)?;
    let held = storage.standings(households)?;
    let mut new = Vec::new();
    let mut outside = Vec::new();
    for h in households {
        match held.get(h) {
            Some(s) if scope.sees(s) => {}
            Some(_) => outside.push(*h),
            None => new.push((
                *h,
                Assignment {
                    group_id: principal.worker.group_id.clone(),
                    worker_id: (principal.worker.role == Role::Field)
                        .then(|| principal.worker.id.clone()),
                },
            )),
        }
    }
    if !outside.is_empty() {
        return Err(ApiError::OutOfScope(outside));
    }
    Ok(Standings { held, new })
}

/// Checks the merges and undos the pushed documents make (a `merged_into` set, changed or
/// cleared against the link the server holds) and returns their audit entries: `merge` or
/// `unmerge` for the retired household and for its survivor, ids only. A coordinator may merge
/// any two households; a supervisor, two of their own group; anyone else none
/// (`403 merge_forbidden`, naming the retired households, whose changes the client holds back).
/// A household merged into itself, or into one the server does not hold, is
/// `422 invalid_document`.
fn check_merges<S: Storage>(
    storage: &S,
    principal: &Principal,
    standings: &Standings,
    facts: &[HouseholdFacts],
) -> ApiResult<Vec<AuditEvent>> {
    // The survivors named that the push does not carry: where they stand on the server.
    let before = |f: &HouseholdFacts| {
        standings
            .held
            .get(&f.household)
            .and_then(|s| s.merged_into.as_ref())
            .map(|(survivor, _)| *survivor)
    };
    let elsewhere: Vec<Uuid> = facts
        .iter()
        .flat_map(|f| [before(f), f.merged_into])
        .flatten()
        .filter(|h| standings.own(*h).is_none())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let elsewhere = storage.standings(&elsewhere)?;
    let own = |h: Uuid| {
        standings
            .own(h)
            .or_else(|| elsewhere.get(&h).map(|s| &s.own))
    };
    let mut events = Vec::new();
    let mut forbidden = Vec::new();
    let mut invalid = Vec::new();
    for f in facts {
        let before = before(f);
        if before == f.merged_into {
            continue;
        }
        if let Some(survivor) = f.merged_into
            && (survivor == f.household || own(survivor).is_none())
        {
            invalid.push((f.household, survivor));
            continue;
        }
        let involved = [Some(f.household), before, f.merged_into];
        let allowed = match (principal.worker.role, &principal.worker.group_id) {
            (Role::Coordinator, _) => true,
            (Role::Supervisor, Some(group)) => involved
                .iter()
                .flatten()
                .all(|h| own(*h).is_some_and(|a| a.group_id.as_ref() == Some(group))),
            _ => false,
        };
        if !allowed {
            forbidden.push(f.household);
            continue;
        }
        if let Some(old) = before {
            events.extend(audit::by_device(
                principal,
                AuditAction::Unmerge,
                [f.household, old],
            ));
        }
        if let Some(new) = f.merged_into {
            events.extend(audit::by_device(
                principal,
                AuditAction::Merge,
                [f.household, new],
            ));
        }
    }
    if !invalid.is_empty() {
        let message = invalid
            .iter()
            .map(|(h, survivor)| {
                if h == survivor {
                    format!("household {h}: merged into itself")
                } else {
                    format!("household {h}: merged into {survivor}, which the server does not hold; push it first")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ApiError::Households {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_document",
            message,
            households: invalid.into_iter().map(|(h, _)| h).collect(),
        });
    }
    if !forbidden.is_empty() {
        return Err(refused_for_role(
            "merge_forbidden",
            "only a coordinator, or a supervisor within their own group, may merge households or undo a merge",
            forbidden,
        ));
    }
    Ok(events)
}

/// The households whose changes depend on changes neither stored nor in the same push.
fn missing_dependencies<S: Storage>(
    storage: &S,
    households: &[Uuid],
    checked: &[Checked],
) -> ApiResult<Vec<Uuid>> {
    let mut missing = Vec::new();
    for h in households {
        let in_push: HashSet<Hash> = checked
            .iter()
            .filter(|c| c.change.household == *h)
            .map(|c| c.change.hash)
            .collect();
        let needed: Vec<Hash> = checked
            .iter()
            .filter(|c| c.change.household == *h)
            .flat_map(|c| c.deps.iter().copied())
            .filter(|d| !in_push.contains(d))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !needed.is_empty() && storage.known_hashes(*h, &needed)?.len() < needed.len() {
            missing.push(*h);
        }
    }
    Ok(missing)
}

/// Refuses approvals and returns of visits that no supervisor or coordinator made: the caller
/// must be one, or relay a change made on a supervisor's or coordinator's device (its
/// authorship was checked with the rest). `403 review_forbidden`, naming the households.
fn check_reviews<S: Storage>(
    storage: &S,
    principal: &Principal,
    checked: &[Checked],
    reviewed: &[Uuid],
) -> ApiResult<()> {
    check_supervisor_steps(
        storage,
        principal,
        checked,
        reviewed,
        "review_forbidden",
        "only a supervisor or a coordinator may approve or return a visit",
    )
}

/// Refuses graduations and re-entries no supervisor or coordinator confirmed, as
/// [`check_reviews`] does for reviews: `403 graduation_forbidden`.
fn check_graduations<S: Storage>(
    storage: &S,
    principal: &Principal,
    checked: &[Checked],
    graduated: &[Uuid],
) -> ApiResult<()> {
    check_supervisor_steps(
        storage,
        principal,
        checked,
        graduated,
        "graduation_forbidden",
        "only a supervisor or a coordinator may confirm a graduation or a re-entry",
    )
}

/// The households of `households` whose new supervisor-only steps came from neither the
/// caller as a supervisor or coordinator, nor a supervisor's or coordinator's device relayed
/// by it, refused as `code`.
fn check_supervisor_steps<S: Storage>(
    storage: &S,
    principal: &Principal,
    checked: &[Checked],
    reviewed: &[Uuid],
    code: &'static str,
    rule: &str,
) -> ApiResult<()> {
    if reviewed.is_empty() || matches!(principal.worker.role, Role::Supervisor | Role::Coordinator)
    {
        return Ok(());
    }
    let mut forbidden = Vec::new();
    for household in reviewed {
        let mut by_reviewer = false;
        for c in checked.iter().filter(|c| c.change.household == *household) {
            let Ok(device) = Uuid::from_slice(c.parsed.actor_id().to_bytes()) else {
                continue;
            };
            if device == principal.device.id {
                continue;
            }
            if let Some(author) = storage.principal_by_device(device)?
                && matches!(author.worker.role, Role::Supervisor | Role::Coordinator)
            {
                by_reviewer = true;
                break;
            }
        }
        if !by_reviewer {
            forbidden.push(*household);
        }
    }
    if forbidden.is_empty() {
        return Ok(());
    }
    Err(refused_for_role(code, rule, forbidden))
}

/// `403 code`: what the caller's role may not do, naming the households (the client holds
/// their changes back).
fn refused_for_role(code: &'static str, rule: &str, households: Vec<Uuid>) -> ApiError {
    let named: Vec<String> = households.iter().map(Uuid::to_string).collect();
    ApiError::Households {
        status: StatusCode::FORBIDDEN,
        code,
        message: format!("{rule} ({})", named.join(", ")),
        households,
    }
}

/// Checks scope, authorship, dependencies, the documents the changes make and the merges they
/// make, and returns what to store, all or nothing, with the audit entries that record it
/// (`push` for each household pushed to, then `merge`/`unmerge`): the caller hands it to the
/// committer. The storage refuses what only the write transaction can see (a change whose
/// (actor, sequence number) another push stored meanwhile).
pub(super) fn check_push<S: Storage>(
    storage: &S,
    documents: &DocumentCache,
    principal: &Principal,
    changes: Vec<wire::WireChange>,
) -> ApiResult<PushWrite> {
    let households: Vec<Uuid> = changes
        .iter()
        .map(|c| c.household)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let standings = standings(storage, principal, &households)?;
    let checked = check_changes(storage, principal, changes)?;
    let missing = missing_dependencies(storage, &households, &checked)?;
    if !missing.is_empty() {
        return Err(ApiError::MissingDependencies(missing));
    }
    let received = checked
        .iter()
        .map(|c| (c.change.household, c.parsed.clone()));
    let super::validate::Checked {
        facts,
        reviewed,
        graduated,
    } = super::validate::check_documents(storage, documents, received)?;
    check_reviews(storage, principal, &checked, &reviewed)?;
    check_graduations(storage, principal, &checked, &graduated)?;
    let merges = check_merges(storage, principal, &standings, &facts)?;
    let mut entries = audit::by_device(principal, AuditAction::Push, households.iter().copied());
    entries.extend(merges);
    Ok(PushWrite {
        changes: checked.into_iter().map(|c| c.change).collect(),
        new_households: standings.new,
        facts,
        audit: entries,
        at: chrono::Utc::now(),
    })
}
