//! Startup: the group files are inserted only when their group is not stored (an edit through
//! `/groups` survives a restart, with a warning naming the group), CRUD mode never writes them,
//! the startup line lists the groups as JSON arrays, and a taken port stops the service before
//! `DATA_DIR` is created.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use user_manager_service::config::Config;
use user_manager_service::startup::{Application, StartupError};

use crate::helpers::{captured_logs, customer_group, temp_data_dir, TestApp};

/// A copy of the shipped `config/groups` in a directory of its own (its path tells this test's
/// log lines from those of the other tests).
fn copy_of_shipped_groups() -> PathBuf {
    let dir = temp_data_dir().join("groups");
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups");
    for entry in std::fs::read_dir(shipped).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    dir
}

fn startup_lines(groups_dir: &str) -> Vec<Value> {
    captured_logs()
        .into_iter()
        .filter(|line| line["msg"] == "group files loaded" && line["dir"] == groups_dir)
        .collect()
}

async fn group_id(app: &TestApp, name: &str) -> String {
    let groups: Vec<Value> = app.get("/groups/").await.json().await.unwrap();
    let group = groups.iter().find(|g| g["userGroup"] == name).expect("the group");
    group["_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_group_edited_through_the_api_survives_a_restart_and_the_file_not_applied_is_a_warning() {
    let data = temp_data_dir();
    let groups = copy_of_shipped_groups();
    let groups_dir = groups.display().to_string();
    let env = [("GROUPS_CONFIG_DIR", groups_dir.as_str())];
    let app = TestApp::embedded(&data).with_env(&env).start().await;
    let id = group_id(&app, "customer").await;
    let edit = json!({"$set": {"label": "Clients", "crudSchema.properties.nickname": {"type": "string"}}});
    let edited = app.patch_json(&format!("/groups/{id}"), &edit).await;
    assert_eq!(edited.status(), 200, "{}", edited.text().await.unwrap());
    let _ = app.stop().await;

    let app = TestApp::embedded(&data).with_env(&env).start().await;
    let group: Value = app.get(&format!("/groups/{id}")).await.json().await.unwrap();
    assert_eq!(group["label"], "Clients", "{group}");
    assert_eq!(
        group["crudSchema"]["properties"]["nickname"],
        json!({"type": "string"})
    );
    let user = json!({"userGroup": "customer", "name": "Nia", "email": "nia@example.com", "nickname": "N"});
    let created = app.post_json("/users/", &user).await;
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());

    let lines = startup_lines(&groups_dir);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["inserted"], json!(["backoffice_operator", "customer"]));
    assert_eq!(lines[1]["inserted"], json!([]));
    assert_eq!(lines[1]["unchanged"], json!(["backoffice_operator"]));
    assert_eq!(lines[1]["kept"], json!(["customer"]));
    let warnings: Vec<Value> = captured_logs()
        .into_iter()
        .filter(|line| line["level"] == 40 && line["user_group"] == "customer")
        .filter(|line| line["file"].as_str().is_some_and(|f| f.starts_with(&groups_dir)))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let msg = warnings[0]["msg"].as_str().unwrap();
    assert!(
        msg.starts_with("group file not applied: group \"customer\""),
        "{msg}"
    );
    assert!(msg.contains(&format!("PATCH /groups/{id}")), "{msg}");
    assert!(msg.contains(&format!("DELETE /groups/{id} and restart")), "{msg}");
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn a_deleted_group_comes_back_from_its_file_at_the_next_start() {
    let data = temp_data_dir();
    let groups = copy_of_shipped_groups();
    let groups_dir = groups.display().to_string();
    let env = [("GROUPS_CONFIG_DIR", groups_dir.as_str())];
    let app = TestApp::embedded(&data).with_env(&env).start().await;
    let id = group_id(&app, "backoffice_operator").await;
    assert_eq!(app.delete(&format!("/groups/{id}")).await.status(), 204);
    let _ = app.stop().await;

    let app = TestApp::embedded(&data).with_env(&env).start().await;
    group_id(&app, "backoffice_operator").await;
    let lines = startup_lines(&groups_dir);
    assert_eq!(lines[1]["inserted"], json!(["backoffice_operator"]), "{lines:?}");
    assert_eq!(lines[1]["unchanged"], json!(["customer"]), "{lines:?}");
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn crud_mode_never_writes_the_group_files_into_the_config_collection() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/config/groups");
    let app = TestApp::on_fakes()
        .with_customer_group()
        .with_env(&[("GROUPS_CONFIG_DIR", shipped)])
        .start()
        .await;
    let stored = app.crud_fake().documents("/ums-config");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["crudSchema"], customer_group()[0]["crudSchema"]);
}

#[tokio::test]
async fn a_taken_port_stops_the_service_before_it_creates_data_dir() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let data_dir = temp_data_dir().join("data");
    let data = data_dir.display().to_string();
    let config = Config::from_pairs([
        ("HTTP_HOST", "127.0.0.1"),
        ("HTTP_PORT", port.as_str()),
        ("DATA_DIR", data.as_str()),
        (
            "GROUPS_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/groups"),
        ),
    ])
    .unwrap();
    let result = Application::build(config).await;
    assert!(matches!(result, Err(StartupError::Bind { .. })), "the bind fails");
    assert!(!data_dir.exists(), "{} was created", data_dir.display());
}
