//! A deterministic synthetic caseload: Persian names, valid national IDs, districts, members,
//! visits spread over two years with needs assessments, referrals and follow-ups. It serves the
//! README's demo (a few hundred households) and the province-scale benchmarks (23,000 and more).
//!
//! The content depends only on the seed; entity ids are fresh UUID v7s on every run.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use madadkar_schema::{
    ChangeMeta, Employment, HouseholdDoc, HouseholdEdit, HouseholdStatus, NationalId, NeedDomain,
    NewHousehold, NewMember, NewReferral, NewVisit, ReferralKind, ReferralStatus, ReferralUpdate,
    Relation, Sex, VisitKind, document::device_actor,
};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::Store;

const FIRST_NAMES_M: &[&str] = &[
    "علی",
    "محمد",
    "حسین",
    "رضا",
    "مهدی",
    "امیر",
    "حسن",
    "جواد",
    "محمدرضا",
    "کریم",
    "یوسف",
    "مصطفی",
];
const FIRST_NAMES_F: &[&str] = &[
    "فاطمه",
    "زهرا",
    "مریم",
    "زینب",
    "معصومه",
    "سکینه",
    "لیلا",
    "نرگس",
    "طاهره",
    "کبری",
    "رقیه",
    "سمیه",
];
const LAST_NAMES: &[&str] = &[
    "احمدی",
    "محمدی",
    "رضایی",
    "حسینی",
    "کریمی",
    "موسوی",
    "جعفری",
    "قاسمی",
    "نوروزی",
    "یزدانی",
    "صادقی",
    "میرزایی",
    "رحیمی",
    "عباسی",
    "کاظمی",
    "مرادی",
    "نیک‌نام",
    "اکبری",
    "سلیمانی",
    "حیدری",
];
const DISTRICTS: &[&str] = &[
    "منطقه ۱",
    "منطقه ۳",
    "منطقه ۷",
    "اسلام‌آباد",
    "شهرک ولیعصر",
    "نعمت‌آباد",
    "خاک سفید",
    "شهرک رسالت",
];
const STREETS: &[&str] = &[
    "کوچه یاس",
    "خیابان شهید بهشتی",
    "کوچه لاله",
    "بن‌بست نسترن",
    "خیابان امام",
    "کوچه شقایق",
];
const OBSERVATIONS: &[&str] = &[
    "سرپرست خانوار بیکار است و اجاره چند ماه عقب افتاده.",
    "فرزند بزرگ ترک تحصیل کرده تا کار کند.",
    "منزل رطوبت دارد؛ یکی از فرزندان آسم دارد.",
    "همسر سرپرست به دوره خیاطی علاقه دارد.",
    "وضعیت تغذیه کودکان نگران‌کننده است؛ سبد غذایی لازم است.",
    "سرپرست کار فصلی پیدا کرده؛ درآمد نامنظم است.",
];
const TARGETS: &[(ReferralKind, &str)] = &[
    (ReferralKind::BankLoan, "بانک ملی، شعبه مرکزی"),
    (ReferralKind::BankLoan, "بانک قرض‌الحسنه مهر ایران"),
    (ReferralKind::JobTraining, "فنی و حرفه‌ای، مرکز شماره ۲"),
    (ReferralKind::Health, "مرکز بهداشت محله"),
    (ReferralKind::Other, "بهزیستی شهرستان"),
];

/// A tiny deterministic generator (xorshift64), so the data is the same on every machine.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What one synthetic household looks like.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Members besides the head: at least `.0`, fewer than `.1`.
    pub extra_members: (u64, u64),
    /// Visits: at least `.0`, fewer than `.1`.
    pub visits: (u64, u64),
    /// Days before `today` over which visits spread.
    pub span_days: u64,
}

impl Shape {
    /// About 4–5 members and ten visits over two years, as the benchmarks specify.
    pub const PROVINCE: Shape = Shape {
        extra_members: (3, 5),
        visits: (8, 13),
        span_days: 730,
    };
    /// Smaller households for quick demos.
    pub const DEMO: Shape = Shape {
        extra_members: (0, 4),
        visits: (1, 5),
        span_days: 180,
    };
}

fn national_id(rng: &mut Rng) -> NationalId {
    NationalId::with_check_digit((rng.next_u64() % 890_000_000 + 10_000_000) as u32)
}

fn midday(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(9, 0, 0).unwrap_or_default())
}

/// One synthetic household document, written as `meta` from `device`, with visits recorded by
/// `visit_worker`. Every action is its own change, as a worker in the field would make them.
pub fn household(
    rng: &mut Rng,
    meta: &ChangeMeta,
    device: Uuid,
    today: NaiveDate,
    shape: Shape,
    assignment: (Option<&str>, Option<&str>),
) -> Result<HouseholdDoc> {
    household_spelled(rng, meta, device, today, shape, assignment, false)
}

/// The same family as another group would register it: names typed on an Arabic keyboard
/// (ي, ك), compound names split, the phone with its country code, the address written out
/// differently.
fn respell(text: &str) -> String {
    text.replace('ی', "ي")
        .replace('ک', "ك")
        .replace("محمدرضا", "محمد رضا")
        .replace('\u{200c}', " ")
}

/// [`household`], spelled as a second group would have registered the same family when
/// `variant` (see [`respell`]).
fn household_spelled(
    rng: &mut Rng,
    meta: &ChangeMeta,
    device: Uuid,
    today: NaiveDate,
    shape: Shape,
    assignment: (Option<&str>, Option<&str>),
    variant: bool,
) -> Result<HouseholdDoc> {
    let last = *rng.pick(LAST_NAMES);
    let start = today - Days::new(shape.span_days);
    let mut head = head_of_household(rng, last, today);
    let mut new = NewHousehold {
        district: rng.pick(DISTRICTS).to_string(),
        address: format!("{}، پلاک {}", rng.pick(STREETS), 1 + rng.below(120)),
        phone: Some(format!("0912{:07}", rng.below(10_000_000))),
        assigned_group: assignment.0.map(Into::into),
        assigned_worker: assignment.1.map(Into::into),
        ..Default::default()
    };
    if variant {
        head.first_name = respell(&head.first_name);
        head.last_name = respell(&head.last_name);
        new.address = format!("{} (نشانی از خانوار)", respell(&new.address));
        new.phone = new.phone.map(|p| format!("+98{}", &p[1..]));
    }
    let (mut doc, _) = HouseholdDoc::create(
        device_actor(device),
        Uuid::now_v7(),
        &new,
        &head,
        meta,
        midday(start),
    )?;
    let extra = shape.extra_members.0 + rng.below(shape.extra_members.1 - shape.extra_members.0);
    for i in 0..extra {
        let mut member = family_member(rng, last, today, i == 0);
        if variant {
            member.first_name = respell(&member.first_name);
            member.last_name = respell(&member.last_name);
        }
        doc.add_member(&member, meta, midday(start))?;
    }
    let visits = shape.visits.0 + rng.below(shape.visits.1 - shape.visits.0);
    let step = shape.span_days / visits.max(1);
    for v in 0..visits {
        let date = start + Days::new(step * v + rng.below(step.max(1)));
        let visit = visit(rng, date, v + 1 == visits);
        let visit_id = doc.add_visit(&visit, meta, midday(date))?;
        if rng.below(6) == 0 {
            refer(rng, &mut doc, meta, visit_id, date, today)?;
        }
    }
    if rng.below(20) == 0 {
        let edit = HouseholdEdit {
            status: Some(HouseholdStatus::Graduated),
            ..Default::default()
        };
        doc.edit_household(&edit, meta, midday(today))?;
    }
    Ok(doc)
}

/// The head: a woman one time in three, 25 to 65 years old, mostly out of steady work.
fn head_of_household(rng: &mut Rng, last: &str, today: NaiveDate) -> NewMember {
    let woman = rng.below(3) == 0;
    let first = if woman {
        rng.pick(FIRST_NAMES_F)
    } else {
        rng.pick(FIRST_NAMES_M)
    };
    NewMember {
        national_id: Some(national_id(rng)),
        birth_date: Some(today - Days::new(365 * (25 + rng.below(40)) + rng.below(365))),
        sex: Some(if woman { Sex::Female } else { Sex::Male }),
        employment: Some(*rng.pick(&[
            Employment::Unemployed,
            Employment::Seasonal,
            Employment::Unable,
            Employment::Employed,
        ])),
        ..NewMember::named(first, last, Relation::Head)
    }
}

/// Another member: usually a spouse first, then children.
fn family_member(rng: &mut Rng, last: &str, today: NaiveDate, first_added: bool) -> NewMember {
    let (relation, age) = if first_added && rng.below(4) != 0 {
        (Relation::Spouse, 20 + rng.below(40))
    } else {
        (Relation::Child, rng.below(18))
    };
    let woman = rng.below(2) == 0;
    let names = if woman { FIRST_NAMES_F } else { FIRST_NAMES_M };
    let first = *rng.pick(names);
    NewMember {
        national_id: Some(national_id(rng)),
        birth_date: Some(today - Days::new(365 * age + rng.below(365))),
        sex: Some(if woman { Sex::Female } else { Sex::Male }),
        ..NewMember::named(first, last, relation)
    }
}

/// A visit with every need scored; the last one asks for a follow-up.
fn visit(rng: &mut Rng, date: NaiveDate, last: bool) -> NewVisit {
    let needs: BTreeMap<NeedDomain, u8> = NeedDomain::ALL
        .iter()
        .map(|d| (*d, rng.below(5) as u8))
        .collect();
    let followup = last.then(|| date + Days::new(14 + rng.below(30)));
    NewVisit {
        date,
        kind: if rng.below(4) == 0 {
            VisitKind::Phone
        } else {
            VisitKind::Home
        },
        observations: rng.pick(OBSERVATIONS).to_string(),
        needs,
        followup_date: followup,
    }
}

/// A referral made in a visit; half of them have heard back ten days later.
fn refer(
    rng: &mut Rng,
    doc: &mut HouseholdDoc,
    meta: &ChangeMeta,
    visit_id: Uuid,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<()> {
    let (kind, target) = *rng.pick(TARGETS);
    let referral = NewReferral {
        kind,
        target: target.into(),
        visit_id: Some(visit_id),
        date,
        note: String::new(),
    };
    let id = doc.add_referral(&referral, meta, midday(date))?;
    if rng.below(2) == 0 {
        let status = *rng.pick(&[
            ReferralStatus::Accepted,
            ReferralStatus::Rejected,
            ReferralStatus::Completed,
        ]);
        let update = ReferralUpdate {
            status,
            date: (date + Days::new(10)).min(today),
            note: String::new(),
        };
        doc.update_referral(id, &update, meta, midday(date))?;
    }
    Ok(())
}

/// Fills `store` with `count` synthetic households written as its own worker, a few hundred per
/// transaction.
pub fn generate_with(
    store: &mut Store,
    count: usize,
    seed: u64,
    today: NaiveDate,
    shape: Shape,
) -> Result<usize> {
    generate_spelled(store, count, seed, today, shape, false)
}

/// The first `count` households of the demo caseload of `seed`, as a second group registered
/// the same families: other spellings (see [`respell`]) and visits of their own. What the
/// reconciliation demo's duplicates inbox finds.
pub fn generate_variants(
    store: &mut Store,
    count: usize,
    seed: u64,
    today: NaiveDate,
) -> Result<usize> {
    generate_spelled(store, count, seed, today, Shape::DEMO, true)
}

fn generate_spelled(
    store: &mut Store,
    count: usize,
    seed: u64,
    today: NaiveDate,
    shape: Shape,
    variant: bool,
) -> Result<usize> {
    let identity = store
        .identity()
        .cloned()
        .ok_or(StoreError::NotInitialised)?;
    let meta = ChangeMeta::new(
        &identity.worker_id,
        &identity.worker_name,
        &identity.device_id.to_string(),
    );
    // Assigned as the server will first assign them (see `Store::add_household`).
    let group = store.group()?;
    let worker = (store.role()? == madadkar_schema::Role::Field && group.is_some())
        .then(|| identity.worker_id.clone());
    let mut rng = Rng::new(seed);
    let mut done = 0;
    while done < count {
        let chunk = (count - done).min(250);
        let docs = (0..chunk)
            .map(|_| {
                household_spelled(
                    &mut rng,
                    &meta,
                    identity.device_id,
                    today,
                    shape,
                    (group.as_deref(), worker.as_deref()),
                    variant,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        store.merge_documents(docs)?;
        done += chunk;
    }
    Ok(done)
}

/// The README's demo caseload.
pub fn generate(store: &mut Store, count: usize, seed: u64, today: NaiveDate) -> Result<usize> {
    generate_with(store, count, seed, today, Shape::DEMO)
}
