//! Reconciliation: what supervisors and coordinators do to keep one register of households
//! (see `docs/reconciliation.md`). Split by job:
//!
//! | file | job |
//! | --- | --- |
//! | `compose.rs` | a survivor composed with the households merged into it |
//! | `merge.rs` | merging, undoing a merge, "not a duplicate", following redirects |
//! | `duplicates.rs` | finding duplicate pairs and the check at registration |
//! | `review.rs` | the review of visits: queue, approve, return, correct, resubmit |
//! | `inbox.rs` | the conflicts inbox across every household in scope |
//! | `caseloads.rs` | each worker's caseload, for the supervisor |
//!
//! The role checks here are for the person at the keyboard; the server checks every change it
//! receives again against the role it gave the device.

pub mod caseloads;
pub mod compose;
pub mod duplicates;
pub mod inbox;
pub mod merge;
pub mod review;

use madadkar_schema::Role;

use crate::error::{Result, StoreError};
use crate::store::Store;

impl Store {
    /// The role the server gave this replica at enrolment; a replica never enrolled (a worker
    /// alone with the CLI) is a field worker.
    pub fn role(&self) -> Result<Role> {
        match self.meta_value("role")? {
            Some(code) if !code.is_empty() => Ok(Role::parse(&code)?),
            _ => Ok(Role::Field),
        }
    }

    /// The group the server put this replica's worker in, if any.
    pub fn group(&self) -> Result<Option<String>> {
        Ok(self.meta_value("group_id")?.filter(|g| !g.is_empty()))
    }

    /// Refuses `action` unless this replica is a supervisor's or a coordinator's.
    pub(crate) fn require_supervisor(&self, action: &'static str) -> Result<Role> {
        match self.role()? {
            role @ (Role::Supervisor | Role::Coordinator) => Ok(role),
            _ => Err(StoreError::NotPermitted {
                action,
                needs: "a supervisor or a coordinator",
            }),
        }
    }

    /// Refuses `action` unless this replica is a coordinator's.
    pub(crate) fn require_coordinator(&self, action: &'static str) -> Result<()> {
        match self.role()? {
            Role::Coordinator => Ok(()),
            _ => Err(StoreError::NotPermitted {
                action,
                needs: "a coordinator",
            }),
        }
    }
}
