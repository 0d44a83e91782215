//! The conflicts inbox: every field holding concurrent values across the households in scope,
//! in one list, with who wrote each value and when; and the values a survivor and a household
//! merged into it hold differently.

use madadkar_schema::{Conflict, Field};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;
use crate::store::{Store, load_document};

/// One field in conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InboxEntry {
    /// The household to resolve it in (whose document holds the field).
    pub household_id: Uuid,
    /// The household it shows in (the survivor, for a household merged into one).
    pub shown_in: Uuid,
    pub head_name: String,
    pub assigned_group: Option<String>,
    pub assigned_worker: Option<String>,
    pub conflict: Conflict,
    /// Set for a value the survivor and a household merged into it hold differently: that
    /// household (resolving writes the chosen value to both).
    pub merged_from: Option<Uuid>,
}

/// Which conflicts the inbox lists.
#[derive(Debug, Clone, Default)]
pub struct ConflictFilter {
    pub group: Option<String>,
    /// Conflicts where this worker wrote one of the values, or in households assigned to them.
    pub worker: Option<String>,
    pub field: Option<Field>,
}

impl ConflictFilter {
    fn keeps(&self, e: &InboxEntry) -> bool {
        self.group
            .as_ref()
            .is_none_or(|g| e.assigned_group.as_ref() == Some(g))
            && self.worker.as_ref().is_none_or(|w| {
                e.assigned_worker.as_ref() == Some(w)
                    || e.conflict.values.iter().any(|v| &v.worker_id == w)
            })
            && self.field.is_none_or(|f| e.conflict.field == Some(f))
    }
}

struct Row {
    id: String,
    shown_in: String,
    head_name: String,
    group: Option<String>,
    worker: Option<String>,
}

impl Store {
    /// Every conflict in scope, households by name, then fields in document order.
    pub fn conflict_inbox(&self, filter: &ConflictFilter) -> Result<Vec<InboxEntry>> {
        let rows: Vec<Row> = self
            .conn
            .prepare_cached(
                "SELECT h.id, coalesce(s.id, h.id), coalesce(s.head_name, h.head_name), \
                 coalesce(s.assigned_group, h.assigned_group), \
                 coalesce(s.assigned_worker, h.assigned_worker) \
                 FROM p_households h LEFT JOIN p_households s ON s.id = h.merged_into \
                 WHERE h.conflict_count > 0 AND h.needs_update = 0 \
                 ORDER BY coalesce(s.sort_name, h.sort_name), h.id",
            )?
            .query_map([], |r| {
                Ok(Row {
                    id: r.get(0)?,
                    shown_in: r.get(1)?,
                    head_name: r.get(2)?,
                    group: r.get(3)?,
                    worker: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let authors = crate::authorship::Authors::load(&self.conn, self.identity.clone())?;
        let mut out = Vec::new();
        for row in rows {
            let (Ok(id), Ok(shown_in)) = (Uuid::parse_str(&row.id), Uuid::parse_str(&row.shown_in))
            else {
                continue;
            };
            let entry = |conflict: Conflict, merged_from: Option<Uuid>| InboxEntry {
                household_id: id,
                shown_in,
                head_name: row.head_name.clone(),
                assigned_group: row.group.clone(),
                assigned_worker: row.worker.clone(),
                conflict,
                merged_from,
            };
            let mut found: Vec<InboxEntry> = load_document(&self.conn, id)?
                .conflicts()?
                .into_iter()
                .map(|c| entry(c, None))
                .collect();
            if let Some(composition) = self.composition(id)? {
                found.extend(
                    composition
                        .conflicts
                        .into_iter()
                        .map(|m| entry(m.conflict, Some(m.other_household))),
                );
            }
            for mut e in found {
                for value in &mut e.conflict.values {
                    authors.name_value(value);
                }
                if filter.keeps(&e) {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    /// How many fields are in conflict in scope (the count beside the inbox in navigation).
    pub fn conflict_count(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(conflict_count), 0) FROM p_households WHERE needs_update = 0",
            [],
            |r| r.get(0),
        )?)
    }
}
