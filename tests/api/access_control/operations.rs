//! The table-driven test over every operation of the OpenAPI document.

use serde_json::{json, Value};

use super::{admin_token, client_token, get_as, person, scoped_app};
use crate::helpers::temp_data_dir;

/// Every scope the document declares in its security scheme.
fn declared_scopes(doc: &Value) -> Vec<String> {
    let flows = &doc["components"]["securitySchemes"]["oauth2"]["flows"];
    let scopes = flows["clientCredentials"]["scopes"]
        .as_object()
        .expect("the oauth2 scheme lists its scopes");
    scopes.keys().cloned().collect()
}

/// `(method, path, scope)` of every operation; `None` for a public one. Panics on an operation
/// without a `security` entry: a route whose scope nobody declared.
fn operations(doc: &Value) -> Vec<(String, String, Option<String>)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let security = operation
                .get("security")
                .and_then(Value::as_array)
                .unwrap_or_else(|| panic!("{method} {path} declares no security"));
            let scope = security
                .first()
                .map(|requirement| requirement["oauth2"][0].as_str().expect("a scope").to_owned());
            found.push((method.to_uppercase(), path.clone(), scope));
        }
    }
    found
}

#[tokio::test]
async fn every_operation_needs_a_token_carrying_its_scope() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    let scopes = declared_scopes(&doc);
    let self_service = ["userinfo", "userupdate", "deleteuser"];
    let operations = operations(&doc);
    assert!(operations.len() > 30, "{} operations", operations.len());
    let mut checked = 0;
    for (method, path, scope) in operations {
        let Some(scope) = scope else { continue };
        assert!(
            scopes.contains(&scope),
            "{method} {path}: undeclared scope {scope}"
        );
        let url = app.url(&path.replace("{id}", "0123456789abcdef01234567"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let call = |token: Option<&str>| {
            let request = app.client.request(method.clone(), &url).json(&json!({}));
            match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            }
        };
        let anonymous = call(None).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{method} {path} without a token");
        assert!(anonymous.headers().contains_key("www-authenticate"));
        let others: Vec<&str> = scopes
            .iter()
            .map(String::as_str)
            .filter(|s| *s != scope)
            .collect();
        let lacking = client_token(&app, &admin, &others).await;
        let refused = call(Some(&lacking)).send().await.unwrap();
        assert_eq!(refused.status(), 403, "{method} {path} without {scope}");
        let message = refused.json::<Value>().await.unwrap()["message"].clone();
        assert!(message.as_str().unwrap().contains(&scope), "{message}");
        // A self-service operation with a person of its own (a DELETE /users/me ends its sessions).
        let holder = match self_service.contains(&scope.as_str()) {
            true => {
                let (_, login) = person(&app, &admin, &format!("p{checked}@example.com")).await;
                login["accessToken"].as_str().unwrap().to_owned()
            }
            false => admin.clone(),
        };
        let allowed = call(Some(&holder)).send().await.unwrap().status();
        assert!(
            allowed != 401 && allowed != 403,
            "{method} {path} with {scope}: {allowed}"
        );
        checked += 1;
    }
    assert!(checked > 25, "{checked} scoped operations");
}

#[tokio::test]
async fn public_routes_need_no_token() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    for path in [
        "/-/healthz",
        "/-/ready",
        "/documentation/json",
        "/.well-known/jwks.json",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    let login = json!({"username": "nobody@example.com", "password": "Passw0rd!long"});
    let response = app.post_json("/oauth/token", &login).await;
    assert_ne!(response.status(), 403);
    assert_ne!(app.get("/users/").await.status(), 200);
}

#[tokio::test]
async fn the_caller_recorded_by_the_store_and_the_audit_trail_is_the_verified_client_not_the_header_it_sends()
{
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let user = json!({"userGroup": "customer", "name": "Bo", "email": "bo@example.com", "password": "Passw0rd!long"});
    let created = app
        .client
        .post(app.url("/users/"))
        .bearer_auth(&admin)
        .header("miauserid", "somebody-else")
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let id = created.json::<Value>().await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read: Value = get_as(&app, &admin, &format!("/users/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let client_id = super::admin_client(&dir)["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(read["creatorId"], format!("client:{client_id}"), "{read}");
    let records: Value = get_as(&app, &admin, "/audit?action=user.create")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(records[0]["actor"], format!("client:{client_id}"), "{records}");
    let refused = app
        .client
        .delete(app.url(&format!("/users/{id}")))
        .header("miauserid", "somebody-else")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let records: Value = get_as(&app, &admin, "/audit?action=user.delete")
        .await
        .json()
        .await
        .unwrap();
    assert!(records[0].get("actor").is_none_or(Value::is_null), "{records}");
}
