//! Replicas on real SQLite files in temporary directories, and bundle exchange between them.

#![allow(dead_code)]

use std::path::PathBuf;

use chrono::NaiveDate;
use madadkar_client::{ImportReport, Passphrase, Store};
use madadkar_schema::{NationalId, NewHousehold, NewMember, Relation};
use tempfile::TempDir;
use uuid::Uuid;

/// The passphrase of every test replica's store.
pub const PASSPHRASE: &str = "test passphrase";
/// The passphrase of the bundles test replicas exchange.
pub const BUNDLE_PASSPHRASE: &str = "bundle passphrase";

pub fn passphrase() -> Passphrase {
    Passphrase::new(PASSPHRASE)
}

pub struct Replica {
    pub store: Store,
    pub dir: TempDir,
}

impl Replica {
    pub fn new(worker: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path(), &passphrase()).expect("open store");
        store
            .init(worker, &format!("{worker}'s laptop"), None)
            .expect("init");
        // The directory a server would send: referrals and plan steps choose from it.
        store
            .set_partners(&madadkar_client::demo::partners())
            .expect("partners");
        Self { store, dir }
    }

    pub fn bundle_path(&self) -> PathBuf {
        self.dir.path().join("out.bundle")
    }

    /// Exports everything this replica has and imports it into `other`, as a bundle in memory:
    /// the framing and merging of a bundle file without the file's encryption, whose scrypt
    /// takes about a second each way (see `send_file_to`).
    pub fn send_to(&self, other: &mut Replica) -> ImportReport {
        let bytes = self.store.bundle_bytes().expect("export");
        other.store.import_bundle_bytes(&bytes).expect("import")
    }

    /// Exports everything this replica has to an encrypted bundle file and imports that into
    /// `other`.
    pub fn send_file_to(&self, other: &mut Replica) -> ImportReport {
        let path = self.bundle_path();
        let passphrase = Passphrase::new(BUNDLE_PASSPHRASE);
        self.store
            .export_bundle(&path, &passphrase)
            .expect("export");
        other
            .store
            .import_bundle(&path, &passphrase)
            .expect("import")
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
