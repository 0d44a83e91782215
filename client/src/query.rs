//! Read-side queries served from the projections: the caseload list with filters and paging,
//! Persian-aware search, and due or overdue follow-ups.

use chrono::NaiveDate;
use madadkar_schema::date::{iso_date, parse_iso_date};
use madadkar_schema::text::{join_number_groups, normalize_for_search, split_spellings};
use rusqlite::{Connection, Row, ToSql, types::Type};
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
    /// Written by a newer Madadkar: shown read-only (what this version can read of it) with
    /// "update the app"; every change to it is refused.
    pub needs_update: bool,
    /// The survivor this household was merged into, when that survivor is outside this
    /// replica's scope (merged households whose survivor is here are not listed: it is).
    pub merged_into: Option<String>,
    /// Visits awaiting a supervisor's review.
    pub awaiting_review: i64,
    /// Visits a supervisor returned for correction: the worker's tasks, listed first.
    pub returned_visits: i64,
}

/// Households listed and found: all but those merged into a survivor stored here.
const VISIBLE: &str = "(h.merged_into IS NULL OR NOT EXISTS \
     (SELECT 1 FROM p_households s WHERE s.id = h.merged_into))";

const SUMMARY_COLUMNS: &str = "h.id, h.head_name, h.head_national_id, h.district, h.address, \
     h.phone, h.status, h.assigned_group, h.assigned_worker, h.member_count, h.visit_count, \
     h.last_visit, h.next_followup, h.max_need, h.conflict_count, h.needs_update, h.merged_into, \
     h.awaiting_review, h.returned_visits";

/// A projected date column; a value that is not an ISO date is an error, not a missing date.
fn date_column(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<NaiveDate>> {
    let text: Option<String> = row.get(i)?;
    text.map(|t| {
        parse_iso_date(madadkar_schema::Field::Date, &t)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
    })
    .transpose()
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
        needs_update: row.get(15)?,
        merged_into: row.get(16)?,
        awaiting_review: row.get(17)?,
        returned_visits: row.get(18)?,
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

    /// Households with returned visits come first whatever the sort: those visits are the
    /// worker's tasks.
    fn order_by(self) -> &'static str {
        match self {
            Self::Name => "h.returned_visits = 0, h.sort_name, h.id",
            Self::District => "h.returned_visits = 0, h.district, h.sort_name, h.id",
            Self::LastVisit => {
                "h.returned_visits = 0, h.last_visit IS NULL, h.last_visit DESC, h.sort_name, h.id"
            }
            Self::Followup => {
                "h.returned_visits = 0, h.next_followup IS NULL, h.next_followup, h.sort_name, h.id"
            }
            Self::Need => {
                "h.returned_visits = 0, h.max_need IS NULL, h.max_need DESC, h.sort_name, h.id"
            }
        }
    }
}

/// Filters, sort and page of the caseload list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub district: Option<String>,
    /// Only households of this status; none given lists every household but the graduated.
    pub status: Option<String>,
    pub assigned_worker: Option<String>,
    pub assigned_group: Option<String>,
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

/// A page of the caseload and whether more households follow it, without the count of every
/// household the filters match: counting reads every household's row (on a connection just
/// opened, every page of the table read from the file and decrypted), which a page scrolled
/// into view does not need. The count is asked for on its own ([`count`]), once per filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ListPage {
    pub items: Vec<HouseholdSummary>,
    /// Households follow this page.
    pub more: bool,
}

/// A list query's `WHERE` clause and the values it binds.
struct Filter {
    sql: String,
    args: Vec<Box<dyn ToSql>>,
}

impl Filter {
    fn of(q: &ListQuery) -> Self {
        let mut clauses: Vec<&str> = vec![VISIBLE];
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(g) = &q.assigned_group {
            clauses.push("h.assigned_group = ?");
            args.push(Box::new(g.clone()));
        }
        if let Some(d) = &q.district {
            clauses.push("h.district = ?");
            args.push(Box::new(d.clone()));
        }
        match &q.status {
            Some(s) => {
                clauses.push("h.status = ?");
                args.push(Box::new(s.clone()));
            }
            // A graduated household has left the active caseload; it is listed when asked for
            // by its status, and search still finds it.
            None => clauses.push("h.status != 'graduated'"),
        }
        if let Some(w) = &q.assigned_worker {
            clauses.push("h.assigned_worker = ?");
            args.push(Box::new(w.clone()));
        }
        if let Some(day) = q.overdue_on {
            clauses.push("h.next_followup < ?");
            args.push(Box::new(iso_date(day)));
        }
        if let Some(n) = q.min_need {
            clauses.push("h.max_need >= ?");
            args.push(Box::new(i64::from(n)));
        }
        if q.conflicted {
            clauses.push("h.conflict_count > 0");
        }
        Self {
            sql: format!("WHERE {}", clauses.join(" AND ")),
            args,
        }
    }

    fn params(&self) -> Vec<&dyn ToSql> {
        self.args.iter().map(|a| a.as_ref()).collect()
    }

    /// `SELECT` of the summaries `from` a table, with this filter `and` more, in `order`.
    fn select(&self, from: &str, and: &str, order: &str, limit: usize, offset: usize) -> String {
        format!(
            "SELECT {SUMMARY_COLUMNS} FROM {from} {} {and} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            self.sql
        )
    }

    /// The summaries `sql` (from [`Self::select`]) reads.
    fn rows(&self, conn: &Connection, sql: &str) -> Result<Vec<HouseholdSummary>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map(self.params().as_slice(), summary)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

/// A page of the caseload and how many households the filters match in all: [`list_page`] and
/// [`count`] together (the CLI prints both).
pub fn list(conn: &Connection, q: &ListQuery) -> Result<Page<HouseholdSummary>> {
    let page = list_page(conn, q)?;
    // A first page with nothing after it holds every household: no need to count them again.
    let total = if q.offset == 0 && !page.more {
        page.items.len() as i64
    } else {
        count(conn, q)?
    };
    Ok(Page {
        total,
        items: page.items,
    })
}

/// How many households the list's filters match (its `limit`, `offset` and sort aside).
pub fn count(conn: &Connection, q: &ListQuery) -> Result<i64> {
    let filter = Filter::of(q);
    Ok(conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM p_households h {}",
            filter.sql
        ))?
        .query_row(filter.params().as_slice(), |r| r.get(0))?)
}

/// The page of the caseload the query asks for (`limit` households from `offset`, in its
/// sort), and whether more follow it; one household more than the page is read to tell.
pub fn list_page(conn: &Connection, q: &ListQuery) -> Result<ListPage> {
    let limit = q.limit.max(1);
    let filter = Filter::of(q);
    let mut items = match q.sort {
        SortBy::Name => by_name(conn, &filter, limit + 1, q.offset)?,
        other => filter.rows(
            conn,
            &filter.select(HOUSEHOLDS, "", other.order_by(), limit + 1, q.offset),
        )?,
    };
    let more = items.len() > limit;
    items.truncate(limit);
    Ok(ListPage { items, more })
}

const HOUSEHOLDS: &str = "p_households h";
/// The households with returned visits, through the partial index that holds only them: named,
/// or SQLite walks the whole name index to spare itself sorting these few rows.
const TASKS: &str = "p_households h INDEXED BY p_households_returned";
const WITH_TASKS: &str = "AND h.returned_visits > 0";
const WITHOUT_TASKS: &str = "AND h.returned_visits = 0";
const NAME_ORDER: &str = "h.sort_name, h.id";

/// `limit` households from `offset` in the caseload's default order: those with returned visits
/// first, then by name ([`SortBy::Name`]). One ordered query over both would read and sort
/// every household the filters match for any page (no index orders by "has returned visits"
/// first); read as two, the households with returned visits, which are few, come through their
/// partial index, and the rest in name order straight from the name index, so a page near the
/// top reads little more than its own rows.
fn by_name(
    conn: &Connection,
    filter: &Filter,
    limit: usize,
    offset: usize,
) -> Result<Vec<HouseholdSummary>> {
    let tasks: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM {TASKS} {} {WITH_TASKS}",
            filter.sql
        ))?
        .query_row(filter.params().as_slice(), |r| r.get(0))?;
    // A count is never negative.
    let tasks = usize::try_from(tasks).unwrap_or(0);
    let mut items = Vec::new();
    if offset < tasks {
        items = filter.rows(
            conn,
            &filter.select(TASKS, WITH_TASKS, NAME_ORDER, limit, offset),
        )?;
    }
    let wanted = limit - items.len();
    if wanted > 0 {
        let from = offset.saturating_sub(tasks);
        items.extend(filter.rows(
            conn,
            &filter.select(HOUSEHOLDS, WITHOUT_TASKS, NAME_ORDER, wanted, from),
        )?);
    }
    Ok(items)
}

/// The summaries of the households with these ids (those held here), in id order.
pub fn summaries(conn: &Connection, ids: &[String]) -> Result<Vec<HouseholdSummary>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM p_households h WHERE h.id IN ({}) ORDER BY h.id",
            std::iter::repeat_n("?", chunk.len())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(chunk.iter()), summary)?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// Finds households by any part of a member's name, national ID, phone, district or address.
/// The query is normalised like the index, so Arabic ي/ك, ZWNJ, diacritics, compatibility forms
/// and `+98` prefixes do not matter; a number typed in groups is looked up as one number. Every
/// word of the query must be found; a word typed joined («محمدعلی») is also found where it was
/// registered split («محمد علی»).
pub fn search(conn: &Connection, query: &str, limit: usize) -> Result<Vec<HouseholdSummary>> {
    let normalized = normalize_for_search(&join_number_groups(query));
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
                .map(|t| match_term(t))
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
         WHERE {VISIBLE} AND {} ORDER BY (instr(h.sort_name, ?) = 0), h.sort_name, h.id LIMIT {}",
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

/// The FTS5 expression for one search word: the word as a phrase, or, when it may be a
/// compound name typed joined, any of its split spellings. Each alternative is a whole phrase,
/// so «محمدعلی» matches «محمد علی» but not «محمد» and «علی» far apart.
fn match_term(term: &str) -> String {
    let phrase = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    let splits = split_spellings(term);
    if splits.is_empty() {
        return phrase(term);
    }
    let alternatives: Vec<String> = std::iter::once(term.to_string())
        .chain(splits)
        .map(|t| phrase(&t))
        .collect();
    format!("({})", alternatives.join(" OR "))
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
    /// What is due: the visit a visit asked for, a plan step's target date, or the day a
    /// referral stalls in its state.
    pub kind: FollowupKind,
    /// The step or referral it is about (`None` for a visit's follow-up).
    pub item_id: Option<String>,
    /// A code saying more: the step's status, or the referral's state.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FollowupKind {
    Visit,
    PlanStep,
    Referral,
}

/// Joins the rows of a table aliased `alias` (with a `household_id`) to the household they are
/// shown under, aliased `h`: their own, or the survivor their household was merged into (a
/// retired household's work is the family's, counted once, at the survivor). A row whose
/// household was merged into one this replica does not hold is left out, as that household is.
pub(crate) fn shown_under(alias: &str) -> String {
    format!(
        "JOIN p_households o ON o.id = {alias}.household_id \
         JOIN p_households h ON h.id = coalesce(o.merged_into, o.id)"
    )
}

/// Follow-ups of active households due on or before `today + within_days`, earliest first:
/// visits asked for, plan steps past or near their target date, and referrals that stall (sat
/// in one state longer than their partner kind allows) within the horizon.
pub fn followups(conn: &Connection, today: NaiveDate, within_days: u32) -> Result<Vec<Followup>> {
    let horizon = iso_date(today + chrono::Days::new(u64::from(within_days)));
    let sources = [
        (
            FollowupKind::Visit,
            "SELECT h.id, h.head_name, h.district, h.assigned_worker, h.next_followup, NULL, NULL \
             FROM p_households h WHERE h.next_followup IS NOT NULL AND h.next_followup <= ?"
                .to_string(),
        ),
        (
            FollowupKind::PlanStep,
            format!(
                "SELECT h.id, h.head_name, h.district, h.assigned_worker, s.target_date, s.id, \
                 s.status FROM p_plan_steps s {} \
                 WHERE s.status IN ('planned', 'in_progress') AND s.target_date IS NOT NULL \
                 AND s.target_date <= ?",
                shown_under("s")
            ),
        ),
        (
            FollowupKind::Referral,
            format!(
                "SELECT h.id, h.head_name, h.district, h.assigned_worker, r.stalls_on, r.id, \
                 r.status FROM p_referrals r {} \
                 WHERE r.stalls_on IS NOT NULL AND r.stalls_on <= ?",
                shown_under("r")
            ),
        ),
    ];
    let mut out = Vec::new();
    for (kind, select) in sources {
        let mut stmt =
            conn.prepare_cached(&format!("{select} AND {VISIBLE} AND h.status = 'active'"))?;
        let rows = stmt.query_map([&horizon], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                date_column(row, 4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, Option<String>>(6)?,
            ))
        })?;
        for row in rows {
            let (household_id, head_name, district, assigned_worker, due, item_id, detail) = row?;
            let Some(due) = due else { continue };
            out.push(Followup {
                household_id,
                head_name,
                district,
                assigned_worker,
                due,
                overdue: due < today,
                days_left: (due - today).num_days(),
                kind,
                item_id,
                detail,
            });
        }
    }
    out.sort_by(|a, b| {
        (a.due, &a.head_name, &a.household_id, &a.item_id).cmp(&(
            b.due,
            &b.head_name,
            &b.household_id,
            &b.item_id,
        ))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use madadkar_schema::{NationalId, NewHousehold, NewMember, Relation};

    use crate::Store;

    /// A store holding similar names, spelled split, joined, with old-keyboard letters and with
    /// an international phone number; returns it with the households' head names in order.
    fn similar_names() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let passphrase = crate::Passphrase::new("test passphrase");
        let mut store = Store::open(dir.path(), &passphrase).expect("open");
        store.init("زهرا رضایی", "laptop", None).expect("init");
        let people = [
            ("محمد علی", "کریمی", "09121234567"),
            ("محمدعلی", "رضایی", "09120000001"),
            ("محمد", "کریمی", "09120000002"),
            ("علی", "محمدی", "09120000003"),
            ("عبد الله", "میر زاده", "09120000004"),
            ("زهرا", "ھاشمی", "+98 935 111 2233"),
            ("عبدالرضا", "میرزایی", "09120000006"),
        ];
        for (i, (first, last, phone)) in people.into_iter().enumerate() {
            let head = NewMember {
                national_id: Some(NationalId::with_check_digit(123_456_000 + i as u32)),
                ..NewMember::named(first, last, Relation::Head)
            };
            let household = NewHousehold {
                district: "منطقه ۳".into(),
                address: "کوچه یاس، پلاک ۴".into(),
                phone: Some(phone.into()),
                ..Default::default()
            };
            store.add_household(&household, &head).expect("add");
        }
        (dir, store)
    }

    fn found(store: &Store, query: &str) -> Vec<String> {
        let mut names: Vec<String> = store
            .search(query, 50)
            .expect("search")
            .into_iter()
            .map(|h| h.head_name)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn joined_and_split_names_find_each_other() {
        let (_dir, store) = similar_names();
        for joined in ["محمدعلی کریمی", "محمد\u{200C}علی کریمی"] {
            assert_eq!(found(&store, joined), ["محمد علی کریمی"], "{joined:?}");
        }
        assert_eq!(found(&store, "محمد علی رضایی"), ["محمدعلی رضایی"]);
        assert_eq!(
            found(&store, "محمدعلی"),
            ["محمد علی کریمی", "محمدعلی رضایی"]
        );
        for spelling in ["عبدالله میرزاده", "عبد\u{200C}الله میر\u{200C}زاده", "عبدﷲ"]
        {
            assert_eq!(
                found(&store, spelling),
                ["عبد الله میر زاده"],
                "{spelling:?}"
            );
        }
    }

    #[test]
    fn a_full_name_finds_only_the_household_it_names() {
        let (_dir, store) = similar_names();
        assert_eq!(found(&store, "محمد علی کریمی"), ["محمد علی کریمی"]);
        assert_eq!(
            found(&store, "محمد کریمی"),
            ["محمد علی کریمی", "محمد کریمی"]
        );
        assert_eq!(found(&store, "علی محمدی"), ["علی محمدی"]);
        assert_eq!(found(&store, "میرزاده"), ["عبد الله میر زاده"]);
        assert_eq!(found(&store, "عبدالرضا میرزایی"), ["عبدالرضا میرزایی"]);
    }

    #[test]
    fn old_keyboard_letters_and_presentation_forms_are_found() {
        let (_dir, store) = similar_names();
        assert_eq!(found(&store, "هاشمی"), ["زهرا ھاشمی"]);
        // «هاشمی» as copied from a PDF: Arabic presentation forms.
        let pdf = "\u{FEEB}\u{FE8E}\u{FEB7}\u{FEE4}\u{FBFE}";
        assert_eq!(found(&store, pdf), ["زهرا ھاشمی"]);
    }

    #[test]
    fn phone_numbers_are_found_with_or_without_the_country_code() {
        let (_dir, store) = similar_names();
        for typed in [
            "+98 935 111 2233",
            "0098 935 111 2233",
            "0935 111 2233",
            "۰۹۳۵۱۱۱۲۲۳۳",
        ] {
            assert_eq!(found(&store, typed), ["زهرا ھاشمی"], "{typed:?}");
        }
        assert_eq!(found(&store, "+98 912 123 4567"), ["محمد علی کریمی"]);
    }
}

/// The caseload's pages over projection rows written directly: the same order, pages and
/// counts as one ordered query over every row, read through indexes.
#[cfg(test)]
mod list_tests {
    use rusqlite::{Connection, params};

    use super::*;

    /// `n` households' rows: every fifth with returned visits, every seventh graduated, every
    /// eleventh merged into the first (stored here, so not listed), in three districts; names
    /// repeat, so the id decides between equal names.
    fn caseload(n: usize) -> Connection {
        let mut conn = Connection::open_in_memory().expect("a database");
        crate::sql::migrate(&mut conn).expect("migrations");
        let names = [
            "علی کریمی",
            "مریم احمدی",
            "بهرام رضایی",
            "زهرا محمدی",
            "پروین یزدانی",
        ];
        for i in 0..n {
            let name = names[(i * 3) % names.len()];
            conn.execute(
                "INSERT INTO p_households (id, head_name, district, address, status, \
                 member_count, visit_count, conflict_count, sort_name, returned_visits, merged_into) \
                 VALUES (?, ?, ?, '', ?, 1, 0, 0, ?, ?, ?)",
                params![
                    format!("{:08x}-0000-7000-8000-{:012x}", (i * 7919) % 100_000, i),
                    name,
                    ["منطقه ۱", "منطقه ۲", "منطقه ۳"][i % 3],
                    if i % 7 == 6 { "graduated" } else { "active" },
                    name,
                    i64::from(i % 5 == 0) * 2,
                    (i % 11 == 10).then(|| format!("{:08x}-0000-7000-8000-{:012x}", 0, 0)),
                ],
            )
            .expect("a row");
        }
        conn
    }

    /// The ids of the whole list in one ordered query over every row, as lists were read.
    fn in_one_query(conn: &Connection, q: &ListQuery) -> Vec<String> {
        let filter = Filter::of(q);
        let order = "h.returned_visits = 0, h.sort_name, h.id";
        let sql = filter.select(HOUSEHOLDS, "", order, usize::MAX >> 1, 0);
        filter
            .rows(conn, &sql)
            .expect("rows")
            .into_iter()
            .map(|h| h.id)
            .collect()
    }

    #[test]
    fn pages_by_name_are_those_of_one_ordered_query() {
        let conn = caseload(200);
        let queries = [
            ListQuery::default(),
            ListQuery {
                district: Some("منطقه ۲".into()),
                ..Default::default()
            },
            ListQuery {
                status: Some("graduated".into()),
                ..Default::default()
            },
        ];
        for base in queries {
            let all = in_one_query(&conn, &base);
            assert!(all.len() > 20, "{base:?} lists {}", all.len());
            let tasks = all.iter().take_while(|id| {
                conn.query_row(
                    "SELECT returned_visits FROM p_households WHERE id = ?",
                    [id],
                    |r| r.get::<_, i64>(0),
                )
                .expect("row")
                    > 0
            });
            assert!(
                tasks.count() > 0,
                "households with returned visits come first"
            );
            assert_eq!(count(&conn, &base).expect("count"), all.len() as i64);
            // Pages of 7 cross from the households with returned visits to the rest mid-page.
            for limit in [1, 7, 100, 500] {
                let mut listed = Vec::new();
                for offset in (0..all.len() + limit).step_by(limit) {
                    let q = ListQuery {
                        limit,
                        offset,
                        ..base.clone()
                    };
                    let page = list_page(&conn, &q).expect("page");
                    assert_eq!(
                        page.more,
                        offset + limit < all.len(),
                        "{limit} from {offset}"
                    );
                    listed.extend(page.items.into_iter().map(|h| h.id));
                }
                assert_eq!(listed, all, "pages of {limit} of {base:?}");
            }
        }
    }

    #[test]
    fn list_counts_only_when_the_page_does_not_hold_everything() {
        let conn = caseload(30);
        let all = in_one_query(&conn, &ListQuery::default()).len() as i64;
        for (limit, offset) in [(100, 0), (10, 0), (10, 20), (10, 500)] {
            let page = list(
                &conn,
                &ListQuery {
                    limit,
                    offset,
                    ..Default::default()
                },
            )
            .expect("list");
            assert_eq!(page.total, all, "{limit} from {offset}");
        }
    }

    fn plan(conn: &Connection, sql: &str) -> String {
        crate::sql::query_plan(conn, sql)
    }

    #[test]
    fn a_page_by_name_is_read_in_index_order_not_sorted_from_every_row() {
        let conn = caseload(0);
        let filter = Filter::of(&ListQuery::default());
        let tasks = plan(&conn, &filter.select(TASKS, WITH_TASKS, NAME_ORDER, 101, 0));
        assert!(tasks.contains("INDEX p_households_returned"), "{tasks}");
        let rest = plan(
            &conn,
            &filter.select(HOUSEHOLDS, WITHOUT_TASKS, NAME_ORDER, 101, 0),
        );
        assert!(
            rest.contains("SCAN h USING INDEX p_households_name"),
            "{rest}"
        );
        assert!(
            !rest.contains("TEMP B-TREE"),
            "no sort of every row: {rest}"
        );
    }
}
