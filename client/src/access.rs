//! A household's access history from the server's audit (`GET /v1/households/{id}/access`):
//! which devices and workers pushed, pulled, reassigned or merged it, for supervisors and
//! coordinators. The history lives on the server only, so reading it needs a connection; an
//! unreachable server is the usual [`StoreError::Network`].

use madadkar_schema::{
    Role,
    audit::{AccessEntry, AccessPage, MAX_ACCESS_PAGE},
};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::sync::{Http, protocol};

/// What asking the server takes: its address, this device's token and the household. Read from
/// the store first, so the request can run without holding the store (the desktop app does not
/// keep its store locked while the network answers).
#[derive(Clone)]
pub struct AccessRequest {
    server_url: String,
    token: String,
    household: Uuid,
}

/// The token stays out of debug output and logs.
impl std::fmt::Debug for AccessRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessRequest")
            .field("server_url", &self.server_url)
            .field("household", &self.household)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Whether this replica's worker may read access histories (a supervisor or coordinator),
    /// by the role the server gave at enrolment; the server decides again on every request.
    pub fn may_read_access_history(&self) -> Result<bool> {
        let role = self.meta_value("role")?;
        Ok(role
            .is_some_and(|r| matches!(Role::parse(&r), Ok(Role::Supervisor | Role::Coordinator))))
    }

    /// The request for `household`'s access history; `NotEnrolled` for a replica without a
    /// server.
    pub fn access_request(&self, household: Uuid) -> Result<AccessRequest> {
        let token = self.meta_value("token")?.ok_or(StoreError::NotEnrolled)?;
        let server_url = self
            .meta_value("server_url")?
            .ok_or(StoreError::NotEnrolled)?;
        Ok(AccessRequest {
            server_url,
            token,
            household,
        })
    }

    /// `household`'s newest access entries (at most [`MAX_ACCESS_PAGE`]), newest first. Older
    /// ones: [`AccessRequest::page`].
    pub fn access_history(&self, household: Uuid) -> Result<Vec<AccessEntry>> {
        self.access_request(household)?.fetch()
    }
}

impl AccessRequest {
    pub fn household(&self) -> Uuid {
        self.household
    }

    /// The newest entries, newest first (at most [`MAX_ACCESS_PAGE`]).
    pub fn fetch(&self) -> Result<Vec<AccessEntry>> {
        Ok(self.page(None, MAX_ACCESS_PAGE)?.entries)
    }

    /// One page: at most `limit` entries (1 to [`MAX_ACCESS_PAGE`]) numbered below `before`.
    /// An answer that is not such a page (another household, too many entries, out of order)
    /// is a protocol error, not a history.
    pub fn page(&self, before: Option<u64>, limit: usize) -> Result<AccessPage> {
        let limit = limit.clamp(1, MAX_ACCESS_PAGE);
        let mut path = format!("/v1/households/{}/access?limit={limit}", self.household);
        if let Some(b) = before {
            path.push_str(&format!("&before={b}"));
        }
        let mut http = Http::new(&self.server_url, &self.token)?;
        let body = http.get(&path)?;
        let page: AccessPage =
            serde_json::from_slice(&body).map_err(|e| protocol("unexpected access history", e))?;
        check_page(&page, self.household, before, limit)?;
        Ok(page)
    }
}

/// What a page must be to be shown as this household's history.
fn check_page(page: &AccessPage, household: Uuid, before: Option<u64>, limit: usize) -> Result<()> {
    let bad = |what: &str| Err(protocol("unexpected access history", what));
    if page.household != household {
        return bad("it is another household's");
    }
    if page.entries.len() > limit {
        return bad("it holds more entries than asked for");
    }
    let mut bound = before;
    for entry in &page.entries {
        // Newest first: every entry below the one before it (and below `before`).
        if bound.is_some_and(|b| entry.seq >= b) {
            return bad("its entries are not newest first");
        }
        bound = Some(entry.seq);
    }
    if page
        .next_before
        .is_some_and(|n| page.entries.last().is_none_or(|e| e.seq != n))
    {
        return bad("its next page does not follow its last entry");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use madadkar_schema::AuditAction;

    use super::*;

    fn entry(seq: u64) -> AccessEntry {
        AccessEntry {
            seq,
            at: Utc::now(),
            action: AuditAction::Pull,
            device_id: None,
            worker_id: None,
            worker_name: None,
            group_id: None,
        }
    }

    fn page(household: Uuid, seqs: &[u64], next_before: Option<u64>) -> AccessPage {
        AccessPage {
            household,
            entries: seqs.iter().copied().map(entry).collect(),
            next_before,
        }
    }

    #[test]
    fn a_page_must_be_this_households_newest_first_within_the_limit() {
        let h = Uuid::now_v7();
        assert!(check_page(&page(h, &[9, 5, 2], None), h, None, 3).is_ok());
        assert!(check_page(&page(h, &[9, 5], Some(5)), h, Some(10), 2).is_ok());
        assert!(check_page(&page(h, &[], None), h, None, 3).is_ok());
        let refused = [
            check_page(&page(Uuid::now_v7(), &[9], None), h, None, 3),
            check_page(&page(h, &[9, 5, 2], None), h, None, 2),
            check_page(&page(h, &[5, 9], None), h, None, 3),
            check_page(&page(h, &[5, 5], None), h, None, 3),
            check_page(&page(h, &[12], None), h, Some(10), 3),
            check_page(&page(h, &[9, 5], Some(9)), h, None, 3),
            check_page(&page(h, &[], Some(4)), h, None, 3),
        ];
        for (i, r) in refused.into_iter().enumerate() {
            assert!(
                matches!(r, Err(StoreError::Protocol { .. })),
                "case {i}: {r:?}"
            );
        }
    }

    #[test]
    fn a_replica_without_a_server_is_not_enrolled_and_may_not_read() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store =
            Store::open(dir.path(), &crate::Passphrase::new("test passphrase")).expect("store");
        store.init("w", "d", None).expect("init");
        assert!(matches!(
            store.access_history(Uuid::now_v7()),
            Err(StoreError::NotEnrolled)
        ));
        assert!(!store.may_read_access_history().expect("role"));
    }
}
