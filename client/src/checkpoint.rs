//! Checkpoints off the write path. SQLite folds its write-ahead log back into the database
//! (a checkpoint) on the connection whose commit crossed the log's threshold, so now and then a
//! worker's save waited for a checkpoint that writes and syncs hundreds of pages: the long tail
//! of a write's latency. A store that asks for it instead runs passive checkpoints on a thread
//! of its own with its own connection, every second, which never block a writer or a reader;
//! the connections' own threshold stays, far higher, as a safety net should that thread stop.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::Result;
use crate::store::Store;

/// How often the background connection checkpoints.
const EVERY: Duration = Duration::from_secs(1);
/// The write-ahead log's size, in pages, at which a committing connection checkpoints itself
/// (SQLite's default is 1,000): reached only if the background thread falls behind or stops.
pub(crate) const SAFETY_NET_PAGES: i64 = 16_384;

/// The background checkpoints of one store, stopped (and waited for) when dropped.
#[derive(Debug)]
pub struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Store {
    /// Starts passive checkpoints on a thread of their own (see the module's note), kept until
    /// this store is dropped. The desktop app does this while it is unlocked.
    pub fn checkpoint_in_background(&mut self) -> Result<()> {
        if self.checkpointer.is_none() {
            self.checkpointer = Some(self.start_checkpointer()?);
        }
        Ok(())
    }

    fn start_checkpointer(&self) -> Result<Checkpointer> {
        let conn = self.connection()?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name("madadkar-checkpoint".into())
            .spawn(move || run(&conn, &signal))
            .map_err(|error| crate::error::StoreError::Io {
                path: self.path().display().to_string(),
                error,
            })?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

fn run(conn: &Connection, stop: &(Mutex<bool>, Condvar)) {
    let (lock, wake) = stop;
    let Ok(mut stopped) = lock.lock() else {
        return;
    };
    loop {
        match wake.wait_timeout(stopped, EVERY) {
            Ok((guard, _)) => stopped = guard,
            Err(_) => return,
        }
        if *stopped {
            return;
        }
        // Passive: copies what no reader still needs and returns; a busy database just waits
        // for the next turn. A failure here loses nothing (the log keeps every commit).
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        if let Ok(mut stopped) = self.stop.0.lock() {
            *stopped = true;
        }
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::vault::Passphrase;

    use super::*;

    #[test]
    fn the_background_thread_folds_the_log_in_and_stops_when_dropped() {
        let dir = tempfile::tempdir().expect("a directory");
        let mut store =
            Store::open(dir.path(), &Passphrase::new("a long enough passphrase")).expect("store");
        store.init("w", "laptop", None).expect("init");
        let threshold: i64 = store
            .conn
            .pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))
            .expect("the threshold");
        assert_eq!(threshold, SAFETY_NET_PAGES);
        let path = store.path().to_path_buf();
        let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let before = size();
        store.checkpoint_in_background().expect("started");
        crate::demo::generate(&mut store, 20, 7, crate::store::today()).expect("households");
        // The writes stay far below the connections' own threshold, so only the thread can
        // have copied them into the database file.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while size() <= before {
            assert!(
                std::time::Instant::now() < deadline,
                "the log was never checkpointed into the database"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Dropping the store stops the thread and waits for it.
        drop(store);
    }
}
