//! The lock screen's rules, apart from Tauri so they can be tested: whether the data directory
//! holds a store yet, and how quickly wrong passphrases may be retried.
//!
//! A few quick retries are free (a worker mistypes); after that each attempt waits longer, up
//! to a bound, so someone at a stolen, running laptop cannot try passphrases at the speed of
//! the key derivation. The count lives in memory only: restarting the app resets it, which is
//! why the real protection is the Argon2id derivation itself (see `docs/security.md`).

use std::time::{Duration, Instant};

use madadkar_client::VaultState;
use serde::Serialize;

/// Wrong passphrases accepted without any wait.
pub const FREE_ATTEMPTS: u32 = 3;
/// The wait after the first wrong passphrase beyond the free ones; it doubles with each more.
const FIRST_DELAY: Duration = Duration::from_secs(5);
/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(5 * 60);

/// What the lock screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    /// No store yet: choose a passphrase (twice) to create it.
    FirstRun,
    /// A store an older Madadkar left unencrypted: choose a passphrase to encrypt it.
    Unencrypted,
    /// An encrypted store: type its passphrase.
    Locked,
    /// The store is open.
    Unlocked,
}

impl LockState {
    pub fn of(vault: VaultState, unlocked: bool) -> Self {
        match (unlocked, vault) {
            (true, _) => Self::Unlocked,
            (false, VaultState::Absent) => Self::FirstRun,
            (false, VaultState::Plain) => Self::Unencrypted,
            (false, VaultState::Locked) => Self::Locked,
        }
    }

    /// Whether opening in this state makes a new passphrase (first run, or encrypting an old
    /// store) rather than checking one.
    pub fn chooses_passphrase(self) -> bool {
        matches!(self, Self::FirstRun | Self::Unencrypted)
    }
}

/// The lock screen's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct LockView {
    pub state: LockState,
    /// The shortest passphrase a new store accepts.
    pub min_length: u32,
    /// Seconds before the next attempt is allowed (0: now).
    pub wait_seconds: u32,
}

/// Wrong passphrases typed in a row, and when the next attempt is allowed.
#[derive(Debug, Default)]
pub struct Attempts {
    failures: u32,
    next_allowed: Option<Instant>,
}

impl Attempts {
    /// How long before another attempt may be made; zero when it may be made now.
    pub fn wait(&self, now: Instant) -> Duration {
        self.next_allowed
            .map(|at| at.saturating_duration_since(now))
            .unwrap_or_default()
    }

    /// Counts a wrong passphrase; returns the wait it imposes before the next one.
    pub fn failed(&mut self, now: Instant) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let delay = match self.failures.checked_sub(FREE_ATTEMPTS) {
            None | Some(0) => Duration::ZERO,
            Some(beyond) => FIRST_DELAY
                .saturating_mul(1u32 << (beyond - 1).min(16))
                .min(MAX_DELAY),
        };
        self.next_allowed = (!delay.is_zero()).then(|| now + delay);
        delay
    }

    /// The store opened: the next wrong passphrase starts from zero.
    pub fn succeeded(&mut self) {
        *self = Self::default();
    }
}

/// Seconds to show for a wait, rounded up so "0 seconds" is never shown while waiting.
pub fn whole_seconds(wait: Duration) -> u32 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_quick_retries_then_waits_that_grow_to_a_bound() {
        let start = Instant::now();
        let mut attempts = Attempts::default();
        for _ in 0..FREE_ATTEMPTS {
            assert_eq!(attempts.failed(start), Duration::ZERO);
            assert_eq!(attempts.wait(start), Duration::ZERO);
        }
        assert_eq!(attempts.failed(start), Duration::from_secs(5));
        assert_eq!(attempts.wait(start), Duration::from_secs(5));
        assert_eq!(
            attempts.wait(start + Duration::from_secs(2)),
            Duration::from_secs(3)
        );
        assert_eq!(
            attempts.wait(start + Duration::from_secs(6)),
            Duration::ZERO
        );
        assert_eq!(attempts.failed(start), Duration::from_secs(10));
        assert_eq!(attempts.failed(start), Duration::from_secs(20));
        for _ in 0..40 {
            attempts.failed(start);
        }
        assert_eq!(attempts.wait(start), MAX_DELAY);
        attempts.succeeded();
        assert_eq!(attempts.wait(start), Duration::ZERO);
        assert_eq!(attempts.failed(start), Duration::ZERO, "free again");
    }

    #[test]
    fn waits_are_shown_in_whole_seconds_rounded_up() {
        assert_eq!(whole_seconds(Duration::ZERO), 0);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(4001)), 5);
    }

    #[test]
    fn the_lock_screen_state_follows_the_data_directory() {
        assert_eq!(
            LockState::of(VaultState::Absent, false),
            LockState::FirstRun
        );
        assert_eq!(
            LockState::of(VaultState::Plain, false),
            LockState::Unencrypted
        );
        assert_eq!(LockState::of(VaultState::Locked, false), LockState::Locked);
        assert_eq!(LockState::of(VaultState::Locked, true), LockState::Unlocked);
        assert!(LockState::FirstRun.chooses_passphrase());
        assert!(!LockState::Locked.chooses_passphrase());
    }
}
