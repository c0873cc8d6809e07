//! The layering rules of ARCHITECTURE.md, checked on the source tree (issue 10): only `src/http`,
//! `src/startup` and `src/main.rs` know axum and status codes, and no use case takes `AppState`.
//!
//! The redesign of issue 10 is done in steps: the files that still break a rule are listed below
//! as known debt. A new file breaking a rule fails this test, and so does a listed file that no
//! longer breaks it (take it off the list), so the debt can only shrink.

use std::path::{Path, PathBuf};

/// Files outside `src/http`, `src/startup`, `src/main.rs` that still use axum, `StatusCode` or
/// `ApiError`.
const HTTP_OUTSIDE_HTTP: &[&str] = &[
    "src/auth/local/routes.rs",
    "src/config/mod.rs",
    "src/config/parse.rs",
    "src/context.rs",
    "src/downstream.rs",
    "src/error.rs",
    "src/groups/admin.rs",
    "src/groups/mod.rs",
    "src/groups/tests.rs",
    "src/groups/tests/cache.rs",
    "src/import/mod.rs",
    "src/users/create/input.rs",
    "src/users/create/link.rs",
    "src/users/create/mod.rs",
    "src/users/lifecycle.rs",
    "src/users/lifecycle/bulk_state.rs",
    "src/users/saga.rs",
    "src/users/sync.rs",
    "src/users/update.rs",
    "src/users/update/changes.rs",
    "src/users/userinfo.rs",
];

/// Files outside `src/http`, `src/startup`, `src/state.rs` that still take `AppState`.
const APP_STATE_IN_USE_CASES: &[&str] = &[
    "src/groups/admin.rs",
    "src/import/mod.rs",
    "src/jobs/kinds/activation.rs",
    "src/jobs/kinds/activation/plan.rs",
    "src/jobs/kinds/change_password/mod.rs",
    "src/jobs/runner.rs",
    "src/lib.rs",
    "src/users/create/link.rs",
    "src/users/create/mod.rs",
    "src/users/lifecycle.rs",
    "src/users/lifecycle/bulk_state.rs",
    "src/users/lifecycle/soft_delete.rs",
    "src/users/sync.rs",
    "src/users/update.rs",
    "src/users/userinfo.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/...` paths (with `/`) of the files whose text matches `breaks`, outside `allowed`.
fn offenders(allowed: &[&str], breaks: impl Fn(&str) -> bool) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut found: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"))
        .filter(|name| !allowed.iter().any(|prefix| name.starts_with(prefix)))
        .filter(|name| breaks(&std::fs::read_to_string(root.join(name)).unwrap()))
        .collect();
    found.sort();
    found
}

fn check(rule: &str, allowed: &[&str], debt: &[&str], breaks: impl Fn(&str) -> bool) {
    let found = offenders(allowed, breaks);
    let new: Vec<&String> = found.iter().filter(|f| !debt.contains(&f.as_str())).collect();
    assert!(new.is_empty(), "{rule}: {new:?} (see ARCHITECTURE.md)");
    let paid: Vec<&&str> = debt.iter().filter(|d| !found.iter().any(|f| f == *d)).collect();
    assert!(
        paid.is_empty(),
        "{rule}: {paid:?} no longer break it: take them off the list"
    );
}

#[test]
fn only_the_http_layer_knows_axum_and_status_codes() {
    check(
        "outside src/http, src/startup and src/main.rs, axum, StatusCode and ApiError are not used",
        &["src/http/", "src/startup/", "src/main.rs"],
        HTTP_OUTSIDE_HTTP,
        |text| {
            ["ApiError", "StatusCode", "axum::"]
                .iter()
                .any(|w| text.contains(w))
        },
    );
}

#[test]
fn use_cases_do_not_take_the_app_state() {
    check(
        "outside src/http, src/startup and src/state.rs, nothing takes AppState",
        &["src/http/", "src/startup/", "src/state.rs"],
        APP_STATE_IN_USE_CASES,
        |text| text.contains("AppState"),
    );
}
