//! Madadkar's shared vocabulary: the domain model, its validation, Persian text and Jalali dates,
//! and the layout of the Automerge document that holds one household.
//!
//! Everything here is pure (no I/O): the client's store, the CLI, the sync server and the desktop
//! app all validate and read documents through these types, so they agree on what is valid.

pub mod audit;
pub mod authorship;
pub mod change;
pub mod date;
pub mod document;
mod enums;
pub mod error;
pub mod field;
pub mod matching;
pub mod model;
pub mod national_id;
pub mod outcome;
pub mod text;
pub mod wire;

pub use audit::AuditAction;
pub use date::{ISO_DATE, iso_date, parse_iso_date};
pub use date::{format_date, format_jalali, parse_date, to_jalali};
pub use document::{
    Action, ChangeInfo, ChangeMeta, Conflict, ConflictValue, FieldPath, HouseholdDoc,
    SCHEMA_VERSION,
};
pub use enums::*;
pub use error::{DocumentError, ValidationError};
pub use field::{Field, FieldValue};
pub use model::*;
pub use national_id::NationalId;

#[cfg(all(test, feature = "ts"))]
mod ts_tests {
    use ts_rs::TS;

    /// The declarations the desktop app's bindings are generated from must be producible; the
    /// desktop crate's bindings test compares them with the committed files.
    #[test]
    fn schema_types_declare_typescript() {
        let cfg = ts_rs::Config::new();
        let household = crate::Household::decl(&cfg);
        assert!(
            household.contains("national_id") || household.contains("members"),
            "{household}"
        );
        assert!(crate::Relation::decl(&cfg).contains("\"head\""));
        assert!(crate::Field::decl(&cfg).contains("\"head_member_id\""));
        assert!(crate::FieldPath::decl(&cfg).contains("= string"));
        assert!(crate::ChangeInfo::decl(&cfg).contains("action: Action"));
    }
}
