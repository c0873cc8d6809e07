//! Unit tests: import records, packing by serialized bytes, attribution of provider failures,
//! the report of a job, and what the file documents and the job summary are written with.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::files::{changed, fields};
use super::records::{
    attribute, file_body, import_record, place, place_failure, split, MAX_PLAN_FAILURES_PER_FILE,
};
use super::report::ActivationReport;
use super::state::{FileState, ImportFile, JobSummary, LegacyResult, Stored, UserFailure};
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
        input: Value::Null,
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
    let report = ActivationReport::assemble(job(json!({}), JobStatus::Pending), Vec::new());
    assert_eq!(report.status, "pending");
    assert_eq!(report.summary.total, 2);
    assert_eq!(report.summary.failed + report.summary.inserted, 0);
    assert!(report.failures.is_empty());
}

#[test]
fn the_report_of_a_finished_job_counts_the_failures_of_its_files_and_its_provider_summaries() {
    let summary = json!({"phase": "done", "planId": "p1", "fileCount": 1, "activated": 1, "inserted": 1,
                         "updated": 0, "failed": 1});
    let failures = vec![UserFailure::new("b", "USER_NOT_FOUND", "gone")];
    let report = ActivationReport::assemble(job(summary, JobStatus::Completed), failures);
    let body = serde_json::to_value(&report).unwrap_or_default();
    assert_eq!(
        body["summary"],
        json!({"inserted": 1, "updated": 0, "failed": 1, "total": 2})
    );
    assert_eq!(body["failures"][0]["userId"], "b");
    assert_eq!(body["progress"], json!({"processed": 2, "total": 2}));
    assert_eq!(body["jobId"], "j1");
}

#[test]
fn the_report_of_a_job_saved_by_an_earlier_version_reads_its_failures_from_its_result() {
    let result = LegacyResult {
        failures: vec![UserFailure::new("b", "USER_NOT_FOUND", "gone")],
        activated: 1,
        inserted: 1,
        ..LegacyResult::default()
    };
    let ignored = vec![UserFailure::new("x", "OTHER", "not this job's")];
    let report = ActivationReport::assemble(job(json!(result), JobStatus::Completed), ignored);
    let body = serde_json::to_value(&report).unwrap_or_default();
    assert_eq!(
        body["summary"],
        json!({"inserted": 1, "updated": 0, "failed": 1, "total": 2})
    );
    assert_eq!(
        body["failures"],
        json!([{"userId": "b", "errors": [{"code": "USER_NOT_FOUND", "message": "gone"}]}])
    );
}

#[test]
fn a_file_document_is_written_with_the_fields_that_changed_only() {
    let mut file = ImportFile {
        user_ids: vec!["a".into(), "b".into()],
        bytes: 120,
        ..ImportFile::default()
    };
    let first = changed(&Default::default(), &fields(&file));
    assert!(
        first.contains_key("userIds") && first.contains_key("failed"),
        "a new document: every field"
    );
    let saved = fields(&file)
        .iter()
        .map(|(k, v)| (k.clone(), super::files::fingerprint(v)))
        .collect();
    assert!(
        changed(&saved, &fields(&file)).is_empty(),
        "nothing changed, nothing written"
    );

    file.state = FileState::Started;
    file.provider_job_id = Some("job_1".into());
    file.failures.push(UserFailure::new("b", "X", "x"));
    let set = changed(&saved, &fields(&file));
    let mut keys: Vec<&str> = set.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["failed", "failures", "providerJobId", "state"]);
    assert_eq!(set["failed"], 1);
}

#[test]
fn a_part_that_ends_hands_over_to_the_users_kept_for_later() {
    let mut file = ImportFile {
        user_ids: vec!["a".into()],
        rest: vec!["b".into(), "c".into()],
        state: FileState::Started,
        provider_job_id: Some("job_1".into()),
        start_attempts: 2,
        ..ImportFile::default()
    };
    file.finish_part(FileState::Completed);
    assert_eq!(
        (file.state, file.user_ids.clone()),
        (FileState::Planned, vec!["b".into(), "c".into()])
    );
    assert!(file.rest.is_empty() && file.provider_job_id.is_none() && file.start_attempts == 0);
    file.finish_part(FileState::Rejected);
    assert_eq!(file.state, FileState::Rejected);
}

#[test]
fn failures_fill_the_current_file_up_to_a_bound_then_a_new_one() {
    let mut files = Vec::new();
    place_failure(&mut files, UserFailure::new("x", "USER_NOT_FOUND", "gone"));
    place(&mut files, "a".into(), 10, MAX_IMPORT_FILE_BYTES);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].bytes, 12, "the first record of a file: [ + record + ]");
    for i in 1..=MAX_PLAN_FAILURES_PER_FILE {
        place_failure(
            &mut files,
            UserFailure::new(format!("x{i}"), "USER_NOT_FOUND", "gone"),
        );
    }
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].failures.len(), MAX_PLAN_FAILURES_PER_FILE);
    assert_eq!((files[1].failures.len(), files[1].user_ids.len()), (1, 0));
}

#[test]
fn the_summary_sums_the_files_and_a_started_file_alone_is_not_worth_a_write() {
    let file = |state, starts, activated, failures: usize| ImportFile {
        state,
        starts,
        activated,
        inserted: activated,
        failures: (0..failures)
            .map(|i| UserFailure::new(i.to_string(), "X", "x"))
            .collect(),
        ..ImportFile::default()
    };
    let mut files = vec![
        file(FileState::Completed, 1, 3, 1),
        file(FileState::Planned, 0, 0, 2),
    ];
    let saved = JobSummary::default().of(&files);
    assert_eq!((saved.activated, saved.inserted, saved.failed), (3, 3, 3));
    assert_eq!((saved.started, saved.settled, saved.file_count), (1, 1, 2));
    files[1].state = FileState::Started;
    files[1].starts = 1;
    assert!(!JobSummary::default().of(&files).differs_from(&saved));
    files[1].state = FileState::Failed;
    assert!(JobSummary::default().of(&files).differs_from(&saved));
}

#[test]
fn a_result_of_an_earlier_version_becomes_files_with_its_failures_and_counters_first() {
    let legacy = json!({"planned": 2, "activated": 1, "inserted": 1,
        "files": [{"userIds": ["a"], "bytes": 50, "state": "completed"}, {"userIds": ["b"], "bytes": 50}],
        "failures": [{"userId": "c", "errors": [{"code": "USER_NOT_FOUND", "message": "gone"}]}]});
    let Stored::Legacy(legacy) = Stored::of(legacy) else {
        panic!("not read as an earlier version's result");
    };
    let files = legacy.into_files();
    assert_eq!(files.len(), 3);
    assert_eq!(
        (files[0].state, files[0].activated, files[0].failures.len()),
        (FileState::Empty, 1, 1)
    );
    assert_eq!((files[1].state, files[1].starts), (FileState::Completed, 1));
    assert_eq!((files[2].state, files[2].starts), (FileState::Planned, 0));
    assert_eq!(Stored::of(json!({})), Stored::Current(JobSummary::default()));
}
