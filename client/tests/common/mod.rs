//! Replicas on real SQLite files in temporary directories, and bundle exchange between them.

#![allow(dead_code)]

use std::path::PathBuf;

use chrono::NaiveDate;
use madadkar_client::{ImportReport, Store};
use madadkar_schema::{NationalId, NewHousehold, NewMember, Relation};
use tempfile::TempDir;
use uuid::Uuid;

pub struct Replica {
    pub store: Store,
    pub dir: TempDir,
}

impl Replica {
    pub fn new(worker: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("open store");
        store
            .init(worker, &format!("{worker}'s laptop"), None)
            .expect("init");
        Self { store, dir }
    }

    pub fn bundle_path(&self) -> PathBuf {
        self.dir.path().join("out.bundle")
    }

    /// Exports everything this replica has and imports it into `other`.
    pub fn send_to(&self, other: &mut Replica) -> ImportReport {
        let path = self.bundle_path();
        self.store.export_bundle(&path).expect("export");
        other.store.import_bundle(&path).expect("import")
    }

    pub fn add_household(&mut self, first: &str, last: &str, nid_seed: u32) -> Uuid {
        let head = NewMember {
            national_id: Some(NationalId::with_check_digit(nid_seed)),
            ..NewMember::named(first, last, Relation::Head)
        };
        let household = NewHousehold {
            district: "منطقه ۳".into(),
            address: "کوچه یاس، پلاک ۴".into(),
            phone: Some("09120000000".into()),
            ..Default::default()
        };
        self.store
            .add_household(&household, &head)
            .expect("add household")
            .0
    }
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}
