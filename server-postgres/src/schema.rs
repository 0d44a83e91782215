//! The PostgreSQL schema and its migrations: numbered steps applied in order, each in its own
//! transaction, under an advisory lock so that instances starting together migrate once.

/// The schema's steps, in order; a database records how many it has applied.
pub(crate) const MIGRATIONS: &[&str] = &[INITIAL, ENROLL_LIMITS, SNAPSHOTS];

/// The key of the advisory lock migrations hold ("mdkr").
pub(crate) const MIGRATION_LOCK: i64 = 0x6d64_6b72;

/// The whole schema of the SQLite backend's steps, in PostgreSQL's types: UUIDs for devices and
/// households, `timestamptz` for times, `bytea` for hashes and changes. The audit chain keeps
/// text columns, because its hashes cover the text exactly as written.
const INITIAL: &str = r#"
CREATE TABLE groups (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    group_id TEXT REFERENCES groups(id),
    role TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE enroll_codes (
    code_hash BYTEA PRIMARY KEY,
    worker_id TEXT NOT NULL REFERENCES workers(id),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE TABLE devices (
    id UUID PRIMARY KEY,
    worker_id TEXT NOT NULL REFERENCES workers(id),
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    local_worker_id TEXT,
    enrolled_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ,
    signing_key TEXT,
    retiring_at TIMESTAMPTZ
);
CREATE INDEX devices_by_local_worker ON devices (local_worker_id);
CREATE TABLE assignments (
    household UUID PRIMARY KEY,
    group_id TEXT,
    worker_id TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX assignments_scope ON assignments (group_id, worker_id);

-- The visibility rule (docs/scale-out.md): every writer of the log takes this one row's lock
-- before it numbers entries and keeps it until it commits, so sequence numbers commit in
-- order and a pull that has passed a number can never meet a smaller one later.
CREATE TABLE log_head (id INT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);
INSERT INTO log_head (id, seq) VALUES (1, 0);
-- Only for the concurrency test that shows what goes wrong without the rule.
CREATE SEQUENCE log_unordered;
CREATE TABLE log (
    seq BIGINT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('change', 'assign')),
    household UUID NOT NULL
);
CREATE TABLE changes (
    seq BIGINT PRIMARY KEY REFERENCES log(seq),
    household UUID NOT NULL,
    hash BYTEA NOT NULL UNIQUE,
    bytes BYTEA NOT NULL,
    device_id UUID NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    actor BYTEA,
    actor_seq BIGINT
);
CREATE INDEX changes_by_household ON changes (household, seq);
CREATE INDEX changes_by_actor_seq ON changes (household, actor, actor_seq);

CREATE TABLE push_usage (
    device_id UUID NOT NULL REFERENCES devices(id),
    hour BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    changes BIGINT NOT NULL,
    PRIMARY KEY (device_id, hour)
);

CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    device_id TEXT,
    worker_id TEXT,
    group_id TEXT,
    household TEXT,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX audit_by_household ON audit (household, seq);
CREATE INDEX audit_by_device ON audit (device_id, seq);
-- Append-only for the server itself and a casual psql session; someone who drops the trigger
-- can change rows, and the hash chain then shows where.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
-- The chain's last entry is read and extended under this row's lock.
CREATE TABLE audit_head (id INT PRIMARY KEY CHECK (id = 1));
INSERT INTO audit_head (id) VALUES (1);

CREATE TABLE national_ids (
    national_id TEXT NOT NULL,
    household UUID NOT NULL,
    PRIMARY KEY (national_id, household)
);
CREATE INDEX national_ids_by_household ON national_ids (household);
CREATE TABLE lookups (device_id UUID NOT NULL REFERENCES devices(id), at BIGINT NOT NULL);
CREATE INDEX lookups_by_device ON lookups (device_id, at);
CREATE TABLE links (retired UUID PRIMARY KEY, survivor UUID NOT NULL);
CREATE INDEX links_by_survivor ON links (survivor);

CREATE TABLE partners (
    code TEXT PRIMARY KEY
        CHECK (length(code) BETWEEN 2 AND 64 AND code ~ '^[a-z0-9-]+$'),
    kind TEXT NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    branch TEXT CHECK (length(branch) BETWEEN 1 AND 100),
    district TEXT CHECK (length(district) BETWEEN 1 AND 100),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- The versions clients compare with their copies, bumped by triggers so that no code path
-- that edits what they cover can forget them (as in the SQLite backend).
CREATE TABLE versions (name TEXT PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO versions (name, version) VALUES ('directory', 1), ('scope', 1);
CREATE FUNCTION bump_directory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE versions SET version = version + 1 WHERE name = 'directory'; RETURN NULL; END $$;
CREATE FUNCTION bump_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE versions SET version = version + 1 WHERE name = 'scope'; RETURN NULL; END $$;
CREATE TRIGGER directory_on_device AFTER INSERT OR DELETE OR UPDATE OF worker_id, revoked_at, signing_key
    ON devices FOR EACH ROW EXECUTE FUNCTION bump_directory();
CREATE TRIGGER directory_on_worker AFTER UPDATE OF name, group_id
    ON workers FOR EACH ROW EXECUTE FUNCTION bump_directory();
CREATE TRIGGER directory_on_partner AFTER INSERT OR UPDATE OR DELETE
    ON partners FOR EACH ROW EXECUTE FUNCTION bump_directory();
CREATE TRIGGER scope_on_assignment AFTER DELETE OR UPDATE OF group_id, worker_id
    ON assignments FOR EACH ROW EXECUTE FUNCTION bump_scope();
CREATE TRIGGER scope_on_worker AFTER UPDATE OF group_id, role
    ON workers FOR EACH ROW EXECUTE FUNCTION bump_scope();
CREATE TRIGGER scope_on_link AFTER DELETE OR UPDATE OF survivor
    ON links FOR EACH ROW EXECUTE FUNCTION bump_scope();
"#;

/// The enrolment rate limits, shared by every instance (times in Unix milliseconds).
const ENROLL_LIMITS: &str = r#"
-- Enrolment attempts the limits let through, by source (an address, or 'unknown').
CREATE TABLE enroll_attempts (source TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX enroll_attempts_by_source ON enroll_attempts (source, at);
CREATE INDEX enroll_attempts_by_time ON enroll_attempts (at);
-- Wrong codes, by source, until the lockout window has passed or a code works.
CREATE TABLE enroll_failures (source TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX enroll_failures_by_source ON enroll_failures (source, at);
CREATE INDEX enroll_failures_by_time ON enroll_failures (at);
-- Sources locked out after too many wrong codes, until when.
CREATE TABLE enroll_lockouts (source TEXT PRIMARY KEY, until BIGINT NOT NULL);
"#;

/// First syncs from snapshots (issue 12): a cache of each household's whole document, saved by
/// Automerge, holding its changes up to `through`; rebuilt from the changes whenever it is
/// missing or behind.
const SNAPSHOTS: &str = r#"
CREATE TABLE snapshots (
    household UUID PRIMARY KEY,
    through BIGINT NOT NULL,
    bytes BYTEA NOT NULL
);
"#;

/// The key of the advisory lock the enrolment limits are counted under ("mdke"): the global
/// budget spans every source, so two instances must not both take its last attempt.
pub(crate) const ENROLL_LOCK: i64 = 0x6d64_6b65;
