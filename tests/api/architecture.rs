//! The layering rules of ARCHITECTURE.md, checked on the source tree: only `src/http`,
//! `src/startup` and `src/main.rs` know axum and status codes; no use case takes `AppState`;
//! nothing below the HTTP layer imports it, the composition root or the handlers' state.

use std::path::{Path, PathBuf};

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

fn check(rule: &str, allowed: &[&str], breaks: impl Fn(&str) -> bool) {
    let found = offenders(allowed, breaks);
    assert!(found.is_empty(), "{rule}: {found:?} (see ARCHITECTURE.md)");
}

#[test]
fn only_the_http_layer_knows_axum_and_status_codes() {
    check(
        "outside src/http, src/startup and src/main.rs, axum, StatusCode and ApiError are not used",
        &["src/http/", "src/startup/", "src/main.rs"],
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
        |text| text.contains("AppState"),
    );
}

#[test]
fn nothing_below_the_http_layer_imports_it() {
    check(
        "outside src/http, src/startup, src/state.rs and src/main.rs, nothing imports crate::http, \
         crate::startup or crate::state",
        &["src/http/", "src/startup/", "src/state.rs", "src/main.rs"],
        |text| {
            ["crate::http", "crate::startup", "crate::state"]
                .iter()
                .any(|w| text.contains(w))
        },
    );
}

#[test]
fn the_rules_catch_an_offender() {
    // The checks read real files: a rule that matched nothing would pass vacuously.
    assert!(!offenders(&[], |text| text.contains("axum::")).is_empty());
    assert!(!offenders(&[], |text| text.contains("AppState")).is_empty());
}
