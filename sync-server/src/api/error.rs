//! The one error type of the API: every refusal becomes a status code and the JSON
//! [`ErrorBody`] of `docs/sync-protocol.md`, including axum's own rejections (bad JSON, bad
//! query, body too large), unknown routes and wrong methods.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use madadkar_schema::wire::{ErrorBody, WireError};
use tracing::warn;
use uuid::Uuid;

use crate::storage::StorageError;

/// An error answer. `Internal` details are logged, never sent.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized(&'static str),
    Revoked,
    Forbidden {
        code: &'static str,
        message: String,
    },
    BadRequest {
        code: &'static str,
        message: String,
    },
    /// A request axum refused before a handler ran (bad JSON or query, body too large, wrong
    /// content type), or a route or method that does not exist; keeps axum's status.
    Rejected {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// Too many requests of a kind from this device for now; `retry_after` when known.
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    MissingDependencies(Vec<Uuid>),
    /// Changes to households outside the caller's scope (reassigned elsewhere since the device
    /// wrote them): named, so the client holds back their work and syncs the rest.
    OutOfScope(Vec<Uuid>),
    /// A refusal about the content of changes, naming the households concerned so that the
    /// client can set those aside and push the rest: `422 invalid_document` and
    /// `422 schema_too_new` (the document the changes would make), `409 duplicate_seq`, and
    /// `400 malformed_change` when the bytes are no change within the bounds.
    Households {
        status: StatusCode,
        code: &'static str,
        message: String,
        households: Vec<Uuid>,
    },
    Internal(String),
}

impl ApiError {
    /// A refusal of one household's changes, naming that household so the client can hold
    /// its changes back and push the rest; other errors are left as they are.
    pub fn naming(self, household: Uuid) -> Self {
        match self {
            Self::Forbidden { code, message } => Self::Households {
                status: StatusCode::FORBIDDEN,
                code,
                message,
                households: vec![household],
            },
            other => other,
        }
    }

    /// Maps one of axum's rejections, keeping its status and text. The size and content-type
    /// statuses get codes of their own whatever the extractor, since the client's fix differs.
    pub fn rejected(status: StatusCode, code: &'static str, message: String) -> Self {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "wrong_content_type",
            _ => code,
        };
        Self::Rejected {
            status,
            code,
            message,
        }
    }

    pub fn malformed_change(message: String) -> Self {
        Self::BadRequest {
            code: "malformed_change",
            message,
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::BadCode => Self::BadRequest {
                code: "invalid_code",
                message: e.to_string(),
            },
            StorageError::Conflict(m) => Self::BadRequest {
                code: "conflict",
                message: m,
            },
            StorageError::DuplicateSeq { household } => Self::Households {
                status: StatusCode::CONFLICT,
                code: "duplicate_seq",
                message: e.to_string(),
                households: vec![household],
            },
            StorageError::BadPartner(_) => Self::BadRequest {
                code: "invalid_partner",
                message: e.to_string(),
            },
            StorageError::NotFound { .. } => Self::BadRequest {
                code: "not_found",
                message: e.to_string(),
            },
            StorageError::Corrupt { .. } | StorageError::Backend(_) => {
                Self::Internal(e.to_string())
            }
        }
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> Self {
        Self::BadRequest {
            code: "malformed_body",
            message: e.to_string(),
        }
    }
}

fn body(code: &str, message: impl Into<String>, retry: bool) -> ErrorBody {
    ErrorBody {
        code: code.into(),
        message: message.into(),
        retry,
        households: vec![],
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::Unauthorized(message) => (
                StatusCode::UNAUTHORIZED,
                body("unauthorized", message, false),
            ),
            Self::Revoked => (
                StatusCode::FORBIDDEN,
                body(
                    "device_revoked",
                    "this device has been revoked; ask your administrator",
                    false,
                ),
            ),
            Self::Forbidden { code, message } => {
                (StatusCode::FORBIDDEN, body(code, message, false))
            }
            Self::BadRequest { code, message } => {
                (StatusCode::BAD_REQUEST, body(code, message, false))
            }
            Self::Rejected {
                status,
                code,
                message,
            } => (status, body(code, message, status.is_server_error())),
            Self::TooManyRequests {
                code,
                message,
                retry_after,
            } => return super::ratelimit::too_many_requests(code, message, true, retry_after),
            Self::MissingDependencies(households) => (
                StatusCode::CONFLICT,
                ErrorBody {
                    households,
                    ..body(
                        "missing_dependencies",
                        "some changes build on changes the server does not have; sync those households whole",
                        true,
                    )
                },
            ),
            Self::OutOfScope(households) => (
                StatusCode::FORBIDDEN,
                ErrorBody {
                    message: match households.as_slice() {
                        [one] => format!("household {one} is outside your scope"),
                        many => format!("{} households are outside your scope", many.len()),
                    },
                    households,
                    ..body("out_of_scope", "", false)
                },
            ),
            Self::Households {
                status,
                code,
                message,
                households,
            } => (
                status,
                ErrorBody {
                    households,
                    ..body(code, message, false)
                },
            ),
            Self::Internal(detail) => {
                warn!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    body("internal", "the server failed; try again later", true),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The answer for a path no route matches.
pub async fn unknown_endpoint() -> ApiError {
    ApiError::Rejected {
        status: StatusCode::NOT_FOUND,
        code: "unknown_endpoint",
        message: "no such endpoint; see docs/sync-protocol.md".into(),
    }
}

/// The answer for a known path asked with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::Rejected {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "this endpoint does not take that method".into(),
    }
}
