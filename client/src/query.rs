//! Read-side queries served from the projections: the caseload list with filters and paging,
//! Persian-aware search, and due or overdue follow-ups.

use chrono::NaiveDate;
use madadkar_schema::text::normalize_for_search;
use rusqlite::{Connection, Row, ToSql};
use serde::Serialize;

use crate::error::Result;

/// One line of the caseload list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdSummary {
    pub id: String,
    pub head_name: String,
    pub head_national_id: Option<String>,
    pub district: String,
    pub address: String,
    pub phone: Option<String>,
    pub status: String,
    pub assigned_group: Option<String>,
    pub assigned_worker: Option<String>,
    pub member_count: i64,
    pub visit_count: i64,
    pub last_visit: Option<NaiveDate>,
    pub next_followup: Option<NaiveDate>,
    pub max_need: Option<i64>,
    pub conflict_count: i64,
}

const SUMMARY_COLUMNS: &str = "h.id, h.head_name, h.head_national_id, h.district, h.address, \
     h.phone, h.status, h.assigned_group, h.assigned_worker, h.member_count, h.visit_count, \
     h.last_visit, h.next_followup, h.max_need, h.conflict_count";

fn date_column(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<NaiveDate>> {
    let text: Option<String> = row.get(i)?;
    Ok(text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok()))
}

fn summary(row: &Row<'_>) -> rusqlite::Result<HouseholdSummary> {
    Ok(HouseholdSummary {
        id: row.get(0)?,
        head_name: row.get(1)?,
        head_national_id: row.get(2)?,
        district: row.get(3)?,
        address: row.get(4)?,
        phone: row.get(5)?,
        status: row.get(6)?,
        assigned_group: row.get(7)?,
        assigned_worker: row.get(8)?,
        member_count: row.get(9)?,
        visit_count: row.get(10)?,
        last_visit: date_column(row, 11)?,
        next_followup: date_column(row, 12)?,
        max_need: row.get(13)?,
        conflict_count: row.get(14)?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Name,
    District,
    /// Most recently visited first.
    LastVisit,
    /// Earliest follow-up first; households with none last.
    Followup,
    /// Highest need first.
    Need,
}

impl SortBy {
    pub fn parse(input: &str) -> Option<Self> {
        Some(match input {
            "name" => Self::Name,
            "district" => Self::District,
            "last-visit" | "last_visit" => Self::LastVisit,
            "followup" | "follow-up" => Self::Followup,
            "need" => Self::Need,
            _ => return None,
        })
    }

    fn order_by(self) -> &'static str {
        match self {
            Self::Name => "h.sort_name, h.id",
            Self::District => "h.district, h.sort_name, h.id",
            Self::LastVisit => "h.last_visit IS NULL, h.last_visit DESC, h.sort_name, h.id",
            Self::Followup => "h.next_followup IS NULL, h.next_followup, h.sort_name, h.id",
            Self::Need => "h.max_need IS NULL, h.max_need DESC, h.sort_name, h.id",
        }
    }
}

/// Filters, sort and page of the caseload list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub district: Option<String>,
    pub status: Option<String>,
    pub assigned_worker: Option<String>,
    /// Only households whose follow-up date is before this day.
    pub overdue_on: Option<NaiveDate>,
    /// Only households whose latest visit scored at least this need in some domain.
    pub min_need: Option<u8>,
    /// Only households with fields in conflict.
    pub conflicted: bool,
    pub sort: SortBy,
    pub limit: usize,
    pub offset: usize,
}

/// A page of results and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Page<T> {
    pub total: i64,
    pub items: Vec<T>,
}

pub fn list(conn: &Connection, q: &ListQuery) -> Result<Page<HouseholdSummary>> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(d) = &q.district {
        clauses.push("h.district = ?");
        args.push(Box::new(d.clone()));
    }
    if let Some(s) = &q.status {
        clauses.push("h.status = ?");
        args.push(Box::new(s.clone()));
    }
    if let Some(w) = &q.assigned_worker {
        clauses.push("h.assigned_worker = ?");
        args.push(Box::new(w.clone()));
    }
    if let Some(day) = q.overdue_on {
        clauses.push("h.next_followup < ?");
        args.push(Box::new(day.format("%Y-%m-%d").to_string()));
    }
    if let Some(n) = q.min_need {
        clauses.push("h.max_need >= ?");
        args.push(Box::new(i64::from(n)));
    }
    if q.conflicted {
        clauses.push("h.conflict_count > 0");
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let params: Vec<&dyn ToSql> = args.iter().map(|a| a.as_ref()).collect();
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM p_households h {filter}"))?
        .query_row(params.as_slice(), |r| r.get(0))?;
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM p_households h {filter} ORDER BY {} LIMIT {} OFFSET {}",
        q.sort.order_by(),
        q.limit.max(1),
        q.offset
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let items = stmt
        .query_map(params.as_slice(), summary)?
        .collect::<Result<_, _>>()?;
    Ok(Page { total, items })
}

/// Finds households by any part of a member's name, national ID, phone, district or address.
/// The query is normalised like the index, so Arabic ي/ك, ZWNJ and diacritics do not matter.
pub fn search(conn: &Connection, query: &str, limit: usize) -> Result<Vec<HouseholdSummary>> {
    let normalized = normalize_for_search(query);
    let terms: Vec<&str> = normalized.split(' ').filter(|t| !t.is_empty()).collect();
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    // Trigram MATCH needs at least three characters; shorter terms fall back to LIKE.
    let (long, short): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| t.chars().count() >= 3);
    let mut clauses = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if !long.is_empty() {
        clauses.push("s.body MATCH ?".to_string());
        args.push(
            long.iter()
                .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" AND "),
        );
    }
    for t in &short {
        clauses.push("s.body LIKE ? ESCAPE '\\'".to_string());
        let escaped = t
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(format!("%{escaped}%"));
    }
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM p_search s JOIN p_households h ON h.rowid = s.rowid \
         WHERE {} ORDER BY (instr(h.sort_name, ?) = 0), h.sort_name, h.id LIMIT {}",
        clauses.join(" AND "),
        limit.max(1)
    );
    args.push(normalized.clone());
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), summary)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A follow-up that is due soon or overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Followup {
    pub household_id: String,
    pub head_name: String,
    pub district: String,
    pub assigned_worker: Option<String>,
    pub due: NaiveDate,
    pub overdue: bool,
    /// Days until due (negative when overdue).
    pub days_left: i64,
}

/// Follow-ups of active households due on or before `today + within_days`, earliest first.
pub fn followups(conn: &Connection, today: NaiveDate, within_days: u32) -> Result<Vec<Followup>> {
    let horizon = today + chrono::Days::new(u64::from(within_days));
    let mut stmt = conn.prepare_cached(
        "SELECT id, head_name, district, assigned_worker, next_followup FROM p_households \
         WHERE next_followup IS NOT NULL AND next_followup <= ? AND status = 'active' \
         ORDER BY next_followup, sort_name, id",
    )?;
    let rows = stmt.query_map([horizon.format("%Y-%m-%d").to_string()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
            date_column(row, 4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (household_id, head_name, district, assigned_worker, due) = row?;
        let Some(due) = due else { continue };
        out.push(Followup {
            household_id,
            head_name,
            district,
            assigned_worker,
            due,
            overdue: due < today,
            days_left: (due - today).num_days(),
        });
    }
    Ok(out)
}
