//! How long the app takes from launch to the worker's first caseload page, measured by the app
//! itself (issue 12's target: under a second at 23,000 households), and how many commands opened
//! a household's document, which scrolling the caseload must never do.
//!
//! The marks are instants on one clock: the process's start (`main`), Tauri's setup, the UI's
//! script starting, the lock screen's first paint and the first caseload page's paint as the
//! window reports them, and, in between, the steps the Rust side sees itself (the unlock's key
//! derivation and store opening, the first page's query). Only timings and counts are kept: nothing a worker typed or read.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// When `main` began, and how long the process had run by then, set by [`process_started`] as
/// the first thing the binary does.
static STARTED: OnceLock<(Instant, Option<Duration>)> = OnceLock::new();

/// Records the process's start; the binary calls it before anything else, and later calls keep
/// the first. Marks are measured from this instant (plus [`LaunchMarks::before_main_ms`] where
/// the system tells it).
pub fn process_started() -> (Instant, Option<Duration>) {
    *STARTED.get_or_init(|| (Instant::now(), before_main()))
}

/// What the window reports: its script began, or it painted a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum UiMark {
    /// The UI's script began running: the WebView is up and the page loaded (nothing painted).
    ScriptStarted,
    /// The lock screen, the first screen a launch shows.
    LockScreen,
    /// The first page of caseload rows after the worker unlocked.
    FirstPage,
}

/// The launch's marks, in milliseconds since `main` began (fractions kept), each `None` until it
/// happened; and the counts of document-loading commands and of caseload pages listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct LaunchMarks {
    /// From the process's creation to `main` (the loader and shared libraries), where the system
    /// tells it (Linux's `/proc`, to about 10 ms); add it to the marks for the time since launch.
    pub before_main_ms: Option<f64>,
    /// Tauri's setup ran: the windowing toolkit is up, the window's WebView not yet loaded.
    pub setup_ms: Option<f64>,
    /// The UI's script began running (as its report arrived).
    pub script_started_ms: Option<f64>,
    /// The lock screen's first paint.
    pub lock_painted_ms: Option<f64>,
    /// The (successful) unlock command began: the passphrase reached the app.
    pub unlock_started_ms: Option<f64>,
    /// The store was open: the passphrase's key derivation (Argon2id), the store and the sync
    /// thread's connection opened.
    pub store_opened_ms: Option<f64>,
    /// The first caseload page's query began, after the unlock.
    pub first_page_query_started_ms: Option<f64>,
    /// The first caseload page's query ended (rows read from the projections).
    pub first_page_query_ended_ms: Option<f64>,
    /// The first caseload page's rows were painted.
    pub first_page_painted_ms: Option<f64>,
    /// Commands that opened a household's document since launch (a household's page, its
    /// history, plan, ledger, a comparison, any change). Listing and searching the caseload read
    /// projections only and never count.
    pub document_loads: u32,
    /// Caseload pages listed since launch (`list_households` calls).
    pub pages_listed: u32,
}

/// The app's launch marks and counters, shared by every command.
#[derive(Debug)]
pub struct Launch {
    started: Instant,
    before_main: Option<Duration>,
    marks: Mutex<Marks>,
    document_loads: AtomicU32,
    pages_listed: AtomicU32,
}

/// The marks as instants; converted to milliseconds when read.
#[derive(Debug, Default)]
struct Marks {
    setup: Option<Instant>,
    script_started: Option<Instant>,
    lock_painted: Option<Instant>,
    unlock_started: Option<Instant>,
    store_opened: Option<Instant>,
    first_page_query: Option<(Instant, Instant)>,
    first_page_painted: Option<Instant>,
}

impl Default for Launch {
    fn default() -> Self {
        let (started, before_main) = process_started();
        Self {
            before_main,
            ..Self::since(started)
        }
    }
}

impl Launch {
    /// Marks measured from `started`, with nothing known of the time before it.
    pub fn since(started: Instant) -> Self {
        Self {
            started,
            before_main: None,
            marks: Mutex::default(),
            document_loads: AtomicU32::new(0),
            pages_listed: AtomicU32::new(0),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Marks) -> T) -> Option<T> {
        // A poisoned lock only loses a measurement; the app goes on.
        self.marks.lock().ok().map(|mut m| f(&mut m))
    }

    /// Tauri's setup ran at `at`.
    pub fn set_up(&self, at: Instant) {
        self.with(|m| {
            m.setup.get_or_insert(at);
        });
    }

    /// The window reported `what` at `at`. Only the first of each counts, and a first page only
    /// after an unlock this launch (a reloaded window that was already open measures nothing).
    pub fn ui(&self, what: UiMark, at: Instant) {
        self.with(|m| match what {
            UiMark::ScriptStarted => {
                m.script_started.get_or_insert(at);
            }
            UiMark::LockScreen => {
                m.lock_painted.get_or_insert(at);
            }
            UiMark::FirstPage => {
                if m.store_opened.is_some() && m.first_page_query.is_some() {
                    m.first_page_painted.get_or_insert(at);
                }
            }
        });
    }

    /// An unlock that began at `started` opened the store at `opened`. Only the first unlock of
    /// the launch is measured (after "lock now", the next unlock is not a launch).
    pub fn unlocked(&self, started: Instant, opened: Instant) {
        self.with(|m| {
            if m.store_opened.is_none() {
                m.unlock_started = Some(started);
                m.store_opened = Some(opened);
            }
        });
    }

    /// A caseload page was listed by a query from `started` to `ended`; the first after the
    /// unlock is the first page's.
    pub fn listed(&self, started: Instant, ended: Instant) {
        self.pages_listed.fetch_add(1, Ordering::Relaxed);
        self.with(|m| {
            if m.store_opened.is_some() && m.first_page_query.is_none() {
                m.first_page_query = Some((started, ended));
            }
        });
    }

    /// A command is about to open a household's document.
    pub fn document_loaded(&self) {
        self.document_loads.fetch_add(1, Ordering::Relaxed);
    }

    /// The marks so far.
    pub fn marks(&self) -> LaunchMarks {
        let ms = |at: Option<Instant>| {
            at.map(|at| at.saturating_duration_since(self.started).as_secs_f64() * 1000.0)
        };
        let mut marks = self
            .with(|m| LaunchMarks {
                setup_ms: ms(m.setup),
                script_started_ms: ms(m.script_started),
                lock_painted_ms: ms(m.lock_painted),
                unlock_started_ms: ms(m.unlock_started),
                store_opened_ms: ms(m.store_opened),
                first_page_query_started_ms: ms(m.first_page_query.map(|q| q.0)),
                first_page_query_ended_ms: ms(m.first_page_query.map(|q| q.1)),
                first_page_painted_ms: ms(m.first_page_painted),
                ..LaunchMarks::default()
            })
            .unwrap_or_default();
        marks.before_main_ms = self.before_main.map(|d| d.as_secs_f64() * 1000.0);
        marks.document_loads = self.document_loads.load(Ordering::Relaxed);
        marks.pages_listed = self.pages_listed.load(Ordering::Relaxed);
        marks
    }
}

/// How long the process ran before this call, as the system tells it: on Linux, the process's
/// start in clock ticks since boot (`/proc/self/stat`, field 22) against the time since boot
/// (`/proc/uptime`). Elsewhere, or when either cannot be read, `None`: the marks then start
/// at `main`.
fn before_main() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    before_main_of(&stat, &uptime)
}

/// [`before_main`] from the two files' contents. `/proc` counts in USER_HZ ticks, which Linux
/// fixes at 100 a second for everything it shows to programs.
fn before_main_of(stat: &str, uptime: &str) -> Option<Duration> {
    const TICKS_PER_SECOND: f64 = 100.0;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 3 (the state) is the first after the name; the start time is field 22.
    let start_ticks: f64 = after_name.split_whitespace().nth(22 - 3)?.parse().ok()?;
    let now: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    let ran = now - start_ticks / TICKS_PER_SECOND;
    // Both are rounded to a tick: a negative difference is rounding, not time.
    Some(Duration::from_secs_f64(ran.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: u64) -> Duration {
        Duration::from_millis(d)
    }

    #[test]
    fn the_marks_are_milliseconds_since_start_and_the_first_of_each() {
        let t0 = Instant::now();
        let launch = Launch::since(t0);
        launch.set_up(t0 + ms(100));
        launch.ui(UiMark::ScriptStarted, t0 + ms(200));
        launch.ui(UiMark::LockScreen, t0 + ms(300));
        launch.ui(UiMark::LockScreen, t0 + ms(900));
        // A first page before any unlock (a reloaded, already open window) measures nothing.
        launch.ui(UiMark::FirstPage, t0 + ms(950));
        launch.unlocked(t0 + ms(1000), t0 + ms(1400));
        launch.listed(t0 + ms(1500), t0 + ms(1510));
        launch.listed(t0 + ms(1600), t0 + ms(1620));
        launch.ui(UiMark::FirstPage, t0 + ms(1550));
        launch.ui(UiMark::FirstPage, t0 + ms(1700));
        // Locking and unlocking again is not a launch.
        launch.unlocked(t0 + ms(5000), t0 + ms(5400));
        let m = launch.marks();
        assert_eq!(m.setup_ms, Some(100.0));
        assert_eq!(m.script_started_ms, Some(200.0));
        assert_eq!(m.lock_painted_ms, Some(300.0));
        assert_eq!(m.unlock_started_ms, Some(1000.0));
        assert_eq!(m.store_opened_ms, Some(1400.0));
        assert_eq!(m.first_page_query_started_ms, Some(1500.0));
        assert_eq!(m.first_page_query_ended_ms, Some(1510.0));
        assert_eq!(m.first_page_painted_ms, Some(1550.0));
        assert_eq!(m.pages_listed, 2);
        assert_eq!(m.document_loads, 0);
        launch.document_loaded();
        assert_eq!(launch.marks().document_loads, 1);
    }

    #[test]
    fn nothing_is_marked_before_it_happens() {
        let m = Launch::since(Instant::now()).marks();
        assert_eq!(m.setup_ms, None);
        assert_eq!(m.lock_painted_ms, None);
        assert_eq!(m.unlock_started_ms, None);
        assert_eq!(m.first_page_painted_ms, None);
        assert_eq!((m.document_loads, m.pages_listed), (0, 0));
    }

    #[test]
    fn the_time_before_main_comes_from_the_start_tick_and_the_uptime() {
        // A command name with spaces and a parenthesis: fields are counted after the last one.
        let stat = "4242 (madadkar (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 \
                    19 0 123400 1000000 100 18446744073709551615";
        let ran = before_main_of(stat, "1234.56 2000.00\n").expect("parsed");
        assert!((ran.as_secs_f64() - 0.56).abs() < 1e-9, "{ran:?}");
        // Rounding that puts the start after "now" is no time, not a negative one.
        assert_eq!(before_main_of(stat, "1233.99 1.0"), Some(Duration::ZERO));
        assert_eq!(before_main_of("garbage", "1.0"), None);
        assert_eq!(before_main_of(stat, ""), None);
    }

    #[test]
    fn this_process_has_run_a_while_before_now() {
        // On Linux the real files parse; elsewhere there is nothing to read.
        if cfg!(target_os = "linux") {
            let ran = before_main().expect("read /proc");
            assert!(ran < Duration::from_secs(24 * 3600), "{ran:?}");
        }
    }
}
