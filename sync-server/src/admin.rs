//! The administration commands' work: checks on the administrator's input, then the storage
//! call. Printing stays with the binary.

use chrono::{DateTime, Duration, Utc};
use madadkar_schema::{Partner, PartnerKind, Role, ValidationError};
use serde::Serialize;
use thiserror::Error;

use crate::audit;
use crate::auth;
use crate::reassign::{self, Mover, ReassignError, Target};
use crate::storage::{Assignment, Group, Storage, StorageError, WorkerRecord};
use madadkar_schema::AuditAction;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum AdminError {
    #[error("a group id is 1–64 letters, digits, '-' or '_'")]
    BadGroupId,
    #[error("a {0} worker needs --group")]
    NeedsGroup(Role),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Reassign(#[from] ReassignError),
    #[error("the system gave no randomness for a code")]
    Random(#[source] getrandom::Error),
    /// A partner file that is not a JSON array of partners; nothing was added.
    #[error(
        "the partner file is not a JSON array of partners ({0}); each is {{\"code\", \"kind\", \"name\", \"branch\", \"district\", \"active\"}}; nothing was added"
    )]
    // Not a `#[source]`: the message already says it, and a chain would say it twice.
    PartnerFile(serde_json::Error),
}

/// A fresh enrolment code, shown once: only its hash is stored.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollCode {
    pub code: String,
    pub worker_id: String,
    pub expires_at: DateTime<Utc>,
}

/// Creates a group; its id is short and plain so it can be typed on a command line.
pub fn add_group(storage: &impl Storage, id: &str, name: &str) -> Result<Group, AdminError> {
    let plain = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if id.is_empty() || id.len() > 64 || !plain {
        return Err(AdminError::BadGroupId);
    }
    Ok(storage.create_group(id, name)?)
}

/// Creates a worker; field workers and supervisors belong to a group.
pub fn add_worker(
    storage: &impl Storage,
    name: &str,
    group: Option<&str>,
    role: &str,
) -> Result<WorkerRecord, AdminError> {
    let role = Role::parse(role)?;
    if matches!(role, Role::Field | Role::Supervisor) && group.is_none() {
        return Err(AdminError::NeedsGroup(role));
    }
    Ok(storage.create_worker(name.trim(), group, role)?)
}

/// Issues a one-time enrolment code for a worker, valid for `hours` (1 hour to 30 days).
pub fn issue_enroll_code(
    storage: &impl Storage,
    worker: &str,
    hours: i64,
) -> Result<EnrollCode, AdminError> {
    let code = auth::new_enroll_code().map_err(AdminError::Random)?;
    let expires_at = Utc::now() + Duration::hours(hours.clamp(1, 24 * 30));
    storage.create_enroll_code(worker, auth::hash(&code), expires_at)?;
    Ok(EnrollCode {
        code,
        worker_id: worker.to_string(),
        expires_at,
    })
}

/// Gives a household to a group (and optionally one of its workers), and records it in the
/// audit log: the new group, and the worker if any, by id. The checks and the write are those
/// of every reassignment ([`crate::reassign`]); the administrator may also place a household
/// the server does not know yet.
pub fn assign(
    storage: &impl Storage,
    household: Uuid,
    assignment: &Assignment,
) -> Result<(), AdminError> {
    let target = Target {
        group: assignment.group_id.clone(),
        worker: assignment.worker_id.clone(),
    };
    let moves = reassign::plan(storage, Mover::Admin, &[household], &target)?;
    reassign::apply(storage, Mover::Admin, &moves, Utc::now())?;
    Ok(())
}

/// Refuses a device from now on, and records it in the audit log with the device's worker.
/// Begins retiring a device: its pending work is still accepted; then it is told to erase its
/// data. Recorded in the audit as a revocation would be.
pub fn retire_device(
    storage: &impl Storage,
    device: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    let worker = storage.principal_by_device(device)?.map(|p| p.worker);
    storage.retire_device(device, now)?;
    if let Some(worker) = worker {
        let event = audit::device_event(AuditAction::Retire, device, &worker);
        storage.append_audit(&[event], now)?;
    }
    Ok(())
}

pub fn revoke_device(
    storage: &impl Storage,
    device: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    let worker = storage.principal_by_device(device)?.map(|p| p.worker);
    storage.revoke_device(device, now)?;
    if let Some(worker) = worker {
        let event = audit::device_event(AuditAction::Revoke, device, &worker);
        storage.append_audit(&[event], now)?;
    }
    Ok(())
}

/// What the administrator types to add a partner.
#[derive(Debug, Clone)]
pub struct NewPartner<'a> {
    pub code: &'a str,
    /// A `PartnerKind` code (`bank`, `training_centre`, `clinic`, `other`) or its Persian label.
    pub kind: &'a str,
    pub name: &'a str,
    pub branch: Option<&'a str>,
    pub district: Option<&'a str>,
}

/// Adds an active partner to the directory and returns it as stored (its texts cleaned). Not
/// recorded in the access audit: the directory holds organisations, no household's data, as
/// groups and workers do not go there either.
pub fn add_partner(storage: &impl Storage, new: &NewPartner<'_>) -> Result<Partner, AdminError> {
    let partner = Partner {
        code: new.code.trim().to_string(),
        kind: PartnerKind::parse(new.kind)?,
        name: new.name.to_string(),
        branch: new.branch.map(Into::into),
        district: new.district.map(Into::into),
        active: true,
    };
    let stored = crate::partners::validated(&partner).map_err(StorageError::from)?;
    storage.add_partner(&stored)?;
    Ok(stored)
}

/// Reads a JSON array of partners (what `partner list --json` prints), each with its `active`
/// flag, as a seeding file gives them.
pub fn parse_partners(json: &str) -> Result<Vec<Partner>, AdminError> {
    serde_json::from_str(json).map_err(AdminError::PartnerFile)
}

/// Adds every partner of a seeding file, all or nothing (see [`Storage::add_partners`]);
/// returns how many.
pub fn import_partners(storage: &impl Storage, json: &str) -> Result<usize, AdminError> {
    let partners = parse_partners(json)?;
    storage.add_partners(&partners)?;
    Ok(partners.len())
}

/// Retires a partner (`active = false`) or brings it back: a retired partner stays listed for
/// the referrals that name it, but replicas offer it for no new one.
pub fn set_partner_active(
    storage: &impl Storage,
    code: &str,
    active: bool,
) -> Result<(), AdminError> {
    Ok(storage.set_partner_active(code.trim(), active)?)
}
