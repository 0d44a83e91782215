//! Madadkar's shared vocabulary: the domain model, its validation, Persian text and Jalali dates,
//! and the layout of the Automerge document that holds one household.
//!
//! Everything here is pure (no I/O): the client's store, the CLI, the sync server and the desktop
//! app all validate and read documents through these types, so they agree on what is valid.

pub mod date;
pub mod document;
mod enums;
pub mod error;
pub mod model;
pub mod national_id;
pub mod text;
pub mod wire;

pub use date::{format_date, format_jalali, parse_date, to_jalali};
pub use document::{ChangeInfo, ChangeMeta, Conflict, ConflictValue, HouseholdDoc};
pub use enums::*;
pub use error::{DocumentError, ValidationError};
pub use model::*;
pub use national_id::NationalId;
