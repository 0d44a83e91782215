//! The one place that turns the seeder's `--db` into a storage backend: a path (or
//! `sqlite://PATH`) opens the server's embedded SQLite store, a `postgres://…` URL its
//! PostgreSQL database, each with the server's own constructor (creating and migrating).

use std::path::Path;

use anyhow::{Context, Result, bail};
use madadkar_server::storage::{Storage, postgres::PgStorage, sqlite::SqliteStorage};

/// Opens (creating and migrating, as the server does) the database `database` names.
pub fn open(database: &str) -> Result<Box<dyn Storage>> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        let storage = PgStorage::connect(database, 4).with_context(|| {
            format!(
                "opening the PostgreSQL database {}",
                madadkar_server::database::without_password(database)
            )
        })?;
        return Ok(Box::new(storage));
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
    fn a_database_that_cannot_be_opened_is_refused_by_name() {
        // Nothing listens on port 1.
        let Err(err) = open("postgres://load:secret@127.0.0.1:1/madadkar") else {
            panic!("opened a database no server holds");
        };
        let message = format!("{err:#}");
        assert!(message.contains("PostgreSQL"), "{message}");
        assert!(
            !message.contains("secret"),
            "the password stays out: {message}"
        );
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
