//! Empty CRUD parameters, as a client building its query string from empty inputs sends them:
//! `_q=`, `_p=`, `_s=` and an empty `acl_rows` header mean "none" (the CRUD Service reads an
//! empty `_q`, `_p` and `acl_rows` as absent); `_st=` stays a 400, as in the CRUD Service.

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use super::*;
use crate::helpers::{ok_json, temp_data_dir, TestApp, TextField};

const EMPTIES: [(&str, &str); 4] = [("_q", ""), ("_p", ""), ("_s", ""), ("_l", "5")];

#[tokio::test]
async fn empty_q_p_and_s_and_an_empty_acl_rows_header_are_not_forwarded_to_the_crud() {
    let app = TestApp::on_wiremock().start().await;
    let users = json!([{"_id": "u1", "name": "Alex"}]);
    mount(app.crud(), "GET", "/users/", ok_json(users.clone())).await;
    let response = app
        .client
        .get(app.url("/users/"))
        .query(&EMPTIES)
        .header("acl_rows", "")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(response.json::<Value>().await.unwrap(), users);
    let request = assert_crud_query(&app, &[("_l", "5")]).await;
    assert!(request.headers.get("acl_rows").is_none(), "{:?}", request.headers);
}

#[tokio::test]
async fn an_empty_q_is_no_filter_on_count_export_one_user_and_patch() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/count", ok_json(3)).await;
    let response = get_query(&app, "/users/count", &[("_q", "")]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(response.json::<Value>().await.unwrap(), json!(3));
    assert_crud_query(&app, &[]).await;

    let app = TestApp::on_wiremock().start().await;
    mount(
        app.crud(),
        "GET",
        "/users/export",
        ResponseTemplate::new(200).set_body_string("{\"_id\":\"u1\"}\n"),
    )
    .await;
    let response = get_query(&app, "/users/export", &EMPTIES).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_crud_query(&app, &[("_l", "5")]).await;

    let app = TestApp::on_wiremock().start().await;
    let user = json!({"_id": "u1", "name": "Alex"});
    mount(app.crud(), "GET", "/users/u1", ok_json(user.clone())).await;
    let response = get_query(&app, "/users/u1", &[("_q", "")]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(response.json::<Value>().await.unwrap(), user);
    assert_crud_query(&app, &[]).await;
}

#[tokio::test]
async fn an_empty_st_is_still_refused_as_the_crud_service_refuses_it() {
    let app = TestApp::on_wiremock().start().await;
    for route in ["/users/", "/users/count", "/users/export", "/users/u1"] {
        let response = get_query(&app, route, &[("_st", "")]).await;
        assert_eq!(response.status(), 400, "{route}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains("_st"),
            "{route}: {body}"
        );
    }
    assert!(received(app.crud()).await.is_empty());
}

#[tokio::test]
async fn on_the_embedded_store_empty_parameters_answer_as_if_absent() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let ann = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": "Kettle-Lamp-42!"});
    let created = app.post_json("/users/", &ann).await;
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());
    let id = created.text_field("_id").await;

    let get = |route: String, query: Vec<(&'static str, &'static str)>| {
        let request = app
            .client
            .get(app.url(&route))
            .query(&query)
            .header("acl_rows", "");
        async move { request.send().await.unwrap() }
    };
    let plain: Value = get("/users/".into(), vec![]).await.json().await.unwrap();
    let list = get("/users/".into(), EMPTIES.to_vec()).await;
    assert_eq!(list.status(), 200);
    let list: Value = list.json().await.unwrap();
    assert_eq!(list, plain);
    assert_eq!(list[0]["name"], "Ann", "an empty _p returns every field: {list}");

    let count = get("/users/count".into(), vec![("_q", "")]).await;
    assert_eq!(count.json::<Value>().await.unwrap(), json!(1));
    let one = get(format!("/users/{id}"), vec![("_q", "")]).await;
    assert_eq!(one.status(), 200);
    let export = get("/users/export".into(), EMPTIES.to_vec()).await;
    assert_eq!(export.status(), 200);
    assert!(export.text().await.unwrap().contains("\"Ann\""));
    let patched = app
        .client
        .patch(app.url(&format!("/users/{id}?_q=")))
        .header("acl_rows", "")
        .json(&json!({"$set": {"surname": "Lee"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
    assert_eq!(patched.json::<Value>().await.unwrap()["surname"], "Lee");
}
