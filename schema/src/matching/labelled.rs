//! A deterministic generator of realistic Persian households: labelled pairs (true duplicates
//! with the variations two registrations of one family show, and true non-duplicates that share
//! what families share) to measure the matcher's precision and recall per band, and
//! province-size populations with planted duplicates to time detection.
//!
//! Everything depends only on the seed (a splitmix64 generator; no dependency), so a quality
//! figure in the docs can be reproduced.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::score::{Population, score_pair};
use super::{Band, MatchMember, MatchRecord, block_keys};
use crate::{NationalId, Relation};

/// A small deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// Picks from a list by rank, the first most often (weight 1/(rank + offset)): names and
/// surnames are far from uniform, and the matcher must cope with «محمد» being everywhere.
#[derive(Debug, Clone)]
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, offset: f64) -> Self {
        let mut total = 0.0;
        let cdf = (0..n)
            .map(|i| {
                total += 1.0 / (i as f64 + offset);
                total
            })
            .collect::<Vec<_>>();
        Zipf {
            cdf: cdf.into_iter().map(|c| c / total).collect(),
        }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

const MALE: &[&str] = &[
    "محمد",
    "علی",
    "حسین",
    "رضا",
    "مهدی",
    "حسن",
    "امیر",
    "احمد",
    "محمدرضا",
    "مصطفی",
    "جواد",
    "مرتضی",
    "علیرضا",
    "مجید",
    "سعید",
    "حمید",
    "ابراهیم",
    "اسماعیل",
    "عباس",
    "قاسم",
    "محسن",
    "مسعود",
    "ناصر",
    "هادی",
    "یعقوب",
    "محمدعلی",
    "محمدحسین",
    "غلامرضا",
    "عبدالله",
    "امیرحسین",
    "ابوالفضل",
    "سجاد",
    "میلاد",
    "بهروز",
    "فرهاد",
    "منصور",
    "داوود",
    "رحیم",
    "کاظم",
    "اکبر",
    "اصغر",
    "جعفر",
    "صادق",
    "باقر",
    "نادر",
    "یوسف",
    "کریم",
    "خلیل",
    "جلیل",
    "حبیب",
    "نعمت",
    "رسول",
    "ایمان",
    "روح‌الله",
    "نصرالله",
    "فتح‌الله",
    "حمیدرضا",
    "امیرعلی",
    "عبدالرضا",
    "غلامحسین",
    "ولی‌الله",
    "سیاوش",
    "بهمن",
    "کامران",
    "شهرام",
    "فریدون",
    "ذبیح‌الله",
    "اسدالله",
    "عزت‌الله",
    "ضیاءالدین",
    "صمد",
    "طاهر",
    "ثابت",
    "ظفر",
];

const FEMALE: &[&str] = &[
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
    "اعظم",
    "اشرف",
    "منیژه",
    "پروین",
    "شهلا",
    "فریبا",
    "مهناز",
    "نسرین",
    "ژیلا",
    "سارا",
    "الهام",
    "مینا",
    "طیبه",
    "صدیقه",
    "فرشته",
    "راضیه",
    "مرضیه",
    "نجمه",
    "اکرم",
    "خدیجه",
    "صغری",
    "بتول",
    "عفت",
    "شهناز",
    "آزاده",
    "آمنه",
    "هاجر",
    "سمانه",
    "ریحانه",
    "کوثر",
    "فاطمه‌زهرا",
    "نازنین",
    "نیلوفر",
    "حدیثه",
    "محدثه",
    "ملیحه",
    "زهره",
    "ثریا",
    "عصمت",
    "ماه‌سلطان",
    "گل‌بانو",
    "طوبی",
    "ظریفه",
    "صنم",
    "حلیمه",
    "منیره",
    "فرخنده",
    "بی‌بی‌جان",
];

/// Compound first names and their parts, for the joined/split variation.
const COMPOUND: &[(&str, &str)] = &[
    ("محمدعلی", "محمد علی"),
    ("محمدرضا", "محمد رضا"),
    ("محمدحسین", "محمد حسین"),
    ("عبدالله", "عبد الله"),
    ("عبدالرضا", "عبد الرضا"),
    ("امیرحسین", "امیر حسین"),
    ("غلامرضا", "غلام رضا"),
    ("غلامحسین", "غلام حسین"),
    ("علیرضا", "علی رضا"),
    ("حمیدرضا", "حمید رضا"),
];

const COMMON_SURNAMES: &[&str] = &[
    "محمدی",
    "حسینی",
    "احمدی",
    "رضایی",
    "موسوی",
    "کریمی",
    "جعفری",
    "قاسمی",
    "رحیمی",
    "صادقی",
    "حیدری",
    "اکبری",
    "کاظمی",
    "مرادی",
    "عباسی",
    "نوروزی",
    "سلیمانی",
    "میرزایی",
    "یزدانی",
    "ابراهیمی",
    "هاشمی",
    "رحمانی",
    "نجفی",
    "طاهری",
    "قربانی",
    "ملکی",
    "امینی",
    "باقری",
    "شریفی",
    "سعیدی",
    "نظری",
    "عزیزی",
    "بهرامی",
    "فرهادی",
    "یوسفی",
    "صالحی",
    "زارعی",
    "مختاری",
    "ثابتی",
    "ذاکری",
    "ضیایی",
    "طالبی",
    "غفاری",
    "عسگری",
    "خسروی",
    "نیک‌نام",
    "میرزاده",
    "حاجی‌زاده",
];

const SURNAME_ROOTS: &[&str] = &[
    "حسین",
    "احمد",
    "رضا",
    "کریم",
    "قاسم",
    "نور",
    "امین",
    "شریف",
    "باقر",
    "یزدان",
    "جعفر",
    "صادق",
    "عباس",
    "کاظم",
    "مراد",
    "اکبر",
    "سلیمان",
    "حیدر",
    "رحیم",
    "نیک",
    "خدا",
    "شاه",
    "ملک",
    "مهر",
    "فرهاد",
    "بهرام",
    "جمال",
    "کمال",
    "رحمان",
    "غفار",
    "ستار",
    "نصیر",
    "منصور",
    "طاهر",
    "ناصر",
    "فتح",
    "ولی",
    "اسد",
    "شیر",
    "گل",
    "مشهد",
    "تهران",
    "شیراز",
    "کرمان",
    "یزد",
    "قزوین",
    "زنجان",
    "اصفهان",
    "تبریز",
    "همدان",
    "بابا",
    "عرب",
    "ترک",
    "ثابت",
    "ذاکر",
    "ضیا",
    "ظهیر",
    "صفا",
    "صبور",
    "طالب",
    "غلام",
    "قربان",
    "خسرو",
    "داور",
    "زمان",
    "سهراب",
    "کیان",
    "پارسا",
];

/// Surname suffixes; `\u{200C}` (ZWNJ) where Persian writes one, which typists often drop.
const SURNAME_SUFFIXES: &[&str] = &[
    "ی",
    "\u{200C}زاده",
    "\u{200C}پور",
    "\u{200C}نیا",
    "\u{200C}فر",
    "\u{200C}نژاد",
    "وند",
    "لو",
    "\u{200C}خانی",
    "یان",
    "\u{200C}دوست",
    "\u{200C}راد",
];

const DISTRICTS: &[&str] = &[
    "منطقه ۱",
    "منطقه ۲",
    "منطقه ۳",
    "منطقه ۴",
    "منطقه ۵",
    "منطقه ۶",
    "منطقه ۷",
    "منطقه ۸",
    "منطقه ۹",
    "منطقه ۱۰",
    "منطقه ۱۱",
    "منطقه ۱۲",
    "منطقه ۱۳",
    "منطقه ۱۴",
    "منطقه ۱۵",
    "اسلام‌آباد",
    "شهرک ولیعصر",
    "نعمت‌آباد",
    "خاک سفید",
    "شهرک رسالت",
    "دولت‌آباد",
    "حصارک",
    "کوی نصر",
    "شهرک گلستان",
    "قاسم‌آباد",
    "سیدی",
    "طلاب",
    "گلشهر",
    "مهرشهر",
    "فردیس",
    "شهریار",
    "اکبرآباد",
    "باغستان",
    "صالح‌آباد",
    "قلعه‌نو",
    "جعفرآباد",
    "رباط‌کریم",
    "پاکدشت",
    "ورامین",
    "قرچک",
];

const STREETS: &[&str] = &[
    "امام",
    "شهید بهشتی",
    "انقلاب",
    "آزادی",
    "ولیعصر",
    "طالقانی",
    "مطهری",
    "شریعتی",
    "جمهوری",
    "فاطمی",
    "کارگر",
    "پیروزی",
    "شهید رجایی",
    "بسیج",
    "مدرس",
    "نواب",
    "قزوین",
    "خیام",
    "سعدی",
    "حافظ",
    "فردوسی",
    "مولوی",
    "بهار",
    "نبوت",
    "امام رضا",
    "پاسداران",
    "ستارخان",
    "باهنر",
    "چمران",
    "کاشانی",
];

const ALLEYS: &[&str] = &[
    "یاس",
    "لاله",
    "نسترن",
    "شقایق",
    "نرگس",
    "اقاقیا",
    "بنفشه",
    "سوسن",
    "گلستان",
    "بهار",
    "شهید احمدی",
    "شهید کریمی",
    "شهید رضایی",
    "مسجد",
    "حمام",
    "دوم",
    "سوم",
    "ششم",
    "دهم",
    "فرعی اول",
    "بن‌بست نور",
    "صفا",
    "وفا",
    "امید",
    "سپیده",
    "مهر",
    "آفتاب",
    "ارغوان",
];

/// The name lists with their samplers.
#[derive(Debug)]
struct Names {
    surnames: Vec<String>,
    surname_zipf: Zipf,
    male_zipf: Zipf,
    female_zipf: Zipf,
    district_zipf: Zipf,
}

impl Names {
    fn new() -> Self {
        let mut surnames: Vec<String> = COMMON_SURNAMES.iter().map(|s| s.to_string()).collect();
        for suffix in SURNAME_SUFFIXES {
            for root in SURNAME_ROOTS {
                let name = format!("{root}{suffix}");
                if !surnames.contains(&name) {
                    surnames.push(name);
                }
            }
        }
        for prefix in ["میر", "حاجی\u{200C}", "شیخ\u{200C}"] {
            for root in SURNAME_ROOTS.iter().take(30) {
                surnames.push(format!("{prefix}{root}ی"));
            }
        }
        Names {
            surname_zipf: Zipf::new(surnames.len(), 12.0),
            surnames,
            male_zipf: Zipf::new(MALE.len(), 3.0),
            female_zipf: Zipf::new(FEMALE.len(), 3.0),
            district_zipf: Zipf::new(DISTRICTS.len(), 6.0),
        }
    }

    fn surname(&self, rng: &mut Rng) -> String {
        self.surnames[self.surname_zipf.sample(rng)].clone()
    }

    fn first(&self, rng: &mut Rng, male: bool) -> String {
        if male {
            MALE[self.male_zipf.sample(rng)].to_string()
        } else {
            FEMALE[self.female_zipf.sample(rng)].to_string()
        }
    }

    /// A first name other than `not` (compared by match key).
    fn other_first(&self, rng: &mut Rng, male: bool, not: &str) -> String {
        let not = super::match_key(not).replace(' ', "");
        loop {
            let name = self.first(rng, male);
            if super::match_key(&name).replace(' ', "") != not {
                return name;
            }
        }
    }

    fn district(&self, rng: &mut Rng) -> String {
        DISTRICTS[self.district_zipf.sample(rng)].to_string()
    }
}

/// One person as they really are (what registrations are taken from).
#[derive(Debug, Clone)]
struct Person {
    first: String,
    last: String,
    nid: String,
    birth: NaiveDate,
    father: String,
    male: bool,
    relation: Relation,
}

/// One family as it really is.
#[derive(Debug, Clone)]
struct Family {
    district: String,
    street: String,
    alley: String,
    plaque: usize,
    phone: String,
    members: Vec<Person>,
}

fn national_id(rng: &mut Rng) -> String {
    NationalId::with_check_digit(10_000_000 + rng.below(880_000_000) as u32)
        .as_str()
        .to_string()
}

fn date(rng: &mut Rng, from_year: i32, to_year: i32) -> NaiveDate {
    let year = from_year + rng.below((to_year - from_year + 1).max(1) as usize) as i32;
    let day = 1 + rng.below(365) as u32;
    NaiveDate::from_yo_opt(year, day).unwrap_or(NaiveDate::MIN)
}

fn phone(rng: &mut Rng) -> String {
    format!("09{}{:08}", 1 + rng.below(3), rng.below(100_000_000))
}

/// The last year a generated birth may fall in.
const THIS_YEAR: i32 = 2024;

impl Family {
    /// A family: a head (a man, or a widow or divorcee), usually a spouse, children, sometimes
    /// the head's parent.
    fn new(rng: &mut Rng, names: &Names) -> Family {
        let last = names.surname(rng);
        let male_head = rng.chance(0.85);
        let head_birth = date(rng, 1950, 1998);
        let head = Person {
            first: names.first(rng, male_head),
            last: last.clone(),
            nid: national_id(rng),
            birth: head_birth,
            father: names.first(rng, true),
            male: male_head,
            relation: Relation::Head,
        };
        let mut family = Family {
            district: names.district(rng),
            street: rng.pick(STREETS).to_string(),
            alley: rng.pick(ALLEYS).to_string(),
            plaque: 1 + rng.below(200),
            phone: phone(rng),
            members: vec![head],
        };
        if male_head && rng.chance(0.88) {
            family.members.push(family.spouse_for(rng, names));
        }
        let children = rng.below(5);
        for _ in 0..children {
            family.add_child(rng, names);
        }
        if rng.chance(0.08) {
            let elder = head_birth.year() - 20 - rng.below(10) as i32;
            family.members.push(Person {
                first: names.first(rng, false),
                last: names.surname(rng),
                nid: national_id(rng),
                birth: date(rng, elder, elder),
                father: names.first(rng, true),
                male: false,
                relation: Relation::Parent,
            });
        }
        family
    }

    fn head(&self) -> &Person {
        &self.members[0]
    }

    /// A wife for the head: Iranian women keep their own surname.
    fn spouse_for(&self, rng: &mut Rng, names: &Names) -> Person {
        let year = self.head().birth.year() + rng.below(9) as i32;
        Person {
            first: names.first(rng, false),
            last: names.surname(rng),
            nid: national_id(rng),
            birth: date(rng, year.min(THIS_YEAR - 18), year.min(THIS_YEAR - 18)),
            father: names.first(rng, true),
            male: false,
            relation: Relation::Spouse,
        }
    }

    fn add_child(&mut self, rng: &mut Rng, names: &Names) {
        let head = self.head().clone();
        let from = (head.birth.year() + 20).min(THIS_YEAR);
        let to = (head.birth.year() + 45).min(THIS_YEAR);
        let male = rng.chance(0.5);
        // A child's father is the head when the head is a man; a widow's children carry
        // their late father's name, unknown here.
        let father = if head.male {
            head.first.clone()
        } else {
            names.first(rng, true)
        };
        self.members.push(Person {
            first: names.first(rng, male),
            last: if head.male {
                head.last.clone()
            } else {
                names.surname(rng)
            },
            nid: national_id(rng),
            birth: date(rng, from, to),
            father,
            male,
            relation: Relation::Child,
        });
    }

    fn address(&self, rng: &mut Rng) -> String {
        if rng.chance(0.3) {
            format!("خ {} ک {} پ {}", self.street, self.alley, self.plaque)
        } else {
            format!(
                "خیابان {}، کوچه {}، پلاک {}",
                self.street, self.alley, self.plaque
            )
        }
    }

    /// One registration of this family by `group`: what a worker recorded, with the gaps and
    /// slips of real registrations, drawn independently for each: a national ID, birth date or
    /// father's name not recorded, a member left out, a birth date mistyped, a name with a
    /// typo, an old keyboard's Arabic ي/ك, ZWNJs typed or not, another phone or none.
    fn register(&self, rng: &mut Rng, group: &str) -> MatchRecord {
        const TYPOS: [&str; 3] = ["typo_drop", "typo_swap", "typo_replace"];
        let arabic = rng.chance(0.12);
        let zwnj = rng.chance(0.2);
        let mut members = Vec::new();
        for (i, p) in self.members.iter().enumerate() {
            if i > 0 && p.relation != Relation::Spouse && rng.chance(0.06) {
                continue;
            }
            let father_p = match p.relation {
                Relation::Head => 0.7,
                Relation::Child => 0.6,
                _ => 0.5,
            };
            let mut first = p.first.clone();
            let mut last = p.last.clone();
            if rng.chance(0.03) && first.chars().count() >= 4 {
                let kind = TYPOS[rng.below(3)];
                first = typo(rng, &first, kind);
            }
            if rng.chance(0.03) && last.chars().count() >= 4 {
                let kind = TYPOS[rng.below(3)];
                last = typo(rng, &last, kind);
            }
            if zwnj {
                first = toggle_zwnj(&first);
                last = toggle_zwnj(&last);
            }
            let mut father = rng.chance(father_p).then(|| p.father.clone());
            if arabic {
                first = arabic_letters(&first);
                last = arabic_letters(&last);
                father = father.as_deref().map(arabic_letters);
            }
            let birth = rng.chance(0.9).then(|| {
                if rng.chance(0.07) {
                    date(rng, p.birth.year(), p.birth.year())
                } else if rng.chance(0.02) {
                    let year = p.birth.year() + if rng.chance(0.5) { 1 } else { -1 };
                    p.birth.with_year(year).unwrap_or(p.birth)
                } else {
                    p.birth
                }
            });
            members.push(MatchMember {
                first_name: first,
                last_name: last,
                national_id: rng
                    .chance(if i == 0 { 0.8 } else { 0.7 })
                    .then(|| p.nid.clone()),
                birth_date: birth,
                relation: p.relation,
                father_name: father,
            });
        }
        let mut address = self.address(rng);
        if rng.chance(0.05) {
            address = address.replace(
                &self.plaque.to_string(),
                &(self.plaque + 1 + rng.below(9)).to_string(),
            );
        }
        if arabic {
            address = arabic_letters(&address);
        }
        let phones = if rng.chance(0.85) {
            vec![self.phone.clone()]
        } else if rng.chance(0.5) {
            vec![phone(rng)]
        } else {
            Vec::new()
        };
        MatchRecord {
            household: rng.uuid(),
            group: Some(group.to_string()),
            district: self.district.clone(),
            address,
            phones,
            members,
        }
    }
}

/// A pair of records with the truth about them.
#[derive(Debug, Clone)]
pub struct LabelledPair {
    pub a: MatchRecord,
    pub b: MatchRecord,
    /// Whether the two records are one household.
    pub duplicate: bool,
    /// What makes the pair hard (see [`DUPLICATE_VARIATIONS`] and [`DISTINCT_VARIATIONS`]).
    pub variation: &'static str,
}

/// How the second registration of a duplicate differs from the first.
pub const DUPLICATE_VARIATIONS: &[&str] = &[
    "exact",
    "arabic_letters",
    "zwnj",
    "compound_split",
    "typo_drop",
    "typo_swap",
    "typo_replace",
    "swapped_names",
    "title",
    "phone_format",
    "moved",
    "remarried",
    "head_swapped",
];

/// What two distinct households share.
pub const DISTINCT_VARIATIONS: &[&str] = &[
    "brothers",
    "parent_child",
    "common_name",
    "shared_phone",
    "same_skeleton",
    "same_father_year",
    "moved_widow",
];

const GROUPS: &[&str] = &["g01", "g02", "g03", "g04", "g05", "g06", "g07", "g08"];

fn two_groups(rng: &mut Rng) -> (&'static str, &'static str) {
    let a = rng.below(GROUPS.len());
    let b = (a + 1 + rng.below(GROUPS.len() - 1)) % GROUPS.len();
    (GROUPS[a], GROUPS[b])
}

/// `n` labelled pairs from `seed`: duplicates and distinct households alternate, each kind in
/// turn, so every variation is about equally represented.
pub fn labelled_pairs(seed: u64, n: usize) -> Vec<LabelledPair> {
    let mut rng = Rng::new(seed);
    let names = Names::new();
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let kind = DUPLICATE_VARIATIONS[(i / 2) % DUPLICATE_VARIATIONS.len()];
                duplicate_pair(&mut rng, &names, kind)
            } else {
                let kind = DISTINCT_VARIATIONS[(i / 2) % DISTINCT_VARIATIONS.len()];
                distinct_pair(&mut rng, &names, kind)
            }
        })
        .collect()
}

/// Letters a hurried or handwritten copy confuses (mostly by their dots).
fn confusable(c: char) -> Option<char> {
    Some(match c {
        'ب' => 'پ',
        'پ' => 'ب',
        'ت' => 'ث',
        'ث' => 'ت',
        'ج' => 'چ',
        'چ' => 'ج',
        'ح' => 'خ',
        'خ' => 'ح',
        'د' => 'ذ',
        'ذ' => 'د',
        'ر' => 'ز',
        'ز' => 'ر',
        'ژ' => 'ز',
        'س' => 'ش',
        'ش' => 'س',
        'ص' => 'ض',
        'ض' => 'ص',
        'ط' => 'ظ',
        'ظ' => 'ط',
        'ع' => 'غ',
        'غ' => 'ع',
        'ف' => 'ق',
        'ق' => 'ف',
        'ک' => 'گ',
        'گ' => 'ک',
        'م' => 'ن',
        'ن' => 'م',
        'ه' => 'ح',
        'ی' => 'ن',
        'ا' => 'ل',
        'ل' => 'ا',
        'و' => 'ر',
        _ => return None,
    })
}

/// One typo in a name: a letter dropped, two neighbours swapped, or a letter replaced by one
/// it is confused with. Never the first letter (it is the one most carefully written).
fn typo(rng: &mut Rng, name: &str, kind: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let letters: Vec<usize> = (1..chars.len())
        .filter(|i| chars[*i].is_alphabetic())
        .collect();
    if letters.is_empty() {
        return name.to_string();
    }
    match kind {
        "typo_drop" => {
            chars.remove(*rng.pick(&letters));
        }
        "typo_swap" => {
            let swappable: Vec<usize> = letters
                .iter()
                .copied()
                .filter(|i| {
                    *i + 1 < chars.len()
                        && chars[*i + 1].is_alphabetic()
                        && chars[*i] != chars[*i + 1]
                })
                .collect();
            if let Some(i) = (!swappable.is_empty()).then(|| *rng.pick(&swappable)) {
                chars.swap(i, i + 1);
            }
        }
        _ => {
            let replaceable: Vec<usize> = letters
                .iter()
                .copied()
                .filter(|i| confusable(chars[*i]).is_some())
                .collect();
            if let Some(i) = (!replaceable.is_empty()).then(|| *rng.pick(&replaceable)) {
                chars[i] = confusable(chars[i]).unwrap_or(chars[i]);
            }
        }
    }
    chars.into_iter().collect()
}

fn arabic_letters(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ی' => 'ي',
            'ک' => 'ك',
            _ => c,
        })
        .collect()
}

/// Removes the ZWNJs of a name, or puts one in where Persian may write one.
fn toggle_zwnj(s: &str) -> String {
    if s.contains('\u{200C}') {
        return s.replace('\u{200C}', "");
    }
    for suffix in [
        "زاده", "پور", "نیا", "فر", "نژاد", "خانی", "دوست", "راد", "الله",
    ] {
        match s.strip_suffix(suffix) {
            Some(stem) if !stem.is_empty() => return format!("{stem}\u{200C}{suffix}"),
            _ => {}
        }
    }
    s.to_string()
}

fn head_mut(record: &mut MatchRecord) -> Option<&mut MatchMember> {
    record
        .members
        .iter_mut()
        .find(|m| m.relation == Relation::Head)
}

/// A family and two registrations of it by different groups, the second showing `kind`.
fn duplicate_pair(rng: &mut Rng, names: &Names, kind: &'static str) -> LabelledPair {
    let mut family = Family::new(rng, names);
    if kind == "compound_split" {
        let (joined, _) = *rng.pick(COMPOUND);
        family.members[0].first = joined.to_string();
        family.members[0].male = true;
    }
    if kind == "head_swapped"
        && !family
            .members
            .iter()
            .any(|m| m.relation == Relation::Spouse)
    {
        family.members[0].male = true;
        let spouse = family.spouse_for(rng, names);
        family.members.insert(1, spouse);
    }
    let (ga, gb) = two_groups(rng);
    let a = family.register(rng, ga);
    let mut second = family.clone();
    match kind {
        "moved" => {
            second.district = names.district(rng);
            second.street = rng.pick(STREETS).to_string();
            second.alley = rng.pick(ALLEYS).to_string();
            second.plaque = 1 + rng.below(200);
            if rng.chance(0.3) {
                second.phone = phone(rng);
            }
        }
        "remarried" => {
            second.members.retain(|m| m.relation != Relation::Spouse);
            second.members[0].male = true;
            let spouse = second.spouse_for(rng, names);
            second.members.insert(1, spouse);
            // Children of the new marriage, and some of the first stay with their mother.
            second
                .members
                .retain(|m| m.relation != Relation::Child || rng.chance(0.6));
            if rng.chance(0.5) {
                second.add_child(rng, names);
            }
        }
        _ => {}
    }
    let mut b = second.register(rng, gb);
    let mut a = a;
    match kind {
        "arabic_letters" => {
            for m in &mut b.members {
                m.first_name = arabic_letters(&m.first_name);
                m.last_name = arabic_letters(&m.last_name);
                m.father_name = m.father_name.as_deref().map(arabic_letters);
            }
            b.address = arabic_letters(&b.address);
        }
        "zwnj" => {
            for m in &mut b.members {
                m.first_name = toggle_zwnj(&m.first_name);
                m.last_name = toggle_zwnj(&m.last_name);
            }
        }
        "compound_split" => {
            if let Some(head) = head_mut(&mut b) {
                let split = COMPOUND
                    .iter()
                    .find(|(j, _)| *j == head.first_name)
                    .map(|(_, s)| s.to_string());
                if let Some(split) = split {
                    head.first_name = split;
                }
            }
            // Either registration may be the split one.
            if rng.chance(0.5) {
                std::mem::swap(&mut a, &mut b);
            }
        }
        "typo_drop" | "typo_swap" | "typo_replace" => {
            if let Some(head) = head_mut(&mut b) {
                if head.first_name.chars().count() >= 4 && rng.chance(0.5) {
                    head.first_name = typo(rng, &head.first_name, kind);
                } else {
                    head.last_name = typo(rng, &head.last_name, kind);
                }
            }
        }
        "swapped_names" => {
            if let Some(head) = head_mut(&mut b) {
                std::mem::swap(&mut head.first_name, &mut head.last_name);
            }
        }
        "title" => {
            if let Some(head) = head_mut(&mut b) {
                let title = *rng.pick(&["سید", "حاج", "سیده", "کربلایی", "مشهدی", "میرزا"]);
                head.first_name = format!("{title} {}", head.first_name);
            }
        }
        "phone_format" => {
            let digits = &family.phone[1..];
            a.phones = vec![family.phone.clone()];
            b.phones = vec![match rng.below(3) {
                0 => format!("+98{digits}"),
                1 => format!("+98 {} {} {}", &digits[..3], &digits[3..6], &digits[6..]),
                _ => digits.to_string(),
            }];
        }
        "head_swapped" => {
            for m in &mut b.members {
                m.relation = match m.relation {
                    Relation::Head => Relation::Spouse,
                    Relation::Spouse => Relation::Head,
                    other => other,
                };
            }
        }
        _ => {}
    }
    LabelledPair {
        a,
        b,
        duplicate: true,
        variation: kind,
    }
}

/// Two distinct families that share what `kind` says, each registered once.
fn distinct_pair(rng: &mut Rng, names: &Names, kind: &'static str) -> LabelledPair {
    let mut first = Family::new(rng, names);
    let mut second = Family::new(rng, names);
    match kind {
        "brothers" => {
            // Same surname, same father, same building; another first name, another wife,
            // their own children; often one phone for the house.
            first.members[0].male = true;
            let mut brother = Family::new(rng, names);
            let head = &first.members[0];
            let year = head.birth.year() + [-8, -5, -3, -2, -1, 1, 2, 3, 5, 8][rng.below(10)];
            brother.members.clear();
            brother.members.push(Person {
                first: names.other_first(rng, true, &head.first),
                last: head.last.clone(),
                nid: national_id(rng),
                birth: date(rng, year, year),
                father: head.father.clone(),
                male: true,
                relation: Relation::Head,
            });
            if rng.chance(0.9) {
                let wife = brother.spouse_for(rng, names);
                brother.members.push(wife);
            }
            for _ in 0..rng.below(4) {
                brother.add_child(rng, names);
            }
            brother.district = first.district.clone();
            brother.street = first.street.clone();
            brother.alley = first.alley.clone();
            brother.plaque = first.plaque;
            if rng.chance(0.5) {
                brother.phone = first.phone.clone();
            }
            second = brother;
        }
        "parent_child" => {
            // A married son in his own household: his father's name is the first head's
            // first name, the surname and often the district and phone are the same.
            first.members[0].male = true;
            let father = first.members[0].clone();
            let year = (father.birth.year() + 20 + rng.below(15) as i32).min(THIS_YEAR - 18);
            second.members[0] = Person {
                first: names.other_first(rng, true, &father.first),
                last: father.last.clone(),
                nid: national_id(rng),
                birth: date(rng, year, year),
                father: father.first.clone(),
                male: true,
                relation: Relation::Head,
            };
            let kids: Vec<Person> = second.members.drain(1..).collect();
            let mut son = second;
            if rng.chance(0.8) {
                let wife = son.spouse_for(rng, names);
                son.members.push(wife);
            }
            for _ in 0..kids.len().min(3) {
                son.add_child(rng, names);
            }
            if rng.chance(0.5) {
                son.district = first.district.clone();
            }
            if rng.chance(0.3) {
                son.phone = first.phone.clone();
            }
            second = son;
        }
        "common_name" => {
            // The same very common head name in the same district.
            let firsts = ["محمد", "علی", "حسین"];
            let lasts = ["محمدی", "حسینی", "احمدی"];
            let (f, l) = (rng.pick(&firsts).to_string(), rng.pick(&lasts).to_string());
            for family in [&mut first, &mut second] {
                family.members[0].first = f.clone();
                family.members[0].last = l.clone();
                family.members[0].male = true;
                for m in family
                    .members
                    .iter_mut()
                    .filter(|m| m.relation == Relation::Child)
                {
                    m.last = l.clone();
                    m.father = f.clone();
                }
            }
            second.district = first.district.clone();
        }
        "shared_phone" => {
            // A relative's or a neighbour's phone given by both.
            second.phone = first.phone.clone();
        }
        "same_skeleton" => {
            // A surname spelled the same or alike, in the same district, another family.
            let last = first.members[0].last.clone();
            let alike: String = if rng.chance(0.5) {
                last.chars()
                    .map(|c| match c {
                        'ص' | 'ث' => 'س',
                        'ط' => 'ت',
                        'ظ' | 'ض' | 'ذ' => 'ز',
                        _ => c,
                    })
                    .collect()
            } else {
                last.clone()
            };
            let old = second.members[0].last.clone();
            for m in &mut second.members {
                if m.last == old {
                    m.last = alike.clone();
                }
            }
            second.district = first.district.clone();
        }
        "same_father_year" => {
            let head = first.members[0].clone();
            let y = head.birth.year();
            second.members[0].father = head.father.clone();
            second.members[0].birth = date(rng, y, y);
        }
        "moved_widow" => {
            // A widow (the first family's wife) went back to her parents: the second family
            // is her father's, and she is recorded there as a daughter, with her national ID.
            first.members[0].male = true;
            if !first.members.iter().any(|m| m.relation == Relation::Spouse) {
                let spouse = first.spouse_for(rng, names);
                first.members.insert(1, spouse);
            }
            let widow = first
                .members
                .iter()
                .find(|m| m.relation == Relation::Spouse)
                .cloned();
            if let Some(mut widow) = widow {
                let parents_birth = widow.birth.year() - 22 - rng.below(10) as i32;
                second.members.clear();
                second.members.push(Person {
                    first: widow.father.clone(),
                    last: widow.last.clone(),
                    nid: national_id(rng),
                    birth: date(rng, parents_birth, parents_birth),
                    father: names.first(rng, true),
                    male: true,
                    relation: Relation::Head,
                });
                let mother = second.spouse_for(rng, names);
                second.members.push(mother);
                widow.relation = Relation::Child;
                second.members.push(widow);
            }
        }
        _ => {}
    }
    let (ga, gb) = two_groups(rng);
    let mut a = first.register(rng, ga);
    let mut b = second.register(rng, gb);
    if kind == "moved_widow" {
        // Both registrations recorded her national ID (she is the first's spouse and the
        // second's last member, unless a registration left her out): the fact that makes the
        // pair a question.
        let nid = first
            .members
            .iter()
            .find(|m| m.relation == Relation::Spouse)
            .map(|w| w.nid.clone());
        if let Some(spouse) = a
            .members
            .iter_mut()
            .find(|m| m.relation == Relation::Spouse)
        {
            spouse.national_id = nid.clone();
        }
        if let Some(daughter) = b
            .members
            .last_mut()
            .filter(|m| m.relation == Relation::Child)
        {
            daughter.national_id = nid;
        }
    }
    LabelledPair {
        a,
        b,
        duplicate: false,
        variation: kind,
    }
}

/// A synthetic province: households registered by groups, a share of them registered twice by
/// two groups (with the variations of [`DUPLICATE_VARIATIONS`]), and families that resemble
/// each other (brothers in one building, a son next to his father).
#[derive(Debug, Clone)]
pub struct Province {
    pub records: Vec<MatchRecord>,
    /// The planted duplicate pairs (household ids, smaller first).
    pub duplicates: Vec<(Uuid, Uuid)>,
}

/// `households` records, `duplicate_share` of them second registrations of another record.
pub fn province(seed: u64, households: usize, duplicate_share: f32) -> Province {
    let mut rng = Rng::new(seed);
    let names = Names::new();
    let dups = ((households as f64) * f64::from(duplicate_share.clamp(0.0, 0.5))).round() as usize;
    let originals = households - dups;
    let mut records = Vec::with_capacity(households);
    let mut duplicates = Vec::with_capacity(dups);
    let group_of = |district: &str| {
        let i = DISTRICTS.iter().position(|d| *d == district).unwrap_or(0);
        GROUPS[i % GROUPS.len()]
    };
    let mut last_family: Option<Family> = None;
    for _ in 0..originals {
        let family = match &last_family {
            // A few families next to a relative's: brothers in one building, a grown son.
            Some(prev) if rng.chance(0.04) => distinct_pair_from(&mut rng, &names, prev),
            _ => Family::new(&mut rng, &names),
        };
        records.push(family.register(&mut rng, group_of(&family.district)));
        last_family = Some(family);
    }
    for _ in 0..dups {
        let kind = *rng.pick(DUPLICATE_VARIATIONS);
        let pair = duplicate_pair(&mut rng, &names, kind);
        // The first registration replaces an original, the second is the duplicate, so the
        // population keeps its size.
        let slot = rng.below(originals.max(1));
        if slot < records.len() {
            records[slot] = pair.a.clone();
        }
        let (x, y) = (pair.a.household, pair.b.household);
        duplicates.push((x.min(y), x.max(y)));
        records.push(pair.b);
    }
    // Drop planted pairs whose first registration was later overwritten by another's.
    let present: std::collections::HashSet<Uuid> = records.iter().map(|r| r.household).collect();
    duplicates.retain(|(x, y)| present.contains(x) && present.contains(y));
    Province {
        records,
        duplicates,
    }
}

/// A province-size population (see [`province`]), the records only.
pub fn population(seed: u64, households: usize, duplicate_share: f32) -> Vec<MatchRecord> {
    province(seed, households, duplicate_share).records
}

/// A family that resembles `prev`: a brother's in the same building.
fn distinct_pair_from(rng: &mut Rng, names: &Names, prev: &Family) -> Family {
    let mut brother = Family::new(rng, names);
    let head = prev.head();
    brother.members[0].first = names.other_first(rng, true, &head.first);
    brother.members[0].male = true;
    brother.members[0].last = head.last.clone();
    brother.members[0].father = head.father.clone();
    let first_name = brother.members[0].first.clone();
    for m in brother
        .members
        .iter_mut()
        .filter(|m| m.relation == Relation::Child)
    {
        m.last = head.last.clone();
        m.father = first_name.clone();
    }
    brother.district = prev.district.clone();
    brother.street = prev.street.clone();
    brother.alley = prev.alley.clone();
    brother.plaque = prev.plaque;
    brother
}

/// True and false positives and negatives of one decision rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_pos: usize,
    pub false_pos: usize,
    pub false_neg: usize,
    pub true_neg: usize,
}

impl Counts {
    fn add(&mut self, predicted: bool, duplicate: bool) {
        match (predicted, duplicate) {
            (true, true) => self.true_pos += 1,
            (true, false) => self.false_pos += 1,
            (false, true) => self.false_neg += 1,
            (false, false) => self.true_neg += 1,
        }
    }

    /// The share of proposed pairs that are duplicates (1 when nothing was proposed).
    pub fn precision(&self) -> f64 {
        let proposed = self.true_pos + self.false_pos;
        if proposed == 0 {
            1.0
        } else {
            self.true_pos as f64 / proposed as f64
        }
    }

    /// The share of duplicates that were proposed (1 when there were none).
    pub fn recall(&self) -> f64 {
        let duplicates = self.true_pos + self.false_neg;
        if duplicates == 0 {
            1.0
        } else {
            self.true_pos as f64 / duplicates as f64
        }
    }
}

/// How the pairs of one variation landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariationQuality {
    pub variation: &'static str,
    pub duplicate: bool,
    pub pairs: usize,
    pub likely: usize,
    pub possible: usize,
    /// Pairs that share no blocking key (never proposed, whatever their score).
    pub not_blocked: usize,
}

/// Precision and recall of the likely band and of both bands, and each variation's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    pub pairs: usize,
    /// Proposed = in the likely band.
    pub likely: Counts,
    /// Proposed = in either band.
    pub any_band: Counts,
    pub per_variation: Vec<VariationQuality>,
}

/// Scores every pair as detection would: a pair is proposed only if the two records share a
/// blocking key and its score reaches a band.
pub fn evaluate(pairs: &[LabelledPair], population: &Population) -> Quality {
    let mut quality = Quality {
        pairs: pairs.len(),
        likely: Counts::default(),
        any_band: Counts::default(),
        per_variation: Vec::new(),
    };
    for pair in pairs {
        let keys_a = block_keys(&pair.a);
        let blocked = block_keys(&pair.b)
            .iter()
            .any(|k| keys_a.binary_search(k).is_ok());
        let band = if blocked {
            score_pair(&pair.a, &pair.b, population).band
        } else {
            None
        };
        quality
            .likely
            .add(band == Some(Band::Likely), pair.duplicate);
        quality.any_band.add(band.is_some(), pair.duplicate);
        let index = match quality
            .per_variation
            .iter()
            .position(|v| v.variation == pair.variation && v.duplicate == pair.duplicate)
        {
            Some(i) => i,
            None => {
                quality.per_variation.push(VariationQuality {
                    variation: pair.variation,
                    duplicate: pair.duplicate,
                    pairs: 0,
                    likely: 0,
                    possible: 0,
                    not_blocked: 0,
                });
                quality.per_variation.len() - 1
            }
        };
        let v = &mut quality.per_variation[index];
        v.pairs += 1;
        match band {
            Some(Band::Likely) => v.likely += 1,
            Some(Band::Possible) => v.possible += 1,
            None => {}
        }
        if !blocked {
            v.not_blocked += 1;
        }
    }
    quality
}

impl Quality {
    /// The per-variation outcome as a Markdown table (the bench prints it, the docs show it).
    pub fn variation_table(&self) -> String {
        let mut out = String::from(
            "| variation | truth | pairs | likely | possible | neither | not blocked |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for v in &self.per_variation {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                v.variation,
                if v.duplicate { "duplicate" } else { "distinct" },
                v.pairs,
                v.likely,
                v.possible,
                v.pairs - v.likely - v.possible,
                v.not_blocked
            ));
        }
        out
    }
}

#[cfg(test)]
mod explore {
    use super::*;

    #[test]
    #[ignore]
    fn print_quality() {
        let pairs = labelled_pairs(7, 4000);
        let mut records = Vec::new();
        for p in &pairs {
            records.push(p.a.clone());
            records.push(p.b.clone());
        }
        let pop = Population::of(&records);
        let q = evaluate(&pairs, &pop);
        println!(
            "likely p={:.4} r={:.4}  any p={:.4} r={:.4}",
            q.likely.precision(),
            q.likely.recall(),
            q.any_band.precision(),
            q.any_band.recall()
        );
        println!("{}", q.variation_table());
        // Worst offenders.
        let mut n = 0;
        for p in &pairs {
            let s = score_pair(&p.a, &p.b, &pop);
            let bad =
                (p.duplicate && s.band.is_none()) || (!p.duplicate && s.band == Some(Band::Likely));
            if bad && n < 40 {
                n += 1;
                println!(
                    "--- {} dup={} score={:.1} band={:?}",
                    p.variation, p.duplicate, s.score, s.band
                );
                for r in &s.reasons {
                    println!("   {:?} {:?} {:.1}", r.field, r.agreement, r.weight);
                }
                for (x, rec) in [("A", &p.a), ("B", &p.b)] {
                    println!(
                        "  {x} {} | {} | {:?}",
                        rec.district, rec.address, rec.phones
                    );
                    for m in &rec.members {
                        println!(
                            "     {:?} {} {} nid={:?} b={:?} f={:?}",
                            m.relation,
                            m.first_name,
                            m.last_name,
                            m.national_id,
                            m.birth_date,
                            m.father_name
                        );
                    }
                }
            }
        }
        let t = std::time::Instant::now();
        let prov = province(1, 23_000, 0.03);
        println!("province gen {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let pop = Population::of(&prov.records);
        println!("population {:?}", t.elapsed());
        let mut blocks: std::collections::HashMap<String, usize> = Default::default();
        for r in &prov.records {
            for k in block_keys(r) {
                *blocks.entry(k.as_str().to_string()).or_default() += 1;
            }
        }
        let mut per_kind: std::collections::BTreeMap<&str, (usize, usize, usize)> =
            Default::default();
        for (k, n) in &blocks {
            let e = per_kind.entry(k.split(':').next().unwrap()).or_default();
            e.0 += 1;
            e.1 += n * (n - 1) / 2;
            e.2 = e.2.max(*n);
        }
        println!("blocks per kind (blocks, pairs, max) {per_kind:?}");
        let t = std::time::Instant::now();
        let (cands, stats) = crate::matching::detect_with_stats(&prov.records, &pop);
        println!("detect {:?} {:?}", t.elapsed(), stats);
        let found: std::collections::HashSet<(Uuid, Uuid)> =
            cands.iter().map(|c| (c.a, c.b)).collect();
        let hit = prov.duplicates.iter().filter(|d| found.contains(d)).count();
        let likely = cands
            .iter()
            .filter(|c| c.score.band == Some(Band::Likely))
            .count();
        println!(
            "planted {} found {} candidates {} likely {}",
            prov.duplicates.len(),
            hit,
            cands.len(),
            likely
        );
    }
}

#[cfg(test)]
mod explore2 {
    use super::*;
    use crate::matching::score::{Prepared, score_prepared};
    struct Cpu(u64);
    impl Cpu {
        fn now() -> Self {
            let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
            Cpu(s.split(' ').next().unwrap().parse().unwrap())
        }
        fn elapsed(&self) -> std::time::Duration {
            std::time::Duration::from_nanos(Cpu::now().0 - self.0)
        }
    }

    #[test]
    #[ignore]
    fn phases() {
        let prov = province(1, 23_000, 0.03);
        let records = &prov.records;
        let pop = Population::of(records);
        let t = Cpu::now();
        let prepared: Vec<Prepared> = records.iter().map(|r| Prepared::new(r, &pop)).collect();
        println!("prepare {:?}", t.elapsed());
        let t = Cpu::now();
        let keys: Vec<Vec<crate::matching::BlockKey>> =
            prepared.iter().map(Prepared::block_keys).collect();
        println!("keys {:?}", t.elapsed());
        let t = Cpu::now();
        let hashes: Vec<Vec<u64>> = keys
            .iter()
            .map(|ks| {
                ks.iter()
                    .map(|k| crate::matching::block::fnv1a(k.as_str().as_bytes()))
                    .collect()
            })
            .collect();
        let rank: Vec<u32> = (0..records.len() as u32).collect();
        let (pairs, _) = crate::matching::block::candidate_pairs(&hashes, &rank);
        println!("pairs {} {:?}", pairs.len(), t.elapsed());
        let t = Cpu::now();
        let mut n = 0;
        let mut banded = 0;
        for (i, j) in &pairs {
            if let Some(s) = score_prepared(&prepared[*i as usize], &prepared[*j as usize], true) {
                n += 1;
                if s.band.is_some() {
                    banded += 1;
                }
            }
        }
        println!("score {:?} unpruned {n} banded {banded}", t.elapsed());
    }
}
