//! A deterministic synthetic caseload: Persian names, valid national IDs, districts, members,
//! visits spread over two years with needs assessments, referrals and follow-ups. It serves the
//! README's demo (a few hundred households) and the province-scale benchmarks (23,000 and more).
//!
//! The content depends only on the seed; entity ids are fresh UUID v7s on every run.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use madadkar_schema::{
    ChangeMeta, Employment, GoalDomain, HouseholdDoc, NationalId, NeedDomain, NewGoal,
    NewHousehold, NewMember, NewReferral, NewStep, NewVisit, Partner, PartnerKind, ReferralKind,
    ReferralStatus, ReferralUpdate, Relation, Sex, StepOwner, StepStatus, StepUpdate, VisitKind,
    document::device_actor,
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
/// The demo's partner directory: what `scripts/demo-partners.json` seeds the demo server with
/// (a test keeps the two equal) and what generated referrals and plan steps name.
pub const PARTNERS: &[(&str, PartnerKind, &str, &str)] = &[
    (
        "bank-melli-enghelab",
        PartnerKind::Bank,
        "بانک ملی",
        "شعبهٔ میدان انقلاب",
    ),
    (
        "bank-keshavarzi-azadi",
        PartnerKind::Bank,
        "بانک کشاورزی",
        "شعبهٔ آزادی",
    ),
    (
        "bank-mehr-iran-nazi-abad",
        PartnerKind::Bank,
        "بانک قرض‌الحسنهٔ مهر ایران",
        "شعبهٔ نازی‌آباد",
    ),
    (
        "bank-resalat-shoosh",
        PartnerKind::Bank,
        "بانک قرض‌الحسنهٔ رسالت",
        "شعبهٔ شوش",
    ),
    (
        "tvto-beheshti",
        PartnerKind::TrainingCentre,
        "آموزش فنی و حرفه‌ای",
        "مرکز شهید بهشتی",
    ),
    (
        "tvto-khavaran",
        PartnerKind::TrainingCentre,
        "آموزش فنی و حرفه‌ای",
        "مرکز خاوران",
    ),
    (
        "clinic-imam-reza",
        PartnerKind::Clinic,
        "درمانگاه امام رضا",
        "خیابان خاوران",
    ),
    (
        "health-centre-yaftabad",
        PartnerKind::Clinic,
        "مرکز خدمات جامع سلامت",
        "یافت‌آباد",
    ),
    (
        "behzisti-city",
        PartnerKind::Other,
        "بهزیستی شهرستان",
        "دفتر مرکزی",
    ),
];

/// The demo's partners as the directory holds them.
pub fn partners() -> Vec<Partner> {
    PARTNERS
        .iter()
        .map(|(code, kind, name, branch)| Partner {
            code: code.to_string(),
            kind: *kind,
            name: name.to_string(),
            branch: Some(branch.to_string()),
            district: None,
            active: true,
        })
        .collect()
}

fn partner_of(rng: &mut Rng, kind: PartnerKind) -> &'static str {
    let of_kind: Vec<&'static str> = PARTNERS
        .iter()
        .filter(|p| p.1 == kind)
        .map(|p| p.0)
        .collect();
    of_kind[rng.below(of_kind.len() as u64) as usize]
}

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
/// Households whose plan's criteria hold are graduated half the time: `meta` must then be a
/// supervisor's or coordinator's (a server refuses a field worker's graduation).
pub fn household(
    rng: &mut Rng,
    meta: &ChangeMeta,
    device: Uuid,
    today: NaiveDate,
    shape: Shape,
    assignment: (Option<&str>, Option<&str>),
) -> Result<HouseholdDoc> {
    let how = How {
        variant: false,
        graduate: true,
    };
    household_spelled(rng, meta, device, today, shape, assignment, how)
}

/// How a household is generated: spelled as a second group would (see [`respell`]), and
/// whether its graduation may be confirmed (only on a supervisor's or coordinator's replica).
#[derive(Debug, Clone, Copy)]
struct How {
    variant: bool,
    graduate: bool,
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
    how: How,
) -> Result<HouseholdDoc> {
    let How { variant, graduate } = how;
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
    let course = Course::new(rng);
    // One household in four works on an empowerment plan, set up at the first visit.
    let planned = rng.below(4) == 0;
    let mut plan_steps = Vec::new();
    for v in 0..visits {
        let date = start + Days::new(step * v + rng.below(step.max(1)));
        let progress = if visits > 1 {
            v as f64 / (visits - 1) as f64
        } else {
            0.0
        };
        let visit = visit(rng, date, v + 1 == visits, &course, progress);
        let visit_id = doc.add_visit(&visit, meta, midday(date))?;
        if planned && v == 0 {
            plan_steps = plan(rng, &mut doc, meta, date)?;
        } else if !plan_steps.is_empty() && rng.below(2) == 0 {
            // Progress is recorded on visits: a step started, or done.
            let at = rng.below(plan_steps.len() as u64) as usize;
            let status = if progress > 0.5 {
                StepStatus::Done
            } else {
                StepStatus::InProgress
            };
            let update = StepUpdate {
                status,
                comment: String::new(),
                visit_id: Some(visit_id),
            };
            doc.update_step(plan_steps[at], &update, meta, midday(date))?;
        }
        if rng.below(6) == 0 {
            refer(rng, &mut doc, meta, visit_id, date, today)?;
        }
    }
    // A household whose plan's criteria hold is graduated by its supervisor half the time (on a
    // supervisor's or coordinator's replica); the other half are left proposed.
    if graduate && planned && rng.below(2) == 0 {
        let household = doc.read()?;
        if madadkar_schema::outcome::plan::graduation(&household).holds() {
            doc.graduate("معیارهای برنامه محقق شد", meta, midday(today))?;
        }
    }
    Ok(doc)
}

/// How a household's needs move over the visits: a starting score per domain and a drift (most
/// improve slowly, some stay, a few get worse), so trends and cohorts have something to show.
struct Course {
    base: Vec<u8>,
    drift: f64,
}

impl Course {
    fn new(rng: &mut Rng) -> Self {
        let base = NeedDomain::ALL
            .iter()
            .map(|_| 1 + rng.below(4) as u8)
            .collect();
        let drift = match rng.below(10) {
            0..=4 => -2.5,
            5..=7 => 0.0,
            _ => 1.5,
        };
        Self { base, drift }
    }

    fn score(&self, rng: &mut Rng, domain: usize, progress: f64) -> u8 {
        let noise = rng.below(3) as f64 - 1.0;
        let raw = f64::from(self.base[domain]) + self.drift * progress + noise * 0.5;
        raw.round()
            .clamp(0.0, f64::from(madadkar_schema::limits::NEED_SCORE_MAX)) as u8
    }
}

/// A plan with one or two goals of two steps each, on the domains scored highest.
fn plan(
    rng: &mut Rng,
    doc: &mut HouseholdDoc,
    meta: &ChangeMeta,
    date: NaiveDate,
) -> Result<Vec<Uuid>> {
    type Steps = &'static [(&'static str, StepOwner, Option<PartnerKind>)];
    const GOALS: &[(GoalDomain, &str, Steps)] = &[
        (
            GoalDomain::Income,
            "درآمد پایدار با کسب‌وکار خانگی",
            &[
                (
                    "گرفتن وام اشتغال خانگی",
                    StepOwner::Partner,
                    Some(PartnerKind::Bank),
                ),
                ("خرید چرخ خیاطی و شروع سفارش‌ها", StepOwner::Household, None),
            ],
        ),
        (
            GoalDomain::Skills,
            "یادگیری یک حرفه",
            &[
                (
                    "ثبت‌نام در دورهٔ آموزش حرفه‌ای",
                    StepOwner::Partner,
                    Some(PartnerKind::TrainingCentre),
                ),
                ("گرفتن مدرک مهارت", StepOwner::Household, None),
            ],
        ),
        (
            GoalDomain::Health,
            "درمان بیماری سرپرست",
            &[
                ("نوبت پزشک متخصص", StepOwner::Worker, None),
                (
                    "پیگیری درمان در درمانگاه",
                    StepOwner::Partner,
                    Some(PartnerKind::Clinic),
                ),
            ],
        ),
    ];
    let mut steps = Vec::new();
    let count = 1 + rng.below(2) as usize;
    let first = rng.below(GOALS.len() as u64) as usize;
    for i in 0..count {
        let (domain, title, goal_steps) = GOALS[(first + i) % GOALS.len()];
        let goal = doc.add_goal(
            &NewGoal {
                domain,
                title: title.into(),
            },
            meta,
            midday(date),
        )?;
        for (n, (what, owner, partner)) in goal_steps.iter().enumerate() {
            let step = NewStep {
                what: what.to_string(),
                owner: *owner,
                partner: partner.map(|k| partner_of(rng, k).to_string()),
                target_date: Some(date + Days::new(60 * (n as u64 + 1))),
            };
            steps.push(doc.add_step(goal, &step, meta, midday(date))?);
        }
    }
    Ok(steps)
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

/// A visit with every need scored along the household's course; the last one asks for a
/// follow-up.
fn visit(rng: &mut Rng, date: NaiveDate, last: bool, course: &Course, progress: f64) -> NewVisit {
    let needs: BTreeMap<NeedDomain, u8> = NeedDomain::ALL
        .iter()
        .enumerate()
        .map(|(i, d)| (*d, course.score(rng, i, progress)))
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

/// A referral made in a visit, to a partner of the directory, moved along the ledger as far as
/// the days since allow: most are received, banks approve many and pay out fewer (the
/// committee's complaint), some are refused.
fn refer(
    rng: &mut Rng,
    doc: &mut HouseholdDoc,
    meta: &ChangeMeta,
    visit_id: Uuid,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<()> {
    let kind = *rng.pick(&[
        ReferralKind::BankLoan,
        ReferralKind::BankLoan,
        ReferralKind::JobTraining,
        ReferralKind::Health,
        ReferralKind::Other,
    ]);
    let referral = NewReferral {
        kind,
        partner: Some(partner_of(rng, kind.partner_kind()).to_string()),
        target: String::new(),
        visit_id: Some(visit_id),
        date,
        note: String::new(),
    };
    let id = doc.add_referral(&referral, meta, midday(date))?;
    let mut on = date;
    let path: &[(ReferralStatus, u64, u64)] = match rng.below(10) {
        // (next state, chance in 10 of going on, days it took)
        0..=1 => &[
            (ReferralStatus::Received, 10, 12),
            (ReferralStatus::Refused, 10, 20),
        ],
        2 => &[(ReferralStatus::Withdrawn, 10, 8)],
        _ => &[
            (ReferralStatus::Received, 9, 10),
            (ReferralStatus::Approved, 7, 25),
            (ReferralStatus::Disbursed, 5, 40),
        ],
    };
    for (status, chance, days) in path {
        if rng.below(10) >= *chance {
            break;
        }
        let next = on + Days::new(days / 2 + rng.below(*days));
        if next > today {
            break;
        }
        let update = ReferralUpdate {
            status: *status,
            date: next,
            note: String::new(),
            amount: (*status == ReferralStatus::Disbursed)
                .then(|| 50_000_000 * (1 + rng.below(8)) as i64),
            reason: (*status == ReferralStatus::Refused).then(|| "ضامن معتبر ندارد".to_string()),
        };
        doc.update_referral(id, &update, meta, midday(next))?;
        on = next;
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
    let role = store.role()?;
    let worker = (role == madadkar_schema::Role::Field && group.is_some())
        .then(|| identity.worker_id.clone());
    // Only a supervisor or coordinator confirms a graduation (the server checks it).
    let graduate = matches!(
        role,
        madadkar_schema::Role::Supervisor | madadkar_schema::Role::Coordinator
    );
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
                    How { variant, graduate },
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
