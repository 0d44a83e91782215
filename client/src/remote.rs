//! Reconciliation calls to the server: reassigning households (`POST /v1/assignments`, for
//! supervisors and coordinators) and asking which groups registered a national ID
//! (`POST /v1/lookup`, at registration). As in [`crate::access`], a request is built from the
//! store's settings first and run without holding the store (the desktop app does not keep its
//! store locked while the network answers); an unreachable server is the usual
//! [`StoreError::Network`], so a form can fall back to the local check.
//!
//! After an applied reassignment the replica writes the new `assigned_group` /
//! `assigned_worker` into each moved household it holds ([`Store::record_assignment`]), so its
//! lists and caseloads agree with the server before the next pull.

use std::collections::HashSet;

use madadkar_schema::{
    HouseholdEdit, NationalId,
    wire::{
        AssignRequest as AssignBody, AssignResponse, LookupRequest as LookupBody, LookupResponse,
        MAX_ASSIGN_HOUSEHOLDS, RegisteredGroup,
    },
};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::sync::{Http, protocol};

/// The server's address and this device's token.
#[derive(Clone)]
struct Remote {
    server_url: String,
    token: String,
}

impl Remote {
    fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
        what: &str,
    ) -> Result<T> {
        let bytes = serde_json::to_vec(body).map_err(|e| StoreError::Encode {
            message: e.to_string(),
        })?;
        let mut http = Http::new(&self.server_url, &self.token)?;
        let answer = http.post(path, "application/json", bytes)?;
        serde_json::from_slice(&answer).map_err(|e| protocol(what, e))
    }
}

/// Where households go: a group (`None`: the group each is in, a supervisor's own) and one of
/// its workers (`None`: the group as a whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub group: Option<String>,
    pub worker: Option<String>,
}

/// A reassignment to ask the server for (see [`Store::assign_request`]).
#[derive(Clone)]
pub struct AssignRequest {
    remote: Remote,
    body: AssignBody,
}

/// The token stays out of debug output and logs.
impl std::fmt::Debug for AssignRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssignRequest")
            .field("server_url", &self.remote.server_url)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

/// A lookup to ask the server for (see [`Store::lookup_request`]).
#[derive(Clone)]
pub struct LookupRequest {
    remote: Remote,
    national_id: NationalId,
}

/// Neither the token nor the national ID shows in debug output or logs.
impl std::fmt::Debug for LookupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupRequest")
            .field("server_url", &self.remote.server_url)
            .finish_non_exhaustive()
    }
}

impl Store {
    fn remote(&self) -> Result<Remote> {
        let token = self.meta_value("token")?.ok_or(StoreError::NotEnrolled)?;
        let server_url = self
            .meta_value("server_url")?
            .ok_or(StoreError::NotEnrolled)?;
        Ok(Remote { server_url, token })
    }

    /// The request that moves `households` to `target` (`dry_run`: only say what would move);
    /// `NotEnrolled` for a replica without a server. The server decides who may move what.
    pub fn assign_request(
        &self,
        households: &[Uuid],
        target: &Target,
        dry_run: bool,
    ) -> Result<AssignRequest> {
        Ok(AssignRequest {
            remote: self.remote()?,
            body: AssignBody {
                households: households.to_vec(),
                group: target.group.clone(),
                worker: target.worker.clone(),
                dry_run,
            },
        })
    }

    /// The request that asks which groups registered `national_id`; an ID that is not one is
    /// refused here ([`StoreError::Invalid`]) and never sent.
    pub fn lookup_request(&self, national_id: &str) -> Result<LookupRequest> {
        let national_id = NationalId::parse(national_id)?;
        Ok(LookupRequest {
            remote: self.remote()?,
            national_id,
        })
    }

    /// Writes an applied reassignment into the households this replica holds: each moved one
    /// whose document names another group or worker gets the new `assigned_group` and
    /// `assigned_worker` (none: the group as a whole). Households it does not hold are left to
    /// the next pull. Returns the households written.
    pub fn record_assignment(&mut self, answer: &AssignResponse) -> Result<Vec<Uuid>> {
        if !answer.applied {
            return Ok(Vec::new());
        }
        let held: HashSet<Uuid> = self.household_ids()?.into_iter().collect();
        let mut written = Vec::new();
        for m in &answer.moves {
            if !held.contains(&m.household) {
                continue;
            }
            let household = self.document(m.household)?.read()?;
            let now = (
                household.assigned_group.as_deref(),
                household.assigned_worker.as_deref(),
            );
            let to = (m.to.group_id.as_deref(), m.to.worker_id.as_deref());
            if now == to {
                continue;
            }
            // An empty value clears the field: the group as a whole.
            let edit = HouseholdEdit {
                assigned_group: Some(m.to.group_id.clone().unwrap_or_default()),
                assigned_worker: Some(m.to.worker_id.clone().unwrap_or_default()),
                ..Default::default()
            };
            let edit = edit.validated(crate::store::today())?;
            self.edit_household_in(m.household, &edit)?;
            written.push(m.household);
        }
        Ok(written)
    }

    /// Asks the server to move `households` (or, with `dry_run`, what would move) and, once
    /// applied, records it in the households held here. The desktop app runs the request
    /// without holding the store instead: [`Self::assign_request`], [`AssignRequest::run`],
    /// then [`Self::record_assignment`].
    pub fn reassign(
        &mut self,
        households: &[Uuid],
        target: &Target,
        dry_run: bool,
    ) -> Result<AssignResponse> {
        let answer = self.assign_request(households, target, dry_run)?.run()?;
        self.record_assignment(&answer)?;
        Ok(answer)
    }

    /// Which groups registered `national_id` (on the server); `Network` when it cannot be
    /// reached.
    pub fn lookup_national_id(&self, national_id: &str) -> Result<Vec<RegisteredGroup>> {
        self.lookup_request(national_id)?.run()
    }
}

impl AssignRequest {
    /// Sends the request; the server's preview or what it did. An answer that does not match
    /// the request (another household, a dry run applied, counts that do not add up) is a
    /// protocol error.
    pub fn run(&self) -> Result<AssignResponse> {
        let answer: AssignResponse =
            self.remote
                .post_json("/v1/assignments", &self.body, "unexpected reassignment")?;
        check_assign_answer(&self.body, &answer)?;
        Ok(answer)
    }

    pub fn households(&self) -> &[Uuid] {
        &self.body.households
    }

    pub fn dry_run(&self) -> bool {
        self.body.dry_run
    }
}

impl LookupRequest {
    /// Sends the request; the groups holding a household with the national ID (each once).
    pub fn run(&self) -> Result<Vec<RegisteredGroup>> {
        let body = LookupBody {
            national_id: self.national_id.as_str().to_string(),
        };
        let answer: LookupResponse =
            self.remote
                .post_json("/v1/lookup", &body, "unexpected lookup answer")?;
        let mut seen = HashSet::new();
        if !answer.registered.iter().all(|g| seen.insert(&g.group_id)) {
            return Err(protocol(
                "unexpected lookup answer",
                "a group is named twice",
            ));
        }
        Ok(answer.registered)
    }
}

/// What a reassignment's answer must be to be believed.
fn check_assign_answer(request: &AssignBody, answer: &AssignResponse) -> Result<()> {
    let bad = |what: &str| Err(protocol("unexpected reassignment", what));
    if answer.applied == request.dry_run {
        return bad("it does not say whether it applied what was asked");
    }
    let asked: HashSet<Uuid> = request.households.iter().copied().collect();
    if answer.moves.len() > MAX_ASSIGN_HOUSEHOLDS
        || answer.moves.iter().any(|m| !asked.contains(&m.household))
    {
        return bad("it names households that were not asked for");
    }
    let moved = answer.moves.iter().filter(|m| m.from != m.to).count();
    if moved != answer.moved || answer.moves.len() - moved != answer.unchanged {
        return bad("its counts do not match its moves");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use madadkar_schema::wire::{AssignMove, Placement};

    use super::*;

    fn placed(group: &str, worker: Option<&str>) -> Placement {
        Placement {
            group_id: Some(group.into()),
            worker_id: worker.map(Into::into),
        }
    }

    #[test]
    fn an_answer_must_match_the_request() {
        let h = Uuid::now_v7();
        let request = AssignBody {
            households: vec![h],
            group: Some("y".into()),
            worker: None,
            dry_run: true,
        };
        let good = AssignResponse {
            applied: false,
            moves: vec![AssignMove {
                household: h,
                from: placed("x", Some("w")),
                to: placed("y", None),
            }],
            moved: 1,
            unchanged: 0,
        };
        assert!(check_assign_answer(&request, &good).is_ok());
        let applied = AssignResponse {
            applied: true,
            ..good.clone()
        };
        let mut stranger = good.clone();
        stranger.moves[0].household = Uuid::now_v7();
        let miscounted = AssignResponse {
            moved: 0,
            unchanged: 1,
            ..good.clone()
        };
        for (i, bad) in [applied, stranger, miscounted].iter().enumerate() {
            assert!(
                matches!(
                    check_assign_answer(&request, bad),
                    Err(StoreError::Protocol { .. })
                ),
                "case {i}"
            );
        }
    }

    #[test]
    fn without_a_server_nothing_is_asked_and_a_bad_id_is_never_sent() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store =
            Store::open(dir.path(), &crate::Passphrase::new("test passphrase")).expect("store");
        store.init("w", "d", None).expect("init");
        assert!(matches!(
            store.lookup_request("0499370899"),
            Err(StoreError::NotEnrolled)
        ));
        assert!(matches!(
            store.assign_request(&[Uuid::now_v7()], &Target::default(), true),
            Err(StoreError::NotEnrolled)
        ));
        assert!(matches!(
            store.lookup_request("0499370898"),
            Err(StoreError::Invalid(_))
        ));
    }
}
