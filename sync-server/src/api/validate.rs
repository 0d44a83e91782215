//! What the server checks about the content of received changes before it stores them, so that
//! no replica that pulls a household can fail on it: each change parsed within bounds
//! ([`parse`]), and each household's resulting document built from what is stored plus what
//! arrived and run through the same checks the client's reader runs, and more
//! ([`check_documents`], over [`HouseholdDoc::check_received`]). Used by the push and by the
//! per-household sync fallback alike.

use std::collections::{HashMap, HashSet};

use automerge::{ActorId, Change, ChangeHash};
use axum::http::StatusCode;
use madadkar_schema::{
    DocumentError, Household, HouseholdDoc, ReviewAction, change::parse_change,
    document::SCHEMA_VERSION, wire::WireChange,
};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use crate::documents::{Current, DocumentCache};
use crate::storage::{HouseholdFacts, Storage};

/// How many refused households one error message details; the `households` field names all.
const DETAILED: usize = 5;

/// Parses the `index`-th (from 0) change of a push within the bounds of any received change
/// (size, inflation of a compressed chunk, operation count).
pub(super) fn parse(index: usize, wc: &WireChange) -> ApiResult<Change> {
    parse_change(&wc.bytes).map_err(|e| ApiError::Households {
        status: StatusCode::BAD_REQUEST,
        code: "malformed_change",
        message: format!("change {} of household {}: {e}", index + 1, wc.household),
        households: vec![wc.household],
    })
}

/// Checks every chunk of a per-household sync message the way a pushed change is checked,
/// before Automerge takes it in: a whole-document chunk is refused too, since its compressed
/// columns cannot be bounded before they are inflated (the server never advertises the
/// message version that sends one; see `doc_sync`).
pub(super) fn parse_chunks<'a>(
    household: Uuid,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> ApiResult<()> {
    for (i, bytes) in chunks.enumerate() {
        parse(
            i,
            &WireChange {
                household,
                seq: 0,
                bytes: bytes.to_vec(),
                signature: None,
            },
        )?;
    }
    Ok(())
}

/// Why one household's resulting document is refused.
struct Refusal {
    household: Uuid,
    too_new: bool,
    rule: String,
}

/// Builds each household's document from its stored changes plus the `received` ones and
/// checks it ([`HouseholdDoc::check_received`]). All households are checked, and the error
/// names every refused one, so that a client sets them all aside in one round:
/// `409 duplicate_seq` when a change reuses an (actor, sequence number) held for another
/// change, otherwise `422 schema_too_new` when every refused document is of a newer schema
/// version than this server knows, otherwise `422 invalid_document`. A change the server
/// already holds (same hash) is skipped: pushing it again stays a no-op.
///
/// Returns the facts ([`crate::facts`]) of each household the changes make new, to be stored
/// with them; a household whose changes are all held already keeps its stored facts.
pub(super) fn check_documents<S: Storage>(
    storage: &S,
    documents: &DocumentCache,
    received: impl IntoIterator<Item = (Uuid, Change)>,
) -> ApiResult<Checked> {
    let mut order = Vec::new();
    let mut by_household: HashMap<Uuid, Vec<Change>> = HashMap::new();
    for (household, change) in received {
        by_household
            .entry(household)
            .or_insert_with(|| {
                order.push(household);
                Vec::new()
            })
            .push(change);
    }
    let mut duplicates = Vec::new();
    let mut refused = Vec::new();
    let mut facts = Vec::new();
    let mut reviewed = Vec::new();
    let mut graduated = Vec::new();
    for household in order {
        let changes = by_household.remove(&household).unwrap_or_default();
        let current = documents.current(storage, household)?;
        let new = new_changes(&current, changes);
        let checked = match new {
            None => {
                duplicates.push(household);
                None
            }
            Some(new) if new.is_empty() => None,
            Some(new) => Some(check_one(&current, new, &mut reviewed, &mut graduated)),
        };
        documents.keep(current);
        match checked {
            None => {}
            Some(Ok(f)) => facts.push(f),
            Some(Err(e)) => refused.push(Refusal {
                household,
                too_new: matches!(e, DocumentError::TooNew { .. }),
                rule: rule(&e),
            }),
        }
    }
    if !duplicates.is_empty() {
        return Err(ApiError::Households {
            status: StatusCode::CONFLICT,
            code: "duplicate_seq",
            message: format!(
                "a change reuses the actor and sequence number of another change of the same household ({}); make it again on its own device",
                list(&duplicates)
            ),
            households: duplicates,
        });
    }
    if refused.is_empty() {
        return Ok(Checked {
            facts,
            reviewed,
            graduated,
        });
    }
    let code = if refused.iter().all(|r| r.too_new) {
        "schema_too_new"
    } else {
        "invalid_document"
    };
    let mut message = refused
        .iter()
        .take(DETAILED)
        .map(|r| format!("household {}: {}", r.household, r.rule))
        .collect::<Vec<_>>()
        .join("; ");
    if refused.len() > DETAILED {
        message.push_str(&format!("; and {} more", refused.len() - DETAILED));
    }
    Err(ApiError::Households {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code,
        message,
        households: refused.into_iter().map(|r| r.household).collect(),
    })
}

/// Checks the document one household's stored changes make with its `new` ones, notes
/// whether they add a supervisor's step, and returns its facts.
fn check_one(
    current: &Current,
    new: Vec<Change>,
    reviewed: &mut Vec<Uuid>,
    graduated: &mut Vec<Uuid>,
) -> Result<HouseholdFacts, DocumentError> {
    let household = current.household;
    // Read once, by the check, for both the supervisor's steps and the facts.
    let (_, read) = HouseholdDoc::check_received_read(current.document(), new, household)?;
    let now = supervisor_steps(&read);
    if now != SupervisorSteps::default() {
        let held = HouseholdDoc::from_automerge(current.document())
            .and_then(|b| b.read())
            .map(|b| supervisor_steps(&b))
            .unwrap_or_default();
        if now.reviews.iter().any(|s| !held.reviews.contains(s)) {
            reviewed.push(household);
        }
        let new_status_event = now.statuses.iter().any(|s| !held.statuses.contains(s));
        if new_status_event || now.graduated != held.graduated || now.criteria != held.criteria {
            graduated.push(household);
        }
    }
    Ok(crate::facts::of_read(household, &read))
}

/// What the checks found in the households a push changes.
pub(super) struct Checked {
    /// The facts of each household the push makes new (see [`crate::facts`]).
    pub facts: Vec<HouseholdFacts>,
    /// Households to which the push adds a supervisor's review step (an approval or a return):
    /// only a supervisor or a coordinator may have made it.
    pub reviewed: Vec<Uuid>,
    /// Households to which the push adds a graduation or a re-entry, moves the status to or
    /// from graduated, or changes the graduation criteria: only a supervisor or a coordinator
    /// may decide those.
    pub graduated: Vec<Uuid>,
}

/// What of a household only a supervisor or a coordinator may write.
#[derive(Debug, Default, PartialEq, Eq)]
struct SupervisorSteps {
    /// The approvals and returns of its visits, by step id.
    reviews: HashSet<Uuid>,
    /// Its graduations and re-entries, by id.
    statuses: HashSet<Uuid>,
    graduated: bool,
    /// Its graduation criteria, when set to other than the defaults.
    criteria: Option<madadkar_schema::GraduationCriteria>,
}

fn supervisor_steps(household: &Household) -> SupervisorSteps {
    let reviews = household
        .visits
        .iter()
        .flat_map(|v| v.review.iter())
        .filter(|e| matches!(e.action, ReviewAction::Approved | ReviewAction::Returned))
        .map(|e| e.id)
        .collect();
    SupervisorSteps {
        reviews,
        statuses: household.status_events.iter().map(|e| e.id).collect(),
        graduated: household.status == madadkar_schema::HouseholdStatus::Graduated,
        criteria: (household.criteria != madadkar_schema::GraduationCriteria::default())
            .then_some(household.criteria),
    }
}

/// The received changes the household does not hold yet, or `None` when one of them reuses
/// the (actor, sequence number) of another change, stored or received. A change's hash names
/// its actor and sequence number, so a change held is one whose pair is held with its hash.
fn new_changes(current: &Current, received: Vec<Change>) -> Option<Vec<Change>> {
    let mut pending: HashMap<(ActorId, u64), ChangeHash> = HashMap::new();
    let mut new = Vec::new();
    for change in received {
        let (actor, seq, hash) = (change.actor_id().clone(), change.seq(), change.hash());
        match current
            .held(&actor, seq)
            .or_else(|| pending.get(&(actor.clone(), seq)).copied())
        {
            Some(other) if other == hash => continue,
            Some(_) => return None,
            None => {
                pending.insert((actor, seq), hash);
                new.push(change);
            }
        }
    }
    Some(new)
}

/// The rule a document breaks, in words that never repeat a value it holds (a name, a national
/// ID): the schema's messages name fields and paths, not values, except a field's validation
/// error, which is reduced to the field here.
fn rule(e: &DocumentError) -> String {
    match e {
        DocumentError::TooNew { found, .. } => format!(
            "its schema_version {found} is newer than this server knows ({SCHEMA_VERSION}); a newer server stores it"
        ),
        DocumentError::Invalid(v) => match v.field() {
            Some(field) => format!("{} does not validate", field.label_en()),
            None => "a field does not validate".into(),
        },
        DocumentError::Automerge(e) => format!("the changes do not apply: {e}"),
        other => other.to_string(),
    }
}

/// Households for a message: the first few, then how many more.
fn list(households: &[Uuid]) -> String {
    let mut out = households
        .iter()
        .take(DETAILED)
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if households.len() > DETAILED {
        out.push_str(&format!(" and {} more", households.len() - DETAILED));
    }
    out
}
