//! Reassignment and the national-ID lookup through the client library against the real sync
//! server, served over HTTP on 127.0.0.1 from this test process (real SQLite on both sides).

mod common;

use std::sync::Arc;

use madadkar_client::{Store, StoreError, remote::Target};
use madadkar_schema::{NationalId, NewHousehold, NewMember, Relation};
use madadkar_server::{Limits, admin, storage::sqlite::SqliteStorage};
use tempfile::TempDir;
use uuid::Uuid;

/// The sync server on a loopback port, stopped when dropped.
struct Server {
    url: String,
    storage: Arc<SqliteStorage>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage =
            Arc::new(SqliteStorage::open(&dir.path().join("server.sqlite3")).expect("storage"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = storage.clone();
        let thread = std::thread::spawn(move || {
            runtime
                .block_on(madadkar_server::serve(
                    listener,
                    served,
                    Limits::default(),
                    async {
                        let _ = stopped.await;
                    },
                ))
                .expect("serve");
        });
        Self {
            url,
            storage,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// A replica enrolled as a new worker of `role` in `group`.
    fn replica(&self, role: &str, group: Option<&str>) -> (Store, TempDir) {
        let worker = admin::add_worker(self.storage.as_ref(), "w", group, role).expect("worker");
        let code = admin::issue_enroll_code(self.storage.as_ref(), &worker.id, 1).expect("code");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path(), &common::passphrase()).expect("store");
        store
            .enroll(&self.url, &code.code, Some("laptop"))
            .expect("enrol");
        (store, dir)
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn register(store: &mut Store, national_id: &NationalId) -> Uuid {
    let head = NewMember {
        national_id: Some(national_id.clone()),
        ..NewMember::named("علی", "کریمی", Relation::Head)
    };
    let household = NewHousehold {
        district: "منطقه ۳".into(),
        address: "کوچه یاس".into(),
        ..Default::default()
    };
    store.add_household(&household, &head).expect("household").0
}

fn server_code(e: &StoreError) -> Option<(u16, &str)> {
    match e {
        StoreError::Server { status, code, .. } => Some((*status, code.as_str())),
        _ => None,
    }
}

#[test]
fn a_coordinator_reassigns_through_the_client_and_a_worker_looks_up_an_id() {
    let mut server = Server::start();
    admin::add_group(server.storage.as_ref(), "x", "گروه ایکس").expect("group");
    admin::add_group(server.storage.as_ref(), "y", "گروه وای").expect("group");
    let (mut fx, _fx_dir) = server.replica("field", Some("x"));
    let (mut fy, _fy_dir) = server.replica("field", Some("y"));
    let (mut coordinator, _c_dir) = server.replica("coordinator", None);

    let ids = [
        NationalId::with_check_digit(123_456_789),
        NationalId::with_check_digit(223_456_789),
    ];
    let households: Vec<Uuid> = ids.iter().map(|id| register(&mut fx, id)).collect();
    fx.sync(None).expect("field worker syncs");

    // At registration in group y: the server says group x has the family, and nothing else.
    let found = fy.lookup_national_id(ids[0].as_str()).expect("lookup");
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].group_id.as_str(), found[0].group_name.as_str()),
        ("x", "گروه ایکس")
    );
    let unknown = NationalId::with_check_digit(987_654_321);
    assert!(
        fy.lookup_national_id(unknown.as_str())
            .expect("lookup")
            .is_empty()
    );
    assert!(matches!(
        fy.lookup_national_id("0499370898"),
        Err(StoreError::Invalid(_))
    ));

    // A field worker may not reassign.
    let to_y = Target {
        group: Some("y".into()),
        worker: None,
    };
    let refused = fx.reassign(&households, &to_y, true).expect_err("refused");
    assert_eq!(server_code(&refused), Some((403, "forbidden")), "{refused}");

    // The coordinator previews (nothing changes here or there), then moves them.
    coordinator.sync(None).expect("coordinator syncs");
    let pending = coordinator.pending_changes().expect("pending");
    let request = coordinator
        .assign_request(&households, &to_y, true)
        .expect("request");
    let preview = request.run().expect("preview");
    assert!(!preview.applied);
    assert_eq!(preview.moved, 2);
    assert_eq!(preview.moves[0].from.group_id.as_deref(), Some("x"));
    assert!(
        coordinator
            .record_assignment(&preview)
            .expect("record")
            .is_empty()
    );
    assert_eq!(coordinator.pending_changes().expect("pending"), pending);
    let done = coordinator
        .reassign(&households, &to_y, false)
        .expect("moved");
    assert!(done.applied);
    assert_eq!(done.moved, 2);
    // The coordinator's own replica agrees at once, and sends that on its next sync.
    for h in &households {
        let held = coordinator.household(*h).expect("held").household;
        assert_eq!(
            (held.assigned_group.as_deref(), held.assigned_worker),
            (Some("y"), None)
        );
    }
    assert_eq!(coordinator.pending_changes().expect("pending"), pending + 2);
    coordinator.sync(None).expect("coordinator syncs");

    // Group y's worker now holds them, with the coordinator's record of the move.
    fy.sync(None).expect("y syncs");
    for h in &households {
        let held = fy.household(*h).expect("now in y's scope").household;
        assert_eq!(held.assigned_group.as_deref(), Some("y"));
    }
    let found = fy.lookup_national_id(ids[1].as_str()).expect("lookup");
    assert_eq!(found[0].group_id, "y");

    // To one worker of y, then back to the group as a whole: the replica's record follows.
    let worker = fy.identity().expect("enrolled").worker_id.clone();
    let to_worker = Target {
        group: None,
        worker: Some(worker.clone()),
    };
    let one = [households[0]];
    coordinator
        .reassign(&one, &to_worker, false)
        .expect("to the worker");
    let held = coordinator.household(one[0]).expect("held").household;
    assert_eq!(held.assigned_worker.as_deref(), Some(worker.as_str()));
    let written = coordinator
        .reassign(&one, &to_y, false)
        .expect("to the group");
    assert_eq!(written.moved, 1);
    let held = coordinator.household(one[0]).expect("held").household;
    assert_eq!(
        (held.assigned_group.as_deref(), held.assigned_worker),
        (Some("y"), None)
    );

    // Unknown households are named.
    let ghost = Uuid::now_v7();
    let error = coordinator
        .reassign(&[ghost], &to_y, true)
        .expect_err("unknown");
    match &error {
        StoreError::Server {
            status,
            code,
            households,
            ..
        } => assert_eq!(
            (*status, code.as_str(), households.as_slice()),
            (400, "not_found", [ghost].as_slice())
        ),
        other => panic!("{other}"),
    }

    // A server that cannot be reached is `Network`: the form falls back to the local check.
    server.stop();
    let offline = fy.lookup_national_id(ids[0].as_str()).expect_err("offline");
    assert!(matches!(offline, StoreError::Network { .. }), "{offline}");
}

/// The partner directory the administrator keeps on the server reaches a replica with the
/// directory of devices, and a partner retired there shows as retired after the next sync.
#[test]
fn the_partner_directory_reaches_replicas_and_retiring_shows_after_a_sync() {
    use madadkar_schema::PartnerKind;

    let server = Server::start();
    let s = server.storage.as_ref();
    admin::add_group(s, "x", "گروه ایکس").expect("group");
    let (mut field, _dir) = server.replica("field", Some("x"));
    field.sync(None).expect("first sync");
    assert_eq!(field.partners().expect("partners"), vec![]);

    admin::add_partner(
        s,
        &admin::NewPartner {
            code: "bank-melli-enghelab",
            kind: "bank",
            name: "بانک ملی",
            branch: Some("شعبهٔ میدان انقلاب"),
            district: Some("منطقه ۶"),
        },
    )
    .expect("partner");
    admin::import_partners(
        s,
        r#"[{"code": "clinic-imam-reza", "kind": "clinic", "name": "درمانگاه امام رضا", "active": true}]"#,
    )
    .expect("import");
    field.sync(None).expect("sync after partners were added");
    let partners = field.partners().expect("partners");
    let mut got: Vec<(&str, PartnerKind, bool)> = partners
        .iter()
        .map(|p| (p.code.as_str(), p.kind, p.active))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("bank-melli-enghelab", PartnerKind::Bank, true),
            ("clinic-imam-reza", PartnerKind::Clinic, true),
        ]
    );
    let bank = partners
        .iter()
        .find(|p| p.code == "bank-melli-enghelab")
        .expect("the bank");
    assert_eq!(bank.branch.as_deref(), Some("شعبهٔ میدان انقلاب"));

    admin::set_partner_active(s, "bank-melli-enghelab", false).expect("retire");
    field.sync(None).expect("sync after a retirement");
    let bank = field
        .partners()
        .expect("partners")
        .into_iter()
        .find(|p| p.code == "bank-melli-enghelab")
        .expect("a retired partner stays listed");
    assert!(!bank.active, "the replica must show the partner retired");
}
