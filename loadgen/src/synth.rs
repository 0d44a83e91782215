//! Synthetic households for load: registrations made with the schema's document API exactly as a
//! client's registration makes them (`HouseholdDoc::create` with the head, then one change per
//! further member), and the visits the load pushes. Everything derives from a seed and an index:
//! names are drawn from short lists of common given names and surnames, national IDs from
//! numbers offset by the seed, so nothing describes a real person and a run can be repeated.

use std::collections::BTreeMap;

use automerge::Change;
use chrono::{DateTime, Days, NaiveDate, Utc};
use madadkar_schema::{
    ChangeMeta, DocumentError, Education, Employment, HouseholdDoc, NationalId, NeedDomain,
    NewHousehold, NewMember, NewVisit, Relation, Sex, VisitKind, document::device_actor,
};
use uuid::Uuid;

/// The most members a synthetic household has besides its head: each member's national ID is
/// numbered inside the household's block of `MAX_MEMBERS + 1` numbers, so IDs never repeat.
pub const MAX_MEMBERS: usize = 7;

const GIVEN_F: &[&str] = &[
    "فاطمه", "زهرا", "مریم", "زینب", "معصومه", "لیلا", "نرگس", "سمیه",
];
const GIVEN_M: &[&str] = &["علی", "محمد", "حسین", "رضا", "مهدی", "حسن", "جواد", "یوسف"];
const SURNAMES: &[&str] = &[
    "احمدی", "محمدی", "رضایی", "حسینی", "کریمی", "موسوی", "جعفری", "قاسمی", "صادقی", "رحیمی",
];
const DISTRICTS: &[&str] = &["منطقه ۱", "منطقه ۳", "منطقه ۷", "نعمت‌آباد", "شهرک رسالت"];
const STREETS: &[&str] = &["کوچه یاس", "کوچه لاله", "بن‌بست نسترن", "کوچه شقایق"];

/// A well-mixed 64-bit value of `x` (splitmix64's finaliser): cheap, and enough for picking
/// list entries without a generator's state.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn pick<'a>(items: &[&'a str], r: u64) -> &'a str {
    items[(r % items.len() as u64) as usize]
}

/// Who writes: a device and its worker. Every change names the device as its actor and the
/// worker in its message, as the server's authorship check requires.
#[derive(Debug, Clone)]
pub struct Author {
    pub device: Uuid,
    pub worker_id: String,
    pub worker_name: String,
}

impl Author {
    pub fn meta(&self) -> ChangeMeta {
        ChangeMeta::new(&self.worker_id, &self.worker_name, &self.device.to_string())
    }
}

/// One registered household: its id, its changes in order, and the national IDs of its members
/// (the facts the server indexes beside them).
#[derive(Debug)]
pub struct Registration {
    pub household: Uuid,
    pub changes: Vec<Change>,
    pub national_ids: Vec<String>,
}

/// The generator: a seed, the members each household gets besides its head, and the day the
/// registrations are made.
#[derive(Debug, Clone, Copy)]
pub struct Synth {
    seed: u64,
    members: usize,
    today: NaiveDate,
    /// The first of the nine leading digits of this seed's national IDs.
    id_base: u64,
}

impl Synth {
    /// `members` is clamped to [`MAX_MEMBERS`].
    pub fn new(seed: u64, members: usize, today: NaiveDate) -> Self {
        Self {
            seed,
            members: members.min(MAX_MEMBERS),
            today,
            id_base: mix(seed) % 1_000_000_000,
        }
    }

    fn r(&self, index: u64, what: u64) -> u64 {
        mix(self.seed ^ mix(index.wrapping_mul(16).wrapping_add(what)))
    }

    /// The national ID of member `m` (0: the head) of household `index`.
    pub fn national_id(&self, index: u64, m: usize) -> NationalId {
        let n = (self.id_base + index * (MAX_MEMBERS as u64 + 1) + m as u64) % 1_000_000_000;
        // Below 1e9, so it fits.
        NationalId::with_check_digit(n as u32)
    }

    fn born(&self, index: u64, what: u64, from_year: i32, years: u64) -> Option<NaiveDate> {
        let r = self.r(index, what);
        NaiveDate::from_ymd_opt(
            from_year + (r % years) as i32,
            1 + ((r >> 8) % 12) as u32,
            1 + ((r >> 16) % 28) as u32,
        )
    }

    /// Household `index`, registered by `author` in `group` at `at`: the head, then
    /// `members` further members, each one change as a client writes them.
    pub fn registration(
        &self,
        index: u64,
        household: Uuid,
        author: &Author,
        group: &str,
        at: DateTime<Utc>,
    ) -> Result<Registration, DocumentError> {
        let meta = author.meta();
        let surname = pick(SURNAMES, self.r(index, 1));
        let new = NewHousehold {
            district: pick(DISTRICTS, self.r(index, 2)).to_string(),
            address: format!(
                "{}، پلاک {}",
                pick(STREETS, self.r(index, 3)),
                1 + self.r(index, 4) % 120
            ),
            phone: Some(format!("0912{:07}", self.r(index, 5) % 10_000_000)),
            alt_phone: None,
            // Written as the server first assigns a field worker's registration.
            assigned_group: Some(group.to_string()),
            assigned_worker: Some(author.worker_id.clone()),
        }
        .validated(self.today)?;
        let male_head = self.r(index, 6) % 3 != 0;
        let head = NewMember {
            national_id: Some(self.national_id(index, 0)),
            birth_date: self.born(index, 7, 1965, 30),
            sex: Some(if male_head { Sex::Male } else { Sex::Female }),
            education: Some(Education::Primary),
            employment: Some(Employment::Seasonal),
            ..NewMember::named(
                pick(
                    if male_head { GIVEN_M } else { GIVEN_F },
                    self.r(index, 8),
                ),
                surname,
                Relation::Head,
            )
        }
        .validated(self.today)?;
        let (mut doc, _) = HouseholdDoc::create(
            device_actor(author.device),
            household,
            &new,
            &head,
            &meta,
            at,
        )?;
        let mut national_ids = vec![self.national_id(index, 0).as_str().to_string()];
        for m in 1..=self.members {
            let spouse = m == 1;
            let female = if spouse {
                male_head
            } else {
                self.r(index, 9 + m as u64) % 2 == 0
            };
            let nid = self.national_id(index, m);
            let member = NewMember {
                national_id: Some(nid.clone()),
                birth_date: if spouse {
                    self.born(index, 9, 1968, 28)
                } else {
                    self.born(index, 20 + m as u64, 2002, 20)
                },
                sex: Some(if female { Sex::Female } else { Sex::Male }),
                ..NewMember::named(
                    pick(if female { GIVEN_F } else { GIVEN_M }, self.r(index, 30 + m as u64)),
                    surname,
                    if spouse {
                        Relation::Spouse
                    } else {
                        Relation::Child
                    },
                )
            }
            .validated(self.today)?;
            doc.add_member(&member, &meta, at)?;
            national_ids.push(nid.as_str().to_string());
        }
        national_ids.sort();
        national_ids.dedup();
        Ok(Registration {
            household,
            changes: doc.changes_since(&[]),
            national_ids,
        })
    }
}

/// The follow-up visit a load run records (the `n`th of its run): yesterday, so no server
/// clock behind the load generator's sees it in the future.
pub fn visit(n: u64, today: NaiveDate) -> NewVisit {
    let mut needs = BTreeMap::new();
    needs.insert(NeedDomain::Income, (n % 5) as u8);
    needs.insert(NeedDomain::Food, ((n / 5) % 5) as u8);
    NewVisit {
        date: today.checked_sub_days(Days::new(1)).unwrap_or(today),
        kind: VisitKind::Home,
        observations: format!("بازدید پیگیری آزمون بار شماره {n}"),
        needs,
        followup_date: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn author() -> Author {
        Author {
            device: Uuid::now_v7(),
            worker_id: Uuid::now_v7().to_string(),
            worker_name: "مددکار آزمون".into(),
        }
    }

    #[test]
    fn a_registration_reads_back_with_the_facts_it_reports() {
        let synth = Synth::new(7, 3, Utc::now().date_naive());
        let a = author();
        let h = Uuid::now_v7();
        let reg = synth
            .registration(42, h, &a, "load-0", Utc::now())
            .expect("registration");
        assert_eq!(reg.changes.len(), 4, "the head's change and one per member");
        let mut doc = HouseholdDoc::from_parts(None, reg.changes.iter().map(|c| c.raw_bytes()))
            .expect("the changes make a household");
        doc.check_for_storage(h).expect("a document the server stores");
        let read = doc.read().expect("read");
        assert_eq!(read.members.len(), 4);
        // The facts the seeder stores are the ones the server would read from the document.
        let facts = madadkar_server::facts::of(h, &doc).expect("facts");
        assert_eq!(facts.national_ids, reg.national_ids);
        assert_eq!(facts.merged_into, None);
        for c in &reg.changes {
            assert_eq!(c.actor_id(), &device_actor(a.device));
        }
    }

    #[test]
    fn national_ids_do_not_repeat_across_neighbouring_households() {
        let synth = Synth::new(1, MAX_MEMBERS, Utc::now().date_naive());
        let mut seen = std::collections::HashSet::new();
        for i in 0..2_000 {
            for m in 0..=MAX_MEMBERS {
                assert!(seen.insert(synth.national_id(i, m)), "household {i} member {m}");
            }
        }
    }
}
