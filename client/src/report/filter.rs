//! What a report is run over: group, district, worker, a Jalali date range and, for the cohort
//! report, a list of households. Typed here once for the CLI and the desktop app.

use chrono::NaiveDate;
use madadkar_schema::{Field, ValidationError, given, parse_date};
use rusqlite::types::Value;
use serde::Deserialize;

use super::table::AppliedFilter;

/// The filters as typed: text, `None` (or empty) where not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct ReportFilterText {
    pub group: Option<String>,
    pub district: Option<String>,
    pub worker: Option<String>,
    /// Jalali (`1404/01/01`, any digits) or ISO.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Household ids or id prefixes, separated by spaces, commas or new lines.
    pub cohort: Option<String>,
}

/// The filters, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub group: Option<String>,
    pub district: Option<String>,
    pub worker: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Household ids or prefixes, as typed (resolved by the cohort report).
    pub cohort: Vec<String>,
}

impl ReportFilterText {
    pub fn to_filter(&self) -> Result<ReportFilter, ValidationError> {
        let text = |v: &Option<String>| given(v).map(|s| s.trim().to_string());
        let date = |field, v: &Option<String>| given(v).map(|d| parse_date(field, d)).transpose();
        let filter = ReportFilter {
            group: text(&self.group),
            district: text(&self.district),
            worker: text(&self.worker),
            from: date(Field::DateFrom, &self.from)?,
            to: date(Field::DateTo, &self.to)?,
            cohort: self
                .cohort
                .as_deref()
                .unwrap_or_default()
                .split(|c: char| c.is_whitespace() || c == ',' || c == '،')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && to < from
        {
            return Err(ValidationError::Invalid {
                field: Field::DateTo,
                input: madadkar_schema::format_jalali(to),
                reason: "is before the start of the range",
            });
        }
        Ok(filter)
    }
}

impl ReportFilter {
    /// The filters given, as a report's header and an export's notes show them.
    pub fn applied(&self) -> Vec<AppliedFilter> {
        let mut out = Vec::new();
        let mut push = |fa: &str, en: &str, value: String| {
            out.push(AppliedFilter {
                fa: fa.into(),
                en: en.into(),
                value,
            })
        };
        if let Some(g) = &self.group {
            push("گروه", "group", g.clone());
        }
        if let Some(d) = &self.district {
            push("منطقه", "district", d.clone());
        }
        if let Some(w) = &self.worker {
            push("مددکار", "worker", w.clone());
        }
        if let Some(f) = self.from {
            push("از تاریخ", "from", madadkar_schema::format_jalali(f));
        }
        if let Some(t) = self.to {
            push("تا تاریخ", "to", madadkar_schema::format_jalali(t));
        }
        if !self.cohort.is_empty() {
            push(
                "خانوارهای گروه هدف",
                "cohort households",
                self.cohort.len().to_string(),
            );
        }
        out
    }

    /// The SQL condition on the households table aliased `h` for group, district and worker,
    /// with its parameters. Households merged into another are left out: the survivor stands
    /// for the family.
    pub(crate) fn households(&self) -> (String, Vec<Value>) {
        let mut clauses = vec![
            "h.merged_into IS NULL".to_string(),
            "h.needs_update = 0".to_string(),
        ];
        let mut params = Vec::new();
        for (column, value) in [
            ("h.assigned_group", &self.group),
            ("h.district", &self.district),
            ("h.assigned_worker", &self.worker),
        ] {
            if let Some(v) = value {
                clauses.push(format!("{column} = ?"));
                params.push(Value::Text(v.clone()));
            }
        }
        (clauses.join(" AND "), params)
    }

    /// The SQL condition on a date column for the range, with its parameters.
    pub(crate) fn dates(&self, column: &str) -> (String, Vec<Value>) {
        let mut clauses = vec!["1".to_string()];
        let mut params = Vec::new();
        if let Some(f) = self.from {
            clauses.push(format!("{column} >= ?"));
            params.push(Value::Text(madadkar_schema::iso_date(f)));
        }
        if let Some(t) = self.to {
            clauses.push(format!("{column} <= ?"));
            params.push(Value::Text(madadkar_schema::iso_date(t)));
        }
        (clauses.join(" AND "), params)
    }

    pub(crate) fn contains(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| date >= f) && self.to.is_none_or(|t| date <= t)
    }
}
