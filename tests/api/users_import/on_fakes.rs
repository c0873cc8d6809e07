//! End-to-end imports on the CRUD Service fake: the store ends up holding exactly the valid
//! rows, typed; duplicates (in the store, in the file) are reported while the rest is imported;
//! a thousand rows go in four batches.

use serde_json::{json, Value};
use ums_fakes::crud::Method;

use super::import_report;
use crate::helpers::{group_doc, TestApp};

const OLD_ID: &str = "665f00000000000000000001";
const MISSING_ID: &str = "665f00000000000000000099";

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}}
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

async fn app(users: Vec<Value>) -> TestApp {
    TestApp::on_fakes()
        .with_groups(vec![group_doc("customer", schema(), true)])
        .with_users(users)
        .start()
        .await
}

async fn import(app: &TestApp, csv: &str) -> Value {
    let (status, report) = import_report(app, csv, &[]).await;
    assert_eq!(status, 200, "{report}");
    report
}

/// The stored users without the store's metadata, sorted by name.
fn stored(app: &TestApp) -> Vec<Value> {
    let mut users: Vec<Value> = app
        .crud_fake()
        .state()
        .documents("/users")
        .into_iter()
        .map(|mut user| {
            let doc = user.as_object_mut().unwrap();
            for field in ["_id", "createdAt", "updatedAt", "creatorId", "updaterId"] {
                doc.remove(field);
            }
            user
        })
        .collect();
    users.sort_by_key(|u| u["name"].as_str().unwrap_or_default().to_owned());
    users
}

fn error_of(report: &Value, row: u64) -> String {
    let invalid = report["invalid"].as_array().unwrap();
    let found = invalid
        .iter()
        .find(|i| i["row"] == row)
        .unwrap_or_else(|| panic!("row {row} in {report}"));
    found["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_mixed_file_leaves_exactly_the_valid_rows_typed_in_the_store() {
    let old = json!({
        "_id": OLD_ID, "userGroup": "customer", "name": "Old", "email": "old@example.com",
        "__STATE__": "PUBLIC"
    });
    let app = app(vec![old]).await;
    let csv = format!(
        "_id,userGroup,name,email,age,tags,address.city,password\n\
         , customer ,Ann,ann@example.com,31,\"[vip, early]\",Rome,\n\
         {OLD_ID},customer,,,40,,Milan,\n\
         ,customer,Bob,bob@example.com,old,,,\n\
         ,ghost,Cid,cid@example.com,,,,\n\
         ,customer,,dee@example.com,22,,,\n\
         ,customer,Eve,eve@example.com,,,,secret\n\
         {MISSING_ID},customer,Fay,,,,,\n\
         ,customer,Gus,not-an-email,,,,\n"
    );

    let report = import(&app, &csv).await;

    // Fay's row names an _id no user has: PATCH inserts her under it.
    assert_eq!(report["inserted"].as_array().unwrap().len(), 2);
    assert_eq!(report["inserted"][1], MISSING_ID);
    assert_eq!(report["updated"], json!([OLD_ID]));
    let rows: Vec<u64> = report["invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [3, 4, 5, 6, 8]);
    assert_eq!(error_of(&report, 3), "column age: \"old\" is not a number");
    assert_eq!(error_of(&report, 4), "userGroup \"ghost\" does not exist");
    assert!(
        error_of(&report, 5).contains("\"name\" is a required property"),
        "{report}"
    );
    assert!(error_of(&report, 6).starts_with("column password: an import never writes password"));
    assert!(error_of(&report, 8).contains("/email"), "{report}");
    assert_eq!(
        stored(&app),
        [
            json!({
                "userGroup": "customer", "name": "Ann", "email": "ann@example.com", "age": 31,
                "tags": ["vip", "early"], "address": {"city": "Rome"}, "__STATE__": "PUBLIC"
            }),
            json!({"userGroup": "customer", "name": "Fay", "__STATE__": "PUBLIC"}),
            json!({
                "userGroup": "customer", "name": "Old", "email": "old@example.com", "age": 40,
                "address": {"city": "Milan"}, "__STATE__": "PUBLIC"
            }),
        ]
    );
    assert_eq!(
        app.crud_fake().state().document("/users", MISSING_ID).unwrap()["name"],
        "Fay"
    );
    let ann_id = report["inserted"][0].as_str().unwrap();
    assert_eq!(
        app.crud_fake().state().document("/users", ann_id).unwrap()["name"],
        "Ann"
    );
}

#[tokio::test]
async fn duplicate_emails_in_the_store_or_in_the_file_are_reported_and_the_rest_imported() {
    // A user in the trash still holds its email.
    let bob =
        json!({"userGroup": "customer", "name": "Bob", "email": "bob@example.com", "__STATE__": "TRASH"});
    let app = app(vec![bob]).await;
    let csv = "userGroup,name,email\n\
               customer,Bob Two,bob@example.com\n\
               customer,Cid,cid@example.com\n\
               customer,Cid Two,cid@example.com\n\
               customer,Dee,dee@example.com\n";

    let report = import(&app, csv).await;

    assert_eq!(report["inserted"].as_array().unwrap().len(), 2);
    assert_eq!(
        report["invalid"],
        json!([
            {"row": 1, "error": "email \"bob@example.com\" is already used"},
            {"row": 3, "error": "email \"cid@example.com\" is already used by row 2"}
        ])
    );
    let names: Vec<Value> = stored(&app).iter().map(|u| u["name"].clone()).collect();
    assert_eq!(names, [json!("Bob"), json!("Cid"), json!("Dee")]);
}

#[tokio::test]
async fn a_thousand_rows_are_all_imported_in_batches_of_250() {
    let app = app(Vec::new()).await;
    let mut csv = String::from("userGroup,name,email,age,tags\n");
    for i in 0..1000 {
        csv.push_str(&format!(
            "customer,User {i},user{i}@example.com,{},\"[t{}, all]\"\n",
            i % 90,
            i % 3
        ));
    }

    let report = import(&app, &csv).await;

    assert_eq!(report["inserted"].as_array().unwrap().len(), 1000);
    assert_eq!(report["invalid"], json!([]));
    assert_eq!(
        app.crud_fake().state().request_count(Method::POST, "/users/bulk"),
        4
    );
    let users = app.crud_fake().state().documents("/users");
    assert_eq!(users.len(), 1000);
    let last = users
        .iter()
        .find(|u| u["email"] == "user999@example.com")
        .unwrap();
    assert_eq!(
        (last["age"].clone(), last["tags"].clone()),
        (json!(9), json!(["t0", "all"]))
    );
}
