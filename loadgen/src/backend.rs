//! The one place that turns the seeder's `--db` into a storage backend: a path (or
//! `sqlite://PATH`) opens the server's embedded SQLite store. When the server has a PostgreSQL
//! backend, `postgres://…` is chosen here and nothing else in the seeder changes.

use std::path::Path;

use anyhow::{Context, Result, bail};
use madadkar_server::storage::{Storage, sqlite::SqliteStorage};

/// Opens (creating and migrating, as the server does) the database `database` names.
pub fn open(database: &str) -> Result<Box<dyn Storage>> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        // The hook for the PostgreSQL backend (issue 13): open it here with the server's own
        // constructor, e.g. `PgStorage::connect(database)`, and box it like the SQLite one.
        bail!("this build has no PostgreSQL backend yet; give a SQLite file path");
    }
    let path = database.strip_prefix("sqlite://").unwrap_or(database);
    if path.is_empty() {
        bail!("--db is empty: give the server's database file");
    }
    let storage = SqliteStorage::open(Path::new(path))
        .with_context(|| format!("opening the SQLite database {path}"))?;
    Ok(Box::new(storage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_this_build_cannot_open_is_refused_by_name() {
        let Err(err) = open("postgres://load@127.0.0.1/madadkar") else {
            panic!("no PostgreSQL backend yet, but it opened");
        };
        assert!(err.to_string().contains("PostgreSQL"), "{err}");
        assert!(open("").is_err());
        assert!(open("sqlite://").is_err());
    }

    #[test]
    fn a_path_or_sqlite_url_opens_the_server_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("madadkar-server.sqlite3");
        let url = format!("sqlite://{}", path.display());
        let storage = open(&url).expect("opens");
        storage.create_group("g1", "گروه").expect("writes");
        drop(storage);
        let again = open(path.to_str().expect("a UTF-8 path")).expect("opens again");
        assert_eq!(again.groups().expect("groups").len(), 1);
    }
}
