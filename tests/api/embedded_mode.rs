//! Embedded mode, as a newcomer meets it with `cargo run`: the README walk-through, and data
//! that survives a restart.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{temp_data_dir, TestApp, TextField};

#[tokio::test]
async fn the_readme_walk_through_works_on_the_embedded_mode() {
    let dir = temp_data_dir();
    // Access control is on, as with `cargo run` (embedded mode's default).
    let app = TestApp::embedded(&dir)
        .with_env(&[("AUTHZ_MODE", "scopes")])
        .start()
        .await;

    // The admin client written at first start gets a token with every scope.
    let admin_client: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("admin-client.json")).unwrap()).unwrap();
    let granted: Value = app
        .post_json("/oauth/token", &admin_client)
        .await
        .json()
        .await
        .unwrap();
    let admin = format!("Bearer {}", granted["access_token"].as_str().unwrap());
    let with_admin = [("authorization", admin.as_str())];
    assert_eq!(app.get("/users/").await.status(), 401, "no token, no users");

    // Create a user valid for the shipped `customer` group.
    let ann = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": "Kettle-Lamp-42!", "roles": ["viewer"]});
    let response = app.post_with("/users/", &ann, &with_admin).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let id = response.text_field("_id").await;

    // Log in, then /userinfo with the token.
    let login = app
        .post_json(
            "/oauth/token",
            &json!({"username": "ann@example.com", "password": "Kettle-Lamp-42!"}),
        )
        .await;
    assert_eq!(login.status(), 200);
    let tokens: Value = login.json().await.unwrap();
    let access = tokens["accessToken"].as_str().unwrap();
    let info: Value = app
        .client
        .get(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], id.as_str(), "sub is the user's _id");
    assert_eq!(info["name"], "Ann");
    assert_eq!(info["userGroup"], "customer");

    // The JWKS verifies tokens; a wrong password is refused.
    let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    for route in [
        "/.well-known/jwks.json",
        "/users/reset-password",
        "/groups/",
        "/users/import",
        "/clients",
    ] {
        assert!(
            doc["paths"].get(route).is_some(),
            "{route} missing from the OpenAPI document"
        );
    }
    let wrong = app
        .post_json(
            "/oauth/token",
            &json!({"username": "ann@example.com", "password": "nope-nope"}),
        )
        .await;
    assert_eq!(wrong.status(), 401);

    // List users, then import the example CSV, with the admin token.
    let users: Vec<Value> = app.get_with("/users/", &with_admin).await.json().await.unwrap();
    assert_eq!(users.len(), 1);
    let csv =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/users.csv"))
            .unwrap();
    let file = reqwest::multipart::Part::bytes(csv)
        .file_name("users.csv")
        .mime_str("text/csv")
        .unwrap();
    let response = app
        .client
        .patch(app.url("/users/import"))
        .header("authorization", admin.as_str())
        .multipart(reqwest::multipart::Form::new().part("file", file))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["inserted"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["invalid"].as_array().unwrap().len(), 2, "{report}");
    let count: Value = app
        .get_with("/users/count", &with_admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!(3));
    let invalid = app
        .post_with(
            "/users/",
            &json!({"userGroup": "customer", "name": ""}),
            &with_admin,
        )
        .await;
    assert_eq!(invalid.status(), 400);

    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn users_credentials_and_jobs_survive_a_restart() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let bea = json!({"userGroup": "customer", "name": "Bea", "email": "bea@example.com", "password": "Kettle-Lamp-42!"});
    let id = app.post_json("/users/", &bea).await.text_field("_id").await;
    let job = app
        .post_json("/jobs/change-password/bulk", &json!({"authUsersIds": [id]}))
        .await;
    assert_eq!(job.status(), 202);
    let job_id = job.text_field("jobId").await;
    let _ = app.stop().await;

    let app = TestApp::embedded(&dir).start().await;
    let user: Value = app.get(&format!("/users/{id}")).await.json().await.unwrap();
    assert_eq!(user["name"], "Bea");
    let login = app
        .post_json(
            "/oauth/token",
            &json!({"username": "bea@example.com", "password": "Kettle-Lamp-42!"}),
        )
        .await;
    assert_eq!(
        login.status(),
        200,
        "the credentials and the signing key survived"
    );
    let mut status = Value::Null;
    for _ in 0..50 {
        status = app
            .get(&format!("/jobs/change-password/bulk/{job_id}"))
            .await
            .json()
            .await
            .unwrap();
        if status["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["summary"]["completed"], 1, "{status}");
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_and_the_sqlite_files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let root = temp_data_dir();
    let data = root.join("data");
    let app = TestApp::embedded(&data).start().await;
    let db = data.join("user-manager.sqlite3");
    let files = [
        db.clone(),
        data.join("user-manager.sqlite3-wal"),
        data.join("user-manager.sqlite3-shm"),
    ];
    assert_eq!(mode(&data), 0o700, "DATA_DIR created by the service");
    assert_eq!(mode(&db), 0o600, "after startup");

    let ann = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": "Kettle-Lamp-42!"});
    assert_eq!(app.post_json("/users/", &ann).await.status(), 200);
    for file in &files {
        assert_eq!(mode(file), 0o600, "{} after the first write", file.display());
    }
    assert_eq!(mode(&data.join("signing-key.pem")), 0o600);
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn a_second_delete_of_a_user_answers_404() {
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    let cy = json!({"userGroup": "customer", "name": "Cy", "email": "cy@example.com", "password": "Kettle-Lamp-42!"});
    let id = app.post_json("/users/", &cy).await.text_field("_id").await;
    assert_eq!(app.delete(&format!("/users/{id}")).await.status(), 204);
    let again = app.delete(&format!("/users/{id}")).await;
    assert_eq!(again.status(), 404, "not idempotent: the user is gone");
    assert_eq!(
        again.text_field("message").await,
        format!("user \"{id}\" not found")
    );
}

#[tokio::test]
async fn a_refused_bulk_transition_counts_0_and_leaves_the_user_as_it_was() {
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    let dee = json!({"userGroup": "customer", "name": "Dee", "email": "dee@example.com", "password": "Kettle-Lamp-42!"});
    let id = app.post_json("/users/", &dee).await.text_field("_id").await;
    let to = |state: &str| json!([{"filter": {"_id": id}, "stateTo": state}]);
    let app = &app;
    let moved = |body: Value| async move {
        app.post_json("/users/state", &body)
            .await
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(moved(to("TRASH")).await, json!(1));
    let trashed: Value = app
        .get(&format!("/users/{id}?_st=TRASH"))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(moved(to("PUBLIC")).await, json!(0), "TRASH → PUBLIC is refused");
    let after: Value = app
        .get(&format!("/users/{id}?_st=TRASH"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, trashed, "unchanged, updatedAt included");

    // Restored through DRAFT, as the README says.
    assert_eq!(moved(to("DRAFT")).await, json!(1));
    assert_eq!(moved(to("PUBLIC")).await, json!(1));
    assert_eq!(app.get(&format!("/users/{id}")).await.status(), 200);
}
