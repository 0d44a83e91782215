//! Finding households registered twice, on the matcher of `madadkar_schema::matching`: the
//! blocking keys each household is indexed under (`p_match_keys`, so the check at registration
//! is a few index lookups), the candidate pairs of the inbox over every household this replica
//! holds (a supervisor's group, a coordinator's province), the side-by-side comparison, and the
//! facts a "not a duplicate" decision remembers.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use madadkar_schema::matching::{
    self, Agreement, Band, Candidate, MatchMember, MatchRecord, PairScore, Population,
};
use madadkar_schema::{Field, Household, Relation, parse_iso_date};
use rusqlite::{Connection, params_from_iter};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::forms::HouseholdText;
use crate::query::{self, HouseholdSummary};
use crate::store::{HouseholdDetails, Store};

/// One field's part in a pair's score, for people: which field, how far it agreed, how much it
/// counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MatchReason {
    /// The field's code (`national_id`, `head_name`, `phone`, …).
    pub field: String,
    pub label_fa: String,
    pub label_en: String,
    /// `exact`, `close` or `differs`.
    pub agreement: String,
    /// For `close`: how close, 0 to 1.
    pub similarity: Option<f32>,
    /// What it added to the score (negative: what it took away).
    pub weight: f32,
}

/// The band a pair landed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PairBand {
    Likely,
    Possible,
}

impl PairBand {
    fn of(band: Band) -> Self {
        match band {
            Band::Likely => Self::Likely,
            Band::Possible => Self::Possible,
        }
    }

    /// `likely` or `possible` (the CLI's `--band`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "likely" => Some(Self::Likely),
            "possible" => Some(Self::Possible),
            _ => None,
        }
    }
}

/// Two households that may be one family, with why, as the inbox lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DuplicatePair {
    pub a: HouseholdSummary,
    pub b: HouseholdSummary,
    pub score: f32,
    pub band: PairBand,
    pub reasons: Vec<MatchReason>,
}

/// Two households side by side, with the matcher's view of the pair.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Comparison {
    pub a: HouseholdDetails,
    pub b: HouseholdDetails,
    /// The pair's score, band and reasons (no band: the matcher would not propose it).
    pub score: f32,
    pub band: Option<PairBand>,
    pub reasons: Vec<MatchReason>,
}

/// A household that a registration (or a new member) looks like.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegistrationMatch {
    pub household: HouseholdSummary,
    pub band: PairBand,
    pub score: f32,
    pub reasons: Vec<MatchReason>,
}

fn reasons(score: &PairScore) -> Vec<MatchReason> {
    score
        .reasons
        .iter()
        .map(|r| {
            let (agreement, similarity) = match r.agreement {
                Agreement::Exact => ("exact", None),
                Agreement::Close(s) => ("close", Some(s)),
                Agreement::Differs => ("differs", None),
            };
            MatchReason {
                field: r.field.code().into(),
                label_fa: r.field.label_fa().into(),
                label_en: r.field.label_en().into(),
                agreement: agreement.into(),
                similarity,
                weight: r.weight,
            }
        })
        .collect()
}

/// The matcher's view of a household.
pub fn record_of(h: &Household) -> MatchRecord {
    MatchRecord {
        household: h.id,
        group: h.assigned_group.clone(),
        district: h.district.clone(),
        address: h.address.clone(),
        phones: h.phone.iter().chain(h.alt_phone.iter()).cloned().collect(),
        members: h
            .members
            .iter()
            .map(|m| MatchMember {
                first_name: m.first_name.clone(),
                last_name: m.last_name.clone(),
                national_id: m.national_id.as_ref().map(|n| n.to_string()),
                birth_date: m.birth_date,
                relation: m.relation,
                father_name: m.father_name.clone(),
            })
            .collect(),
    }
}

/// The blocking keys of a household: what two registrations of one family are likely to share.
pub fn match_keys(h: &Household) -> Vec<String> {
    matching::block_keys(&record_of(h))
        .iter()
        .map(|k| k.as_str().to_string())
        .collect()
}

/// The households whose records are read: every one listed (not merged into a survivor held
/// here, whose record includes it), and not of a newer version. `only` narrows to some ids.
fn records(conn: &Connection, only: Option<&[String]>) -> Result<Vec<MatchRecord>> {
    let filter = match only {
        Some(ids) => format!(
            "AND h.id IN ({})",
            std::iter::repeat_n("?", ids.len())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    };
    let args: Vec<String> = only.map(<[String]>::to_vec).unwrap_or_default();
    let mut by_id: BTreeMap<String, MatchRecord> = BTreeMap::new();
    let sql = format!(
        "SELECT h.id, h.assigned_group, h.district, h.address, h.phone, h.alt_phone \
         FROM p_households h WHERE h.needs_update = 0 AND (h.merged_into IS NULL OR NOT EXISTS \
         (SELECT 1 FROM p_households s WHERE s.id = h.merged_into)) {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let household = Uuid::parse_str(&id).map_err(|_| StoreError::NotFound {
            kind: "household",
            id: id.clone(),
        })?;
        let phones: Vec<String> = [row.get::<_, Option<String>>(4)?, row.get(5)?]
            .into_iter()
            .flatten()
            .collect();
        by_id.insert(
            id,
            MatchRecord {
                household,
                group: row.get(1)?,
                district: row.get(2)?,
                address: row.get(3)?,
                phones,
                members: Vec::new(),
            },
        );
    }
    // Members, each under the household it shows in: a survivor's record holds the members of
    // the households merged into it.
    // Both parts of the filter use an index (members by household, households by redirect):
    // a check at registration reads a few households' members, not every member.
    let member_filter = match only {
        Some(ids) => {
            let marks = std::iter::repeat_n("?", ids.len())
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "WHERE m.household_id IN ({marks}) OR m.household_id IN \
                 (SELECT id FROM p_households WHERE merged_into IN ({marks}))"
            )
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT coalesce(s.id, m.household_id), m.first_name, m.last_name, m.national_id, \
         m.birth_date, m.relation, m.father_name FROM p_members m \
         JOIN p_households o ON o.id = m.household_id \
         LEFT JOIN p_households s ON s.id = o.merged_into {member_filter}"
    );
    let member_args: Vec<&String> = args.iter().chain(args.iter()).collect();
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(member_args.iter()))?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let Some(record) = by_id.get_mut(&id) else {
            continue;
        };
        let birth: Option<String> = row.get(4)?;
        let relation: String = row.get(5)?;
        record.members.push(MatchMember {
            first_name: row.get(1)?,
            last_name: row.get(2)?,
            national_id: row.get(3)?,
            birth_date: birth
                .map(|b| parse_iso_date(Field::BirthDate, &b))
                .transpose()?,
            relation: Relation::parse(&relation)?,
            father_name: row.get(6)?,
        });
    }
    Ok(by_id.into_values().collect())
}

/// The population statistics (name and value frequencies) of the households held here, kept
/// while nothing changes: building them reads every household's record.
#[derive(Debug, Default)]
pub(crate) struct PopulationCache {
    entry: RefCell<Option<(i64, i64, std::sync::Arc<Population>)>>,
}

impl PopulationCache {
    fn get(&self, conn: &Connection) -> Result<std::sync::Arc<Population>> {
        // Every write bumps its household's version; the sum and count change with any write.
        let (count, versions): (i64, i64) =
            conn.query_row(crate::sql::ALL_VERSIONS, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if let Some((c, v, pop)) = self.entry.borrow().as_ref()
            && *c == count
            && *v == versions
        {
            return Ok(pop.clone());
        }
        let pop = std::sync::Arc::new(Population::of(&records(conn, None)?));
        *self.entry.borrow_mut() = Some((count, versions, pop.clone()));
        Ok(pop)
    }
}

/// Decisions held here: the pair (smaller id first) → the evidence each side recorded.
fn decisions(conn: &Connection) -> Result<HashMap<(String, String), Vec<String>>> {
    let mut out: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut stmt =
        conn.prepare_cached("SELECT household_id, other_id, evidence FROM p_not_duplicates")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (a, b): (String, String) = (row.get(0)?, row.get(1)?);
        let evidence: String = row.get(2)?;
        // Written by this program's projection; anything else is a damaged index, not "no
        // facts" (which would quietly re-propose every decided pair).
        let facts: Vec<String> = serde_json::from_str(&evidence).map_err(|_| {
            StoreError::Document(madadkar_schema::DocumentError::Malformed(format!(
                "the stored evidence of the decision on households {a} and {b} does not read; run rebuild-index"
            )))
        })?;
        let key = if a < b { (a, b) } else { (b, a) };
        out.entry(key).or_default().extend(facts);
    }
    Ok(out)
}

/// Summaries of households by id.
fn summaries(conn: &Connection, ids: &[String]) -> Result<HashMap<String, HouseholdSummary>> {
    Ok(query::summaries(conn, ids)?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect())
}

impl Store {
    /// Candidate pairs over every household held here, best first; `band` keeps one band.
    /// A pair decided "not a duplicate" is left out unless it now shares a fact the decision
    /// did not see.
    pub fn duplicate_pairs(&self, band: Option<PairBand>) -> Result<Vec<DuplicatePair>> {
        self.require_supervisor("review duplicates")?;
        let records = records(&self.conn, None)?;
        let population = self.population.get(&self.conn)?;
        let by_id: HashMap<Uuid, &MatchRecord> = records.iter().map(|r| (r.household, r)).collect();
        let decided = decisions(&self.conn)?;
        let candidates: Vec<Candidate> = matching::detect(&records, &population)
            .into_iter()
            .filter(|c| band.is_none_or(|b| c.score.band.map(PairBand::of) == Some(b)))
            .filter(|c| {
                let key = (c.a.to_string(), c.b.to_string());
                match (decided.get(&key), by_id.get(&c.a), by_id.get(&c.b)) {
                    (Some(seen), Some(a), Some(b)) => {
                        let seen: HashSet<&String> = seen.iter().collect();
                        matching::evidence(a, b).iter().any(|f| !seen.contains(f))
                    }
                    _ => true,
                }
            })
            .collect();
        let ids: Vec<String> = candidates
            .iter()
            .flat_map(|c| [c.a.to_string(), c.b.to_string()])
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let summaries = summaries(&self.conn, &ids)?;
        Ok(candidates
            .into_iter()
            .filter_map(|c| {
                Some(DuplicatePair {
                    a: summaries.get(&c.a.to_string())?.clone(),
                    b: summaries.get(&c.b.to_string())?.clone(),
                    score: c.score.score,
                    band: PairBand::of(c.score.band?),
                    reasons: reasons(&c.score),
                })
            })
            .collect())
    }

    /// Two households side by side (members, visits, referrals, who registered each) with the
    /// matcher's view of the pair.
    pub fn compare_households(&self, a: Uuid, b: Uuid) -> Result<Comparison> {
        let (a, b) = (self.household(a)?, self.household(b)?);
        let population = self.population.get(&self.conn)?;
        let score = matching::score_pair(
            &record_of(&a.household),
            &record_of(&b.household),
            &population,
        );
        Ok(Comparison {
            score: score.score,
            band: score.band.map(PairBand::of),
            reasons: reasons(&score),
            a,
            b,
        })
    }

    /// Households held here that a household being registered looks like (same national ID,
    /// phone, name in the district, father and birth year), best first: what the form warns
    /// about before saving. Looks only at the households sharing a blocking key.
    pub fn registration_matches(&self, text: &HouseholdText) -> Result<Vec<RegistrationMatch>> {
        let (household, head) = text.to_new()?;
        let record = MatchRecord {
            household: Uuid::nil(),
            group: None,
            district: household.district.clone(),
            address: household.address.clone(),
            phones: household
                .phone
                .iter()
                .chain(household.alt_phone.iter())
                .cloned()
                .collect(),
            members: vec![MatchMember {
                first_name: head.first_name.clone(),
                last_name: head.last_name.clone(),
                national_id: head.national_id.as_ref().map(|n| n.to_string()),
                birth_date: head.birth_date,
                relation: Relation::Head,
                father_name: head.father_name.clone(),
            }],
        };
        self.matches_of(&record, None)
    }

    /// Households held here (other than `household`) that a member about to be added to
    /// `household` already belongs to, or looks like belonging to.
    pub fn member_matches(
        &self,
        household: Uuid,
        member: &madadkar_schema::MemberText,
    ) -> Result<Vec<RegistrationMatch>> {
        let member = member.to_new()?;
        let own = self.household(household)?;
        let record = MatchRecord {
            household: Uuid::nil(),
            group: None,
            district: own.household.district.clone(),
            address: own.household.address.clone(),
            phones: Vec::new(),
            members: vec![MatchMember {
                first_name: member.first_name.clone(),
                last_name: member.last_name.clone(),
                national_id: member.national_id.as_ref().map(|n| n.to_string()),
                birth_date: member.birth_date,
                // Compared as the head of a household of their own, so that a person already
                // heading (or in) another household is found by name as well as by ID.
                relation: Relation::Head,
                father_name: member.father_name.clone(),
            }],
        };
        self.matches_of(&record, Some(own.household.id))
    }

    fn matches_of(
        &self,
        record: &MatchRecord,
        except: Option<Uuid>,
    ) -> Result<Vec<RegistrationMatch>> {
        let keys: Vec<String> = matching::block_keys(record)
            .iter()
            .map(|k| k.as_str().to_string())
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT coalesce(s.id, k.household_id) FROM p_match_keys k \
             JOIN p_households o ON o.id = k.household_id \
             LEFT JOIN p_households s ON s.id = o.merged_into \
             WHERE k.key IN ({}) LIMIT 200",
            std::iter::repeat_n("?", keys.len())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let ids: Vec<String> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(keys.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let except = except.map(|e| e.to_string());
        let ids: Vec<String> = ids
            .into_iter()
            .filter(|id| Some(id) != except.as_ref())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let others = records(&self.conn, Some(&ids))?;
        let population = self.population.get(&self.conn)?;
        let candidates = matching::match_one(record, &others, &population);
        let summaries = summaries(&self.conn, &ids)?;
        Ok(candidates
            .into_iter()
            .filter_map(|c| {
                let other = if c.a == record.household { c.b } else { c.a };
                Some(RegistrationMatch {
                    household: summaries.get(&other.to_string())?.clone(),
                    band: PairBand::of(c.score.band?),
                    score: c.score.score,
                    reasons: reasons(&c.score),
                })
            })
            .collect())
    }
}

/// The facts two households share now (see `matching::evidence`): what a "not a duplicate"
/// decision records, so that only a new fact proposes the pair again.
pub(crate) fn pair_evidence(conn: &Connection, a: Uuid, b: Uuid) -> Result<Vec<String>> {
    let found = records(conn, Some(&[a.to_string(), b.to_string()]))?;
    let find = |id: Uuid| found.iter().find(|r| r.household == id);
    Ok(match (find(a), find(b)) {
        (Some(x), Some(y)) => matching::evidence(x, y),
        _ => Vec::new(),
    })
}
