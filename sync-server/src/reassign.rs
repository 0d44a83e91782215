//! Moving households between groups and workers: who may move what where, the preview of a
//! move ([`plan`]) and its application with one audit entry per household ([`apply`]). Shared
//! by the API's `POST /v1/assignments` (supervisors within their group, coordinators anywhere)
//! and the administrator's `household assign`; the storage only writes a decided move, in one
//! transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use madadkar_schema::{AuditAction, Role, wire::MAX_ASSIGN_HOUSEHOLDS};
use thiserror::Error;
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::storage::{Assignment, Principal, Reassignment, Storage, StorageError};

/// Who moves the households.
#[derive(Debug, Clone, Copy)]
pub enum Mover<'a> {
    /// The administrator's command line: any household, known to the server or not yet.
    Admin,
    /// An enrolled device: its worker's role decides (see [`plan`]).
    Device(&'a Principal),
}

/// Where the households go: a group (`None`: the group each is in, a supervisor's own) and one
/// of its workers (`None`: the group as a whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub group: Option<String>,
    pub worker: Option<String>,
}

#[derive(Debug, Error)]
pub enum ReassignError {
    /// The mover may not do this at all (a field worker, an administrator's device, a
    /// supervisor naming another group).
    #[error("{0}")]
    Forbidden(String),
    /// Households outside the mover's scope (for a supervisor, also those the server does not
    /// know: the answer says nothing of them).
    #[error("{} outside your scope", households(.0))]
    OutOfScope(Vec<Uuid>),
    #[error("{} not known to the server", households(.0))]
    UnknownHouseholds(Vec<Uuid>),
    #[error("group {0:?} not found")]
    UnknownGroup(String),
    #[error("worker {0:?} not found")]
    UnknownWorker(String),
    #[error("worker {worker} is not in group {}", .group.as_deref().unwrap_or("(none)"))]
    NotInGroup {
        worker: String,
        group: Option<String>,
    },
    /// Households in no group (registered by a coordinator) asked to stay in their group.
    #[error("{} in no group; name the group", households(.0))]
    NoGroup(Vec<Uuid>),
    #[error("name 1 to {MAX_ASSIGN_HOUSEHOLDS} households, not {0}")]
    Count(usize),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The subject of a message about households: the one named, or how many.
fn households(named: &[Uuid]) -> String {
    match named {
        [h] => format!("household {h} is"),
        _ => format!("{} households are", named.len()),
    }
}

/// The households asked for, each once, in the order first named.
fn distinct(households: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    households
        .iter()
        .copied()
        .filter(|h| seen.insert(*h))
        .collect()
}

/// What moving `households` to `target` would do, one entry per household (those already
/// there included, `from == Some(to)`), or why the mover may not. A coordinator moves any
/// household the server knows to any group, optionally to a worker of it; a supervisor moves
/// households of their own group between its workers or to the group as a whole, never to
/// another group; field workers and administrators' devices may not move any. The
/// administrator's command line moves any household, also one the server does not know yet.
pub fn plan(
    storage: &impl Storage,
    mover: Mover<'_>,
    households: &[Uuid],
    target: &Target,
) -> Result<Vec<Reassignment>, ReassignError> {
    let households = distinct(households);
    if households.is_empty() || households.len() > MAX_ASSIGN_HOUSEHOLDS {
        return Err(ReassignError::Count(households.len()));
    }
    // A supervisor's own group: the only one they may move within.
    let own_group = match mover {
        Mover::Admin => None,
        Mover::Device(p) => match (p.worker.role, &p.worker.group_id) {
            (Role::Coordinator, _) => None,
            (Role::Supervisor, Some(g)) => Some(g.clone()),
            (role, _) => {
                return Err(ReassignError::Forbidden(format!(
                    "role {role} may not reassign households; ask your supervisor or coordinator"
                )));
            }
        },
    };
    if let (Some(own), Some(asked)) = (&own_group, &target.group)
        && own != asked
    {
        return Err(ReassignError::Forbidden(format!(
            "a supervisor moves households within their own group ({own}), not to {asked}; ask a coordinator"
        )));
    }
    let current = storage.assignments(&households)?;
    check_households(mover, own_group.as_deref(), &households, &current)?;
    let group = target.group.clone().or(own_group);
    if let Some(g) = &group
        && !storage.groups()?.iter().any(|known| &known.id == g)
    {
        return Err(ReassignError::UnknownGroup(g.clone()));
    }
    let worker_group = match &target.worker {
        None => None,
        Some(w) => {
            let workers = storage.workers()?;
            let found = workers
                .iter()
                .find(|known| &known.id == w)
                .ok_or_else(|| ReassignError::UnknownWorker(w.clone()))?;
            Some((w.clone(), found.group_id.clone()))
        }
    };
    let mut moves = Vec::with_capacity(households.len());
    let mut no_group = Vec::new();
    for h in households {
        let from = current.get(&h).cloned();
        let to_group = group
            .clone()
            .or_else(|| from.as_ref().and_then(|a| a.group_id.clone()));
        if let Some((worker, in_group)) = &worker_group
            && *in_group != to_group
        {
            return Err(ReassignError::NotInGroup {
                worker: worker.clone(),
                group: to_group,
            });
        }
        if to_group.is_none() && matches!(mover, Mover::Device(_)) {
            no_group.push(h);
        }
        moves.push(Reassignment {
            household: h,
            from,
            to: Assignment {
                group_id: to_group,
                worker_id: target.worker.clone(),
            },
        });
    }
    if !no_group.is_empty() {
        return Err(ReassignError::NoGroup(no_group));
    }
    Ok(moves)
}

/// Whether the mover may move each of `households` (as they stand: `current`).
fn check_households(
    mover: Mover<'_>,
    own_group: Option<&str>,
    households: &[Uuid],
    current: &HashMap<Uuid, Assignment>,
) -> Result<(), ReassignError> {
    let Mover::Device(_) = mover else {
        return Ok(());
    };
    match own_group {
        Some(own) => {
            let outside: Vec<Uuid> = households
                .iter()
                .copied()
                .filter(|h| {
                    current
                        .get(h)
                        .is_none_or(|a| a.group_id.as_deref() != Some(own))
                })
                .collect();
            if !outside.is_empty() {
                return Err(ReassignError::OutOfScope(outside));
            }
        }
        None => {
            let unknown: Vec<Uuid> = households
                .iter()
                .copied()
                .filter(|h| !current.contains_key(h))
                .collect();
            if !unknown.is_empty() {
                return Err(ReassignError::UnknownHouseholds(unknown));
            }
        }
    }
    Ok(())
}

/// Whether a planned move changes anything.
pub fn changes(m: &Reassignment) -> bool {
    m.from.as_ref() != Some(&m.to)
}

/// Applies the moves of a [`plan`] that change anything, all or nothing, with one `assign`
/// audit entry per household moved (the mover's device, the group and worker given; ids
/// only), in the same transaction. Returns how many were written. The administrator's command
/// writes a move that changes nothing too, as it always has: it sends the household's whole
/// history to its scope again, a repair for replicas that lost some of it.
pub fn apply(
    storage: &impl Storage,
    mover: Mover<'_>,
    moves: &[Reassignment],
    at: DateTime<Utc>,
) -> Result<usize, ReassignError> {
    let moving: Vec<Reassignment> = moves
        .iter()
        .filter(|m| matches!(mover, Mover::Admin) || changes(m))
        .cloned()
        .collect();
    if moving.is_empty() {
        return Ok(0);
    }
    let device_id = match mover {
        Mover::Admin => None,
        Mover::Device(p) => Some(p.device.id),
    };
    let events: Vec<AuditEvent> = moving
        .iter()
        .map(|m| AuditEvent {
            action: AuditAction::Assign,
            device_id,
            worker_id: m.to.worker_id.clone(),
            group_id: m.to.group_id.clone(),
            household: Some(m.household),
        })
        .collect();
    storage.reassign(&moving, &events, at)?;
    Ok(moving.len())
}
