//! A small deterministic caseload for demos and tests: Persian names, valid national IDs,
//! several districts, visits with needs, referrals and follow-ups.

use chrono::{Days, NaiveDate};
use madadkar_schema::{
    HouseholdEdit, HouseholdStatus, NationalId, NeedDomain, NewHousehold, NewMember, NewReferral,
    NewVisit, ReferralKind, ReferralStatus, ReferralUpdate, Relation, Sex, VisitKind,
};

use crate::error::Result;
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
];
const DISTRICTS: &[&str] = &[
    "منطقه ۱",
    "منطقه ۳",
    "منطقه ۷",
    "اسلام‌آباد",
    "شهرک ولیعصر",
    "نعمت‌آباد",
];
const STREETS: &[&str] = &[
    "کوچه یاس",
    "خیابان شهید بهشتی",
    "کوچه لاله",
    "بن‌بست نسترن",
    "خیابان امام",
];
const OBSERVATIONS: &[&str] = &[
    "سرپرست خانوار بیکار است و اجاره چند ماه عقب افتاده.",
    "فرزند بزرگ ترک تحصیل کرده تا کار کند.",
    "منزل رطوبت دارد؛ یکی از فرزندان آسم دارد.",
    "همسر سرپرست به دوره خیاطی علاقه دارد.",
];

/// A tiny deterministic generator (xorshift), so demo data is the same on every machine.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
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

fn national_id(rng: &mut Rng) -> NationalId {
    NationalId::with_check_digit((rng.next_u64() % 900_000_000 + 10_000_000) as u32)
}

/// Fills `store` with `households` demo households whose dates lie before `today`.
pub fn generate(
    store: &mut Store,
    households: usize,
    seed: u64,
    today: NaiveDate,
) -> Result<usize> {
    let mut rng = Rng::new(seed);
    for i in 0..households {
        let last = *rng.pick(LAST_NAMES);
        let head_is_woman = rng.below(3) == 0;
        let first = if head_is_woman {
            rng.pick(FIRST_NAMES_F)
        } else {
            rng.pick(FIRST_NAMES_M)
        };
        let born = today - Days::new(365 * (25 + rng.below(40)) + rng.below(365));
        let head = NewMember {
            national_id: Some(national_id(&mut rng)),
            birth_date: Some(born),
            sex: Some(if head_is_woman {
                Sex::Female
            } else {
                Sex::Male
            }),
            employment: Some(if rng.below(2) == 0 {
                madadkar_schema::Employment::Unemployed
            } else {
                madadkar_schema::Employment::Seasonal
            }),
            ..NewMember::named(first, last, Relation::Head)
        };
        let household = NewHousehold {
            district: rng.pick(DISTRICTS).to_string(),
            address: format!("{}، پلاک {}", rng.pick(STREETS), 1 + rng.below(120)),
            phone: Some(format!("0912{:07}", rng.below(10_000_000))),
            ..Default::default()
        };
        let (id, _) = store.add_household(&household, &head)?;
        for _ in 0..rng.below(4) {
            let names = if rng.below(2) == 0 {
                FIRST_NAMES_F
            } else {
                FIRST_NAMES_M
            };
            let child_name = *rng.pick(names);
            let child = NewMember {
                national_id: Some(national_id(&mut rng)),
                birth_date: Some(today - Days::new(365 * (1 + rng.below(18)))),
                sex: Some(if rng.below(2) == 0 {
                    Sex::Female
                } else {
                    Sex::Male
                }),
                ..NewMember::named(child_name, last, Relation::Child)
            };
            store.add_member(id, &child)?;
        }
        let visits = 1 + rng.below(4);
        for v in 0..visits {
            let date = today - Days::new(30 * (visits - v) + rng.below(20));
            let mut needs = std::collections::BTreeMap::new();
            for domain in NeedDomain::ALL {
                needs.insert(*domain, rng.below(5) as u8);
            }
            let followup = (v + 1 == visits).then(|| date + Days::new(14 + rng.below(30)));
            let visit = NewVisit {
                date,
                kind: if rng.below(4) == 0 {
                    VisitKind::Phone
                } else {
                    VisitKind::Home
                },
                observations: rng.pick(OBSERVATIONS).to_string(),
                needs,
                followup_date: followup,
            };
            let visit_id = store.add_visit(id, &visit)?;
            if rng.below(3) == 0 {
                let referral = NewReferral {
                    kind: *rng.pick(ReferralKind::ALL),
                    target: "بانک ملی، شعبه مرکزی".into(),
                    visit_id: Some(visit_id),
                    date,
                    note: String::new(),
                };
                let rid = store.add_referral(id, &referral)?;
                if rng.below(2) == 0 {
                    let update = ReferralUpdate {
                        status: ReferralStatus::Accepted,
                        date: (date + Days::new(7)).min(today),
                        note: "پرونده تکمیل شد".into(),
                    };
                    store.update_referral(id, rid, &update)?;
                }
            }
        }
        if i % 17 == 16 {
            store.edit_household(
                id,
                &HouseholdEdit {
                    status: Some(HouseholdStatus::Graduated),
                    ..Default::default()
                },
            )?;
        }
    }
    Ok(households)
}
