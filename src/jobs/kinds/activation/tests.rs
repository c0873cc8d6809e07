//! Unit tests: import records, packing by serialized bytes, attribution of provider failures,
//! and the report of a job.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::records::{attribute, file_body, import_record, split};
use super::state::{ActivationReport, ActivationResult, UserFailure};
use super::MAX_IMPORT_FILE_BYTES;
use crate::auth::{ImportErrorDetail, ImportFailure};
use crate::jobs::{Job, JobStatus, Progress};

fn user(id: &str, email_len: usize) -> Value {
    let local = "x".repeat(email_len.saturating_sub(12));
    json!({"_id": id, "email": format!("{local}@example.com"), "__STATE__": "PUBLIC"})
}

fn records(users: &[Value]) -> Vec<(String, Vec<u8>)> {
    users
        .iter()
        .map(|u| {
            let id = u["_id"].as_str().unwrap_or_default().to_owned();
            let record = import_record(&id, Some(u), MAX_IMPORT_FILE_BYTES).unwrap_or_default();
            (id, record)
        })
        .collect()
}

fn failure(user_id: Option<&str>, email: Option<&str>, code: &str) -> ImportFailure {
    ImportFailure {
        user_id: user_id.map(str::to_owned),
        email: email.map(str::to_owned),
        errors: vec![ImportErrorDetail {
            code: code.to_owned(),
            message: format!("{code} happened"),
        }],
    }
}

fn code(failure: &UserFailure) -> &str {
    &failure.errors[0].code
}

#[test]
fn many_users_with_long_emails_are_split_into_several_files_each_under_the_limit() {
    let users: Vec<Value> = (0..6_000).map(|i| user(&format!("{i:024x}"), 150)).collect();
    let records = records(&users);
    let files = split(&records, MAX_IMPORT_FILE_BYTES);
    assert!(files.len() >= 3, "{} files", files.len());
    let by_id: HashMap<&str, &Vec<u8>> = records.iter().map(|(id, r)| (id.as_str(), r)).collect();
    for file in &files {
        let file_records: Vec<(String, Vec<u8>)> = file
            .user_ids
            .iter()
            .map(|id| (id.clone(), by_id[id.as_str()].clone()))
            .collect();
        let body = file_body(&file_records);
        assert!(
            body.len() < MAX_IMPORT_FILE_BYTES,
            "a file of {} bytes",
            body.len()
        );
        assert_eq!(body.len(), file.bytes);
        let parsed: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(parsed.len(), file.user_ids.len());
    }
    let flattened: Vec<&String> = files.iter().flat_map(|f| &f.user_ids).collect();
    let expected: Vec<&String> = records.iter().map(|(id, _)| id).collect();
    assert_eq!(flattened, expected, "every user once, in order");
}

#[test]
fn a_file_is_closed_by_its_bytes_not_by_a_count_of_users() {
    let users: Vec<Value> = (0..10).map(|i| user(&format!("{i:024x}"), 20 + i * 40)).collect();
    let records = records(&users);
    let limit = 700;
    let files = split(&records, limit);
    assert!(files.len() > 1);
    assert!(files.iter().all(|f| f.bytes < limit));
    let sizes: HashSet<usize> = files.iter().map(|f| f.user_ids.len()).collect();
    assert!(
        sizes.len() > 1,
        "files hold different numbers of users: {sizes:?}"
    );
}

#[test]
fn a_small_list_fits_one_file_and_an_empty_one_makes_no_file() {
    let users: Vec<Value> = (0..3).map(|i| user(&format!("{i:024x}"), 30)).collect();
    assert_eq!(split(&records(&users), MAX_IMPORT_FILE_BYTES).len(), 1);
    assert!(split(&[], MAX_IMPORT_FILE_BYTES).is_empty());
    assert_eq!(file_body(&[]), b"[]");
}

#[test]
fn the_import_record_carries_id_email_username_and_blocks_hidden_or_blocked_users() {
    let doc = json!({"_id": "a", "email": "a@b.c", "username": "ann", "__STATE__": "PUBLIC"});
    let record: Value =
        serde_json::from_slice(&import_record("a", Some(&doc), 1000).unwrap_or_default()).unwrap_or_default();
    assert_eq!(
        record,
        json!({"user_id": "a", "email": "a@b.c", "username": "ann", "blocked": false, "email_verified": false,
               "app_metadata": {"umsUserId": "a"}})
    );
    for doc in [
        json!({"email": "a@b.c", "__STATE__": "DRAFT"}),
        json!({"email": "a@b.c", "__STATE__": "TRASH"}),
        json!({"email": "a@b.c", "__STATE__": "PUBLIC", "blocked": true}),
    ] {
        let record: Value = serde_json::from_slice(&import_record("a", Some(&doc), 1000).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(record["blocked"], true, "{doc}");
        assert!(record.get("username").is_none());
    }
}

#[test]
fn users_missing_linked_without_email_or_too_large_are_failures_with_their_code() {
    let cases = [
        (None, "USER_NOT_FOUND"),
        (
            Some(json!({"email": "a@b.c", "authUserId": "auth0|x"})),
            "ALREADY_ACTIVE",
        ),
        (Some(json!({"username": "ann"})), "EMAIL_REQUIRED"),
        (Some(json!({"email": ""})), "EMAIL_REQUIRED"),
        (Some(json!({"email": "x".repeat(2000)})), "RECORD_TOO_LARGE"),
    ];
    for (doc, expected) in cases {
        let failure = import_record("u1", doc.as_ref(), 1000).err();
        let failure = failure.unwrap_or_else(|| UserFailure::new("", "NONE", ""));
        assert_eq!((failure.user_id.as_str(), code(&failure)), ("u1", expected));
    }
    let unlinked = json!({"email": "a@b.c", "authUserId": null});
    assert!(import_record("u1", Some(&unlinked), 1000).is_ok());
}

#[test]
fn provider_failures_are_matched_by_user_id_with_or_without_prefix_then_by_email() {
    let ids: Vec<String> = ["u1", "u2", "u3", "u4"].map(str::to_owned).to_vec();
    let emails = HashMap::from([("three@example.com".to_owned(), "u3".to_owned())]);
    let failures = vec![
        failure(Some("u1"), Some("one@example.com"), "DUPLICATED_USER"),
        failure(Some("auth0|u2"), None, "CONFLICT_USERNAME"),
        failure(None, Some("Three@Example.com"), "CONFLICT_EMAIL"),
        failure(Some("elsewhere"), Some("nobody@example.com"), "FORMAT"),
        failure(None, None, "PATTERN"),
    ];
    let (found, unattributed) = attribute(&ids, &emails, failures);
    let codes: Vec<(&str, &str)> = found.iter().map(|f| (f.user_id.as_str(), code(f))).collect();
    assert_eq!(
        codes,
        [
            ("u1", "DUPLICATED_USER"),
            ("u2", "CONFLICT_USERNAME"),
            ("u3", "CONFLICT_EMAIL")
        ]
    );
    assert_eq!(found[2].errors[0].message, "CONFLICT_EMAIL happened");
    assert_eq!(unattributed, 2);
}

#[test]
fn no_provider_failures_mean_no_user_failure() {
    let ids = vec!["u1".to_owned()];
    let (found, unattributed) = attribute(&ids, &HashMap::new(), Vec::new());
    assert!(found.is_empty());
    assert_eq!(unattributed, 0);
}

#[test]
fn several_failures_of_one_user_are_merged_and_an_empty_error_list_gets_a_code() {
    let ids = vec!["u1".to_owned(), "u2".to_owned()];
    let mut bare = failure(Some("u2"), None, "X");
    bare.errors.clear();
    let failures = vec![
        failure(Some("u1"), None, "FORMAT"),
        failure(Some("u1"), None, "PATTERN"),
        bare,
    ];
    let (found, _) = attribute(&ids, &HashMap::new(), failures);
    assert_eq!(found.len(), 2);
    let codes: Vec<&str> = found[0].errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["FORMAT", "PATTERN"]);
    assert_eq!(code(&found[1]), "IMPORT_FAILED");
}

fn job(result: Value, status: JobStatus) -> Job {
    Job {
        id: "j1".into(),
        kind: super::KIND.into(),
        status,
        job_created_at: "2024-01-01T00:00:00.000Z".into(),
        input: json!({"userIds": ["a", "b"], "upsert": true}),
        result,
        progress: Progress {
            processed: 2,
            total: 2,
        },
        lease_owner: None,
        lease_until: 0,
    }
}

#[test]
fn the_report_of_a_new_job_has_zero_counters_and_the_total() {
    let report = ActivationReport::of(job(json!({}), JobStatus::Pending));
    assert_eq!(report.status, "pending");
    assert_eq!(report.summary.total, 2);
    assert_eq!(report.summary.failed + report.summary.inserted, 0);
    assert!(report.failures.is_empty());
}

#[test]
fn the_report_of_a_finished_job_counts_its_failures_and_provider_summaries() {
    let result = ActivationResult {
        failures: vec![UserFailure::new("b", "USER_NOT_FOUND", "gone")],
        activated: 1,
        inserted: 1,
        ..ActivationResult::default()
    };
    let report = ActivationReport::of(job(json!(result), JobStatus::Completed));
    let body = serde_json::to_value(&report).unwrap_or_default();
    assert_eq!(
        body["summary"],
        json!({"inserted": 1, "updated": 0, "failed": 1, "total": 2})
    );
    assert_eq!(body["failures"][0]["userId"], "b");
    assert_eq!(body["progress"], json!({"processed": 2, "total": 2}));
    assert_eq!(body["jobId"], "j1");
}
