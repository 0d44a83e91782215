//! The SQLite side of the partner directory (`madadkar_server_storage::partners`): its table, the triggers that
//! bump the directory's version whenever a partner is added, changed or removed (so no code
//! path can forget to, as for devices), and the reads and writes behind the storage trait.

use madadkar_schema::{Partner, PartnerKind};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{SqlError, SqlResult, corrupt, time};
use madadkar_server_storage::StorageError;
use madadkar_server_storage::partners;

/// The migration step. Depends on nothing but the device keys' step's `directory_version`, so
/// it may take any place after it when steps of parallel work are merged; it may also run
/// again (`IF NOT EXISTS`). The checks repeat `madadkar_server_storage::partners::validated`'s as a backstop for
/// rows written by hand: a code SQLite would let through there could never be chosen.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE IF NOT EXISTS partners (
    code TEXT PRIMARY KEY
        CHECK (length(code) BETWEEN 2 AND 64 AND code NOT GLOB '*[^a-z0-9-]*'),
    kind TEXT NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    branch TEXT CHECK (length(branch) BETWEEN 1 AND 100),
    district TEXT CHECK (length(district) BETWEEN 1 AND 100),
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS directory_on_partner_insert AFTER INSERT ON partners
BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS directory_on_partner_update AFTER UPDATE ON partners
BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS directory_on_partner_delete AFTER DELETE ON partners
BEGIN UPDATE directory_version SET version = version + 1; END;
"#;

const COLUMNS: &str = "code, kind, name, branch, district, active";

fn partner_row(r: &Row<'_>) -> SqlResult<Partner> {
    let code: String = r.get(0)?;
    let kind: String = r.get(1)?;
    // A kind this server does not know is an error, never read as `other`: referrals would be
    // aged and counted under the wrong kind.
    let kind = PartnerKind::parse(&kind)
        .map_err(|_| corrupt(format!("partner {code} has an unknown kind {kind:?}")))?;
    Ok(Partner {
        code,
        kind,
        name: r.get(2)?,
        branch: r.get(3)?,
        district: r.get(4)?,
        active: r.get(5)?,
    })
}

/// Every partner, by code (inside the caller's transaction when it reads the directory).
pub(super) fn all(c: &Connection) -> SqlResult<Vec<Partner>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {COLUMNS} FROM partners ORDER BY code"))?;
    let rows = stmt.query_and_then([], partner_row)?;
    rows.collect()
}

/// Adds the partners, all or nothing; see `Storage::add_partners`.
pub(super) fn add(c: &mut Connection, batch: &[Partner]) -> SqlResult<()> {
    let batch = partners::validated_all(batch).map_err(StorageError::from)?;
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut exists = tx.prepare_cached("SELECT 1 FROM partners WHERE code = ?")?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO partners (code, kind, name, branch, district, active, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )?;
        let now = time(chrono::Utc::now());
        for p in &batch {
            let taken: Option<i64> = exists.query_row([&p.code], |r| r.get(0)).optional()?;
            if taken.is_some() {
                return Err(StorageError::Conflict(format!(
                    "partner {} already exists; nothing was added (`partner list` shows it)",
                    p.code
                ))
                .into());
            }
            insert.execute(params![
                p.code,
                p.kind.code(),
                p.name,
                p.branch,
                p.district,
                p.active,
                now
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Retires or brings back a partner; see `Storage::set_partner_active`.
pub(super) fn set_active(c: &mut Connection, code: &str, active: bool) -> SqlResult<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now: Option<bool> = tx
        .query_row("SELECT active FROM partners WHERE code = ?", [code], |r| {
            r.get(0)
        })
        .optional()?;
    match now {
        None => {
            return Err(SqlError::Storage(StorageError::NotFound {
                kind: "partner",
                id: code.to_string(),
            }));
        }
        // Unchanged: no write, so replicas are not sent the same directory again.
        Some(now) if now == active => {}
        Some(_) => {
            tx.execute(
                "UPDATE partners SET active = ? WHERE code = ?",
                params![active, code],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::SqliteStorage;
    use madadkar_schema::{Partner, PartnerKind};
    use madadkar_server_storage::{Storage, StorageError};

    #[test]
    fn a_stored_kind_this_server_does_not_know_is_an_error_not_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.sqlite3");
        let storage = SqliteStorage::open(&path).expect("open");
        storage
            .add_partner(&Partner {
                code: "bank-melli-1".into(),
                kind: PartnerKind::Bank,
                name: "بانک ملی".into(),
                branch: None,
                district: None,
                active: true,
            })
            .expect("add");
        let raw = rusqlite::Connection::open(&path).expect("raw connection");
        raw.execute("UPDATE partners SET kind = 'mosque'", [])
            .expect("spoil");
        for result in [
            storage.partners().map(|_| ()),
            storage.directory().map(|_| ()),
        ] {
            match result {
                Err(StorageError::Corrupt { what }) => {
                    assert!(
                        what.contains("bank-melli-1") && what.contains("mosque"),
                        "{what}"
                    )
                }
                other => panic!("expected a corrupt-value error, got {other:?}"),
            }
        }
        // The table refuses a code no replica could choose, whoever writes it.
        assert!(
            raw.execute("UPDATE partners SET code = 'Bank Melli'", [])
                .is_err()
        );
    }
}
