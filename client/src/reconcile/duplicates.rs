//! Finding households registered twice: the blocking keys each household is indexed under (so
//! the check at registration is a few index lookups), the candidate pairs of the inbox, and
//! the facts a "not a duplicate" decision remembers.

use madadkar_schema::Household;
use rusqlite::Connection;
use uuid::Uuid;

use crate::error::Result;

/// The blocking keys of a household: what two registrations of one family are likely to share.
pub fn match_keys(h: &Household) -> Vec<String> {
    let mut keys = Vec::new();
    for m in &h.members {
        if let Some(nid) = &m.national_id {
            keys.push(format!("nid:{nid}"));
        }
    }
    for phone in h.phone.iter().chain(h.alt_phone.iter()) {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        let tail = &digits[digits.len().saturating_sub(10)..];
        keys.push(format!("phone:{tail}"));
    }
    keys
}

/// The facts two households share now (their common blocking keys): what a "not a duplicate"
/// decision records, so that only a new fact proposes the pair again.
pub(crate) fn pair_evidence(conn: &Connection, a: Uuid, b: Uuid) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT x.key FROM p_match_keys x JOIN p_match_keys y ON y.key = x.key \
         WHERE x.household_id = ? AND y.household_id = ? ORDER BY x.key",
    )?;
    let keys = stmt
        .query_map([a.to_string(), b.to_string()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(keys)
}
