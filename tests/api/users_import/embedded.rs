//! `POST` and `PATCH /users/import` in embedded mode (SQLite store, `config/groups`): the same
//! formats, encodings and refusals as on the CRUD Service fake.

use serde_json::{json, Value};

use super::formats::{encoded, part};
use crate::helpers::{status_and_body, temp_data_dir, TestApp};

/// The users the service lists, by name.
async fn names(app: &TestApp) -> Vec<String> {
    let users: Value = app.get("/users/?_l=200").await.json().await.unwrap();
    let mut names: Vec<String> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn embedded_mode_imports_json_and_ndjson_by_post_and_patch_in_every_encoding() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let file = json!([
        {"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "roles": ["a"],
         "address": {"city": "Rome"}},
        {"_id": "x", "userGroup": "customer", "name": "Xavier", "email": "x@example.com"}
    ]);

    let response = app
        .import_part(true, part(file.to_string(), "u.json", None), &[], &[])
        .await;
    let (status, report) = status_and_body(response).await;

    assert_eq!(status, 201, "{report}");
    let ann = report["inserted"][0].as_str().unwrap().to_owned();
    // The row with an _id is inserted under it.
    assert_eq!(report["inserted"][1], "x", "{report}");
    assert_eq!(report["invalid"], json!([]), "{report}");
    let xavier: Value = app.get("/users/x").await.json().await.unwrap();
    assert_eq!((&xavier["_id"], &xavier["name"]), (&json!("x"), &json!("Xavier")));
    let stored: Value = app.get(&format!("/users/{ann}")).await.json().await.unwrap();
    assert_eq!(
        (&stored["roles"], &stored["address"]),
        (&json!(["a"]), &json!({"city": "Rome"}))
    );

    // PATCH: the row with Ann's _id updates her, the other is inserted.
    let ndjson = format!(
        "{{\"_id\": \"{ann}\", \"userGroup\": \"customer\", \"name\": \"Anna\"}}\n\
         {{\"userGroup\": \"customer\", \"name\": \"Bob\", \"email\": \"bob@example.com\"}}\n"
    );
    let response = app
        .import_part(false, part(ndjson, "u", Some("application/x-ndjson")), &[], &[])
        .await;
    let (status, report) = status_and_body(response).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updated"], json!([ann]));
    assert_eq!(names(&app).await, ["Anna", "Bob", "Xavier"]);

    for (n, encoding) in ["utf8", "ucs2", "utf16le", "latin1", "ascii"].iter().enumerate() {
        let csv = format!("userGroup,name,email\ncustomer,Renée {encoding},r{n}@example.com\n");
        let file = part(encoded(&csv, encoding), "u.csv", None);
        let response = app.import_part(true, file, &[("encoding", encoding)], &[]).await;
        let (status, report) = status_and_body(response).await;
        assert_eq!(
            (status, report["invalid"].clone()),
            (201, json!([])),
            "{encoding}"
        );
    }
    let all = names(&app).await;
    assert!(
        all.contains(&"Renée ascii".to_owned()) && all.contains(&"Renée ucs2".to_owned()),
        "{all:?}"
    );

    let late = part(
        "userGroup;name;email\ncustomer;Cy;cy@example.com\n",
        "u.csv",
        Some("text/csv"),
    );
    let (status, body) =
        status_and_body(app.import_part(false, late, &[], &[("delimiter", ";")]).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("comes after the file part"),
        "{body}"
    );

    let excel = part("x", "u.xlsx", None);
    let (status, _) = status_and_body(app.import_part(true, excel, &[], &[]).await).await;
    assert_eq!(status, 415);
    assert_eq!(names(&app).await.len(), 8);
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}
