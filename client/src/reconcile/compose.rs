//! A survivor composed with the households merged into it. A merge copies nothing: the retired
//! household keeps its own document with a redirect, and every replica that shows the survivor
//! reads both and shows one household. Work written to the retired household later (by a
//! worker who had not heard of the merge) therefore shows in the survivor exactly once, on every
//! replica, and undoing the merge is removing the redirect. `docs/reconciliation.md` says why
//! this beats copying entries into the survivor in a CRDT.
//!
//! Members with the same national ID are shown once (the survivor's); where the retired
//! household's copy says something else, both values are kept as a conflict to resolve.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use madadkar_schema::{
    Conflict, ConflictValue, DocumentError, Field, FieldPath, Household, HouseholdDoc, MergeLink,
};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::projection;
use crate::store::try_load_document;

/// A household merged into a survivor, as the survivor's page names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AbsorbedHousehold {
    pub id: Uuid,
    pub head_name: String,
    pub assigned_group: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub link: MergeLink,
}

/// A value the survivor and a household merged into it hold differently: the survivor's value
/// and the other's, each with who wrote it. Resolving it writes the chosen value to both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MergedConflict {
    #[serde(flatten)]
    pub conflict: Conflict,
    pub other_household: Uuid,
    pub other_path: FieldPath,
}

/// The survivor as every replica shows it.
#[derive(Debug, Clone)]
pub struct Composition {
    pub household: Household,
    pub absorbed: Vec<AbsorbedHousehold>,
    pub conflicts: Vec<MergedConflict>,
    /// Which household's document holds each member, visit and referral shown.
    pub owners: HashMap<Uuid, Uuid>,
}

impl Composition {
    /// The household whose document holds `entity`; `shown` (the survivor) when not found.
    pub fn owner(&self, entity: Uuid, shown: Uuid) -> Uuid {
        self.owners.get(&entity).copied().unwrap_or(shown)
    }

    /// The household whose document holds the entity a field path points at, `shown` for the
    /// household's own fields.
    pub fn owner_of_path(&self, path: &FieldPath, shown: Uuid) -> Uuid {
        match path {
            FieldPath::Member { member: e, .. }
            | FieldPath::Visit { visit: e, .. }
            | FieldPath::Need { visit: e, .. }
            | FieldPath::Referral { referral: e, .. }
            | FieldPath::ReferralEvent { referral: e, .. } => self.owner(*e, shown),
            FieldPath::Household(_) | FieldPath::Other(_) => shown,
        }
    }

    /// The value at `path` that the survivor and a household merged into it hold differently:
    /// that household and where the value lives there.
    pub fn merged_conflict(&self, path: &FieldPath) -> Option<(Uuid, &FieldPath)> {
        self.conflicts
            .iter()
            .find(|m| &m.conflict.path == path)
            .map(|m| (m.other_household, &m.other_path))
    }
}

const HOUSEHOLD_FIELDS: [Field; 4] = [
    Field::District,
    Field::Address,
    Field::Phone,
    Field::AltPhone,
];
const MEMBER_FIELDS: [Field; 10] = [
    Field::FirstName,
    Field::LastName,
    Field::BirthDate,
    Field::Sex,
    Field::Relation,
    Field::Education,
    Field::Employment,
    Field::FatherName,
    Field::HealthNotes,
    Field::DisabilityNotes,
];

/// Composes `survivor` with `absorbed` (the households whose redirect points at it).
/// `authors: false` leaves the conflicts' authors empty (for counting them in projections).
pub fn compose(
    survivor: &mut HouseholdDoc,
    absorbed: &mut [HouseholdDoc],
    authors: bool,
) -> Result<Composition> {
    let mut household = survivor.read()?;
    let mut owners: HashMap<Uuid, Uuid> = HashMap::new();
    let own = household.id;
    for id in household
        .members
        .iter()
        .map(|m| m.id)
        .chain(household.visits.iter().map(|v| v.id))
        .chain(household.referrals.iter().map(|r| r.id))
        .chain(household.goals.iter().map(|g| g.id))
        .chain(
            household
                .goals
                .iter()
                .flat_map(|g| g.steps.iter().map(|s| s.id)),
        )
    {
        owners.insert(id, own);
    }
    let mut conflicts = Vec::new();
    let mut names = Vec::new();
    for other_doc in absorbed.iter_mut() {
        let other = other_doc.read()?;
        let Some(link) = other.merged.clone() else {
            continue;
        };
        names.push(AbsorbedHousehold {
            id: other.id,
            head_name: other.head().map(|m| m.full_name()).unwrap_or_default(),
            assigned_group: other.assigned_group.clone(),
            created_by: other.created_by.clone(),
            created_at: other.created_at,
            link,
        });
        for field in HOUSEHOLD_FIELDS {
            let path = FieldPath::Household(field);
            differ(
                survivor,
                other_doc,
                &path,
                &path,
                other.id,
                authors,
                &mut conflicts,
            )?;
        }
        fill_household(&mut household, &other);
        for member in &other.members {
            let twin = member.national_id.as_ref().and_then(|nid| {
                household
                    .members
                    .iter()
                    .find(|m| {
                        owners.get(&m.id) == Some(&own) && m.national_id.as_ref() == Some(nid)
                    })
                    .map(|m| m.id)
            });
            match twin {
                Some(twin) => {
                    for field in MEMBER_FIELDS {
                        let ours = FieldPath::Member {
                            member: twin,
                            field,
                        };
                        let theirs = FieldPath::Member {
                            member: member.id,
                            field,
                        };
                        differ(
                            survivor,
                            other_doc,
                            &ours,
                            &theirs,
                            other.id,
                            authors,
                            &mut conflicts,
                        )?;
                    }
                    if let Some(m) = household.members.iter_mut().find(|m| m.id == twin) {
                        fill_member(m, member);
                    }
                    owners.entry(member.id).or_insert(other.id);
                }
                None => {
                    owners.insert(member.id, other.id);
                    household.members.push(member.clone());
                }
            }
        }
        for visit in &other.visits {
            if owners.insert(visit.id, other.id).is_none() {
                household.visits.push(visit.clone());
            }
        }
        for referral in &other.referrals {
            if owners.insert(referral.id, other.id).is_none() {
                household.referrals.push(referral.clone());
            }
        }
        // The retired household's plan goes on in the survivor: its goals and steps show
        // there, and progress on them is written to the document that holds them.
        for goal in &other.goals {
            if owners.insert(goal.id, other.id).is_none() {
                for step in &goal.steps {
                    owners.insert(step.id, other.id);
                }
                household.goals.push(goal.clone());
            }
        }
        household
            .not_duplicates
            .extend(other.not_duplicates.clone());
    }
    household.visits.sort_by_key(|v| (v.date, v.id));
    Ok(Composition {
        household,
        absorbed: names,
        conflicts,
        owners,
    })
}

/// Where the survivor leaves a field empty, the retired household's value shows (nothing
/// disagrees, so nothing is in conflict).
fn fill_household(h: &mut Household, other: &Household) {
    if h.phone.is_none() {
        h.phone.clone_from(&other.phone);
    }
    if h.alt_phone.is_none() {
        h.alt_phone.clone_from(&other.alt_phone);
    }
}

fn fill_member(m: &mut madadkar_schema::Member, other: &madadkar_schema::Member) {
    m.birth_date = m.birth_date.or(other.birth_date);
    m.sex = m.sex.or(other.sex);
    m.education = m.education.or(other.education);
    m.employment = m.employment.or(other.employment);
    if m.father_name.is_none() {
        m.father_name.clone_from(&other.father_name);
    }
}

/// Records a conflict where both households hold a value for the field and the values differ.
#[allow(clippy::too_many_arguments)]
fn differ(
    survivor: &mut HouseholdDoc,
    other: &mut HouseholdDoc,
    ours: &FieldPath,
    theirs: &FieldPath,
    other_id: Uuid,
    authors: bool,
    out: &mut Vec<MergedConflict>,
) -> Result<()> {
    let (Some(a), Some(b)) = (
        survivor.value_at(ours, authors)?,
        other.value_at(theirs, authors)?,
    ) else {
        return Ok(());
    };
    if a.value == b.value {
        return Ok(());
    }
    let current = a.value.clone();
    let values: Vec<ConflictValue> = vec![a, b];
    out.push(MergedConflict {
        conflict: Conflict {
            field: ours.field(),
            label_fa: ours.label_fa(),
            label_en: ours.label_en(),
            path: ours.clone(),
            current,
            values,
        },
        other_household: other_id,
        other_path: theirs.clone(),
    });
    Ok(())
}

fn is_too_new(e: &StoreError) -> bool {
    matches!(e, StoreError::Document(DocumentError::TooNew { .. }))
}

/// Whether any household stored here redirects to `id`.
pub(crate) fn has_absorbed(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM p_households WHERE merged_into = ? LIMIT 1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The households stored here that redirect to `id`, in id order.
pub(crate) fn absorbed_ids(conn: &Connection, id: Uuid) -> Result<Vec<Uuid>> {
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM p_households WHERE merged_into = ? ORDER BY id")?
        .query_map([id.to_string()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids.iter().filter_map(|s| Uuid::parse_str(s).ok()).collect())
}

/// The survivor `id` composed from the documents stored here; `None` when it is not stored
/// here (the survivor is outside this replica's scope).
pub(crate) fn load_composition(
    conn: &Connection,
    id: Uuid,
    authors: bool,
) -> Result<Option<(HouseholdDoc, Composition)>> {
    let Some(mut doc) = try_load_document(conn, id)? else {
        return Ok(None);
    };
    let mut absorbed = Vec::new();
    for other in absorbed_ids(conn, id)? {
        // A household a newer Madadkar wrote cannot be read whole by this version; the
        // survivor shows without it rather than not at all.
        match try_load_document(conn, other) {
            Ok(Some(doc)) => absorbed.push(doc),
            Ok(None) => {}
            Err(e) if is_too_new(&e) => {}
            Err(e) => return Err(e),
        }
    }
    let composition = compose(&mut doc, &mut absorbed, authors)?;
    Ok(Some((doc, composition)))
}

/// The rows of a survivor as composed (its own row's counts, dates and search text come from
/// these); `None` when it is not stored here or is of a newer version (its row then stays as
/// derived from itself).
pub(crate) fn composed_rows(
    conn: &Connection,
    id: Uuid,
) -> Result<Option<projection::HouseholdRows>> {
    let (doc, composition) = match load_composition(conn, id, false) {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        Err(e) if is_too_new(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let conflicts = doc.conflict_paths()?.len() + composition.conflicts.len();
    Ok(Some(projection::rows_of(&composition.household, conflicts)))
}

/// Derives the survivor's own row (counts, dates, search text) from its composition.
pub(crate) fn refresh_survivor(conn: &Connection, id: &str) -> Result<()> {
    let Ok(uuid) = Uuid::parse_str(id) else {
        return Ok(());
    };
    let Some(rows) = composed_rows(conn, uuid)? else {
        return Ok(());
    };
    let old = projection::read(conn, id)?.unwrap_or_default();
    projection::write_household(conn, id, &old, &rows)
}
