//! The sync API's OpenAPI description, generated with utoipa from the handlers' `#[utoipa::path]`
//! attributes, the schemas below and one table of error answers ([`ERRORS`]). Served at
//! `GET /v1/openapi.json` and committed as `docs/openapi.json`; the test `openapi_is_committed`
//! (`sync-server/tests/hygiene.rs`) fails when the two differ, and
//! `MADADKAR_WRITE_OPENAPI=1 cargo test -p madadkar-server --test hygiene openapi` rewrites it.
//!
//! The wire types live in `madadkar-schema`, which does not depend on utoipa; [`schemas`]
//! describes them, and a test here checks each description against the real type's JSON.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, Content, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        schema::{ObjectBuilder, Type},
        security::{Http, HttpAuthScheme, SecurityScheme},
    },
};

/// Descriptions of the JSON bodies, mirroring `madadkar_schema::wire` and the server's records.
pub mod schemas {
    use std::borrow::Cow;

    use utoipa::{
        PartialSchema, ToSchema,
        openapi::{
            KnownFormat, RefOr, SchemaFormat,
            schema::{ObjectBuilder, Schema, Type},
        },
    };
    use uuid::Uuid;

    /// Every error answer (`madadkar_schema::wire::ErrorBody`).
    #[derive(Debug, ToSchema)]
    pub struct ErrorBody {
        /// A stable code, e.g. `out_of_scope`; see the response's description for the codes
        /// of each status.
        pub code: String,
        /// For people; never parsed.
        pub message: String,
        /// Whether sending the same request again later can succeed.
        pub retry: bool,
        /// The households concerned; present only when it names some (`missing_dependencies`,
        /// `duplicate_seq`, `invalid_document`, `schema_too_new`, `malformed_change`).
        #[schema(nullable = false)]
        pub households: Option<Vec<Uuid>>,
    }

    /// `POST /v1/enroll`'s body (`madadkar_schema::wire::EnrollRequest`).
    #[derive(Debug, ToSchema)]
    pub struct EnrollRequest {
        /// The one-time code the administrator printed, e.g. `K7QM-4TRX-9HCP`; case, dashes
        /// and spaces do not matter.
        pub code: String,
        /// The device's own id: its Automerge actor id.
        pub device_id: Uuid,
        /// A name for the device, shown to administrators.
        pub device_name: String,
        /// The worker id the replica wrote with before it was enrolled, if any; it may not
        /// be another worker's.
        pub local_worker_id: Option<String>,
        /// The device's Ed25519 public key, 64 hex digits: what its changes are signed with so
        /// a colleague's device may relay them.
        #[schema(pattern = "^[0-9a-f]{64}$")]
        pub signing_key: Option<String>,
    }

    /// `POST /v1/enroll`'s answer (`madadkar_schema::wire::EnrollResponse`).
    #[derive(Debug, ToSchema)]
    pub struct EnrollResponse {
        /// The device token (64 hex digits), shown once; send it as `Authorization: Bearer`.
        pub token: String,
        pub worker_id: String,
        pub worker_name: String,
        #[schema(required = true)]
        pub group_id: Option<String>,
        pub role: Role,
    }

    /// A binary body (`type: string, format: binary`); its layout is in the operation's text.
    #[derive(Debug)]
    pub struct Binary;

    impl PartialSchema for Binary {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .into()
        }
    }

    impl ToSchema for Binary {
        fn name() -> Cow<'static, str> {
            "Binary".into()
        }
    }

    /// A worker's role, one of `madadkar_schema::Role`'s codes.
    #[derive(Debug)]
    pub struct Role;

    impl PartialSchema for Role {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(madadkar_schema::Role::ALL.iter().map(|r| r.code())))
                .description(Some("A worker's role; it decides the households in scope."))
                .into()
        }
    }

    impl ToSchema for Role {
        fn name() -> Cow<'static, str> {
            "Role".into()
        }
    }

    /// A worker as the server records it.
    #[derive(Debug, ToSchema)]
    pub struct Worker {
        pub id: String,
        pub name: String,
        #[schema(required = true)]
        pub group_id: Option<String>,
        pub role: Role,
    }

    /// `GET /v1/whoami`'s answer.
    #[derive(Debug, ToSchema)]
    pub struct Whoami {
        pub worker: Worker,
        pub device_id: Uuid,
    }

    /// One stored change of a push (`madadkar_schema::wire::Ack`).
    #[derive(Debug, ToSchema)]
    pub struct Ack {
        /// The change's Automerge hash, hex.
        pub hash: String,
        /// Its sequence number in the server's log.
        #[schema(minimum = 1)]
        pub seq: u64,
    }

    /// `POST /v1/push`'s answer (`madadkar_schema::wire::PushResponse`).
    #[derive(Debug, ToSchema)]
    pub struct PushResponse {
        /// Every change of the push, in order, with its sequence number (also for changes the
        /// server already had).
        pub accepted: Vec<Ack>,
    }

    /// One entry of a household's access history (`madadkar_schema::audit::AccessEntry`).
    #[derive(Debug, ToSchema)]
    pub struct AccessEntry {
        /// The entry's place in the audit chain; older pages start `before` it.
        #[schema(minimum = 1)]
        pub seq: u64,
        /// RFC 3339.
        pub at: String,
        /// What happened, one of `madadkar_schema::AuditAction`'s codes (a client reads a code
        /// it does not know as "unknown").
        pub action: String,
        /// The device that acted; null for the administration command line.
        #[schema(required = true)]
        pub device_id: Option<Uuid>,
        /// That device's worker; for `assign`, the worker given the household.
        #[schema(required = true)]
        pub worker_id: Option<String>,
        /// The worker's name from the server's records.
        #[schema(required = true)]
        pub worker_name: Option<String>,
        /// For `assign`, the group given the household.
        #[schema(required = true)]
        pub group_id: Option<String>,
    }

    /// `GET /v1/households/{id}/access`'s answer: one page, newest first.
    #[derive(Debug, ToSchema)]
    pub struct AccessPage {
        pub household: Uuid,
        pub entries: Vec<AccessEntry>,
        /// The `before` of the next (older) page; null on the last page.
        #[schema(required = true)]
        pub next_before: Option<u64>,
    }

    /// One enrolled device (`madadkar_schema::wire::DirectoryEntry`).
    #[derive(Debug, ToSchema)]
    pub struct DirectoryEntry {
        pub device_id: Uuid,
        pub worker_id: String,
        pub worker_name: String,
        #[schema(required = true)]
        pub group_id: Option<String>,
        pub revoked: bool,
        /// Its Ed25519 public key, hex; null when it registered none.
        #[schema(required = true)]
        pub signing_key: Option<String>,
    }

    /// `GET /v1/directory`'s answer.
    #[derive(Debug, ToSchema)]
    pub struct Directory {
        /// Changes whenever a device, its worker's name or group, or a partner changes.
        pub version: u64,
        pub devices: Vec<DirectoryEntry>,
        /// The partner directory, retired partners too, by code. Absent from servers before
        /// it: read as none.
        #[schema(required = false)]
        pub partners: Vec<Partner>,
    }

    /// A kind of partner, one of `madadkar_schema::PartnerKind`'s codes.
    #[derive(Debug)]
    pub struct PartnerKind;

    impl PartialSchema for PartnerKind {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(
                    madadkar_schema::PartnerKind::ALL.iter().map(|k| k.code()),
                ))
                .description(Some(
                    "What kind of organisation a partner is; referrals age by their partner's kind.",
                ))
                .into()
        }
    }

    impl ToSchema for PartnerKind {
        fn name() -> Cow<'static, str> {
            "PartnerKind".into()
        }
    }

    /// An organisation referrals and plan steps go to (`madadkar_schema::Partner`), kept by the
    /// administrator (`madadkar-server partner …`).
    #[derive(Debug, ToSchema)]
    pub struct Partner {
        /// A stable code, `[a-z0-9-]{2,64}`, e.g. `bank-melli-enghelab`: what referrals name.
        #[schema(pattern = "^[a-z0-9-]{2,64}$")]
        pub code: String,
        pub kind: PartnerKind,
        /// The organisation, e.g. «بانک ملی».
        #[schema(min_length = 1, max_length = 100)]
        pub name: String,
        /// The branch or site; null when none.
        #[schema(required = true, max_length = 100)]
        pub branch: Option<String>,
        #[schema(required = true, max_length = 100)]
        pub district: Option<String>,
        /// False for a partner the committee stopped working with: kept for the referrals that
        /// name it, offered for no new one.
        pub active: bool,
    }

    /// `GET /v1/scope`'s answer.
    #[derive(Debug, ToSchema)]
    pub struct ScopeList {
        /// The version of the scope lists (pull answers name the current one).
        pub version: u64,
        pub households: Vec<Uuid>,
    }

    /// `POST /v1/assignments`'s body (`madadkar_schema::wire::AssignRequest`).
    #[derive(Debug, ToSchema)]
    pub struct AssignRequest {
        /// The households to move, 1 to 5,000 (each counted once).
        #[schema(min_items = 1, max_items = 5000)]
        pub households: Vec<Uuid>,
        /// The group they go to; absent: the group each is in (a supervisor's own group; a
        /// supervisor may name no other).
        #[schema(nullable = false)]
        pub group: Option<String>,
        /// A worker of that group they go to; absent: the group as a whole.
        #[schema(nullable = false)]
        pub worker: Option<String>,
        /// `true`: answer what would move and change nothing.
        pub dry_run: bool,
    }

    /// Where a household stands (`madadkar_schema::wire::Placement`).
    #[derive(Debug, ToSchema)]
    pub struct Placement {
        #[schema(required = true)]
        pub group_id: Option<String>,
        /// The worker it is assigned to; null: the group as a whole.
        #[schema(required = true)]
        pub worker_id: Option<String>,
    }

    /// One household of a reassignment (`madadkar_schema::wire::AssignMove`).
    #[derive(Debug, ToSchema)]
    pub struct AssignMove {
        pub household: Uuid,
        pub from: Placement,
        /// Equal to `from` when the household is already there.
        pub to: Placement,
    }

    /// `POST /v1/assignments`'s answer (`madadkar_schema::wire::AssignResponse`).
    #[derive(Debug, ToSchema)]
    pub struct AssignResponse {
        /// Whether the moves were made (false for a dry run).
        pub applied: bool,
        pub moves: Vec<AssignMove>,
        /// Households whose placement changes.
        pub moved: u64,
        /// Households already where they were asked to go.
        pub unchanged: u64,
    }

    /// `POST /v1/lookup`'s body (`madadkar_schema::wire::LookupRequest`).
    #[derive(Debug, ToSchema)]
    pub struct LookupRequest {
        /// Ten digits with a valid check digit (Persian, Arabic-Indic or Latin digits; spaces
        /// and dashes between groups ignored).
        pub national_id: String,
    }

    /// A group holding a household with the national ID (`madadkar_schema::wire::RegisteredGroup`).
    #[derive(Debug, ToSchema)]
    pub struct RegisteredGroup {
        pub group_id: String,
        pub group_name: String,
    }

    /// `POST /v1/lookup`'s answer (`madadkar_schema::wire::LookupResponse`).
    #[derive(Debug, ToSchema)]
    pub struct LookupResponse {
        /// Each group once; empty when no household holds the national ID.
        pub registered: Vec<RegisteredGroup>,
    }

    /// `GET /v1/health`'s answer.
    #[derive(Debug, ToSchema)]
    pub struct Health {
        #[schema(example = "ok")]
        pub status: String,
        /// The server's version.
        pub version: String,
        /// The sync protocol's version: the `1` of `/v1`.
        pub protocol: u32,
    }
}

/// The description.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Madadkar sync API",
        version = "1",
        description = "The sync server's API, protocol version 1 (docs/sync-protocol.md). \
            Every answer carries the header `madadkar-protocol: 1`; every error is the JSON \
            `ErrorBody`. Change payloads are binary frames, described in each operation.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
        super::health,
        openapi_json,
        super::enroll::enroll,
        super::enroll::whoami,
        super::push::push,
        super::pull::pull,
        super::bootstrap::bootstrap,
        super::doc_sync::doc_sync,
        super::access::access,
        super::directory::directory,
        super::directory::scope,
        super::assign::assign,
        super::lookup::lookup,
    ),
    components(schemas(
        schemas::ErrorBody,
        schemas::EnrollRequest,
        schemas::EnrollResponse,
        schemas::Role,
        schemas::Worker,
        schemas::Whoami,
        schemas::Ack,
        schemas::PushResponse,
        schemas::Health,
        schemas::AccessEntry,
        schemas::DirectoryEntry,
        schemas::Directory,
        schemas::PartnerKind,
        schemas::Partner,
        schemas::ScopeList,
        schemas::AccessPage,
        schemas::AssignRequest,
        schemas::Placement,
        schemas::AssignMove,
        schemas::AssignResponse,
        schemas::LookupRequest,
        schemas::RegisteredGroup,
        schemas::LookupResponse,
    )),
    modifiers(&Refusals),
    tags(
        (name = "devices", description = "Enrolment and the calling device"),
        (name = "sync", description = "The change log: push, pull and the per-household fallback"),
        (name = "server", description = "The server itself"),
        (name = "audit", description = "Who pushed, pulled or reassigned a household"),
        (name = "reconciliation", description = "Reassigning households and asking whether a national ID is registered"),
    ),
)]
pub struct ApiDoc;

/// The security scheme's name in the description.
pub const BEARER: &str = "bearer";

/// The JSON text of the description, as served and committed (pretty, ending in a newline).
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut text = ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    })
}

/// The sync API's OpenAPI description.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "server",
    responses((status = 200, description = "This description (OpenAPI 3.1)", content_type = "application/json", body = Object)),
)]
pub async fn openapi_json() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json(),
    )
        .into_response()
}

/// Which refusals a status stands for, once for all operations.
const STATUS_MEANINGS: &[(u16, &str)] = &[
    (400, "Bad input; nothing stored"),
    (401, "No or unknown device token"),
    (403, "Refused; nothing stored"),
    (
        408,
        "The request body did not arrive within the body timeout; the connection is closed",
    ),
    (
        409,
        "A conflict with what the server holds, naming the households in `households`: `missing_dependencies`, some changes build on changes the server lacks (run the per-household sync for those households, then push again); `duplicate_seq`, a change reuses the actor and sequence number of another change of the same household (set those changes aside)",
    ),
    (413, "The body is over 32 MiB"),
    (
        415,
        "A JSON endpoint called without `content-type: application/json`",
    ),
    (
        422,
        "JSON of the wrong shape (a missing field, a number for a string): `malformed_body`; or changes that would leave a household document the server does not store, the households named in `households` and nothing stored (set their changes aside, push the rest): `invalid_document` (shape, types, sizes, depth, key counts, a field that does not validate, an id other than the household's), `schema_too_new` (a schema version newer than the server knows)",
    ),
    (
        429,
        "Too many requests: see `Retry-After` (seconds) when present",
    ),
    (
        500,
        "The server failed (details logged, not sent); retry later",
    ),
    (
        503,
        "The request was not answered within the request timeout; the connection is closed; retry later",
    ),
];

/// Answers any request may get.
const ANY: &[(u16, &str)] = &[(500, "internal"), (503, "request_timeout")];
/// Answers of any request with a body.
const WITH_BODY: &[(u16, &str)] = &[(408, "body_timeout"), (413, "too_large")];
/// Answers of any request that needs a device token.
const AUTHENTICATED: &[(u16, &str)] = &[(401, "unauthorized"), (403, "device_revoked")];

/// An operation's error answers: method, path, then groups of (status, code).
pub type OperationErrors = (
    &'static str,
    &'static str,
    &'static [&'static [(u16, &'static str)]],
);

/// The error answers of each operation, by status and code.
pub const ERRORS: &[OperationErrors] = &[
    ("get", "/v1/health", &[ANY]),
    ("get", "/v1/openapi.json", &[ANY]),
    (
        "post",
        "/v1/enroll",
        &[
            ANY,
            WITH_BODY,
            &[
                (400, "malformed_body"),
                (400, "invalid_code"),
                (400, "invalid"),
                (400, "conflict"),
                (415, "wrong_content_type"),
                (422, "malformed_body"),
                (429, "rate_limited"),
            ],
        ],
    ),
    ("get", "/v1/whoami", &[ANY, AUTHENTICATED]),
    ("get", "/v1/directory", &[ANY, AUTHENTICATED]),
    (
        "get",
        "/v1/scope",
        &[ANY, AUTHENTICATED, &[(403, "no_case_access")]],
    ),
    (
        "post",
        "/v1/push",
        &[
            ANY,
            WITH_BODY,
            AUTHENTICATED,
            &[
                (400, "malformed_body"),
                (400, "malformed_change"),
                (400, "conflict"),
                (403, "out_of_scope"),
                (403, "author_mismatch"),
                (403, "author_revoked"),
                (403, "unsigned_relay"),
                (403, "merge_forbidden"),
                (403, "review_forbidden"),
                (403, "no_case_access"),
                (409, "missing_dependencies"),
                (409, "duplicate_seq"),
                (422, "invalid_document"),
                (422, "schema_too_new"),
                (429, "quota_exceeded"),
            ],
        ],
    ),
    (
        "get",
        "/v1/pull",
        &[
            ANY,
            AUTHENTICATED,
            &[
                (400, "malformed_request"),
                (403, "no_case_access"),
                (403, "device_retired"),
            ],
        ],
    ),
    (
        "get",
        "/v1/bootstrap",
        &[
            ANY,
            AUTHENTICATED,
            &[
                (400, "malformed_request"),
                (403, "no_case_access"),
                (403, "device_retired"),
            ],
        ],
    ),
    (
        "post",
        "/v1/households/{id}/sync",
        &[
            ANY,
            WITH_BODY,
            AUTHENTICATED,
            &[
                (400, "malformed_request"),
                (400, "malformed_body"),
                (400, "malformed_change"),
                (400, "conflict"),
                (403, "out_of_scope"),
                (403, "author_mismatch"),
                (403, "merge_forbidden"),
                (403, "review_forbidden"),
                (403, "no_case_access"),
                (409, "duplicate_seq"),
                (422, "invalid_document"),
                (422, "schema_too_new"),
                (429, "quota_exceeded"),
            ],
        ],
    ),
    (
        "get",
        "/v1/households/{id}/access",
        &[
            ANY,
            AUTHENTICATED,
            &[
                (400, "malformed_request"),
                (403, "out_of_scope"),
                (403, "no_audit_access"),
            ],
        ],
    ),
    (
        "post",
        "/v1/assignments",
        &[
            ANY,
            WITH_BODY,
            AUTHENTICATED,
            &[
                (400, "malformed_body"),
                (400, "not_found"),
                (400, "invalid"),
                (400, "conflict"),
                (403, "forbidden"),
                (403, "out_of_scope"),
                (415, "wrong_content_type"),
                (422, "malformed_body"),
            ],
        ],
    ),
    (
        "post",
        "/v1/lookup",
        &[
            ANY,
            WITH_BODY,
            AUTHENTICATED,
            &[
                (400, "malformed_body"),
                (400, "invalid"),
                (403, "no_case_access"),
                (415, "wrong_content_type"),
                (422, "malformed_body"),
                (429, "rate_limited"),
            ],
        ],
    ),
];

/// Adds what the path attributes leave to one place: the error answers of [`ERRORS`], the
/// bearer scheme, and the protocol header every answer carries.
#[derive(Debug)]
struct Refusals;

/// The header every answer carries, and the one 429 answers carry, as component names.
const PROTOCOL_HEADER_REF: &str = "#/components/headers/madadkar-protocol";
const RETRY_AFTER_REF: &str = "#/components/headers/Retry-After";

impl Modify for Refusals {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.headers.insert(
            madadkar_schema::wire::PROTOCOL_HEADER.into(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                    .description(Some("The sync protocol version the server speaks (1)"))
                    .build(),
            ),
        );
        components.headers.insert(
            "Retry-After".into(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1)),
                    ))
                    .description(Some("Seconds to wait before trying again"))
                    .build(),
            ),
        );
        for (method, path, groups) in ERRORS {
            let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
            for (status, code) in groups.iter().copied().flatten() {
                let codes = by_status.entry(*status).or_default();
                if !codes.contains(code) {
                    codes.push(code);
                }
            }
            let Some(operation) = operation(doc, method, path) else {
                // Caught by the tests: the table and the paths must name the same operations.
                panic!("the error table names {method} {path}, which no #[utoipa::path] describes");
            };
            for (status, codes) in by_status {
                let meaning = STATUS_MEANINGS
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or("Refused", |(_, m)| m);
                let codes = codes
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut response = ResponseBuilder::new()
                    .description(format!("{meaning}. Codes: {codes}."))
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                    )
                    .build();
                if status == 429 {
                    response
                        .headers
                        .insert("Retry-After".into(), RefOr::Ref(Ref::new(RETRY_AFTER_REF)));
                }
                operation
                    .responses
                    .responses
                    .insert(status.to_string(), RefOr::T(response));
            }
        }
        // Every answer names the protocol version (`madadkar-protocol: 1`).
        for item in doc.paths.paths.values_mut() {
            for operation in operations(item) {
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response.headers.insert(
                            madadkar_schema::wire::PROTOCOL_HEADER.into(),
                            RefOr::Ref(Ref::new(PROTOCOL_HEADER_REF)),
                        );
                    }
                }
            }
        }
    }
}

fn operation<'a>(
    doc: &'a mut openapi::OpenApi,
    method: &str,
    path: &str,
) -> Option<&'a mut openapi::path::Operation> {
    let item = doc.paths.paths.get_mut(path)?;
    match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        _ => None,
    }
}

fn operations(item: &mut openapi::PathItem) -> impl Iterator<Item = &mut openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.post.as_mut(),
        item.put.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The operations the description holds, as (method, path): for tests that call each one.
/// The API uses GET and POST only; an operation of another method is listed as `"other"`.
pub fn operations_described() -> Vec<(&'static str, String)> {
    let doc = ApiDoc::openapi();
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        if item.get.is_some() {
            out.push(("get", path.clone()));
        }
        if item.post.is_some() {
            out.push(("post", path.clone()));
        }
        let others = [
            &item.put,
            &item.delete,
            &item.patch,
            &item.head,
            &item.options,
        ];
        out.extend(
            others
                .iter()
                .filter(|o| o.is_some())
                .map(|_| ("other", path.clone())),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use madadkar_schema::wire;
    use serde_json::Value;

    /// The property names a schema of the description declares.
    fn properties(name: &str) -> Vec<String> {
        let doc: Value = serde_json::from_str(json()).expect("json");
        let mut names: Vec<String> = doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema {name} has no properties"))
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn keys(value: &impl serde::Serialize) -> Vec<String> {
        let mut names: Vec<String> = serde_json::to_value(value)
            .expect("json")
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_schemas_describe_the_real_wire_types() {
        let id = uuid::Uuid::nil();
        let error = wire::ErrorBody {
            code: "c".into(),
            message: "m".into(),
            retry: false,
            households: vec![id],
        };
        assert_eq!(properties("ErrorBody"), keys(&error));
        let enroll = wire::EnrollRequest {
            code: "c".into(),
            device_id: id,
            device_name: "d".into(),
            local_worker_id: Some("w".into()),
            signing_key: Some("k".into()),
        };
        assert_eq!(properties("EnrollRequest"), keys(&enroll));
        let answer = wire::EnrollResponse {
            token: "t".into(),
            worker_id: "w".into(),
            worker_name: "n".into(),
            group_id: None,
            role: madadkar_schema::Role::Field,
        };
        assert_eq!(properties("EnrollResponse"), keys(&answer));
        let ack = wire::Ack {
            hash: "h".into(),
            seq: 1,
        };
        assert_eq!(properties("Ack"), keys(&ack));
        assert_eq!(
            properties("PushResponse"),
            keys(&wire::PushResponse { accepted: vec![] })
        );
        let worker = crate::storage::WorkerRecord {
            id: "w".into(),
            name: "n".into(),
            group_id: None,
            role: madadkar_schema::Role::Field,
        };
        assert_eq!(properties("Worker"), keys(&worker));
        let request = wire::AssignRequest {
            households: vec![id],
            group: Some("g".into()),
            worker: Some("w".into()),
            dry_run: true,
        };
        assert_eq!(properties("AssignRequest"), keys(&request));
        let placement = wire::Placement {
            group_id: Some("g".into()),
            worker_id: None,
        };
        assert_eq!(properties("Placement"), keys(&placement));
        let one = wire::AssignMove {
            household: id,
            from: placement.clone(),
            to: placement,
        };
        assert_eq!(properties("AssignMove"), keys(&one));
        let answer = wire::AssignResponse {
            applied: false,
            moves: vec![one],
            moved: 1,
            unchanged: 0,
        };
        assert_eq!(properties("AssignResponse"), keys(&answer));
        let lookup = wire::LookupRequest {
            national_id: "0499370899".into(),
        };
        assert_eq!(properties("LookupRequest"), keys(&lookup));
        let group = wire::RegisteredGroup {
            group_id: "g".into(),
            group_name: "n".into(),
        };
        assert_eq!(properties("RegisteredGroup"), keys(&group));
        let found = wire::LookupResponse {
            registered: vec![group],
        };
        assert_eq!(properties("LookupResponse"), keys(&found));
        let partner = madadkar_schema::Partner {
            code: "bank-melli-enghelab".into(),
            kind: madadkar_schema::PartnerKind::Bank,
            name: "بانک ملی".into(),
            branch: None,
            district: None,
            active: true,
        };
        assert_eq!(properties("Partner"), keys(&partner));
        let entry = wire::DirectoryEntry {
            device_id: id,
            worker_id: "w".into(),
            worker_name: "n".into(),
            group_id: None,
            revoked: false,
            signing_key: None,
        };
        assert_eq!(properties("DirectoryEntry"), keys(&entry));
        let directory = wire::Directory {
            version: 1,
            devices: vec![entry],
            partners: vec![partner],
        };
        assert_eq!(properties("Directory"), keys(&directory));
    }

    #[test]
    fn every_operation_of_the_error_table_is_described() {
        let described = operations_described();
        for (method, path, _) in ERRORS {
            assert!(
                described.iter().any(|(m, p)| p == path && m == method),
                "{method} {path}"
            );
        }
        assert_eq!(
            described.len(),
            ERRORS.len(),
            "an operation has no error table"
        );
    }
}
