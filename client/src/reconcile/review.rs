//! The review of visits. A visit is submitted once synced; a supervisor approves it or returns
//! it with a comment (on the visit or one of its fields); the worker corrects and resubmits it.
//! Every step is a change in the household document, so a return reaches a worker's laptop
//! like any other change and stays in the household's history.

use chrono::NaiveDate;
use madadkar_schema::{Field, ReviewAction, ReviewState, VisitEdit};
use rusqlite::{OptionalExtension, Row, ToSql};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::query::Page;
use crate::store::{Store, today};

/// One visit in the review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewItem {
    /// The household the visit shows in (a survivor, for a visit of a household merged into it).
    pub household_id: String,
    /// The household whose document holds the visit.
    pub owner_id: String,
    pub head_name: String,
    pub assigned_group: Option<String>,
    pub visit_id: String,
    pub date: NaiveDate,
    pub worker_id: String,
    pub worker_name: Option<String>,
    pub kind: String,
    pub max_need: Option<i64>,
    pub state: ReviewState,
}

/// Which visits the queue lists.
#[derive(Debug, Clone, Default)]
pub struct ReviewQuery {
    /// Awaiting review unless given.
    pub state: Option<ReviewState>,
    pub group: Option<String>,
    /// Visits by this worker only.
    pub worker: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

fn item(row: &Row<'_>) -> rusqlite::Result<ReviewItem> {
    let date: String = row.get(5)?;
    let state: String = row.get(10)?;
    let bad = |i: usize, e: madadkar_schema::ValidationError| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    Ok(ReviewItem {
        household_id: row.get(0)?,
        owner_id: row.get(1)?,
        head_name: row.get(2)?,
        assigned_group: row.get(3)?,
        visit_id: row.get(4)?,
        date: madadkar_schema::parse_iso_date(Field::VisitDate, &date).map_err(|e| bad(5, e))?,
        worker_id: row.get(6)?,
        worker_name: row.get(7)?,
        kind: row.get(8)?,
        max_need: row.get(9)?,
        state: ReviewState::parse(&state).map_err(|e| bad(10, e))?,
    })
}

/// The queue's rows: each visit with the household it shows in (its survivor's, when its own
/// household is merged into one stored here).
const QUEUE_FROM: &str = "FROM p_visits v \
     JOIN p_households o ON o.id = v.household_id \
     LEFT JOIN p_households s ON s.id = o.merged_into \
     LEFT JOIN (SELECT worker_id, max(worker_name) AS name FROM directory GROUP BY worker_id) d \
       ON d.worker_id = v.worker_id";
const QUEUE_COLUMNS: &str = "coalesce(s.id, o.id), o.id, coalesce(s.head_name, o.head_name), \
     coalesce(s.assigned_group, o.assigned_group), v.id, v.date, v.worker_id, d.name, v.kind, \
     v.max_need, v.review_state";

impl Store {
    /// Visits by review state (awaiting review unless asked otherwise), oldest first.
    pub fn review_queue(&self, q: &ReviewQuery) -> Result<Page<ReviewItem>> {
        let state = q.state.unwrap_or(ReviewState::Awaiting);
        let mut clauses = vec!["v.review_state = ?", "o.needs_update = 0"];
        let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(state.code())];
        if let Some(g) = &q.group {
            clauses.push("coalesce(s.assigned_group, o.assigned_group) = ?");
            args.push(Box::new(g.clone()));
        }
        if let Some(w) = &q.worker {
            clauses.push("v.worker_id = ?");
            args.push(Box::new(w.clone()));
        }
        let filter = clauses.join(" AND ");
        let params: Vec<&dyn ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) {QUEUE_FROM} WHERE {filter}"))?
            .query_row(params.as_slice(), |r| r.get(0))?;
        let sql = format!(
            "SELECT {QUEUE_COLUMNS} {QUEUE_FROM} WHERE {filter} ORDER BY v.date, v.id LIMIT {} OFFSET {}",
            q.limit.clamp(1, 1_000),
            q.offset
        );
        let items = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params.as_slice(), item)?
            .collect::<Result<_, _>>()?;
        Ok(Page { total, items })
    }

    /// The household whose document holds a visit.
    fn visit_owner(&self, visit: Uuid) -> Result<Uuid> {
        let owner: Option<String> = self
            .conn
            .prepare_cached("SELECT household_id FROM p_visits WHERE id = ?")?
            .query_row([visit.to_string()], |r| r.get(0))
            .optional()?;
        owner
            .and_then(|o| Uuid::parse_str(&o).ok())
            .ok_or_else(|| StoreError::NotFound {
                kind: "visit",
                id: visit.to_string(),
            })
    }

    /// Finds the visit whose id starts with `prefix` (at least 4 characters).
    pub fn resolve_visit_id(&self, prefix: &str) -> Result<Uuid> {
        self.resolve_id("visit", "p_visits", prefix)
    }

    fn review(
        &mut self,
        visit: Uuid,
        action: ReviewAction,
        comment: &str,
        field: Option<Field>,
    ) -> Result<()> {
        let owner = self.visit_owner(visit)?;
        self.write(owner, |doc, meta, now| {
            Ok(doc.review_visit(visit, action, comment, field, meta, now)?)
        })
    }

    /// Approves a visit awaiting review (supervisors and coordinators).
    pub fn approve_visit(&mut self, visit: Uuid, comment: &str) -> Result<()> {
        self.require_supervisor("approve visits")?;
        self.review(visit, ReviewAction::Approved, comment, None)
    }

    /// Returns a visit to its worker with a comment, optionally about one of its fields.
    pub fn return_visit(&mut self, visit: Uuid, comment: &str, field: Option<Field>) -> Result<()> {
        self.require_supervisor("return visits")?;
        self.review(visit, ReviewAction::Returned, comment, field)
    }

    /// Sends a corrected visit back for review.
    pub fn resubmit_visit(&mut self, visit: Uuid, comment: &str) -> Result<()> {
        self.review(visit, ReviewAction::Resubmitted, comment, None)
    }

    /// Corrects a visit. An approved visit goes back to review (no silent edits).
    pub fn edit_visit(&mut self, visit: Uuid, edit: &VisitEdit) -> Result<()> {
        if edit.is_empty() {
            return Err(madadkar_schema::ValidationError::NothingToChange.into());
        }
        let owner = self.visit_owner(visit)?;
        let today = today();
        self.write(owner, |doc, meta, now| {
            let household = doc.read()?;
            let current = household
                .visits
                .iter()
                .find(|v| v.id == visit)
                .ok_or_else(|| StoreError::NotFound {
                    kind: "visit",
                    id: visit.to_string(),
                })?;
            let edit = edit.validated(current, today)?;
            Ok(doc.edit_visit(visit, &edit, meta, now)?)
        })
    }

    /// Returned visits: the worker's tasks (this worker's visits unless `everyone`), with the
    /// return's comment. Listed first on the worker's caseload.
    pub fn returned_visits(&self, everyone: bool) -> Result<Vec<ReturnedVisit>> {
        let me = self.identity().map(|i| i.worker_id.clone());
        let mut out = Vec::new();
        let page = self.review_queue(&ReviewQuery {
            state: Some(ReviewState::Returned),
            worker: if everyone { None } else { me },
            limit: 1_000,
            ..Default::default()
        })?;
        for item in page.items {
            let owner = Uuid::parse_str(&item.owner_id).map_err(|_| StoreError::NotFound {
                kind: "household",
                id: item.owner_id.clone(),
            })?;
            let visit = Uuid::parse_str(&item.visit_id).map_err(|_| StoreError::NotFound {
                kind: "visit",
                id: item.visit_id.clone(),
            })?;
            let event = self.with_document(owner, |doc| {
                Ok(doc
                    .read()?
                    .visits
                    .into_iter()
                    .find(|v| v.id == visit)
                    .and_then(|v| v.open_return().cloned()))
            })?;
            if let Some(event) = event {
                out.push(ReturnedVisit {
                    item,
                    comment: event.comment,
                    field: event.field,
                    returned_by: event.worker_id,
                    returned_at: event.at,
                });
            }
        }
        Ok(out)
    }
}

/// A returned visit with what the supervisor said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReturnedVisit {
    #[serde(flatten)]
    pub item: ReviewItem,
    pub comment: String,
    pub field: Option<Field>,
    pub returned_by: String,
    pub returned_at: chrono::DateTime<chrono::Utc>,
}
