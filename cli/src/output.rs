//! How the CLI prints: plain text for people (Jalali dates, local times), JSON for scripts
//! (ISO dates, UTC times).

use chrono::{DateTime, Local, TimeZone, Utc};
use madadkar_client::{
    CheckReport, Followup, HouseholdDetails, HouseholdSummary, Identity, ImportReport, Page,
    QuarantinedHousehold, SyncReport, SyncStatus, store::BundleSigner,
};
use madadkar_schema::{ChangeInfo, Conflict, date::format_jalali_date_time, format_jalali};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

#[derive(Debug)]
pub struct Output {
    pub json: bool,
}

fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("madadkar: cannot print JSON: {e}"),
    }
}

pub fn jalali(date: Option<chrono::NaiveDate>) -> String {
    date.map(format_jalali).unwrap_or_else(|| "-".into())
}

/// `1405-09-03 10:31`: a moment as the Jalali date and time of day on this device's clock.
pub fn local_time<Tz: TimeZone>(time: &DateTime<Tz>) -> String {
    format_jalali_date_time(time.with_timezone(&Local).naive_local())
}

/// A change's time as [`local_time`], or that it has none (another client may write none).
fn change_time(time: &Option<DateTime<Utc>>) -> String {
    time.as_ref()
        .map(local_time)
        .unwrap_or_else(|| "time unknown".into())
}

/// A stored RFC 3339 time shown as [`local_time`]; text that is not one is shown as it is.
fn local_time_of(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| local_time(&t))
        .unwrap_or_else(|_| rfc3339.to_string())
}

impl Output {
    pub fn error(&self, e: &anyhow::Error) {
        if self.json {
            eprintln!("{}", json!({ "error": format!("{e:#}") }));
        } else {
            eprintln!("madadkar: {e:#}");
        }
    }

    /// Prints `value` as JSON for scripts, or runs `human` to print it for people.
    pub fn show<T: Serialize>(&self, value: &T, human: impl FnOnce(&T)) {
        if self.json {
            print_json(value);
        } else {
            human(value);
        }
    }

    pub fn done(&self, message: &str) {
        if self.json {
            print_json(&json!({ "ok": true, "message": message }));
        } else {
            println!("{message}");
        }
    }

    pub fn created(&self, kind: &str, id: Uuid) {
        if self.json {
            print_json(&json!({ "id": id, "kind": kind }));
        } else {
            println!("{kind} {id} recorded");
        }
    }

    pub fn household_created(&self, id: Uuid, head: Uuid) {
        if self.json {
            print_json(&json!({ "id": id, "head_member_id": head }));
        } else {
            println!("household {id} registered (head {head})");
        }
    }

    pub fn identity(&self, identity: &Identity, path: &std::path::Path) {
        if self.json {
            print_json(&json!({ "identity": identity, "database": path }));
        } else {
            println!(
                "worker {} ({}) on device {} ({}); data in {}",
                identity.worker_name,
                identity.worker_id,
                identity.device_name,
                identity.device_id,
                path.display()
            );
        }
    }

    pub fn household(&self, d: &HouseholdDetails) {
        if self.json {
            print_json(d);
            return;
        }
        let h = &d.household;
        let head = h.head().map(|m| m.full_name()).unwrap_or_default();
        println!("household {}  [{}]", h.id, h.status);
        println!("  head:     {head}");
        println!("  district: {}", h.district);
        println!("  address:  {}", h.address);
        println!("  phone:    {}", h.phone.as_deref().unwrap_or("-"));
        if let Some(w) = &h.assigned_worker {
            println!("  worker:   {w}");
        }
        println!("members ({}):", h.members.len());
        for m in &h.members {
            println!(
                "  {}  {}  {}  {}  born {}",
                m.id,
                m.full_name(),
                m.relation,
                m.national_id.as_ref().map(|n| n.as_str()).unwrap_or("-"),
                jalali(m.birth_date)
            );
        }
        println!("visits ({}):", h.visits.len());
        for v in &h.visits {
            let needs: Vec<String> = v.needs.iter().map(|(k, s)| format!("{k}={s}")).collect();
            println!(
                "  {}  {}  {}  needs [{}]  follow-up {}",
                v.id,
                format_jalali(v.date),
                v.kind,
                needs.join(" "),
                jalali(v.followup_date)
            );
            if !v.observations.is_empty() {
                println!("      {}", v.observations);
            }
        }
        println!("referrals ({}):", h.referrals.len());
        for r in &h.referrals {
            let status = r
                .status()
                .map(|e| format!("{} since {}", e.status, format_jalali(e.date)));
            println!(
                "  {}  {} → {}  {}",
                r.id,
                r.kind,
                r.target,
                status.unwrap_or_default()
            );
        }
        if !d.conflicts.is_empty() {
            println!("CONFLICTS ({}):", d.conflicts.len());
            self.conflict_lines(&d.conflicts);
        }
    }

    fn conflict_lines(&self, conflicts: &[Conflict]) {
        for c in conflicts {
            println!("  {} (shown: {:?})", c.path, c.current);
            for (i, v) in c.values.iter().enumerate() {
                println!(
                    "    {}. {:?}  by {}{} ({}) on device {} at {}",
                    i + 1,
                    v.value,
                    v.worker_name,
                    unverified(v.verified),
                    v.worker_id,
                    v.device_id,
                    change_time(&v.time)
                );
            }
        }
    }

    fn summaries(&self, items: &[HouseholdSummary]) {
        for h in items {
            let flag = if h.needs_update {
                " ⚠ written by a newer Madadkar: read-only, update the app"
            } else if h.conflict_count > 0 {
                " ⚠ conflict"
            } else {
                ""
            };
            println!(
                "{}  {}  {}  {}  members {}  visits {}  last {}  follow-up {}{flag}",
                h.id,
                h.head_name,
                h.head_national_id.as_deref().unwrap_or("-"),
                h.district,
                h.member_count,
                h.visit_count,
                jalali(h.last_visit),
                jalali(h.next_followup)
            );
        }
    }

    pub fn list(&self, page: &Page<HouseholdSummary>) {
        if self.json {
            print_json(page);
        } else {
            self.summaries(&page.items);
            println!("({} of {} households)", page.items.len(), page.total);
        }
    }

    pub fn search(&self, items: &[HouseholdSummary]) {
        if self.json {
            print_json(&items);
        } else if items.is_empty() {
            println!("no household matches");
        } else {
            self.summaries(items);
        }
    }

    pub fn followups(&self, items: &[Followup]) {
        if self.json {
            print_json(&items);
            return;
        }
        if items.is_empty() {
            println!("no follow-ups due");
        }
        for f in items {
            let when = if f.overdue {
                format!("OVERDUE by {} days", -f.days_left)
            } else {
                format!("due in {} days", f.days_left)
            };
            println!(
                "{}  {}  {}  {}  {when}",
                f.household_id,
                f.head_name,
                f.district,
                format_jalali(f.due)
            );
        }
    }

    pub fn conflicts(&self, all: &[(Uuid, Vec<Conflict>)]) {
        if self.json {
            let items: Vec<_> = all
                .iter()
                .map(|(id, c)| json!({ "household_id": id, "conflicts": c }))
                .collect();
            print_json(&items);
            return;
        }
        if all.iter().all(|(_, c)| c.is_empty()) {
            println!("no conflicts");
        }
        for (id, conflicts) in all.iter().filter(|(_, c)| !c.is_empty()) {
            println!("household {id}:");
            self.conflict_lines(conflicts);
        }
    }

    pub fn history(&self, changes: &[ChangeInfo]) {
        if self.json {
            print_json(&changes);
            return;
        }
        for c in changes {
            let fields = if c.meta.fields.is_empty() {
                String::new()
            } else {
                format!(" [{}]", c.meta.fields.join(", "))
            };
            println!(
                "{}  {}{} ({})  {}{}{}",
                change_time(&c.time),
                c.meta.worker_name,
                unverified(c.verified),
                c.meta.worker_id,
                c.meta.action,
                c.meta
                    .target
                    .as_deref()
                    .map(|t| format!(" {t}"))
                    .unwrap_or_default(),
                fields
            );
        }
    }

    pub fn import(&self, r: &ImportReport) {
        if self.json {
            print_json(r);
        } else {
            println!(
                "{} new households, {} updated, {} unchanged; {} new changes",
                r.households_new, r.households_updated, r.households_unchanged, r.changes_new
            );
            match &r.signed_by {
                BundleSigner::Verified { worker_name } => {
                    println!("written and signed by {worker_name}'s device")
                }
                BundleSigner::UnknownDevice { device_id } => println!(
                    "signed by device {device_id}, which this laptop does not know yet (sync to learn it)"
                ),
                BundleSigner::Unsigned => {
                    println!("not signed (written by an older Madadkar)")
                }
            }
        }
    }

    pub fn check(&self, r: &CheckReport) {
        if self.json {
            print_json(&json!({ "ok": r.ok(), "report": r }));
            return;
        }
        println!("{} households, {} stored changes", r.households, r.changes);
        if r.ok() {
            println!("ok");
        }
        for p in &r.problems {
            println!("PROBLEM: {p}");
        }
    }

    pub fn sync(&self, r: &SyncReport) {
        if self.json {
            print_json(r);
        } else {
            println!(
                "sent {} changes, received {} ({} households changed) in {} requests, {} B up, {} B down",
                r.pushed,
                r.pulled,
                r.households_changed,
                r.requests,
                r.bytes_sent,
                r.bytes_received
            );
            if r.documents_received > 0 {
                println!(
                    "first sync: {} households received whole",
                    r.documents_received
                );
            }
            if let Some(reason) = &r.first_sync_fallback {
                println!("first sync: took the change log instead ({reason})");
            }
            if r.quarantined > 0 {
                println!(
                    "{} households could not be applied and are set aside: see `madadkar quarantine`",
                    r.quarantined
                );
            }
            if r.needs_update > 0 {
                println!(
                    "{} households were written by a newer Madadkar: shown read-only; update the app to change them",
                    r.needs_update
                );
            }
            if r.more_to_pull {
                println!("more changes are waiting on the server: sync again");
            }
            for (household, code) in &r.refused {
                println!(
                    "household {household}: the server refused its changes ({code}); they are kept and tried again next sync"
                );
            }
            for household in &r.kept_out_of_scope {
                println!(
                    "household {household} is no longer in your scope; your unsent work on it is kept"
                );
            }
            if r.removed_from_scope > 0 {
                println!(
                    "{} households were reassigned elsewhere and removed from this laptop",
                    r.removed_from_scope
                );
            }
        }
    }

    pub fn quarantine(&self, items: &[QuarantinedHousehold]) {
        if self.json {
            print_json(&items);
            return;
        }
        if items.is_empty() {
            println!("no household is set aside");
        }
        for q in items {
            println!("household {}: {}", q.household, q.reason);
            let here = if q.has_local_copy {
                "its earlier state is on this replica and usable"
            } else {
                "it never applied on this replica"
            };
            println!(
                "  set aside {}, last tried {}; {} changes kept ({} B); {here}",
                local_time(&q.quarantined_at),
                local_time(&q.last_attempt_at),
                q.changes,
                q.bytes
            );
        }
    }

    pub fn status(&self, identity: Option<&Identity>, s: &SyncStatus) {
        if self.json {
            print_json(&json!({ "identity": identity, "sync": s }));
            return;
        }
        match identity {
            Some(i) => println!(
                "worker {} ({}) on device {} ({})",
                i.worker_name, i.worker_id, i.device_name, i.device_id
            ),
            None => println!(
                "not set up yet: run `madadkar enroll` (with a server) or `madadkar init` (offline)"
            ),
        }
        match (&s.server_url, s.enrolled) {
            (Some(url), true) => println!("server {url} as {}", s.role.as_deref().unwrap_or("?")),
            _ => println!("not enrolled with a server (offline only)"),
        }
        println!("pending changes: {}", s.pending_changes);
        println!(
            "last sync: {}",
            s.last_sync_at
                .as_deref()
                .map_or_else(|| "never".to_string(), local_time_of)
        );
        if let Some(e) = &s.last_error {
            println!("last error: {e}");
        }
    }
}

/// Marks an author's name the server's records did not confirm.
fn unverified(verified: bool) -> &'static str {
    if verified { "" } else { " [name not verified]" }
}
