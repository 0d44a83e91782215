//! Which storage backend the server opens: the embedded SQLite file in the data directory
//! (the default, for one machine), or a PostgreSQL database named by a `postgres://` URL
//! (`--database`, for several instances sharing one cluster).

use std::path::{Path, PathBuf};

use crate::config::DATABASE_FILE;
use crate::storage::{self, Storage, postgres::PgStorage, sqlite::SqliteStorage};

/// Where the server's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database and the size of this instance's connection pool.
    Postgres { url: String, pool: usize },
}

impl Database {
    /// The database `given` (a `postgres://` or `postgresql://` URL, or an SQLite file's path),
    /// else the SQLite file in `data_dir`.
    pub fn choose(given: Option<&str>, data_dir: &Path, pool: Option<usize>) -> Self {
        match given {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::Postgres {
                    url: url.to_string(),
                    pool: pool.unwrap_or(storage::postgres::DEFAULT_POOL_SIZE),
                }
            }
            Some(path) => Self::Sqlite(PathBuf::from(path)),
            None => Self::Sqlite(data_dir.join(DATABASE_FILE)),
        }
    }

    /// Where it is, for messages: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres { url, .. } => without_password(url),
        }
    }

    /// Opens (creating and migrating) the database and hands it to `user`.
    pub fn open<U: UseStorage>(&self, user: U) -> storage::Result<U::Output> {
        Ok(match self {
            Self::Sqlite(path) => user.with(SqliteStorage::open(path)?),
            Self::Postgres { url, pool } => user.with(PgStorage::connect(url, *pool)?),
        })
    }
}

/// Work to do with whichever backend was opened (generic, so each backend's calls stay
/// direct).
pub trait UseStorage {
    type Output;
    fn with<S: Storage>(self, storage: S) -> Self::Output;
}

/// A URL with any password replaced by `***`, for logs and messages.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    if tail.is_empty() && !rest.contains('/') {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://{authority}/{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_postgres_paths_and_nothing_choose_sqlite() {
        let dir = Path::new("/srv/data");
        assert_eq!(
            Database::choose(None, dir, None),
            Database::Sqlite(dir.join(DATABASE_FILE))
        );
        assert_eq!(
            Database::choose(Some("/tmp/x.sqlite3"), dir, None),
            Database::Sqlite("/tmp/x.sqlite3".into())
        );
        assert_eq!(
            Database::choose(Some("postgresql://u@h/db"), dir, Some(4)),
            Database::Postgres {
                url: "postgresql://u@h/db".into(),
                pool: 4
            }
        );
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            without_password("postgres://madadkar:s3cret@db.example:5432/madadkar"),
            "postgres://madadkar:***@db.example:5432/madadkar"
        );
        assert_eq!(
            without_password("postgres://madadkar@127.0.0.1/m"),
            "postgres://madadkar@127.0.0.1/m"
        );
        assert_eq!(without_password("postgres://h"), "postgres://h");
    }
}
