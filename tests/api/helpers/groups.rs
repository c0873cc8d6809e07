//! Group-config documents of the tests: the `customer` schema, `group_doc`, and putting groups
//! in a CRUD fake (`seed_groups`) or behind a wiremock CRUD (`mount_groups`).

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A group-config document: `userGroup`, `crudSchema`, `authUserCreationDisabled`.
pub fn group_doc(name: &str, schema: Value, auth_disabled: bool) -> Value {
    json!({
        "_id": format!("{:0>24}", name.len()),
        "userGroup": name,
        "label": name,
        "authUserCreationDisabled": auth_disabled,
        "crudSchema": schema,
        "__STATE__": "PUBLIC",
    })
}

/// The `customer` schema used by the tests: name (required), email (format), age, roles.
pub fn customer_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 0},
            "roles": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

/// The `customer` group (auth users allowed), alone.
pub fn customer_group() -> Vec<Value> {
    vec![group_doc("customer", customer_schema(), false)]
}

/// Answers the group-config list of the wiremock CRUD with `groups` (any query).
pub async fn mount_groups(crud: &MockServer, groups: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path("/ums-config/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(groups))
        .mount(crud)
        .await;
}

/// Seeds group-config documents into a CRUD fake (before the service starts).
pub fn seed_groups(crud: &ums_fakes::crud::CrudFakeState, groups: Vec<Value>) {
    for group in groups {
        let mut group = group;
        if let Some(doc) = group.as_object_mut() {
            doc.remove("_id");
        }
        crud.insert_raw("/ums-config", group).expect("group seeded");
    }
}
