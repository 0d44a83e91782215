//! The partner directory: kept by the administrator (the storage, `admin`, and the built
//! binary's `partner` commands), carried by `GET /v1/directory` with a version that changes
//! whenever a partner does, and refused clearly when a code, a name or a file is bad.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use madadkar_schema::{
    Partner, PartnerKind,
    wire::{Directory, EnrollResponse},
};
use madadkar_server::{
    AppState, Limits, admin,
    config::DATABASE_FILE,
    partners::BadPartner,
    router,
    storage::{Storage, StorageError, sqlite::SqliteStorage},
};
use tower::ServiceExt;
use uuid::Uuid;

fn storage() -> (tempfile::TempDir, Arc<SqliteStorage>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = SqliteStorage::open(&dir.path().join(DATABASE_FILE)).expect("storage");
    (dir, Arc::new(storage))
}

fn bank<'a>(code: &'a str, branch: &'a str) -> admin::NewPartner<'a> {
    admin::NewPartner {
        code,
        kind: "bank",
        name: "بانک ملی",
        branch: Some(branch),
        district: Some("منطقه ۶"),
    }
}

fn directory_version(storage: &SqliteStorage) -> u64 {
    storage.versions().expect("versions").directory
}

#[test]
fn partners_reach_the_directory_and_each_change_bumps_its_version() {
    let (_dir, storage) = storage();
    let s = storage.as_ref();
    let v0 = directory_version(s);
    assert_eq!(s.directory().expect("directory").partners, vec![]);

    let added =
        admin::add_partner(s, &bank("bank-melli-enghelab", " شعبهٔ  ميدان انقلاب ")).expect("add");
    // Stored cleaned, as every typed value is: one space, Persian ی.
    assert_eq!(added.branch.as_deref(), Some("شعبهٔ میدان انقلاب"));
    assert!(added.active);
    let v1 = directory_version(s);
    assert!(
        v1 > v0,
        "adding a partner must change the directory version"
    );

    admin::add_partner(
        s,
        &admin::NewPartner {
            code: "clinic-imam-reza",
            kind: "clinic",
            name: "درمانگاه امام رضا",
            branch: None,
            district: None,
        },
    )
    .expect("add");
    let directory = s.directory().expect("directory");
    assert_eq!(directory.version, directory_version(s));
    let codes: Vec<&str> = directory.partners.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["bank-melli-enghelab", "clinic-imam-reza"]);
    assert_eq!(directory.partners[1].kind, PartnerKind::Clinic);
    assert_eq!(directory.partners[1].branch, None);
    assert_eq!(directory.partners, s.partners().expect("partners"));

    // Retired: still listed (old referrals name it), no longer active; the version moves.
    let before = directory_version(s);
    admin::set_partner_active(s, "bank-melli-enghelab", false).expect("retire");
    let after = directory_version(s);
    assert!(after > before, "retiring must change the directory version");
    let retired = &s.directory().expect("directory").partners[0];
    assert_eq!(
        (retired.code.as_str(), retired.active),
        ("bank-melli-enghelab", false)
    );
    // Retiring again changes nothing, so replicas are not sent the same directory again.
    admin::set_partner_active(s, "bank-melli-enghelab", false).expect("retire again");
    assert_eq!(directory_version(s), after);
    admin::set_partner_active(s, "bank-melli-enghelab", true).expect("reinstate");
    assert!(directory_version(s) > after);
    assert!(s.partners().expect("partners")[0].active);

    match admin::set_partner_active(s, "bank-unknown", false) {
        Err(admin::AdminError::Storage(StorageError::NotFound { kind, id })) => {
            assert_eq!((kind, id.as_str()), ("partner", "bank-unknown"));
        }
        other => panic!("expected not found, got {other:?}"),
    }
}

#[test]
fn a_duplicate_or_bad_partner_is_refused_clearly_and_nothing_is_added() {
    let (_dir, storage) = storage();
    let s = storage.as_ref();
    admin::add_partner(s, &bank("bank-melli-enghelab", "شعبهٔ انقلاب")).expect("add");
    let version = directory_version(s);

    let duplicate =
        admin::add_partner(s, &bank("bank-melli-enghelab", "شعبهٔ دیگر")).expect_err("a code taken");
    let message = duplicate.to_string();
    assert!(
        message.contains("bank-melli-enghelab") && message.contains("already exists"),
        "{message}"
    );

    for code in ["Bank-Melli", "b", "bank melli", "بانک-ملی", &"a".repeat(65)] {
        let refused = admin::add_partner(s, &bank(code, "x")).expect_err("a bad code");
        assert!(
            matches!(
                &refused,
                admin::AdminError::Storage(StorageError::BadPartner(BadPartner::Code(c))) if c == code
            ),
            "{code}: {refused:?}"
        );
        assert!(refused.to_string().contains("lower-case"), "{refused}");
    }
    let nameless = admin::NewPartner {
        name: "   ",
        ..bank("bank-tejarat-1", "x")
    };
    assert!(
        admin::add_partner(s, &nameless)
            .expect_err("no name")
            .to_string()
            .contains("name is empty")
    );
    let long = "ب".repeat(101);
    let too_long = admin::NewPartner {
        district: Some(&long),
        ..bank("bank-tejarat-1", "x")
    };
    let refused = admin::add_partner(s, &too_long)
        .expect_err("too long")
        .to_string();
    assert!(
        refused.contains("district") && refused.contains("101"),
        "{refused}"
    );
    let unknown_kind = admin::NewPartner {
        kind: "mosque",
        ..bank("bank-tejarat-1", "x")
    };
    let refused = admin::add_partner(s, &unknown_kind)
        .expect_err("kind")
        .to_string();
    assert!(refused.contains("training_centre"), "{refused}");

    // The storage checks whoever calls it, not only the admin commands.
    let direct = Partner {
        code: "NOT OK".into(),
        kind: PartnerKind::Other,
        name: "x".into(),
        branch: None,
        district: None,
        active: true,
    };
    assert!(matches!(
        s.add_partner(&direct),
        Err(StorageError::BadPartner(BadPartner::Code(_)))
    ));

    // A batch with one taken code adds none of the others.
    let batch = [
        Partner {
            code: "tvto-shahid-beheshti".into(),
            ..direct.clone()
        },
        Partner {
            code: "bank-melli-enghelab".into(),
            ..direct.clone()
        },
    ];
    assert!(matches!(
        s.add_partners(&batch),
        Err(StorageError::Conflict(m)) if m.contains("bank-melli-enghelab")
    ));
    assert_eq!(s.partners().expect("partners").len(), 1);
    assert_eq!(directory_version(s), version, "nothing refused moves it");
}

/// `GET /v1/directory` over the router: any enrolled device reads the partners with the
/// devices, and a pull answer names the new version once a partner is added.
#[tokio::test]
async fn an_enrolled_device_reads_the_partners_with_the_directory() {
    let (_dir, storage) = storage();
    let s = storage.as_ref();
    admin::add_group(s, "g1", "one").expect("group");
    let worker = admin::add_worker(s, "w", Some("g1"), "field").expect("worker");
    let code = admin::issue_enroll_code(s, &worker.id, 1).expect("code");
    let app = router(Arc::new(AppState::new(storage.clone(), Limits::default())));
    let call = |request: Request<Body>| {
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await.expect("infallible");
            let status = response.status();
            let directory = response
                .headers()
                .get(madadkar_schema::wire::DIRECTORY_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            (status, directory, body.to_vec())
        }
    };
    let enrol = serde_json::json!({ "code": code.code, "device_id": Uuid::now_v7(), "device_name": "laptop" });
    let (status, _, body) = call(
        Request::post("/v1/enroll")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(enrol.to_string()))
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = serde_json::from_slice::<EnrollResponse>(&body)
        .expect("enrolment")
        .token;
    let get = |uri: &str| {
        Request::builder()
            .method(Method::GET)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };

    let (_, before, _) = call(get("/v1/pull?after=0")).await;
    admin::add_partner(s, &bank("bank-melli-enghelab", "شعبهٔ انقلاب")).expect("add");
    let (status, after, _) = call(get("/v1/pull?after=0")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(before.is_some());
    assert_ne!(
        before, after,
        "a pull must name the directory's new version"
    );

    let (status, _, body) = call(get("/v1/directory")).await;
    assert_eq!(status, StatusCode::OK);
    let directory: Directory = serde_json::from_slice(&body).expect("directory");
    assert_eq!(directory.partners.len(), 1);
    assert_eq!(directory.partners[0].name, "بانک ملی");
    assert_eq!(
        Some(directory.version.to_string()),
        after,
        "the directory is of the version the pull named"
    );
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_madadkar-server"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run madadkar-server")
}

fn ok(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_partner_commands_add_list_retire_and_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let added = ok(
        d,
        &[
            "partner",
            "add",
            "--code",
            "bank-melli-enghelab",
            "--kind",
            "bank",
            "--name",
            "بانک ملی",
            "--branch",
            "شعبهٔ میدان انقلاب",
            "--district",
            "منطقه ۶",
        ],
    );
    assert_eq!(added["code"], "bank-melli-enghelab");
    assert_eq!(added["active"], true);

    let file = d.join("partners.json");
    let seed = serde_json::json!([
        { "code": "tvto-shahid-beheshti", "kind": "training_centre", "name": "مرکز آموزش فنی و حرفه‌ای شهید بهشتی", "branch": null, "district": "منطقه ۱۲", "active": true },
        { "code": "clinic-imam-reza", "kind": "clinic", "name": "درمانگاه امام رضا", "active": true },
    ]);
    std::fs::write(&file, seed.to_string()).expect("write");
    let path = file.to_str().expect("utf-8 path");
    assert_eq!(ok(d, &["partner", "import", path])["added"], 2);

    ok(d, &["partner", "retire", "clinic-imam-reza"]);
    let listed = ok(d, &["partner", "list"]);
    let listed: Vec<Partner> = serde_json::from_value(listed).expect("partners");
    let state: Vec<(&str, bool)> = listed.iter().map(|p| (p.code.as_str(), p.active)).collect();
    assert_eq!(
        state,
        [
            ("bank-melli-enghelab", true),
            ("clinic-imam-reza", false),
            ("tvto-shahid-beheshti", true)
        ]
    );
    // The text listing shows a retired partner as such.
    let text = run(d, &["partner", "list"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("clinic-imam-reza") && l.contains("RETIRED")),
        "{text}"
    );

    // What `partner list --json` prints imports elsewhere as it is.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let exported = d.join("exported.json");
    std::fs::write(&exported, serde_json::to_string(&listed).expect("json")).expect("write");
    let exported = exported.to_str().expect("utf-8 path");
    assert_eq!(
        ok(elsewhere.path(), &["partner", "import", exported])["added"],
        3
    );
    let copied: Vec<Partner> =
        serde_json::from_value(ok(elsewhere.path(), &["partner", "list"])).expect("partners");
    assert_eq!(copied, listed);
}

#[test]
fn bad_partner_commands_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let add = |code: &str, kind: &str| {
        vec![
            "partner".to_string(),
            "add".into(),
            "--code".into(),
            code.into(),
            "--kind".into(),
            kind.into(),
            "--name".into(),
            "بانک ملی".into(),
        ]
    };
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let first = add("bank-melli-1", "bank");
    ok(d, &args(&first));

    let again = fails(d, &args(&first));
    assert!(
        again.contains("bank-melli-1") && again.contains("already exists"),
        "{again}"
    );
    let bad_code = fails(d, &args(&add("Bank_Melli", "bank")));
    assert!(
        bad_code.contains("Bank_Melli") && bad_code.contains("lower-case"),
        "{bad_code}"
    );
    let bad_kind = fails(d, &args(&add("bank-melli-2", "mosque")));
    assert!(
        bad_kind.contains("mosque") && bad_kind.contains("clinic"),
        "{bad_kind}"
    );
    let unknown = fails(d, &["partner", "retire", "bank-nowhere"]);
    assert!(
        unknown.contains("bank-nowhere") && unknown.contains("not found"),
        "{unknown}"
    );

    // A file that is no array of partners, or names a code twice, or one taken: nothing added.
    let file = d.join("partners.json");
    let path = file.to_str().expect("utf-8 path");
    let good = serde_json::json!({ "code": "tvto-1", "kind": "training_centre", "name": "مرکز", "active": true });
    for (content, says) in [
        ("{\"code\": \"x\"}".to_string(), "not a JSON array of partners"),
        ("[{\"code\": \"tvto-2\", \"kind\": \"mosque\", \"name\": \"x\", \"active\": true}]".to_string(), "not a JSON array of partners"),
        (serde_json::json!([good, good]).to_string(), "tvto-1 is listed more than once"),
        (
            serde_json::json!([good, { "code": "bank-melli-1", "kind": "bank", "name": "x", "active": true }]).to_string(),
            "bank-melli-1 already exists",
        ),
    ] {
        std::fs::write(&file, &content).expect("write");
        let refused = fails(d, &["partner", "import", path]);
        assert!(refused.contains(says), "{content}: {refused}");
    }
    let missing = fails(d, &["partner", "import", "/nonexistent/partners.json"]);
    assert!(missing.contains("/nonexistent/partners.json"), "{missing}");
    let listed = ok(d, &["partner", "list"]);
    assert_eq!(
        listed.as_array().expect("list").len(),
        1,
        "nothing was added"
    );
}
