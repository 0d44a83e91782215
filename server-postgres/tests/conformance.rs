//! The storage conformance suite (`madadkar_server_storage::conformance`) on a real PostgreSQL
//! server: a throwaway cluster started for this test process, a fresh database per case.

use madadkar_server_postgres::{PgStorage, testing};

fn fresh() -> ((), PgStorage) {
    let url = testing::cluster().fresh_database();
    ((), PgStorage::connect(&url, 4).expect("connect"))
}

madadkar_server_storage::conformance_tests!(fresh());
