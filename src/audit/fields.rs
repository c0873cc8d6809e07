//! The field names of a request body, for [`super::AuditRecord::fields`]: names only, never a
//! value, bounded in count and length whatever the body.

use serde_json::Value;

/// At most this many names are kept (then `…` is added).
pub const MAX_FIELDS: usize = 100;

/// A longer name is cut to this many bytes (at a character boundary).
pub const MAX_NAME_BYTES: usize = 256;

/// The names of a JSON body: the top-level keys of an object, the keys under each update
/// operator (`$set.name`, `$unset.phone`), the keys of every object of an array (`[{filter,
/// stateTo}]`). Other bodies have none.
pub fn of_json(body: &Value) -> Vec<String> {
    let mut names = Names::default();
    match body {
        Value::Object(object) => names.object(object),
        Value::Array(items) => {
            for item in items {
                if let Value::Object(object) = item {
                    names.object(object);
                }
            }
        }
        _ => {}
    }
    names.0
}

/// The names of a form body (`a=1&b=2`); one that does not decode has none.
pub fn of_form(body: &[u8]) -> Vec<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut names = Names::default();
    for (name, _) in pairs {
        names.push(&name);
    }
    names.0
}

/// Names in first-seen order, without repeats, bounded.
#[derive(Default)]
struct Names(Vec<String>);

impl Names {
    fn object(&mut self, object: &serde_json::Map<String, Value>) {
        for (key, value) in object {
            match value {
                Value::Object(inner) if key.starts_with('$') => {
                    for inner_key in inner.keys() {
                        self.push(&format!("{key}.{inner_key}"));
                    }
                }
                _ => self.push(key),
            }
        }
    }

    fn push(&mut self, name: &str) {
        if self.0.len() > MAX_FIELDS {
            return;
        }
        if self.0.len() == MAX_FIELDS {
            self.0.push("…".to_owned());
            return;
        }
        let name = cut(name);
        if !self.0.iter().any(|known| known == name) {
            self.0.push(name.to_owned());
        }
    }
}

/// `text` cut to [`MAX_NAME_BYTES`] (at a character boundary), for a record's target.
pub fn bounded(text: &str) -> String {
    cut(text).to_owned()
}

fn cut(name: &str) -> &str {
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let mut end = MAX_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_create_body_gives_its_top_level_keys_and_no_value() {
        let body = json!({"userGroup": "customer", "name": "Ann", "password": "s3cret!",
            "address": {"city": "Rome"}});
        let names = of_json(&body);
        assert_eq!(names, ["userGroup", "name", "password", "address"]);
        let text = names.join(",");
        assert!(!text.contains("s3cret") && !text.contains("Rome") && !text.contains("city"));
    }

    #[test]
    fn an_update_gives_the_keys_under_each_operator() {
        let body = json!({"$set": {"name": "B", "password": "x"}, "$unset": {"phone": true},
            "$push": {"roles": "admin"}});
        assert_eq!(
            of_json(&body),
            ["$set.name", "$set.password", "$unset.phone", "$push.roles"]
        );
    }

    #[test]
    fn an_array_body_gives_the_keys_of_its_objects_once() {
        let body = json!([{"filter": {"_id": "a"}, "stateTo": "TRASH"},
            {"filter": {"_id": "b"}, "stateTo": "PUBLIC"}, 3, "x"]);
        assert_eq!(of_json(&body), ["filter", "stateTo"]);
    }

    #[test]
    fn scalars_have_no_names() {
        for body in [json!(null), json!(1), json!("password"), json!(true)] {
            assert!(of_json(&body).is_empty(), "{body}");
        }
    }

    #[test]
    fn a_form_gives_its_names() {
        let names = of_form(b"grant_type=password&username=ann&password=hunter2&username=again");
        assert_eq!(names, ["grant_type", "username", "password"]);
    }

    #[test]
    fn names_are_bounded_in_count_and_length() {
        let many: serde_json::Map<String, Value> = (0..500).map(|i| (format!("f{i}"), json!(i))).collect();
        let names = of_json(&Value::Object(many));
        assert_eq!(names.len(), MAX_FIELDS + 1);
        assert_eq!(names.last().map(String::as_str), Some("…"));
        let long = "é".repeat(MAX_NAME_BYTES);
        let names = of_json(&json!({ long.clone(): 1 }));
        assert!(names[0].len() <= MAX_NAME_BYTES && long.starts_with(&names[0]));
    }
}
