//! The storage conformance suite (`madadkar_server_storage::conformance`) on SQLite files.

use madadkar_server_sqlite::SqliteStorage;

fn fresh() -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = SqliteStorage::open(&dir.path().join("server.sqlite3")).expect("open");
    (dir, storage)
}

madadkar_server_storage::conformance_tests!(fresh());
