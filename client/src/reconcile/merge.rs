//! Merging two registrations of one family, undoing it, "not a duplicate", and following a
//! retired household's redirect. A merge writes one change: the retired household's redirect
//! to the survivor (see `compose.rs` for why nothing is copied).

use madadkar_schema::Role;
use rusqlite::OptionalExtension;
use uuid::Uuid;

use super::compose::{self, Composition};
use crate::error::{Result, StoreError};
use crate::store::Store;

/// What the projections say of a household, as merging needs it.
struct Standing {
    group: Option<String>,
    merged_into: Option<String>,
    needs_update: bool,
}

impl Store {
    fn standing(&self, id: Uuid) -> Result<Standing> {
        self.conn
            .prepare_cached(
                "SELECT assigned_group, merged_into, needs_update FROM p_households WHERE id = ?",
            )?
            .query_row([id.to_string()], |r| {
                Ok(Standing {
                    group: r.get(0)?,
                    merged_into: r.get(1)?,
                    needs_update: r.get(2)?,
                })
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound {
                kind: "household",
                id: id.to_string(),
            })
    }

    /// Merges `other` into `survivor`: `other` becomes a redirect, and every replica that holds
    /// the survivor shows both as one household. A supervisor merges within their group; a
    /// coordinator across groups.
    pub fn merge_households(&mut self, survivor: Uuid, other: Uuid) -> Result<()> {
        let role = self.require_supervisor("merge households")?;
        if survivor == other {
            return Err(madadkar_schema::DocumentError::NotAllowed(
                "a household cannot be merged into itself".into(),
            )
            .into());
        }
        let (s, o) = (self.standing(survivor)?, self.standing(other)?);
        let not_allowed =
            |m: String| -> StoreError { madadkar_schema::DocumentError::NotAllowed(m).into() };
        if s.needs_update || o.needs_update {
            return Err(not_allowed(
                "one of the households was written by a newer Madadkar; update the app first"
                    .into(),
            ));
        }
        if let Some(target) = s.merged_into {
            return Err(not_allowed(format!(
                "household {survivor} is itself merged into {target}; merge into that one"
            )));
        }
        if let Some(target) = o.merged_into {
            return Err(not_allowed(format!(
                "household {other} is already merged into {target}"
            )));
        }
        if !compose::absorbed_ids(&self.conn, other)?.is_empty() {
            return Err(not_allowed(format!(
                "other households are merged into {other}; merge {other} as the survivor, or undo those first"
            )));
        }
        if role == Role::Supervisor {
            let mine = self.group()?;
            if mine.is_none() || s.group != mine || o.group != mine {
                return Err(StoreError::NotPermitted {
                    action: "merge households of another group",
                    needs: "a coordinator",
                });
            }
        }
        let group = s.group.clone();
        self.write(other, |doc, meta, now| {
            Ok(doc.retire_into(survivor, group.as_deref(), meta, now)?)
        })
    }

    /// Undoes a merge: `other` stands on its own again with everything it held and everything
    /// written to it since; the survivor shows only its own again. Coordinators only.
    pub fn unmerge_households(&mut self, survivor: Uuid, other: Uuid) -> Result<()> {
        self.require_coordinator("undo a merge")?;
        let o = self.standing(other)?;
        if o.merged_into.as_deref() != Some(survivor.to_string().as_str()) {
            return Err(madadkar_schema::DocumentError::NotAllowed(format!(
                "household {other} is not merged into {survivor}"
            ))
            .into());
        }
        self.write(other, |doc, meta, now| {
            doc.unretire(meta, now)?;
            Ok(())
        })
    }

    /// Remembers, in both households, that they are not the same family; the pair is proposed
    /// again only if a matching fact appears that the decision did not see.
    pub fn mark_not_duplicate(&mut self, a: Uuid, b: Uuid, reason: &str) -> Result<()> {
        self.require_supervisor("mark households as not duplicates")?;
        if a == b {
            return Err(madadkar_schema::DocumentError::NotAllowed(
                "a household is not a duplicate of itself".into(),
            )
            .into());
        }
        let evidence = super::duplicates::pair_evidence(&self.conn, a, b)?;
        self.write_each(&[a, b], |id, doc, meta, now| {
            let other = if id == a { b } else { a };
            Ok(doc.mark_not_duplicate(other, reason, &evidence, meta, now)?)
        })
    }

    /// Where a household's id leads: the survivor it was merged into when that is stored here
    /// (search, links and the CLI follow it), else the household itself.
    pub fn follow_redirect(&self, id: Uuid) -> Result<Uuid> {
        let mut current = id;
        // Merges never chain (a household with others merged into it cannot be retired), but
        // a replica may hold a chain made concurrently elsewhere; a few steps settle any.
        for _ in 0..4 {
            let next: Option<Option<String>> = self
                .conn
                .prepare_cached(
                    "SELECT h.merged_into FROM p_households h \
                     JOIN p_households s ON s.id = h.merged_into WHERE h.id = ?",
                )?
                .query_row([current.to_string()], |r| r.get(0))
                .optional()?;
            match next.flatten().and_then(|s| Uuid::parse_str(&s).ok()) {
                Some(next) if next != current => current = next,
                _ => break,
            }
        }
        Ok(current)
    }

    /// The household composed with those merged into it (their authors named), or `None` when
    /// nothing is merged into it.
    pub fn composition(&self, id: Uuid) -> Result<Option<Composition>> {
        if !compose::has_absorbed(&self.conn, &id.to_string())? {
            return Ok(None);
        }
        let Some((_, mut composition)) = compose::load_composition(&self.conn, id, true)? else {
            return Ok(None);
        };
        let authors = crate::authorship::Authors::load(&self.conn, self.identity.clone())?;
        for value in composition
            .conflicts
            .iter_mut()
            .flat_map(|c| c.conflict.values.iter_mut())
        {
            authors.name_value(value);
        }
        Ok(Some(composition))
    }

    /// `household` composed with the households merged into it (authors not looked up), or
    /// `None` when nothing is merged into it or it is not held here.
    pub(crate) fn composed(&self, household: Uuid) -> Result<Option<Composition>> {
        if !compose::has_absorbed(&self.conn, &household.to_string())? {
            return Ok(None);
        }
        Ok(compose::load_composition(&self.conn, household, false)?.map(|(_, c)| c))
    }

    /// The household whose document holds `entity` (a member, visit or referral) shown on
    /// `household`'s page: `household` itself, or one merged into it.
    pub(crate) fn owner_of(&self, household: Uuid, entity: Uuid) -> Result<Uuid> {
        Ok(self
            .composed(household)?
            .map_or(household, |c| c.owner(entity, household)))
    }
}
