//! The shipped binary as a newcomer starts it: `.env.example` sourced as is gives embedded mode,
//! a missing default groups folder is a warning and a mistyped one an error, `HTTP_HOST` may be
//! a host name.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_user-manager-service");
const REPOSITORY: &str = env!("CARGO_MANIFEST_DIR");

/// Reads the log lines of `service` up to "listening" (or its end): the lines, and the port.
fn until_listening(service: &mut Child) -> (Vec<Value>, Option<u64>) {
    let stdout = service.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines().take(200) {
        let Ok(line) = line else { break };
        let entry: Value = serde_json::from_str(&line).unwrap_or(Value::String(line));
        let port = (entry["msg"] == "listening").then(|| entry["port"].as_u64());
        lines.push(entry);
        if let Some(port) = port {
            return (lines, port);
        }
    }
    (lines, None)
}

fn stop(mut service: Child) {
    let _ = service.kill();
    let _ = service.wait();
}

#[tokio::test]
async fn the_env_example_sourced_as_is_starts_embedded_mode() {
    // A DATA_DIR the service creates (0700: an existing one open to others gives a warning).
    let data = crate::helpers::temp_data_dir().join("data");
    // As the header of .env.example says, from the repository root; only the port and the data
    // directory differ, for the test not to collide with anything.
    let script = r#"set -a; . ./.env.example; set +a
        export HTTP_PORT=0 HTTP_HOST=127.0.0.1 DATA_DIR="$2"
        exec "$1""#;
    let mut service = Command::new("bash")
        .args(["-euc", script, "bash", BINARY, &data.display().to_string()])
        .env_clear()
        .current_dir(REPOSITORY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    let (lines, port) = until_listening(&mut service);
    let Some(port) = port else {
        let output = service.wait_with_output().expect("the output");
        panic!(
            "not started: {lines:?}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ready = reqwest::get(format!("http://127.0.0.1:{port}/-/ready")).await;
    stop(service);
    assert_eq!(lines[0]["mode"], "embedded", "{lines:?}");
    assert_eq!(lines[0]["msg"], "starting user-manager-service in embedded mode");
    let groups = lines
        .iter()
        .find(|l| l["msg"] == "group files loaded")
        .expect("groups loaded");
    assert_eq!(
        groups["inserted"],
        serde_json::json!(["backoffice_operator", "customer"])
    );
    // The warnings of a first start in embedded mode, and no other.
    let warnings: Vec<&str> = lines
        .iter()
        .filter(|l| l["level"].as_u64() >= Some(40))
        .filter_map(|l| l["msg"].as_str())
        .collect();
    assert_eq!(
        warnings,
        [
            user_manager_service::config::DEV_RESET_TOKENS_WARNING,
            "created an admin client with every scope: its credentials are in this file (post it to /oauth/token)"
        ]
    );
    assert_eq!(ready.expect("ready answers").status(), 200);
    assert!(data.join("user-manager.sqlite3").exists());
    let _ = std::fs::remove_dir_all(data.parent().expect("the temp dir"));
}

#[test]
fn run_from_another_directory_the_missing_default_groups_folder_is_a_warning() {
    let work = crate::helpers::temp_data_dir();
    let mut service = Command::new(BINARY)
        .env_clear()
        .envs([("HTTP_HOST", "localhost"), ("HTTP_PORT", "0")])
        .current_dir(&work)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let (lines, port) = until_listening(&mut service);
    stop(service);
    assert!(port.is_some(), "HTTP_HOST=localhost listens: {lines:?}");
    let warning = lines
        .iter()
        .find(|l| l["level"] == 40 && l["msg"].as_str().is_some_and(|m| m.contains("GROUPS_CONFIG_DIR")))
        .unwrap_or_else(|| panic!("no warning about the groups folder: {lines:?}"));
    assert!(
        warning["msg"]
            .as_str()
            .unwrap()
            .starts_with("GROUPS_CONFIG_DIR unset and its default ./config/groups cannot be read"),
        "{warning}"
    );
    assert!(Path::new(&work).join("data").exists());
    let _ = std::fs::remove_dir_all(work);
}

#[test]
fn a_mistyped_groups_folder_or_a_port_out_of_range_stops_the_binary_naming_the_variable() {
    let data = crate::helpers::temp_data_dir().join("data");
    let data_dir = data.display().to_string();
    // The binary with `vars`; one that starts instead of stopping is killed after 10 s.
    let run = |vars: &[(&str, &str)]| {
        let mut service = Command::new(BINARY)
            .env_clear()
            .envs([("HTTP_PORT", "0"), ("DATA_DIR", data_dir.as_str())])
            .envs(vars.iter().copied())
            .current_dir(REPOSITORY)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        for _ in 0..100 {
            if service.try_wait().expect("its status").is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = service.kill();
        let output = service.wait_with_output().expect("its output");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&[("GROUPS_CONFIG_DIR", "./config/group")]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with(
            "invalid configuration: GROUPS_CONFIG_DIR: cannot read the directory \"./config/group\""
        ),
        "{stderr}"
    );
    let (code, stderr) = run(&[("HTTP_PORT", "70000")]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("HTTP_PORT: 70000 is out of range: expected a port from 0 to 65535"),
        "{stderr}"
    );
    let (code, stderr) = run(&[("CRUD_SERVICE", "http://crud"), ("ROLES_CRUD_ENDPOINT", "/roles")]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("USERS_CRUD_ENDPOINT, UMS_CONFIG_CRUD_ENDPOINT, AUTH_SERVICE must be set"),
        "{stderr}"
    );
    assert!(!data.exists(), "nothing started");
}
