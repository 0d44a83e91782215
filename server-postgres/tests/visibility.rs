//! The visibility rule (`docs/scale-out.md`): no pull may skip a change. A writer that took a
//! sequence number and has not committed yet is held open while another writer commits and a
//! pull reads the log; then the first commits and the pull goes on from its cursor. With the
//! rule, the pull meets both changes. Without it (numbers from a plain sequence, as a backend
//! that only trusted PostgreSQL's sequences would do) the same interleaving loses the slow
//! writer's change, which shows the test can fail.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use madadkar_schema::Role;
use madadkar_server_postgres::{PgStorage, testing};
use madadkar_server_storage::conformance::{change, enrol};
use madadkar_server_storage::{Assignment, LogEntry, Scope, Storage};
use uuid::Uuid;

/// What a pull that starts at cursor 0, runs while the first writer is held open, and pulls
/// again after both writers committed, received: the households of the changes it met.
fn interleave(storage: PgStorage) -> (Vec<Uuid>, Vec<Uuid>) {
    let storage = Arc::new(storage);
    storage.create_group("g1", "one").expect("group");
    let worker = storage
        .create_worker("w", Some("g1"), Role::Field)
        .expect("worker");
    let writer = enrol(&*storage, &worker, 1);
    let reader = enrol(&*storage, &worker, 2);
    let (slow, fast) = (Uuid::now_v7(), Uuid::now_v7());
    let group = Assignment {
        group_id: Some("g1".into()),
        worker_id: None,
    };

    // The first writer to reach its commit says so and waits for the release; later ones pass.
    let (paused_tx, paused_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let gate = Mutex::new(Some((paused_tx, release_rx)));
    storage.set_before_commit_for_tests(Some(Box::new(move || {
        let taken = gate.lock().ok().and_then(|mut g| g.take());
        if let Some((paused, release)) = taken {
            let _ = paused.send(());
            let _ = release.recv_timeout(Duration::from_secs(30));
        }
    })));

    let store = |household: Uuid, actor: u8| {
        let storage = storage.clone();
        let group = group.clone();
        std::thread::spawn(move || {
            let mut doc =
                automerge::AutoCommit::new().with_actor(automerge::ActorId::from(vec![actor; 16]));
            let c = change(household, writer, &mut doc, "visit");
            storage
                .store_changes(&[c], &[(household, group)], &[])
                .expect("store")
        })
    };
    let first = store(slow, 1);
    paused_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the first writer reaches its commit");
    let second = store(fast, 2);
    // Long enough for the second writer to commit if nothing holds it.
    std::thread::sleep(Duration::from_millis(500));

    let scope = Scope::Group("g1".into());
    let pull = |after: u64| -> (Vec<Uuid>, u64) {
        let page = storage.log_after(&scope, reader, after, 100).expect("pull");
        let mut cursor = after;
        let mut met = vec![];
        for e in &page.entries {
            if let LogEntry::Change { household, .. } = e {
                met.push(*household);
            }
            cursor = cursor.max(e.seq());
        }
        // As the pull does when nothing more is waiting: up to the head.
        (met, cursor.max(page.head))
    };
    let (before, cursor) = pull(0);
    release_tx.send(()).expect("release");
    first.join().expect("first writer");
    second.join().expect("second writer");
    let (after, _) = pull(cursor);
    let mut all = before.clone();
    all.extend(after);
    (before, all)
}

#[test]
fn with_the_rule_a_pull_never_skips_a_slow_writers_change() {
    let url = testing::cluster().fresh_database();
    let (during, all) = interleave(PgStorage::connect(&url, 8).expect("connect"));
    assert!(
        during.is_empty(),
        "nothing is visible while the first writer holds the head: {during:?}"
    );
    assert_eq!(all.len(), 2, "both changes reach the pull: {all:?}");
}

#[test]
fn without_the_rule_the_same_interleaving_loses_a_change() {
    let url = testing::cluster().fresh_database();
    let storage = PgStorage::connect(&url, 8)
        .expect("connect")
        .without_visibility_rule_for_tests();
    let (during, all) = interleave(storage);
    assert_eq!(during.len(), 1, "the fast writer's change is read first");
    assert_eq!(
        all.len(),
        1,
        "the slow writer's smaller number commits behind the cursor and is never sent: {all:?}"
    );
}
