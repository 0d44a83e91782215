//! Drafts of the desktop app's forms, kept in the encrypted store on every keystroke so that
//! closing the app or a crash loses nothing a worker typed, and nothing typed lies in the
//! WebView's storage in the clear. A draft is removed once its form is saved.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::store::Store;

/// A draft's key names a form, never a person: `household.new`, `visit.<household id>`.
const MAX_KEY_CHARS: usize = 200;
/// A form's fields as JSON; the longest (a visit) is a few KiB.
const MAX_VALUE_BYTES: usize = 256 * 1024;

/// One kept draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Draft {
    pub key: String,
    /// The form's fields as JSON text, as the app saved them.
    pub value: String,
}

fn check_key(key: &str) -> Result<()> {
    let fits = !key.is_empty()
        && key.chars().count() <= MAX_KEY_CHARS
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if fits {
        Ok(())
    } else {
        Err(StoreError::Draft(format!(
            "a draft key is 1 to {MAX_KEY_CHARS} ASCII letters, digits, '.', '-' or '_'"
        )))
    }
}

impl Store {
    /// Every kept draft, for the app to load once it is unlocked.
    pub fn drafts(&self) -> Result<Vec<Draft>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM drafts ORDER BY key")?;
        let drafts = stmt
            .query_map([], |r| {
                Ok(Draft {
                    key: r.get(0)?,
                    value: r.get(1)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(drafts)
    }

    pub fn draft(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM drafts WHERE key = ?", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Keeps `value` (JSON text) as the draft named `key`, replacing what was there.
    pub fn save_draft(&mut self, key: &str, value: &str) -> Result<()> {
        check_key(key)?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(StoreError::Draft(format!(
                "a draft of {} bytes is over the limit of {MAX_VALUE_BYTES}",
                value.len()
            )));
        }
        self.conn.execute(
            "INSERT INTO drafts (key, value, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![key, value, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// Forgets a draft (its form was saved or abandoned); forgetting none is not an error.
    pub fn clear_draft(&mut self, key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM drafts WHERE key = ?", [key])?;
        Ok(())
    }
}
