//! The shipped binary: a bad configuration stops it before the port opens, naming the variable.

use std::process::Command;

fn run_with(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_user-manager-service"))
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .expect("the binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_value_makes_the_binary_exit_non_zero_naming_the_variable() {
    let (code, stderr) = run_with(&[
        ("HTTP_PORT", "not-a-port"),
        ("USERS_CRUD_ENDPOINT", "/users"),
        ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
        ("AUTH_SERVICE", "auth0-client"),
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim(),
        "invalid configuration: HTTP_PORT: \"not-a-port\" is not a valid number"
    );
}

#[test]
fn a_partial_crud_configuration_makes_the_binary_exit_naming_what_is_missing() {
    let (code, stderr) = run_with(&[("USERS_CRUD_ENDPOINT", "/users")]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("UMS_CONFIG_CRUD_ENDPOINT, AUTH_SERVICE must be set when USERS_CRUD_ENDPOINT is set"),
        "{stderr}"
    );
}

#[test]
fn a_polling_interval_neither_a_duration_nor_a_cron_expression_stops_the_binary_naming_both_forms() {
    let (code, stderr) = run_with(&[
        ("AUTH0_JOB_POLLING_INTERVAL", "*/2 * *"),
        ("USERS_CRUD_ENDPOINT", "/users"),
        ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
        ("AUTH_SERVICE", "auth0-client"),
    ]);
    assert_eq!(code, Some(1));
    let stderr = stderr.trim();
    assert!(
        stderr.starts_with("invalid configuration: AUTH0_JOB_POLLING_INTERVAL: \"*/2 * *\" is neither"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "expected a duration (seconds, or e.g. \"2 minutes\") or a cron expression \
             (5 fields, e.g. \"*/2 * * * *\", or 6 with seconds first)"
        ),
        "{stderr}"
    );
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The shell block of the README's "Trying it" that follows "Then, verbatim:".
fn readme_walk_through() -> String {
    let readme = include_str!("../../README.md");
    let from = readme.find("Then, verbatim:").expect("the walk-through");
    let block = &readme[from..];
    let start = block.find("```bash\n").expect("a bash block") + "```bash\n".len();
    let end = block[start..].find("```").expect("its end");
    block[start..start + end].to_owned()
}

/// The binary started in embedded mode in a fresh directory `work` (with a copy of `config/`),
/// and the port it listens on.
fn start_embedded(work: &std::path::Path) -> (std::process::Child, u64) {
    use std::io::{BufRead, BufReader};
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        &work.join("config"),
    );
    let mut service = Command::new(env!("CARGO_BIN_EXE_user-manager-service"))
        .env_clear()
        .envs([
            ("HTTP_HOST", "127.0.0.1"),
            ("HTTP_PORT", "0"),
            ("LOG_LEVEL", "info"),
        ])
        .current_dir(work)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = service.stdout.take().expect("stdout");
    let mut port = None;
    for line in BufReader::new(stdout).lines().take(200) {
        let line = line.expect("a log line");
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if entry["msg"] == "listening" {
            port = entry["port"].as_u64();
            break;
        }
    }
    (service, port.expect("the service says where it listens"))
}

#[test]
fn the_readme_walk_through_runs_verbatim_against_the_binary() {
    let work = crate::helpers::temp_data_dir();
    let (mut service, port) = start_embedded(&work);
    // The walk-through as the README has it, on the port the service got instead of 3000.
    let script = readme_walk_through().replace("localhost:3000", &format!("127.0.0.1:{port}"));
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(&work)
        .output()
        .expect("bash runs");
    let _ = service.kill();
    let _ = service.wait();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        r#""name":"Ann""#,
        r#""userGroup":"customer""#,
        r#""inserted":["#,
        // activate=true: the inserted users' bulk activation is started.
        r#""activationJobIds":[""#,
        r#""row":4"#,
        "does not match the schema of group",
    ] {
        assert!(printed.contains(expected), "{expected} not in:\n{printed}");
    }
    let _ = std::fs::remove_dir_all(work);
}

#[test]
fn the_unlabelled_metrics_are_listed_at_zero_right_after_startup_in_embedded_mode() {
    // A process of its own: the test binary's recorder is shared by every test in it.
    let work = crate::helpers::temp_data_dir();
    let (mut service, port) = start_embedded(&work);
    let output = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{port}/-/metrics")])
        .output()
        .expect("curl runs");
    let _ = service.kill();
    let _ = service.wait();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    for name in [
        "ums_saga_left_open_total",
        "ums_saga_recovered_total",
        "ums_saga_recovery_failures_total",
        "ums_audit_append_failures_total",
    ] {
        assert!(
            text.contains(&format!("\n{name} 0\n")),
            "{name} 0 not in:\n{text}"
        );
        assert!(text.contains(&format!("# TYPE {name} counter")), "{text}");
        assert!(text.contains(&format!("# HELP {name} ")), "{text}");
    }
    let _ = std::fs::remove_dir_all(work);
}
