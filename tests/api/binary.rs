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
