//! The SQLite layout of the local store and its migrations.

use rusqlite::Connection;

use crate::error::{Result, StoreError};

/// Migrations by `PRAGMA user_version`: entry `i` lifts the database from version `i` to `i + 1`.
/// Each is a named constant below, so that branches adding migrations merge by ordering this
/// list.
const MIGRATIONS: &[&str] = &[
    LAYOUT,
    QUARANTINE,
    AUTHORSHIP,
    DRAFTS,
    RECONCILE,
    OUTCOMES,
    DOCUMENT_VERSIONS,
];

/// Migration 1: the whole layout of the first version.
const LAYOUT: &str = r#"
-- Who this replica is.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

-- Source of truth: per household, an optional compacted snapshot plus the changes after it.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    snapshot BLOB,
    snapshot_changes INTEGER NOT NULL DEFAULT 0,
    -- Bumped with every stored change; tells a cached copy whether it is still current.
    version INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(id),
    hash BLOB NOT NULL,
    bytes BLOB NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
    UNIQUE (doc_id, hash)
) STRICT;
CREATE INDEX changes_by_doc ON changes (doc_id, seq);

-- Changes not yet acknowledged by a sync server (local ones and those imported from bundles).
CREATE TABLE outbox (
    hash BLOB PRIMARY KEY,
    doc_id TEXT NOT NULL,
    queued_seq INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_order ON outbox (queued_seq);

-- Derived projections: rebuilt from the documents at any time (`rebuild-index`).
CREATE TABLE p_households (
    id TEXT PRIMARY KEY,
    head_name TEXT NOT NULL,
    head_national_id TEXT,
    district TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT,
    status TEXT NOT NULL,
    assigned_group TEXT,
    assigned_worker TEXT,
    member_count INTEGER NOT NULL,
    visit_count INTEGER NOT NULL,
    last_visit TEXT,
    next_followup TEXT,
    max_need INTEGER,
    conflict_count INTEGER NOT NULL,
    sort_name TEXT NOT NULL
) STRICT;
CREATE INDEX p_households_name ON p_households (sort_name, id);
CREATE INDEX p_households_district ON p_households (district, sort_name);
CREATE INDEX p_households_worker ON p_households (assigned_worker, sort_name);
CREATE INDEX p_households_followup ON p_households (next_followup) WHERE next_followup IS NOT NULL;
CREATE INDEX p_households_conflicts ON p_households (conflict_count) WHERE conflict_count > 0;

CREATE TABLE p_members (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    full_name TEXT NOT NULL,
    national_id TEXT,
    birth_date TEXT,
    relation TEXT NOT NULL
) STRICT;
CREATE INDEX p_members_household ON p_members (household_id);
CREATE INDEX p_members_national_id ON p_members (national_id) WHERE national_id IS NOT NULL;

CREATE TABLE p_visits (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    date TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    followup_date TEXT,
    max_need INTEGER
) STRICT;
CREATE INDEX p_visits_household ON p_visits (household_id, date);
CREATE INDEX p_visits_worker ON p_visits (worker_id, date);

CREATE TABLE p_referrals (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    status_date TEXT NOT NULL
) STRICT;
CREATE INDEX p_referrals_household ON p_referrals (household_id);

-- Search over normalised Persian text; trigrams find any part of a name.
CREATE VIRTUAL TABLE p_search USING fts5 (household_id UNINDEXED, body, tokenize = 'trigram');
"#;

/// Migration 2: households set aside when their pulled changes cannot be applied, and the
/// read-only mark for households written by a newer Madadkar.
const QUARANTINE: &str = r#"
-- A household written by a newer Madadkar: kept, listed read-only, never written to.
ALTER TABLE p_households ADD COLUMN needs_update INTEGER NOT NULL DEFAULT 0;

-- Households whose pulled changes could not be applied, set aside so everything else syncs.
-- The reason names what failed (ids, counts, field names; never a value).
CREATE TABLE quarantine (
    household TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    quarantined_at TEXT NOT NULL,
    last_attempt_at TEXT NOT NULL
) STRICT;
-- Their changes exactly as received, kept until they apply. `server_seq` is the server's
-- sequence number (one change is kept once); NULL for changes of the per-household sync.
CREATE TABLE quarantine_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    household TEXT NOT NULL REFERENCES quarantine(household) ON DELETE CASCADE,
    server_seq INTEGER,
    bytes BLOB NOT NULL,
    UNIQUE (household, server_seq)
) STRICT;
"#;

/// Migration 3: authorship (see madadkar_schema::authorship).
const AUTHORSHIP: &str = r#"
-- Authorship (see madadkar_schema::authorship): the author's signature of each queued change,
-- when this replica has one (its own changes; a colleague's from a bundle), so the server can
-- accept a change this device relays.
ALTER TABLE outbox ADD COLUMN signature BLOB;

-- The server's record of who each device is (its worker's id and name): what history and
-- conflicts show as a change's author, instead of the name a change claims for itself.
CREATE TABLE directory (
    device_id TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL,
    worker_name TEXT NOT NULL,
    group_id TEXT,
    revoked INTEGER NOT NULL,
    signing_key TEXT
) STRICT;
"#;

/// Migration 4: the desktop app's unsaved form drafts, kept here (encrypted with everything else) rather
/// than in the WebView's storage. Keys name a form (`visit.<household id>`); values are the
/// form's fields as JSON text.
const DRAFTS: &str = r#"
CREATE TABLE drafts (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
"#;

/// Migration 5: reconciliation (issue 10). Projections of what supervisors and coordinators
/// reconcile: the redirect of a merged household, review states, the names the duplicate
/// finder compares, "not a duplicate" decisions and the blocking keys the check at
/// registration looks up. Derived like every projection; the derivation version's bump
/// rebuilds them when a store is opened.
const RECONCILE: &str = r#"
ALTER TABLE p_households ADD COLUMN alt_phone TEXT;
-- The survivor a retired household redirects to.
ALTER TABLE p_households ADD COLUMN merged_into TEXT;
ALTER TABLE p_households ADD COLUMN awaiting_review INTEGER NOT NULL DEFAULT 0;
ALTER TABLE p_households ADD COLUMN returned_visits INTEGER NOT NULL DEFAULT 0;
CREATE INDEX p_households_merged ON p_households (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX p_households_group ON p_households (assigned_group, sort_name);
CREATE INDEX p_households_returned ON p_households (returned_visits) WHERE returned_visits > 0;

ALTER TABLE p_members ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE p_members ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE p_members ADD COLUMN father_name TEXT;
ALTER TABLE p_members ADD COLUMN sex TEXT;

ALTER TABLE p_visits ADD COLUMN review_state TEXT NOT NULL DEFAULT 'awaiting';
CREATE INDEX p_visits_review ON p_visits (review_state, date);

-- "Not a duplicate" decisions, one row per household and other household; `id` is
-- "<household>:<other>". Evidence is the JSON list of facts the decision saw.
CREATE TABLE p_not_duplicates (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    other_id TEXT NOT NULL,
    evidence TEXT NOT NULL
) STRICT;
CREATE INDEX p_not_duplicates_household ON p_not_duplicates (household_id);

-- The duplicate finder's blocking keys of each household (madadkar_schema::matching), so that
-- the check at registration is a few index lookups. `id` is "<household>|<key>".
CREATE TABLE p_match_keys (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    key TEXT NOT NULL
) STRICT;
CREATE INDEX p_match_keys_key ON p_match_keys (key);
CREATE INDEX p_match_keys_household ON p_match_keys (household_id);
"#;

/// Migration 7: the documents' versions apart from their snapshots (issue 12). A household's
/// snapshot is stored whole in its `documents` row, before `version`: reading the version alone
/// (every write checks it; the duplicate finder sums them all) would walk each snapshot's
/// overflow pages to reach it. This covering index answers both without touching a snapshot.
const DOCUMENT_VERSIONS: &str = r#"
CREATE INDEX documents_versions ON documents (id, version);
"#;

/// A household's document version (see [`DOCUMENT_VERSIONS`]).
pub(crate) const DOCUMENT_VERSION: &str =
    "SELECT version FROM documents INDEXED BY documents_versions WHERE id = ?";
/// How many documents there are and the sum of their versions: it changes with any write.
pub(crate) const ALL_VERSIONS: &str =
    "SELECT count(*), coalesce(sum(version), 0) FROM documents INDEXED BY documents_versions";

/// Migration 6: case outcomes (issue 11). Projections the outcome reports read, so that a
/// coordinator's report over a province never loads a document: each assessment's need sum and
/// dominant domain, the referral ledger's steps with their days in each state and when the
/// current one stalls, plan steps, graduations; and the partner directory from the server.
const OUTCOMES: &str = r#"
-- A visit's assessment: the sum and number of domains scored (the mean is their quotient,
-- kept exact), and the domain scored highest.
ALTER TABLE p_visits ADD COLUMN need_sum INTEGER;
ALTER TABLE p_visits ADD COLUMN need_count INTEGER;
ALTER TABLE p_visits ADD COLUMN dominant_need TEXT;
-- Covering indexes of the reports over visits: read without touching the wide visit rows (on an
-- encrypted store every page read is decrypted, so the narrower the pages the faster).
CREATE INDEX p_visits_weekly ON p_visits (date, worker_id, household_id);
CREATE INDEX p_visits_assessments ON p_visits (household_id, date, need_sum, need_count, dominant_need)
    WHERE need_count > 0;

ALTER TABLE p_households ADD COLUMN created_on TEXT;
ALTER TABLE p_households ADD COLUMN dominant_need TEXT;
-- madadkar_schema::outcome::trend::recent
ALTER TABLE p_households ADD COLUMN trend TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE p_households ADD COLUMN plan_goals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE p_households ADD COLUMN plan_goals_met INTEGER NOT NULL DEFAULT 0;
ALTER TABLE p_households ADD COLUMN graduation_proposed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE p_households ADD COLUMN graduated_on TEXT;
CREATE INDEX p_households_proposed ON p_households (graduation_proposed) WHERE graduation_proposed > 0;

ALTER TABLE p_referrals ADD COLUMN partner TEXT;
ALTER TABLE p_referrals ADD COLUMN sent_on TEXT;
ALTER TABLE p_referrals ADD COLUMN worker_id TEXT;
ALTER TABLE p_referrals ADD COLUMN amount INTEGER;
-- The day the referral stalls in its current state (its partner kind's limit after it got
-- there); NULL once it is finished.
ALTER TABLE p_referrals ADD COLUMN stalls_on TEXT;
CREATE INDEX p_referrals_stalls ON p_referrals (stalls_on) WHERE stalls_on IS NOT NULL;

-- Every step of every referral, with the days it spent in that state before the next step
-- (NULL for the current one).
CREATE TABLE p_referral_steps (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    status TEXT NOT NULL,
    date TEXT NOT NULL,
    days INTEGER,
    amount INTEGER
) STRICT;
CREATE INDEX p_referral_steps_household ON p_referral_steps (household_id);

CREATE TABLE p_plan_steps (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    goal_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    goal_met INTEGER NOT NULL,
    status TEXT NOT NULL,
    owner TEXT NOT NULL,
    partner TEXT,
    target_date TEXT,
    done_on TEXT
) STRICT;
CREATE INDEX p_plan_steps_household ON p_plan_steps (household_id);
CREATE INDEX p_plan_steps_due ON p_plan_steps (target_date)
    WHERE status IN ('planned', 'in_progress') AND target_date IS NOT NULL;

CREATE TABLE p_status_events (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    status TEXT NOT NULL,
    on_date TEXT NOT NULL
) STRICT;
CREATE INDEX p_status_events_household ON p_status_events (household_id);

-- The partner directory, as the server last sent it (not derived: replaced on each change).
-- The directory is fetched again on the next sync: an older version ignored its partners.
DELETE FROM meta WHERE key = 'directory_version';
CREATE TABLE partners (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    branch TEXT,
    district TEXT,
    active INTEGER NOT NULL
) STRICT;
"#;

pub const STORE_VERSION: i64 = MIGRATIONS.len() as i64;

/// The page cache of every connection, in KiB: 32 MiB, against SQLite's 2 MiB default.
pub(crate) const CACHE_KIB: i64 = 32 * 1024;

/// Opens the database the way every connection must: WAL, full sync (a laptop's battery can die
/// mid-write), foreign keys, a busy timeout for a second process such as the CLI, and a page
/// cache large enough for a province's lists: with the store encrypted, a page read from the
/// file is decrypted each time, so the decrypted pages a list or search walks must stay cached.
pub fn configure(conn: &Connection) -> Result<()> {
    // Negative: KiB.
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Checkpoints run off the write path (`crate::checkpoint`); this is the safety net.
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        crate::checkpoint::SAFETY_NET_PAGES,
    )?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > STORE_VERSION {
        return Err(StoreError::StoreTooNew {
            found: version,
            supported: STORE_VERSION,
        });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// How SQLite plans `sql`: its plan's detail lines, joined (for tests that guard a query's
/// use of an index).
#[cfg(test)]
pub(crate) fn query_plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("plan");
    // Unbound parameters are NULL: a plan needs no values.
    let mut rows = stmt.raw_query();
    let mut details = Vec::new();
    while let Some(row) = rows.next().expect("a plan row") {
        details.push(row.get::<_, String>(3).expect("its detail"));
    }
    details.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conn: &Connection, sql: &str) -> String {
        query_plan(conn, sql)
    }

    #[test]
    fn versions_are_read_without_touching_a_snapshot() {
        let mut conn = Connection::open_in_memory().expect("a database");
        migrate(&mut conn).expect("migrations");
        for sql in [DOCUMENT_VERSION, ALL_VERSIONS] {
            let plan = plan(&conn, sql);
            assert!(
                plan.contains("COVERING INDEX documents_versions"),
                "{sql}: {plan}"
            );
        }
    }
}
