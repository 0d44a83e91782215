//! Case outcome reports: each report reads the store's projections (never every document) and
//! returns a [`Table`], which the CLI prints and every front end exports as CSV or XLSX.

pub mod filter;
pub mod reports;
pub mod table;

pub use filter::{ReportFilter, ReportFilterText};
pub use reports::{ReportInfo, ReportOptions, catalogue};
pub use table::{AppliedFilter, Cell, ChartHint, ChartKind, Column, ColumnKind, Table};
