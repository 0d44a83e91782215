//! The partner directory on this replica: the banks, training centres and clinics referrals go
//! to, as the server last sent them with its directory. Referrals and plan steps name a partner
//! by its code, chosen from here, never typed.

use madadkar_schema::{Field, Partner, PartnerKind, ValidationError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, StoreError};
use crate::store::Store;

/// Replaces the stored directory of partners with `partners` (what the server sent).
pub(crate) fn store_partners(conn: &Connection, partners: &[Partner]) -> Result<()> {
    conn.execute("DELETE FROM partners", [])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO partners (code, kind, name, branch, district, active) VALUES (?, ?, ?, ?, ?, ?)",
    )?;
    for p in partners {
        insert.execute(params![
            p.code,
            p.kind.code(),
            p.name,
            p.branch,
            p.district,
            p.active
        ])?;
    }
    Ok(())
}

/// A partner as stored: code, kind, name, branch, district, active.
type PartnerRow = (String, String, String, Option<String>, Option<String>, bool);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PartnerRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn partner_of((code, kind, name, branch, district, active): PartnerRow) -> Result<Partner> {
    Ok(Partner {
        kind: PartnerKind::parse(&kind)?,
        code,
        name,
        branch,
        district,
        active,
    })
}

/// Every partner this replica knows, by kind then name.
pub(crate) fn partners(conn: &Connection) -> Result<Vec<Partner>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, kind, name, branch, district, active FROM partners ORDER BY kind, name, branch, code",
    )?;
    let rows = stmt
        .query_map([], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(partner_of).collect()
}

/// One partner by its code.
pub(crate) fn partner(conn: &Connection, code: &str) -> Result<Option<Partner>> {
    let found = conn
        .prepare_cached(
            "SELECT code, kind, name, branch, district, active FROM partners WHERE code = ?",
        )?
        .query_row([code], row)
        .optional()?;
    found.map(partner_of).transpose()
}

/// Checks that `code` names an active partner of `kind` in the directory: what a new referral
/// or plan step may name. The error says what to do when the directory has none.
pub(crate) fn require_partner(
    conn: &Connection,
    code: &str,
    kind: Option<PartnerKind>,
) -> Result<Partner> {
    let Some(p) = partner(conn, code)? else {
        let known = partners(conn)?.len();
        let reason = if known == 0 {
            "is not in the partner directory, which this replica has not received yet; sync with the server first"
        } else {
            "is not in the partner directory; choose one of `madadkar partners`"
        };
        return Err(StoreError::Invalid(ValidationError::Invalid {
            field: Field::Partner,
            input: code.to_string(),
            reason,
        }));
    };
    if !p.active {
        return Err(StoreError::Invalid(ValidationError::Invalid {
            field: Field::Partner,
            input: code.to_string(),
            reason: "is a partner the committee no longer works with",
        }));
    }
    if let Some(kind) = kind
        && p.kind != kind
    {
        return Err(StoreError::Invalid(ValidationError::Invalid {
            field: Field::Partner,
            input: code.to_string(),
            reason: match kind {
                PartnerKind::Bank => "is not a bank; a loan referral goes to a bank",
                PartnerKind::TrainingCentre => "is not a training centre",
                PartnerKind::Clinic => "is not a clinic",
                PartnerKind::Other => "is not of the kind this referral needs",
            },
        }));
    }
    Ok(p)
}

impl Store {
    /// The partner directory (banks, training centres, clinics), as last synced.
    pub fn partners(&self) -> Result<Vec<Partner>> {
        partners(&self.conn)
    }

    /// Replaces the partner directory: what a sync does with the server's directory, and what
    /// a replica set up without a server (`madadkar init`) is given by its administrator.
    pub fn set_partners(&mut self, list: &[Partner]) -> Result<()> {
        let tx = self.conn.transaction()?;
        store_partners(&tx, list)?;
        tx.commit()?;
        Ok(())
    }
}
