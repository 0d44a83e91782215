//! The reports: each reads the projections with one or two queries (never a document) and
//! returns a [`Table`]. What each counts, and why, is in `docs/outcomes.md`.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use madadkar_schema::outcome::trend;
use madadkar_schema::{
    Field, NeedDomain, PartnerKind, ReferralStatus, Trend, ValidationError, parse_iso_date,
};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use serde::Serialize;

use super::filter::ReportFilter;
use super::table::{Cell, ChartHint, ChartKind, Column, ColumnKind, Table};
use crate::error::{Result, StoreError};
use crate::query::shown_under;
use crate::store::Store;

/// One report of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportInfo {
    pub code: String,
    pub title_fa: String,
    pub title_en: String,
    pub description_fa: String,
}

type Build = fn(&Connection, &ReportFilter, NaiveDate) -> Result<Table>;

/// The catalogue: code, Persian and English title, what it shows, and its builder.
const REPORTS: &[(&str, &str, &str, &str, Build)] = &[
    (
        "households-by-district",
        "خانوارها بر اساس منطقه و نیاز",
        "Households by district and need",
        "خانوارهای تحت پوشش هر منطقه، به تفکیک نیاز غالب در آخرین ارزیابی و شمار نیاز شدید (امتیاز ۳ یا ۴).",
        households_by_district,
    ),
    (
        "visits-per-worker-week",
        "بازدیدها به تفکیک مددکار و هفته",
        "Visits per worker per week",
        "شمار بازدیدهای هر مددکار در هر هفته (شنبه تا جمعه) در بازهٔ انتخاب‌شده؛ بی‌بازه، دوازده هفتهٔ گذشته.",
        visits_per_worker_week,
    ),
    (
        "overdue-followups",
        "پیگیری‌های عقب‌افتاده",
        "Overdue follow-ups",
        "بازدیدهای پیگیری، گام‌های برنامه و معرفی‌هایی که از موعدشان گذشته‌اند، قدیمی‌ترین اول.",
        overdue_followups,
    ),
    (
        "referral-funnel",
        "قیف معرفی‌ها به تفکیک شریک",
        "Referral funnel per partner",
        "برای هر شریک: معرفی‌های ارسال‌شده، دریافت‌شده، تأییدشده و پرداخت‌شده، مبلغ پرداختی، میانهٔ روزها در هر مرحله و شمار معرفی‌های معطل.",
        referral_funnel,
    ),
    (
        "plan-progress",
        "پیشرفت برنامه‌های توانمندسازی",
        "Plan progress and graduations",
        "برای هر مددکار: خانوارهای دارای برنامه، اهداف و گام‌ها و پیشرفتشان، توانمندی‌های پیشنهادشده و تأییدشده در بازه.",
        plan_progress,
    ),
    (
        "dominant-need",
        "نیاز غالب خانوارها",
        "Dominant need",
        "آنچه خانوارها را در فقر نگه می‌دارد: توزیع نیاز غالب در آخرین ارزیابی هر خانوار، برای هر گروه و کل استان.",
        dominant_need,
    ),
    (
        "need-trend",
        "روند نیاز در بازه",
        "Need trend over a period",
        "سهم خانوارهای رو به بهبود، بدون تغییر و رو به وخامت بین نخستین و آخرین ارزیابی در بازه، برای هر گروه و کل استان.",
        need_trend,
    ),
    (
        "cohort",
        "گروه هدف: از کجا به کجا",
        "Cohort: where each household started and where it is now",
        "برای خانوارهای گروه هدف (فهرست شناسه‌ها، یا خانوارهای ثبت‌شده در بازه): نخستین و آخرین ارزیابی، روند و برنامه.",
        cohort,
    ),
];

/// Every report there is.
pub fn catalogue() -> Vec<ReportInfo> {
    REPORTS
        .iter()
        .map(|(code, fa, en, description, _)| ReportInfo {
            code: code.to_string(),
            title_fa: fa.to_string(),
            title_en: en.to_string(),
            description_fa: description.to_string(),
        })
        .collect()
}

impl Store {
    /// Runs the report `code` over the projections on `today`.
    pub fn report(&self, code: &str, filter: &ReportFilter, today: NaiveDate) -> Result<Table> {
        let Some((code, fa, en, _, build)) = REPORTS.iter().find(|r| r.0 == code) else {
            return Err(StoreError::Invalid(ValidationError::NotOneOf {
                field: Field::Report,
                input: code.to_string(),
                allowed: REPORTS.iter().map(|r| r.0).collect::<Vec<_>>().join(", "),
            }));
        };
        let mut table = build(&self.conn, filter, today)?;
        table.report = code.to_string();
        table.title_fa = fa.to_string();
        table.title_en = en.to_string();
        table.filters = filter.applied();
        Ok(table)
    }

    /// The values the filter bar offers: the groups, districts and workers the projections hold.
    pub fn report_options(&self) -> Result<ReportOptions> {
        let distinct = |column: &str| -> Result<Vec<String>> {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT DISTINCT {column} FROM p_households WHERE {column} IS NOT NULL \
                 AND {column} != '' ORDER BY {column}"
            ))?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        Ok(ReportOptions {
            groups: distinct("assigned_group")?,
            districts: distinct("district")?,
            workers: distinct("assigned_worker")?,
        })
    }
}

impl Store {
    /// One full scan of the visits' projection (what a report over the visits must at least
    /// read): the benchmarks' baseline for report times.
    pub fn scan_visits_for_bench(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT count(*) + coalesce(sum(need_sum), 0) FROM p_visits",
            [],
            |r| r.get(0),
        )?)
    }
}

/// Choices for the filter bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportOptions {
    pub groups: Vec<String>,
    pub districts: Vec<String>,
    pub workers: Vec<String>,
}

fn empty_table(columns: Vec<Column>, chart: Option<ChartHint>) -> Table {
    Table {
        report: String::new(),
        title_fa: String::new(),
        title_en: String::new(),
        columns,
        rows: Vec::new(),
        filters: Vec::new(),
        chart,
    }
}

fn int(n: usize) -> Cell {
    Cell::Int(n as i64)
}

fn share(part: usize, whole: usize) -> Cell {
    if whole == 0 {
        Cell::Empty
    } else {
        Cell::Percent(part as f64 / whole as f64)
    }
}

fn date(text: &str) -> Result<NaiveDate> {
    Ok(parse_iso_date(Field::Date, text)?)
}

/// Runs `sql` with `params`, mapping each row.
fn rows<T>(
    conn: &Connection,
    sql: &str,
    params: Vec<Value>,
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let out = stmt
        .query_map(params_from_iter(params), map)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(out)
}

/// The columns naming a household in the reports that list households.
fn household_columns() -> Vec<Column> {
    vec![
        Column::new("household", "خانوار", "household", ColumnKind::Text),
        Column::new(
            "head_name",
            "سرپرست خانوار",
            "head of household",
            ColumnKind::Text,
        ),
        Column::new("district", "منطقه", "district", ColumnKind::Text),
    ]
}

/// A row's label, its households, how many have each dominant need, and how many none (no
/// need, or never assessed): the columns of the reports that count dominant needs.
fn distribution_columns(label: Column) -> Vec<Column> {
    let mut columns = vec![
        label,
        Column::new("households", "خانوارها", "households", ColumnKind::Int),
    ];
    columns.extend(domain_columns());
    columns.push(Column::new(
        "no_need",
        "بدون نیاز یا ارزیابی",
        "no need or not assessed",
        ColumnKind::Int,
    ));
    columns
}

fn domain_columns() -> Vec<Column> {
    NeedDomain::ALL
        .iter()
        .map(|d| Column::new(d.code(), d.label_fa(), d.label_en(), ColumnKind::Int))
        .collect()
}

fn households_by_district(conn: &Connection, f: &ReportFilter, _: NaiveDate) -> Result<Table> {
    let (cond, params) = f.households();
    let found = rows(
        conn,
        &format!(
            "SELECT h.district, h.dominant_need, h.max_need >= 3, count(*) FROM p_households h \
             WHERE {cond} AND h.status IN ('active', 'suspended') \
             GROUP BY 1, 2, 3 ORDER BY 1"
        ),
        params,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<bool>>(2)?.unwrap_or(false),
                r.get::<_, i64>(3)? as usize,
            ))
        },
    )?;
    let domains = NeedDomain::ALL;
    let mut by_district: BTreeMap<String, (usize, Vec<usize>, usize, usize)> = BTreeMap::new();
    for (district, dominant, high, n) in found {
        let e = by_district
            .entry(district)
            .or_insert_with(|| (0, vec![0; domains.len()], 0, 0));
        e.0 += n;
        match dominant.and_then(|d| NeedDomain::parse(&d).ok()) {
            Some(d) => e.1[domains.iter().position(|x| *x == d).unwrap_or(0)] += n,
            None => e.3 += n,
        }
        if high {
            e.2 += n;
        }
    }
    let mut columns = distribution_columns(Column::new(
        "district",
        "منطقه",
        "district",
        ColumnKind::Text,
    ));
    columns.push(Column::new(
        "high_need",
        "نیاز شدید (۳–۴)",
        "high need (3–4)",
        ColumnKind::Int,
    ));
    let series = (2..2 + domains.len()).collect();
    let mut table = empty_table(
        columns,
        Some(ChartHint {
            kind: ChartKind::StackedBar,
            label_column: 0,
            series_columns: series,
        }),
    );
    for (district, (n, per_domain, high, none)) in by_district {
        let mut row = vec![Cell::Text(district), int(n)];
        row.extend(per_domain.into_iter().map(int));
        row.push(int(none));
        row.push(int(high));
        table.rows.push(row);
    }
    Ok(table)
}

/// The Saturday that starts the Persian week holding `d`.
fn week_start(d: NaiveDate) -> NaiveDate {
    let since_saturday = (d.weekday().num_days_from_monday() + 2) % 7;
    d - Days::new(u64::from(since_saturday))
}

/// The most workers a weekly table shows as columns; the rest are summed in "others".
const WEEK_COLUMNS: usize = 12;

fn visits_per_worker_week(conn: &Connection, f: &ReportFilter, today: NaiveDate) -> Result<Table> {
    let mut f = f.clone();
    if f.from.is_none() && f.to.is_none() {
        f.from = Some(week_start(today) - Days::new(7 * 11));
        f.to = Some(today);
    }
    let (cond, mut params) = f.households();
    let (dates, date_params) = f.dates("v.date");
    params.extend(date_params);
    // The worker filter means the visiting worker here, not the household's.
    let cond = cond.replace("h.assigned_worker = ?", "v.worker_id = ?");
    let found = rows(
        conn,
        &format!(
            "SELECT v.worker_id, v.date, count(*) FROM p_visits v \
             {} WHERE {cond} AND {dates} GROUP BY 1, 2",
            shown_under("v")
        ),
        params,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        },
    )?;
    let mut per_worker: HashMap<String, i64> = HashMap::new();
    let mut cells: BTreeMap<NaiveDate, HashMap<String, i64>> = BTreeMap::new();
    for (worker, day, n) in found {
        let week = week_start(date(&day)?);
        *per_worker.entry(worker.clone()).or_default() += n;
        *cells.entry(week).or_default().entry(worker).or_default() += n;
    }
    let mut workers: Vec<(String, i64)> = per_worker.into_iter().collect();
    workers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<String> = workers
        .iter()
        .take(WEEK_COLUMNS)
        .map(|w| w.0.clone())
        .collect();
    let others = workers.len() > WEEK_COLUMNS;
    let mut columns = vec![Column::new(
        "week",
        "هفته (از شنبه)",
        "week (from Saturday)",
        ColumnKind::Date,
    )];
    columns.extend(shown.iter().map(|w| Column::new(w, w, w, ColumnKind::Int)));
    if others {
        columns.push(Column::new(
            "others",
            "سایر مددکاران",
            "other workers",
            ColumnKind::Int,
        ));
    }
    columns.push(Column::new("total", "جمع", "total", ColumnKind::Int));
    let series_end = columns.len() - 1;
    let mut table = empty_table(
        columns,
        Some(ChartHint {
            kind: ChartKind::StackedBar,
            label_column: 0,
            series_columns: (1..series_end).collect(),
        }),
    );
    // Every week of the range has a row, an empty week too (a gap is news).
    let (Some(from), Some(to)) = (
        f.from.or(cells.keys().next().copied()),
        f.to.or(cells.keys().last().copied()),
    ) else {
        return Ok(table);
    };
    let mut week = week_start(from);
    while week <= to {
        let counts = cells.get(&week);
        let get = |w: &str| counts.and_then(|c| c.get(w)).copied().unwrap_or(0);
        let mut row = vec![Cell::Date(week)];
        row.extend(shown.iter().map(|w| Cell::Int(get(w))));
        let total: i64 = counts.map(|c| c.values().sum()).unwrap_or(0);
        if others {
            let shown_sum: i64 = shown.iter().map(|w| get(w)).sum();
            row.push(Cell::Int(total - shown_sum));
        }
        row.push(Cell::Int(total));
        table.rows.push(row);
        week = week + Days::new(7);
    }
    Ok(table)
}

fn overdue_followups(conn: &Connection, f: &ReportFilter, today: NaiveDate) -> Result<Table> {
    let visible = households_in_scope(conn, f)?;
    let mut columns = household_columns();
    columns.extend([
        Column::new(
            "worker",
            "مددکار مسئول",
            "assigned worker",
            ColumnKind::Text,
        ),
        Column::new("kind", "نوع پیگیری", "kind", ColumnKind::Text),
        Column::new("due", "موعد", "due", ColumnKind::Date),
        Column::new("days_overdue", "روز تأخیر", "days overdue", ColumnKind::Int),
    ]);
    let mut table = empty_table(columns, None);
    let mut due: Vec<crate::query::Followup> = crate::query::followups(conn, today, 0)?
        .into_iter()
        .filter(|x| x.overdue && visible.contains_key(&x.household_id))
        .filter(|x| f.contains(x.due))
        .collect();
    due.sort_by_key(|x| (x.due, x.household_id.clone()));
    for x in due {
        let kind = match x.kind {
            crate::query::FollowupKind::Visit => "بازدید پیگیری",
            crate::query::FollowupKind::PlanStep => "گام برنامه",
            crate::query::FollowupKind::Referral => "معرفی معطل",
        };
        table.rows.push(vec![
            Cell::Text(x.household_id),
            Cell::Text(x.head_name),
            Cell::Text(x.district),
            x.assigned_worker.map_or(Cell::Empty, Cell::Text),
            Cell::Text(kind.into()),
            Cell::Date(x.due),
            Cell::Int(-x.days_left),
        ]);
    }
    Ok(table)
}

fn median(values: &mut [i64]) -> Cell {
    if values.is_empty() {
        return Cell::Empty;
    }
    values.sort_unstable();
    let n = values.len();
    let m = if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0
    };
    Cell::Decimal(m)
}

#[derive(Default)]
struct Funnel {
    name: String,
    kind: String,
    sent: usize,
    received: usize,
    approved: usize,
    disbursed: usize,
    refused: usize,
    withdrawn: usize,
    amount: i64,
    stalled: usize,
    days: [Vec<i64>; 3],
}

fn referral_funnel(conn: &Connection, f: &ReportFilter, today: NaiveDate) -> Result<Table> {
    let (cond, cond_params) = f.households();
    // The worker filter means the worker who made the referral here.
    let cond = cond.replace("h.assigned_worker = ?", "r.worker_id = ?");
    let (dates, date_params) = f.dates("r.sent_on");
    // In the order the statement names them: today (in the select list), then the conditions.
    let mut params = vec![Value::Text(madadkar_schema::iso_date(today))];
    params.extend(cond_params);
    params.extend(date_params);
    // One row per step of each referral in range, with its partner.
    let steps = rows(
        conn,
        &format!(
            "SELECT r.id, coalesce(r.partner, ''), coalesce(p.name || coalesce(' — ' || p.branch, ''), r.target), \
                    coalesce(p.kind, r.kind), s.status, s.days, s.amount, \
                    r.stalls_on IS NOT NULL AND r.stalls_on < ? \
             FROM p_referrals r {} \
             JOIN p_referral_steps s ON s.referral_id = r.id \
             LEFT JOIN partners p ON p.code = r.partner \
             WHERE {cond} AND {dates} ORDER BY r.id, s.date, s.id",
            shown_under("r")
        ),
        params,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, bool>(7)?,
            ))
        },
    )?;
    let mut partners: BTreeMap<String, Funnel> = BTreeMap::new();
    let mut last_referral = String::new();
    let mut reached = 0u8;
    let flush = |f: &mut Funnel, reached: u8| {
        if reached >= 1 {
            f.received += 1;
        }
        if reached >= 2 {
            f.approved += 1;
        }
        if reached >= 3 {
            f.disbursed += 1;
        }
    };
    let mut current_key = String::new();
    for (id, code, name, kind, status, days, amount, stalled) in steps {
        let key = if code.is_empty() {
            format!("~{name}")
        } else {
            code.clone()
        };
        if id != last_referral {
            if !last_referral.is_empty()
                && let Some(prev) = partners.get_mut(&current_key)
            {
                flush(prev, reached);
            }
            last_referral = id.clone();
            current_key = key.clone();
            reached = 0;
            let e = partners.entry(key.clone()).or_default();
            e.name = name.clone();
            e.kind = kind.clone();
            e.sent += 1;
            if stalled {
                e.stalled += 1;
            }
        }
        let Some(e) = partners.get_mut(&key) else {
            continue;
        };
        let status = ReferralStatus::from_stored(&status)?;
        match status {
            ReferralStatus::Received => reached = reached.max(1),
            ReferralStatus::Approved => reached = reached.max(2),
            ReferralStatus::Disbursed => {
                reached = 3;
                e.amount += amount.unwrap_or(0);
            }
            ReferralStatus::Refused => e.refused += 1,
            ReferralStatus::Withdrawn => e.withdrawn += 1,
            ReferralStatus::Sent => {}
        }
        let slot = match status {
            ReferralStatus::Sent => Some(0),
            ReferralStatus::Received => Some(1),
            ReferralStatus::Approved => Some(2),
            _ => None,
        };
        if let (Some(slot), Some(d)) = (slot, days) {
            e.days[slot].push(d);
        }
    }
    if !last_referral.is_empty()
        && let Some(prev) = partners.get_mut(&current_key)
    {
        flush(prev, reached);
    }
    let columns = vec![
        Column::new("partner", "شریک", "partner", ColumnKind::Text),
        Column::new("kind", "نوع", "kind", ColumnKind::Text),
        Column::new("sent", "ارسال‌شده", "sent", ColumnKind::Int),
        Column::new("received", "دریافت‌شده", "received", ColumnKind::Int),
        Column::new("approved", "تأییدشده", "approved", ColumnKind::Int),
        Column::new("disbursed", "پرداخت‌شده", "disbursed", ColumnKind::Int),
        Column::new("refused", "ردشده", "refused", ColumnKind::Int),
        Column::new("withdrawn", "منصرف‌شده", "withdrawn", ColumnKind::Int),
        Column::new(
            "amount",
            "مبلغ پرداختی (ریال)",
            "amount disbursed (rials)",
            ColumnKind::Money,
        ),
        Column::new(
            "disbursed_share",
            "سهم پرداخت از تأیید",
            "disbursed of approved",
            ColumnKind::Percent,
        ),
        Column::new(
            "median_days_sent",
            "میانهٔ روز در «ارسال‌شده»",
            "median days sent",
            ColumnKind::Decimal,
        ),
        Column::new(
            "median_days_received",
            "میانهٔ روز در «دریافت‌شده»",
            "median days received",
            ColumnKind::Decimal,
        ),
        Column::new(
            "median_days_approved",
            "میانهٔ روز در «تأییدشده»",
            "median days approved",
            ColumnKind::Decimal,
        ),
        Column::new("stalled", "معطل", "stalled", ColumnKind::Int),
    ];
    let mut table = empty_table(
        columns,
        Some(ChartHint {
            kind: ChartKind::Funnel,
            label_column: 0,
            series_columns: vec![2, 3, 4, 5],
        }),
    );
    let mut funnels: Vec<Funnel> = partners.into_values().collect();
    funnels.sort_by(|a, b| b.sent.cmp(&a.sent).then(a.name.cmp(&b.name)));
    for mut p in funnels {
        let kind = PartnerKind::parse(&p.kind)
            .map(|k| k.label_fa().to_string())
            .or_else(|_| {
                madadkar_schema::ReferralKind::parse(&p.kind).map(|k| k.label_fa().to_string())
            })
            .unwrap_or(p.kind.clone());
        let [sent_days, received_days, approved_days] = &mut p.days;
        table.rows.push(vec![
            Cell::Text(p.name.clone()),
            Cell::Text(kind),
            int(p.sent),
            int(p.received),
            int(p.approved),
            int(p.disbursed),
            int(p.refused),
            int(p.withdrawn),
            Cell::Money(p.amount),
            share(p.disbursed, p.approved),
            median(sent_days),
            median(received_days),
            median(approved_days),
            int(p.stalled),
        ]);
    }
    Ok(table)
}

fn plan_progress(conn: &Connection, f: &ReportFilter, today: NaiveDate) -> Result<Table> {
    let (cond, params) = f.households();
    let (dates, date_params) = f.dates("e.on_date");
    let households = rows(
        conn,
        &format!(
            "SELECT coalesce(h.assigned_worker, ''), h.plan_goals, h.plan_goals_met, \
                    h.graduation_proposed FROM p_households h WHERE {cond} AND h.plan_goals > 0"
        ),
        params.clone(),
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
            ))
        },
    )?;
    let steps = rows(
        conn,
        &format!(
            "SELECT coalesce(h.assigned_worker, ''), s.status, s.target_date FROM p_plan_steps s \
             {} WHERE {cond}",
            shown_under("s")
        ),
        params.clone(),
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        },
    )?;
    let mut grad_params = params;
    grad_params.extend(date_params);
    let graduations = rows(
        conn,
        &format!(
            "SELECT coalesce(h.assigned_worker, ''), count(*) FROM p_status_events e \
             {} WHERE {cond} AND e.status = 'graduated' AND {dates} GROUP BY 1",
            shown_under("e")
        ),
        grad_params,
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )?;
    #[derive(Default)]
    struct Row {
        households: usize,
        goals: i64,
        met: i64,
        steps: usize,
        done: usize,
        overdue: usize,
        proposed: usize,
        graduated: i64,
    }
    let mut by_worker: BTreeMap<String, Row> = BTreeMap::new();
    for (worker, goals, met, proposed) in households {
        let r = by_worker.entry(worker).or_default();
        r.households += 1;
        r.goals += goals;
        r.met += met;
        r.proposed += usize::from(proposed);
    }
    let today_iso = madadkar_schema::iso_date(today);
    for (worker, status, target) in steps {
        let r = by_worker.entry(worker).or_default();
        r.steps += 1;
        if status == "done" {
            r.done += 1;
        }
        let open = status == "planned" || status == "in_progress";
        if open && target.is_some_and(|t| t < today_iso) {
            r.overdue += 1;
        }
    }
    for (worker, n) in graduations {
        by_worker.entry(worker).or_default().graduated += n;
    }
    let columns = vec![
        Column::new("worker", "مددکار", "worker", ColumnKind::Text),
        Column::new(
            "households",
            "خانوارهای دارای برنامه",
            "households with a plan",
            ColumnKind::Int,
        ),
        Column::new("goals", "اهداف", "goals", ColumnKind::Int),
        Column::new("goals_met", "اهداف محقق‌شده", "goals met", ColumnKind::Int),
        Column::new("steps", "گام‌ها", "steps", ColumnKind::Int),
        Column::new(
            "steps_done",
            "گام‌های انجام‌شده",
            "steps done",
            ColumnKind::Int,
        ),
        Column::new(
            "steps_overdue",
            "گام‌های عقب‌افتاده",
            "steps overdue",
            ColumnKind::Int,
        ),
        Column::new(
            "proposed",
            "توانمندی پیشنهادشده",
            "graduation proposed",
            ColumnKind::Int,
        ),
        Column::new(
            "graduated",
            "توانمندی تأییدشده در بازه",
            "graduated in the period",
            ColumnKind::Int,
        ),
    ];
    let mut table = empty_table(
        columns,
        Some(ChartHint {
            kind: ChartKind::Bar,
            label_column: 0,
            series_columns: vec![2, 3, 8],
        }),
    );
    for (worker, r) in by_worker {
        let name = if worker.is_empty() {
            "بدون مددکار".to_string()
        } else {
            worker
        };
        table.rows.push(vec![
            Cell::Text(name),
            int(r.households),
            Cell::Int(r.goals),
            Cell::Int(r.met),
            int(r.steps),
            int(r.done),
            int(r.overdue),
            int(r.proposed),
            Cell::Int(r.graduated),
        ]);
    }
    Ok(table)
}

/// The province row's label in per-group tables.
const PROVINCE: &str = "کل استان (همهٔ گروه‌های این دستگاه)";

/// The rows of a per-group table: one per group (households of no group under their own
/// label), then the province's when there is more than one group.
fn per_group<T: ?Sized>(
    groups: &BTreeMap<String, impl std::borrow::Borrow<T>>,
    total: &T,
    mut row: impl FnMut(String, &T),
) {
    for (group, counts) in groups {
        let name = if group.is_empty() {
            "بدون گروه".to_string()
        } else {
            group.clone()
        };
        row(name, counts.borrow());
    }
    if groups.len() > 1 {
        row(PROVINCE.into(), total);
    }
}

fn dominant_need(conn: &Connection, f: &ReportFilter, _: NaiveDate) -> Result<Table> {
    let (cond, params) = f.households();
    let found = rows(
        conn,
        &format!(
            "SELECT coalesce(h.assigned_group, ''), h.dominant_need, count(*) FROM p_households h \
             WHERE {cond} AND h.status IN ('active', 'suspended') GROUP BY 1, 2"
        ),
        params,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)? as usize,
            ))
        },
    )?;
    let domains = NeedDomain::ALL;
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut total = vec![0; domains.len() + 1];
    for (group, dominant, n) in found {
        let i = dominant
            .and_then(|d| NeedDomain::parse(&d).ok())
            .and_then(|d| domains.iter().position(|x| *x == d))
            .unwrap_or(domains.len());
        groups
            .entry(group)
            .or_insert_with(|| vec![0; domains.len() + 1])[i] += n;
        total[i] += n;
    }
    let mut columns = distribution_columns(Column::new("group", "گروه", "group", ColumnKind::Text));
    columns.extend(domains.iter().map(|d| {
        Column::new(
            &format!("{}_share", d.code()),
            &format!("سهم {}", d.label_fa()),
            &format!("{} share", d.label_en()),
            ColumnKind::Percent,
        )
    }));
    let mut table = empty_table(
        columns,
        Some(ChartHint {
            kind: ChartKind::StackedBar,
            label_column: 0,
            series_columns: (2..2 + domains.len()).collect(),
        }),
    );
    let push = |name: String, counts: &[usize]| {
        let n: usize = counts.iter().sum();
        let mut row = vec![Cell::Text(name), int(n)];
        row.extend(counts.iter().map(|c| int(*c)));
        row.extend(counts[..domains.len()].iter().map(|c| share(*c, n)));
        table.rows.push(row);
    };
    per_group(&groups, total.as_slice(), push);
    Ok(table)
}

/// A household's first and last assessment within a range.
struct Assessed {
    id: String,
    group: String,
    start: NaiveDate,
    start_mean: f64,
    start_dominant: Option<String>,
    end: NaiveDate,
    end_mean: f64,
    end_dominant: Option<String>,
    count: usize,
}

/// The households the filter keeps, each with the household it is shown under (itself, or the
/// survivor it was merged into; see [`crate::query::shown_under`]) and that one's group: what the reports over
/// visits filter by in memory rather than by joining every visit to its household.
fn households_in_scope(
    conn: &Connection,
    f: &ReportFilter,
) -> Result<HashMap<String, (String, String)>> {
    let (cond, params) = f.households();
    let found = rows(
        conn,
        &format!(
            "SELECT o.id, h.id, coalesce(h.assigned_group, '') FROM p_households o \
             JOIN p_households h ON h.id = coalesce(o.merged_into, o.id) WHERE {cond}"
        ),
        params,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                (r.get::<_, String>(1)?, r.get::<_, String>(2)?),
            ))
        },
    )?;
    Ok(found.into_iter().collect())
}

/// Each household's first and last assessment in the filter's range, from the visits'
/// projection read through its covering index (households with none in it are left out).
fn assessments_in_range(conn: &Connection, f: &ReportFilter) -> Result<Vec<Assessed>> {
    let scope = households_in_scope(conn, f)?;
    let (dates, params) = f.dates("v.date");
    type Visit = (String, String, i64, i64, Option<String>);
    let found: Vec<Visit> = rows(
        conn,
        &format!(
            "SELECT v.household_id, v.date, v.need_sum, v.need_count, v.dominant_need \
             FROM p_visits v INDEXED BY p_visits_assessments \
             WHERE v.need_count > 0 AND {dates} ORDER BY v.household_id, v.date"
        ),
        params,
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    // Each assessment under the household it is shown under, in date order per household.
    let mut shown: Vec<(&(String, String), &Visit)> = found
        .iter()
        .filter_map(|v| scope.get(&v.0).map(|s| (s, v)))
        .collect();
    shown.sort_by(|a, b| (&a.0.0, &a.1.1).cmp(&(&b.0.0, &b.1.1)));
    let mean = |x: &Visit| x.2 as f64 / x.3 as f64;
    let mut out = Vec::new();
    for household in shown.chunk_by(|a, b| a.0.0 == b.0.0) {
        let (Some((owner, first)), Some((_, last))) = (household.first(), household.last()) else {
            continue;
        };
        out.push(Assessed {
            id: owner.0.clone(),
            group: owner.1.clone(),
            start: date(&first.1)?,
            start_mean: mean(first),
            start_dominant: first.4.clone(),
            end: date(&last.1)?,
            end_mean: mean(last),
            end_dominant: last.4.clone(),
            count: household.len(),
        });
    }
    Ok(out)
}

fn trend_of(start: f64, end: f64, assessments: usize) -> Trend {
    if assessments < 2 {
        return Trend::Unknown;
    }
    trend::of_means(start, end)
}

fn need_trend(conn: &Connection, f: &ReportFilter, today: NaiveDate) -> Result<Table> {
    let mut f = f.clone();
    if f.from.is_none() && f.to.is_none() {
        f.from = Some(today - Days::new(365));
        f.to = Some(today);
    }
    let mut groups: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut total = [0usize; 4];
    for a in assessments_in_range(conn, &f)? {
        let group = a.group;
        let t = match trend_of(a.start_mean, a.end_mean, a.count) {
            Trend::Improving => 0,
            Trend::Stable => 1,
            Trend::Worsening => 2,
            Trend::Unknown => 3,
        };
        groups.entry(group).or_default()[t] += 1;
        total[t] += 1;
    }
    let columns = vec![
        Column::new("group", "گروه", "group", ColumnKind::Text),
        Column::new(
            "assessed",
            "خانوارهای با دو ارزیابی یا بیشتر",
            "assessed twice or more",
            ColumnKind::Int,
        ),
        Column::new(
            "improving",
            Trend::Improving.label_fa(),
            "improving",
            ColumnKind::Int,
        ),
        Column::new(
            "stable",
            Trend::Stable.label_fa(),
            "stable",
            ColumnKind::Int,
        ),
        Column::new(
            "worsening",
            Trend::Worsening.label_fa(),
            "worsening",
            ColumnKind::Int,
        ),
        Column::new(
            "improving_share",
            "سهم رو به بهبود",
            "improving share",
            ColumnKind::Percent,
        ),
        Column::new(
            "worsening_share",
            "سهم رو به وخامت",
            "worsening share",
            ColumnKind::Percent,
        ),
        Column::new(
            "assessed_once",
            "تنها یک ارزیابی",
            "assessed once",
            ColumnKind::Int,
        ),
    ];
    let mut table = empty_table(
        columns,
        Some(ChartHint {
            kind: ChartKind::StackedBar,
            label_column: 0,
            series_columns: vec![2, 3, 4],
        }),
    );
    let push = |name: String, c: &[usize; 4]| {
        let assessed = c[0] + c[1] + c[2];
        table.rows.push(vec![
            Cell::Text(name),
            int(assessed),
            int(c[0]),
            int(c[1]),
            int(c[2]),
            share(c[0], assessed),
            share(c[2], assessed),
            int(c[3]),
        ]);
    };
    per_group(&groups, &total, push);
    table.filters = f.applied();
    Ok(table)
}

fn cohort(conn: &Connection, f: &ReportFilter, _: NaiveDate) -> Result<Table> {
    // The cohort: the listed households, or those registered in the range.
    let (cond, mut params) = f.households();
    let mut cond = cond;
    if !f.cohort.is_empty() {
        let mut any = Vec::new();
        for id in &f.cohort {
            let id = id.trim().to_lowercase();
            if id.len() < 4 || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                return Err(StoreError::Invalid(ValidationError::Invalid {
                    field: Field::Cohort,
                    input: id,
                    reason: "is not a household id or the start of one (at least 4 characters)",
                }));
            }
            any.push("h.id LIKE ?".to_string());
            params.push(Value::Text(format!("{id}%")));
        }
        cond = format!("{cond} AND ({})", any.join(" OR "));
    } else {
        let (dates, date_params) = f.dates("h.created_on");
        cond = format!("{cond} AND {dates}");
        params.extend(date_params);
    }
    let members = rows(
        conn,
        &format!(
            "SELECT h.id, h.head_name, h.district, h.status, h.plan_goals, h.plan_goals_met \
             FROM p_households h WHERE {cond} ORDER BY h.sort_name, h.id"
        ),
        params,
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        },
    )?;
    // Their whole assessment history (the range chose the cohort, not the assessments).
    let whole = ReportFilter {
        from: None,
        to: None,
        cohort: Vec::new(),
        ..f.clone()
    };
    let assessed: HashMap<String, _> = assessments_in_range(conn, &whole)?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let mut columns = household_columns();
    columns.extend([
        Column::new(
            "start",
            "نخستین ارزیابی",
            "first assessment",
            ColumnKind::Date,
        ),
        Column::new(
            "start_mean",
            "میانگین نیاز در آغاز",
            "mean need at start",
            ColumnKind::Decimal,
        ),
        Column::new(
            "start_dominant",
            "نیاز غالب در آغاز",
            "dominant need at start",
            ColumnKind::Text,
        ),
        Column::new(
            "latest",
            "آخرین ارزیابی",
            "latest assessment",
            ColumnKind::Date,
        ),
        Column::new(
            "latest_mean",
            "میانگین نیاز اکنون",
            "mean need now",
            ColumnKind::Decimal,
        ),
        Column::new(
            "latest_dominant",
            "نیاز غالب اکنون",
            "dominant need now",
            ColumnKind::Text,
        ),
        Column::new("trend", "روند", "trend", ColumnKind::Text),
        Column::new("goals_met", "اهداف محقق‌شده", "goals met", ColumnKind::Int),
        Column::new("goals", "اهداف", "goals", ColumnKind::Int),
        Column::new("status", "وضعیت", "status", ColumnKind::Text),
    ]);
    let mut table = empty_table(
        columns,
        Some(ChartHint {
            kind: ChartKind::Bar,
            label_column: 1,
            series_columns: vec![4, 7],
        }),
    );
    let label = |d: &Option<String>| {
        d.as_deref()
            .and_then(|d| NeedDomain::parse(d).ok())
            .map_or(Cell::Empty, |d| Cell::Text(d.label_fa().into()))
    };
    for (id, head, district, status, goals, met) in members {
        let a = assessed.get(&id);
        let status = madadkar_schema::HouseholdStatus::parse(&status)
            .map(|s| s.label_fa().to_string())
            .unwrap_or(status);
        let trend = a.map_or(Trend::Unknown, |a| {
            trend_of(a.start_mean, a.end_mean, a.count)
        });
        table.rows.push(vec![
            Cell::Text(id),
            Cell::Text(head),
            Cell::Text(district),
            a.map_or(Cell::Empty, |a| Cell::Date(a.start)),
            a.map_or(Cell::Empty, |a| Cell::Decimal(a.start_mean)),
            a.map_or(Cell::Empty, |a| label(&a.start_dominant)),
            a.map_or(Cell::Empty, |a| Cell::Date(a.end)),
            a.map_or(Cell::Empty, |a| Cell::Decimal(a.end_mean)),
            a.map_or(Cell::Empty, |a| label(&a.end_dominant)),
            Cell::Text(trend.label_fa().into()),
            Cell::Int(met),
            Cell::Int(goals),
            Cell::Text(status),
        ]);
    }
    Ok(table)
}
