//! `GET /documentation/json` tells the truth: the routes of the configuration only, the statuses
//! and content types each route answers, and parameter and body constraints equal to what the
//! service accepts (each checked against the running service).

use serde_json::{json, Value};

use crate::helpers::{temp_data_dir, TestApp};

async fn document(client: &reqwest::Client, base: &str) -> Value {
    let response = client
        .get(format!("{base}/documentation/json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn embedded() -> (TestApp, Value) {
    let app = TestApp::embedded(&temp_data_dir())
        .with_env(&[("REQUEST_BODY_LIMIT_BYTES", "4096")])
        .start()
        .await;
    let doc = document(&app.client, &app.address).await;
    (app, doc)
}

/// The `(path, method, operation)` of every documented operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    found
}

fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    let parameters = doc["paths"][path][method]["parameters"].as_array().unwrap();
    parameters
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} documents no {name}"))
}

#[tokio::test]
async fn the_served_document_lists_only_the_routes_of_the_configuration() {
    let (app, doc) = embedded().await;
    for path in [
        "/.well-known/jwks.json",
        "/users/reset-password",
        "/jobs/bulk-activation",
        "/groups/",
    ] {
        assert!(doc["paths"].get(path).is_some(), "embedded mode documents {path}");
    }
    drop(app);

    // Auth0 Client: the local provider's own routes only answer 501, so they are not documented.
    let fakes = TestApp::on_fakes().start().await;
    let doc = document(&fakes.client, &fakes.address).await;
    for path in ["/.well-known/jwks.json", "/users/reset-password"] {
        assert!(doc["paths"].get(path).is_none(), "CRUD mode documents {path}");
    }
    assert_eq!(fakes.get("/.well-known/jwks.json").await.status(), 501);
    let reset = fakes.post_json("/users/reset-password", &json!({})).await;
    assert_eq!(reset.status(), 501);
    assert!(doc["paths"].get("/jobs/change-password/bulk").is_some());

    // Without a jobs collection, no job route.
    let no_jobs = TestApp::on_fakes().without_jobs().start().await;
    let doc = document(&no_jobs.client, &no_jobs.address).await;
    let jobs: Vec<&String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| p.starts_with("/jobs"))
        .collect();
    assert!(jobs.is_empty(), "{jobs:?}");
    assert!(doc["paths"].get("/users/").is_some());
}

#[tokio::test]
async fn every_json_body_route_documents_and_answers_400_413_and_415() {
    let (app, doc) = embedded().await;
    let mut checked = 0;
    for (path, method, operation) in operations(&doc) {
        if operation["requestBody"]["content"]
            .get("application/json")
            .is_none()
        {
            continue;
        }
        for status in ["400", "413", "415"] {
            assert!(
                operation["responses"].get(status).is_some(),
                "{method} {path} lacks {status}"
            );
        }
        let url = app.url(&path.replace("{id}", "x"));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let plain = app
            .client
            .request(method.clone(), &url)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 415, "{method} {path} without content-type");
        let large = json!({"padding": "x".repeat(8192)});
        let large = app
            .client
            .request(method.clone(), &url)
            .json(&large)
            .send()
            .await
            .unwrap();
        assert_eq!(large.status(), 413, "{method} {path} over the body limit");
        let broken = app
            .client
            .request(method.clone(), &url)
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap();
        assert_eq!(broken.status(), 400, "{method} {path} with malformed JSON");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} JSON body routes");
}

#[tokio::test]
async fn count_and_state_change_answer_json_and_are_documented_so() {
    let (app, doc) = embedded().await;
    for (path, method) in [("/users/count", "get"), ("/users/state", "post")] {
        let content = &doc["paths"][path][method]["responses"]["200"]["content"];
        assert!(
            content.get("application/json").is_some(),
            "{method} {path}: {content}"
        );
        assert!(content.get("text/plain").is_none(), "{method} {path}: {content}");
    }
    let count = app.get("/users/count").await;
    assert_eq!(count.headers()["content-type"], "application/json");
    let body = json!([{"filter": {"_id": "nobody"}, "stateTo": "TRASH"}]);
    let state = app.post_json("/users/state", &body).await;
    assert_eq!(state.status(), 200);
    assert_eq!(state.headers()["content-type"], "application/json");
    assert_eq!(state.json::<Value>().await.unwrap(), json!(0));
}

#[tokio::test]
async fn page_parameters_are_documented_with_the_ranges_the_service_accepts() {
    let (app, doc) = embedded().await;
    for path in ["/users/", "/groups/"] {
        let limit = &parameter(&doc, path, "get", "_l")["schema"];
        assert_eq!(
            (limit["minimum"].clone(), limit["maximum"].clone()),
            (json!(1), json!(200)),
            "{path}"
        );
        let skip = &parameter(&doc, path, "get", "_sk")["schema"];
        assert_eq!(skip["minimum"], json!(0), "{path}");
        assert_eq!(skip["maximum"].as_u64(), Some(i64::MAX as u64), "{path}");
        let states = parameter(&doc, path, "get", "_st");
        assert_eq!(
            (states["style"].as_str(), states["explode"].as_bool()),
            (Some("form"), Some(false))
        );
        assert_eq!(states["schema"]["minItems"], 1);
        assert_eq!(
            states["schema"]["items"]["enum"],
            json!(["PUBLIC", "DRAFT", "TRASH", "DELETED"])
        );
    }
    let status = |query: &'static str| {
        let request = app.client.get(app.url(&format!("/users/?{query}")));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status("_l=1&_sk=9223372036854775807").await, 200);
    assert_eq!(status("_l=200&_st=PUBLIC,DRAFT,TRASH,DELETED").await, 200);
    for refused in [
        "_l=0",
        "_l=201",
        "_sk=-1",
        "_sk=9223372036854775808",
        "_st=",
        "_st=GONE",
    ] {
        assert_eq!(status(refused).await, 400, "{refused}");
    }
    let export = &parameter(&doc, "/users/export", "get", "_l")["schema"];
    assert_eq!(
        (export["minimum"].clone(), export["maximum"].clone()),
        (json!(1), json!(u32::MAX))
    );
}

#[tokio::test]
async fn the_sort_pattern_accepts_exactly_the_sorts_the_service_accepts() {
    let (app, doc) = embedded().await;
    let pattern = parameter(&doc, "/users/", "get", "_s")["schema"]["pattern"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        parameter(&doc, "/users/export", "get", "_s")["schema"]["pattern"],
        pattern.as_str()
    );
    let regex = regex::Regex::new(&pattern).unwrap();
    let samples = [
        "",
        "name",
        "-name",
        "a.b",
        "a,-b.c",
        "a.-b",
        "é",
        "a-b",
        "-",
        "--a",
        "$a",
        "a.$b",
        "a..b",
        "a,",
        ",a",
        "a b",
        "a\tb",
        "a\u{a0}b",
        "a\u{3000}",
        "a\u{1}",
        "a\u{1c}b",
        "a\u{85}",
    ];
    for sample in samples {
        let response = app
            .client
            .get(app.url("/users/"))
            .query(&[("_s", sample)])
            .send()
            .await
            .unwrap();
        let accepted = response.status() == 200;
        assert_eq!(
            regex.is_match(sample),
            accepted,
            "_s={sample:?}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn not_blank_strings_are_documented_with_the_pattern_the_service_applies() {
    let (app, doc) = embedded().await;
    let schemas = &doc["components"]["schemas"];
    let pattern = schemas["NonBlank"]["pattern"].as_str().unwrap();
    let regex = regex::Regex::new(pattern).unwrap();
    assert_eq!(
        schemas["GroupBody"]["properties"]["userGroup"]["$ref"],
        "#/components/schemas/NonBlank"
    );
    assert_eq!(
        schemas["ChangePasswordBody"]["properties"]["authUserId"]["$ref"],
        "#/components/schemas/NonBlank"
    );
    let ids = &schemas["StartBody"]["properties"]["authUsersIds"];
    assert_eq!(ids["items"]["$ref"], "#/components/schemas/NonBlank");
    assert_eq!(
        (ids["minItems"].clone(), ids["maxItems"].clone()),
        (json!(1), json!(100_000))
    );
    for (i, name) in [
        "a",
        " b ",
        "\u{1c}",
        "\u{180e}",
        "",
        " ",
        "\t\n\r",
        "\u{3000}\u{a0}\u{2028}",
    ]
    .iter()
    .enumerate()
    {
        let group = json!({"userGroup": name, "label": i.to_string(), "crudSchema": {"type": "object"}});
        let response = app.post_json("/groups/", &group).await;
        let accepted = response.status() == 200;
        assert_eq!(
            regex.is_match(name),
            accepted,
            "userGroup {name:?}: {}",
            response.status()
        );
        let body = json!({"authUsersIds": [name]});
        let job = app.post_json("/jobs/change-password/bulk", &body).await;
        assert_eq!(
            regex.is_match(name),
            job.status() == 202,
            "authUsersIds [{name:?}]: {}",
            job.status()
        );
    }
}

#[tokio::test]
async fn array_bodies_document_the_item_counts_the_service_requires() {
    let (app, doc) = embedded().await;
    let schemas = &doc["components"]["schemas"];
    let body = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    assert_eq!(body("/users/state")["minItems"], 1);
    assert_eq!(body("/jobs/bulk-activation")["minItems"], 1);
    assert_eq!(body("/jobs/bulk-activation")["maxItems"], 100_000);
    for (path, empty) in [
        ("/users/state", json!([])),
        ("/jobs/bulk-activation", json!([])),
        ("/jobs/change-password/bulk", json!({"authUsersIds": []})),
    ] {
        let response = app.post_json(path, &empty).await;
        assert_eq!(response.status(), 400, "{path} with no item");
    }
    let filter = &schemas["StateItem"]["properties"]["filter"];
    assert_eq!(filter["minProperties"], 1);
    for refused in [
        json!({}),
        json!({"_q": "x"}),
        json!({"a$b": 1}),
        json!({"_id": ""}),
        json!({"a": {"b": 1}}),
    ] {
        let body = json!([{"filter": refused, "stateTo": "TRASH"}]);
        let response = app.post_json("/users/state", &body).await;
        assert_eq!(response.status(), 400, "filter {refused}");
    }
}
