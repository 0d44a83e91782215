//! Synthetic households for load: registrations made with the schema's document API exactly as a
//! client's registration makes them (`HouseholdDoc::create` with the head, then one change per
//! further member), and the visits the load pushes. Everything derives from a seed and an index:
//! names are drawn from short lists of common given names and surnames, national IDs from
//! numbers offset by the seed, so nothing describes a real person and a run can be repeated.

use std::collections::{BTreeMap, HashMap};

use automerge::{
    Change, ScalarValue,
    legacy::{Key, ObjectId, OpId, OpType},
};
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
    "فاطمه",
    "زهرا",
    "مریم",
    "زینب",
    "معصومه",
    "لیلا",
    "نرگس",
    "سمیه",
];
const GIVEN_M: &[&str] = &["علی", "محمد", "حسین", "رضا", "مهدی", "حسن", "جواد", "یوسف"];
const SURNAMES: &[&str] = &[
    "احمدی",
    "محمدی",
    "رضایی",
    "حسینی",
    "کریمی",
    "موسوی",
    "جعفری",
    "قاسمی",
    "صادقی",
    "رحیمی",
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
    /// The members' ids, the head first.
    pub members: Vec<Uuid>,
}

/// How a household's members are made up, by position (0: the head). Fixed, so that households
/// differ only in their text: what the template path substitutes.
fn shape(m: usize) -> (Sex, Relation, Option<Education>, Option<Employment>) {
    match m {
        0 => (
            Sex::Male,
            Relation::Head,
            Some(Education::Primary),
            Some(Employment::Seasonal),
        ),
        1 => (
            Sex::Female,
            Relation::Spouse,
            Some(Education::Secondary),
            Some(Employment::Homemaker),
        ),
        m if m % 2 == 0 => (Sex::Male, Relation::Child, None, None),
        _ => (Sex::Female, Relation::Child, None, None),
    }
}

/// The text of one household, as typed at registration (validated afterwards).
#[derive(Debug, Clone)]
struct Text {
    district: String,
    address: String,
    phone: String,
    surname: String,
    /// Per member, the head first.
    first_names: Vec<String>,
    national_ids: Vec<NationalId>,
    birth_dates: Vec<NaiveDate>,
}

/// A registration's validated input: the household and its members, the head first.
struct Inputs {
    household: NewHousehold,
    members: Vec<NewMember>,
}

impl Text {
    fn inputs(
        &self,
        author: &Author,
        group: &str,
        today: NaiveDate,
    ) -> Result<Inputs, DocumentError> {
        let household = NewHousehold {
            district: self.district.clone(),
            address: self.address.clone(),
            phone: Some(self.phone.clone()),
            alt_phone: None,
            // Written as the server first assigns a field worker's registration.
            assigned_group: Some(group.to_string()),
            assigned_worker: Some(author.worker_id.clone()),
        }
        .validated(today)?;
        let members = (0..self.first_names.len())
            .map(|m| {
                let (sex, relation, education, employment) = shape(m);
                NewMember {
                    national_id: Some(self.national_ids[m].clone()),
                    birth_date: Some(self.birth_dates[m]),
                    sex: Some(sex),
                    education,
                    employment,
                    ..NewMember::named(&self.first_names[m], &self.surname, relation)
                }
                .validated(today)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Inputs { household, members })
    }
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
    /// `members` is at most [`MAX_MEMBERS`] (the seeder refuses more; here it is clamped).
    pub fn new(seed: u64, members: usize, today: NaiveDate) -> Self {
        Self {
            seed,
            members: members.min(MAX_MEMBERS),
            today,
            id_base: mix(seed) % 1_000_000_000,
        }
    }

    fn r(&self, index: u64, what: u64) -> u64 {
        mix(self.seed ^ mix(index.wrapping_mul(64).wrapping_add(what)))
    }

    /// The national ID of member `m` (0: the head) of household `index`.
    pub fn national_id(&self, index: u64, m: usize) -> NationalId {
        let n = (self.id_base + index * (MAX_MEMBERS as u64 + 1) + m as u64) % 1_000_000_000;
        // Below 1e9, so it fits.
        NationalId::with_check_digit(n as u32)
    }

    fn date(&self, index: u64, what: u64, from_year: i32, years: u64) -> NaiveDate {
        let r = self.r(index, what);
        NaiveDate::from_ymd_opt(
            from_year + (r % years) as i32,
            1 + ((r >> 8) % 12) as u32,
            1 + ((r >> 16) % 28) as u32,
        )
        .unwrap_or(self.today)
    }

    fn text(&self, index: u64) -> Text {
        let people = 1 + self.members;
        Text {
            district: pick(DISTRICTS, self.r(index, 1)).to_string(),
            address: format!(
                "{}، پلاک {}",
                pick(STREETS, self.r(index, 2)),
                1 + self.r(index, 3) % 120
            ),
            phone: format!("0912{:07}", self.r(index, 4) % 10_000_000),
            surname: pick(SURNAMES, self.r(index, 5)).to_string(),
            first_names: (0..people)
                .map(|m| {
                    let names = if shape(m).0 == Sex::Female {
                        GIVEN_F
                    } else {
                        GIVEN_M
                    };
                    pick(names, self.r(index, 8 + m as u64)).to_string()
                })
                .collect(),
            national_ids: (0..people).map(|m| self.national_id(index, m)).collect(),
            birth_dates: (0..people)
                .map(|m| match m {
                    0 => self.date(index, 20, 1965, 30),
                    1 => self.date(index, 21, 1968, 28),
                    _ => self.date(index, 22 + m as u64, 2002, 20),
                })
                .collect(),
        }
    }

    /// Household `index`, registered by `author` in `group` at `at` through the document API:
    /// the head with `HouseholdDoc::create`, then `add_member` for each further member, each
    /// one change as a client writes them.
    pub fn registration(
        &self,
        index: u64,
        household: Uuid,
        author: &Author,
        group: &str,
        at: DateTime<Utc>,
    ) -> Result<Registration, DocumentError> {
        let inputs = self.text(index).inputs(author, group, self.today)?;
        register(&inputs, household, author, at)
    }
}

/// Registers `inputs` through the document API.
fn register(
    inputs: &Inputs,
    household: Uuid,
    author: &Author,
    at: DateTime<Utc>,
) -> Result<Registration, DocumentError> {
    let meta = author.meta();
    let (head, others) = inputs
        .members
        .split_first()
        .ok_or_else(|| DocumentError::NotAllowed("a household needs its head".into()))?;
    let (mut doc, head_id) = HouseholdDoc::create(
        device_actor(author.device),
        household,
        &inputs.household,
        head,
        &meta,
        at,
    )?;
    let mut members = vec![head_id];
    for member in others {
        members.push(doc.add_member(member, &meta, at)?);
    }
    Ok(Registration {
        household,
        changes: doc.changes_since(&[]),
        national_ids: national_ids(inputs),
        members,
    })
}

fn national_ids(inputs: &Inputs) -> Vec<String> {
    let mut ids: Vec<String> = inputs
        .members
        .iter()
        .filter_map(|m| m.national_id.as_ref().map(|n| n.as_str().to_string()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// A registration made once through the document API, whose changes are then copied for every
/// household with its own text, ids and author put in: the same changes the API would make for
/// that household (a test compares the two), about ten times faster, which is what seeding a
/// million households needs. Every string the template wrote is distinct, so each is replaced
/// by exact match: map keys (member ids), string values, and the changes' messages.
#[derive(Debug)]
pub struct Template {
    synth: Synth,
    author: Author,
    household: Uuid,
    inputs_text: Vec<String>,
    members: Vec<Uuid>,
    changes: Vec<automerge::ExpandedChange>,
    hashes: Vec<automerge::ChangeHash>,
}

/// The strings of `inputs` that the template replaces, in a fixed order: the household's
/// text, then per member its first name, national ID and birth date; the surname once.
fn replaceable(inputs: &Inputs) -> Vec<String> {
    let h = &inputs.household;
    let mut out = vec![
        h.district.clone(),
        h.address.clone(),
        h.phone.clone().unwrap_or_default(),
        h.assigned_group.clone().unwrap_or_default(),
    ];
    for (m, member) in inputs.members.iter().enumerate() {
        if m == 0 {
            out.push(member.last_name.clone());
        }
        out.push(member.first_name.clone());
        out.push(
            member
                .national_id
                .as_ref()
                .map(|n| n.as_str().to_string())
                .unwrap_or_default(),
        );
        out.push(
            member
                .birth_date
                .map(madadkar_schema::iso_date)
                .unwrap_or_default(),
        );
    }
    out
}

impl Template {
    /// The template for `synth`'s households, registered at `at` (every copy keeps that time).
    pub fn new(synth: Synth, at: DateTime<Utc>) -> Result<Self, DocumentError> {
        let author = Author {
            device: Uuid::now_v7(),
            worker_id: Uuid::now_v7().to_string(),
            worker_name: "نویسنده الگو".into(),
        };
        let group = "template-group-0";
        // Text no generated household uses, every string distinct.
        const FIRST: &[&str] = &[
            "آرمان",
            "آزاده",
            "بابک",
            "بهاره",
            "پویا",
            "پریسا",
            "تورج",
            "ترانه",
        ];
        let people = 1 + synth.members;
        let text = Text {
            district: "ناحیه الگو".into(),
            address: "نشانی الگو، پلاک ۹۹۹".into(),
            phone: "09350000000".into(),
            surname: "الگوزاده".into(),
            first_names: FIRST[..people].iter().map(|s| s.to_string()).collect(),
            national_ids: (0..people)
                .map(|m| NationalId::with_check_digit(987_650_000 + m as u32))
                .collect(),
            birth_dates: (0..people)
                .map(|m| NaiveDate::from_ymd_opt(1950, 1, 1 + m as u32).unwrap_or(synth.today))
                .collect(),
        };
        let inputs = text.inputs(&author, group, synth.today)?;
        let household = Uuid::now_v7();
        let reg = register(&inputs, household, &author, at)?;
        let inputs_text = replaceable(&inputs);
        let mut seen = std::collections::HashSet::new();
        let all = inputs_text
            .iter()
            .cloned()
            .chain([household.to_string(), author.worker_id.clone()])
            .chain(reg.members.iter().map(Uuid::to_string));
        for s in all {
            if !seen.insert(s.clone()) {
                return Err(DocumentError::NotAllowed(format!(
                    "the template writes {s:?} twice; its strings must be distinct"
                )));
            }
        }
        Ok(Self {
            synth,
            author,
            household,
            inputs_text,
            members: reg.members,
            hashes: reg.changes.iter().map(Change::hash).collect(),
            changes: reg.changes.iter().map(Change::decode).collect(),
        })
    }

    /// Household `index` of the template's `Synth`, registered by `author` in `group`: the
    /// template's changes with this household's text, ids and author put in.
    pub fn registration(
        &self,
        index: u64,
        household: Uuid,
        author: &Author,
        group: &str,
    ) -> Result<Registration, DocumentError> {
        let inputs = self
            .synth
            .text(index)
            .inputs(author, group, self.synth.today)?;
        let members: Vec<Uuid> = self.members.iter().map(|_| Uuid::now_v7()).collect();
        let mut values: HashMap<String, String> = self
            .inputs_text
            .iter()
            .cloned()
            .zip(replaceable(&inputs))
            .collect();
        let mut ids: Vec<(String, String)> = vec![
            (self.household.to_string(), household.to_string()),
            (self.author.worker_id.clone(), author.worker_id.clone()),
            (self.author.device.to_string(), author.device.to_string()),
        ];
        ids.extend(
            self.members
                .iter()
                .zip(&members)
                .map(|(t, n)| (t.to_string(), n.to_string())),
        );
        for (t, n) in &ids {
            values.insert(t.clone(), n.clone());
        }
        let actor = device_actor(author.device);
        let from_actor = device_actor(self.author.device);
        let swap_actor = |id: &mut OpId| {
            if id.1 == from_actor {
                id.1 = actor.clone();
            }
        };
        let mut changes = Vec::with_capacity(self.changes.len());
        let mut hashes: HashMap<automerge::ChangeHash, automerge::ChangeHash> = HashMap::new();
        for (template, template_hash) in self.changes.iter().zip(&self.hashes) {
            let mut c = template.clone();
            c.hash = None;
            if c.actor_id == from_actor {
                c.actor_id = actor.clone();
            }
            for op in &mut c.operations {
                if let ObjectId::Id(id) = &mut op.obj {
                    swap_actor(id);
                }
                if let Key::Map(k) = &op.key
                    && let Some(new) = values.get(k.as_str())
                {
                    op.key = Key::Map(new.as_str().into());
                }
                if let OpType::Put(ScalarValue::Str(s)) = &op.action
                    && let Some(new) = values.get(s.as_str())
                {
                    op.action = OpType::Put(ScalarValue::Str(new.as_str().into()));
                }
                let mut pred: Vec<OpId> = op.pred.iter().cloned().collect();
                pred.iter_mut().for_each(swap_actor);
                op.pred = pred.into();
            }
            if let Some(message) = &mut c.message {
                let mut m = message.replace(&self.author.worker_name, &author.worker_name);
                for (t, n) in &ids {
                    m = m.replace(t.as_str(), n);
                }
                *message = m;
            }
            for dep in &mut c.deps {
                if let Some(new) = hashes.get(dep) {
                    *dep = *new;
                }
            }
            let change = Change::from(c);
            hashes.insert(*template_hash, change.hash());
            changes.push(change);
        }
        Ok(Registration {
            household,
            changes,
            national_ids: national_ids(&inputs),
            members,
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

    fn author(name: &str) -> Author {
        Author {
            device: Uuid::now_v7(),
            worker_id: Uuid::now_v7().to_string(),
            worker_name: name.into(),
        }
    }

    /// The document the changes make, checked as the server checks a household it stores.
    fn stored(reg: &Registration) -> HouseholdDoc {
        let mut doc = HouseholdDoc::from_parts(None, reg.changes.iter().map(|c| c.raw_bytes()))
            .expect("the changes make a household");
        doc.check_for_storage(reg.household)
            .expect("a document the server stores");
        doc
    }

    #[test]
    fn a_registration_reads_back_with_the_facts_it_reports() {
        let synth = Synth::new(7, 3, Utc::now().date_naive());
        let a = author("مددکار آزمون");
        let reg = synth
            .registration(42, Uuid::now_v7(), &a, "load-0", Utc::now())
            .expect("registration");
        assert_eq!(reg.changes.len(), 4, "the head's change and one per member");
        let doc = stored(&reg);
        assert_eq!(doc.read().expect("read").members.len(), 4);
        // The facts the seeder stores are the ones the server would read from the document.
        let facts = madadkar_server::facts::of(reg.household, &doc).expect("facts");
        assert_eq!(facts.national_ids, reg.national_ids);
        assert_eq!(facts.merged_into, None);
        for c in &reg.changes {
            assert_eq!(c.actor_id(), &device_actor(a.device));
        }
    }

    /// The template's copy of a household is the household the document API makes from the
    /// same text: the same document read back (member ids aside, which are fresh either way),
    /// the same authorship in every change, and a chain of dependencies of its own.
    #[test]
    fn a_templated_registration_is_the_one_the_document_api_makes() {
        let at = Utc::now();
        for members in [0, 3, MAX_MEMBERS] {
            let synth = Synth::new(11, members, at.date_naive());
            let template = Template::new(synth, at).expect("template");
            let a = author("مددکار آزمون ۷");
            for index in [0, 1, 977] {
                let household = Uuid::now_v7();
                let copy = template
                    .registration(index, household, &a, "load-3")
                    .expect("copy");
                let made = synth
                    .registration(index, household, &a, "load-3", at)
                    .expect("made");
                assert_eq!(copy.changes.len(), made.changes.len());
                assert_eq!(copy.national_ids, made.national_ids);
                let mut read_made = format!("{:?}", stored(&made).read().expect("read"));
                for (m, c) in made.members.iter().zip(&copy.members) {
                    read_made = read_made.replace(&m.to_string(), &c.to_string());
                }
                let read_copy = format!("{:?}", stored(&copy).read().expect("read"));
                assert_eq!(
                    read_copy, read_made,
                    "household {index} with {members} members"
                );
                for (c, m) in copy.changes.iter().zip(&made.changes) {
                    assert_eq!(c.actor_id(), &device_actor(a.device));
                    assert_eq!(c.seq(), m.seq());
                    let meta = |c: &Change| -> madadkar_schema::ChangeMeta {
                        serde_json::from_str(c.message().expect("a message")).expect("meta")
                    };
                    let (cm, mm) = (meta(c), meta(m));
                    assert_eq!(cm.worker_id, a.worker_id);
                    assert_eq!(cm.worker_name, a.worker_name);
                    assert_eq!(cm.device_id, a.device.to_string());
                    assert_eq!(cm.action, mm.action);
                }
                let heads: std::collections::HashSet<_> =
                    copy.changes.iter().map(Change::hash).collect();
                for c in copy.changes.iter().skip(1) {
                    assert!(c.deps().iter().all(|d| heads.contains(d)));
                }
            }
        }
    }

    #[test]
    fn national_ids_do_not_repeat_across_neighbouring_households() {
        let synth = Synth::new(1, MAX_MEMBERS, Utc::now().date_naive());
        let mut seen = std::collections::HashSet::new();
        for i in 0..2_000 {
            for m in 0..=MAX_MEMBERS {
                assert!(
                    seen.insert(synth.national_id(i, m)),
                    "household {i} member {m}"
                );
            }
        }
    }
}
