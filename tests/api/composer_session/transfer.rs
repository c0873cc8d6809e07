//! The end of the session: `bk-export` in every format, then `PATCH /users/import` of a CSV
//! and of an NDJSON file. Imported users are store-only: an import never carries passwords and
//! never creates auth users (README "Imports", "Account protection"; auth users come later from
//! `POST /jobs/bulk-activation` or `POST /users/register`).

use reqwest::multipart::Part;
use reqwest::Method;
use serde_json::{json, Value};

use super::model::Expected;
use super::systems::Session;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The users left after the purge, as the exports sort them (`_s=name`).
const LEFT: [&str; 3] = ["Anna", "Dee", "Eve"];

fn names(users: &[Value]) -> Vec<&str> {
    users.iter().map(|u| u["name"].as_str().unwrap()).collect()
}

/// `GET /users/export` with each `Accept` the CRUD export knows: the PUBLIC users, parsed.
pub async fn exports_in_every_format(session: &Session, expected: &Expected) {
    let sorted = [("_s", "name")];

    let (status, content_type, body) = session.export("application/x-ndjson", &sorted).await;
    assert_eq!((status, content_type.as_str()), (200, "application/x-ndjson"));
    let users: Vec<Value> = String::from_utf8(body)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(names(&users), LEFT);
    assert!(users.iter().all(|u| u.get("password").is_none()));
    session.check(expected, "GET /users/export (NDJSON)");

    let (status, content_type, body) = session.export("application/json", &sorted).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let users: Vec<Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(names(&users), LEFT);
    assert_eq!(users[0]["email"], "anna.rossi@example.com");
    session.check(expected, "GET /users/export (JSON)");

    let query = [("_s", "name"), ("_p", "name,email")];
    let (status, content_type, body) = session.export("text/csv", &query).await;
    assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"));
    let mut reader = csv::Reader::from_reader(body.as_slice());
    assert_eq!(reader.headers().unwrap(), vec!["_id", "name", "email"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cells: Vec<(&str, &str)> = rows.iter().map(|r| (&r[1], &r[2])).collect();
    let wanted = [
        ("Anna", "anna.rossi@example.com"),
        ("Dee", "dee@example.com"),
        ("Eve", "eve@example.com"),
    ];
    assert_eq!(cells, wanted);
    session.check(expected, "GET /users/export (CSV)");

    let (status, content_type, body) = session.export(XLSX, &sorted).await;
    assert_eq!((status, content_type.as_str()), (200, XLSX));
    assert!(body.starts_with(b"PK"), "an xlsx workbook is a zip file");
    let sheet = b"xl/worksheets/sheet1.xml";
    assert!(
        body.windows(sheet.len()).any(|w| w == sheet),
        "the workbook has a worksheet"
    );
    session.check(expected, "GET /users/export (Excel)");
}

/// `PATCH /users/import` of a CSV (two new users) and of an NDJSON file (one new user, and an
/// update of `eve` by `_id`): new users are PUBLIC, store-only; no auth user changes.
pub async fn imports_a_csv_and_an_ndjson_file(session: &Session, expected: &mut Expected, eve: &str) {
    let csv = "userGroup,name,surname,email\n\
               customer,Gus,Neri,gus@example.com\n\
               customer,Hal,Neri,hal@example.com\n";
    let response = session.app.import_csv(csv, &[]).await;
    let report = report_of(response).await;
    let inserted = report["inserted"].as_array().unwrap();
    assert_eq!((inserted.len(), &report["updated"]), (2, &json!([])), "{report}");
    for (id, name) in inserted.iter().zip(["Gus", "Hal"]) {
        let email = format!("{}@example.com", name.to_lowercase());
        let fields = json!({"userGroup": "customer", "name": name, "surname": "Neri", "email": email,
                            "__STATE__": "PUBLIC"});
        expected.add(id.as_str().unwrap(), fields, None);
    }
    session.check(expected, "PATCH /users/import (CSV)");

    let ndjson = format!(
        "{}\n{}\n",
        json!({"userGroup": "customer", "name": "Ivo", "surname": "Neri", "email": "ivo@example.com",
               "address": {"city": "Turin"}}),
        json!({"_id": eve, "userGroup": "customer", "phone": "+39 99"})
    );
    let file = Part::bytes(ndjson.into_bytes())
        .file_name("users.ndjson")
        .mime_str("application/x-ndjson")
        .unwrap();
    let report = report_of(session.app.import_part(false, file, &[], &[]).await).await;
    assert_eq!(report["updated"], json!([eve]), "{report}");
    let inserted = report["inserted"].as_array().unwrap();
    assert_eq!(inserted.len(), 1, "{report}");
    let fields = json!({"userGroup": "customer", "name": "Ivo", "email": "ivo@example.com",
                        "address": {"city": "Turin"}, "__STATE__": "PUBLIC"});
    expected.add(inserted[0].as_str().unwrap(), fields, None);
    expected.set(eve, "phone", json!("+39 99"));
    session.check(expected, "PATCH /users/import (NDJSON)");

    let (status, count) = session.call(Method::GET, "/users/count", &[], None).await;
    assert_eq!(
        (status, count),
        (200, json!(6)),
        "Anna, Dee, Eve and the three imported"
    );
}

/// The import report `{inserted, updated, invalid}` of a 200 with no invalid row.
async fn report_of(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let report: Value = response.json().await.expect("a JSON report");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["invalid"], json!([]), "{report}");
    report
}
