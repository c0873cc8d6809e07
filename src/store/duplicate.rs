//! Unique-index violations in words. The CRUD Service forwards MongoDB's text
//! (`E11000 duplicate key error collection: db.users index: email_1 dup key: { email: "a@b.c" }`);
//! the store adapters answer `a user with this email already exists` instead: the field comes from
//! the index name (`email_1`, `email_1_username_1`) or else the keys of `dup key: { ... }`. The
//! collection, the index and the duplicate value never reach the caller.

/// The marker of a MongoDB duplicate-key error.
const E11000: &str = "E11000";

/// Whether an upstream text is a MongoDB duplicate-key error.
pub fn is_duplicate_key(text: &str) -> bool {
    text.contains(E11000)
}

/// What a caller reads for a duplicate of `fields` in a collection of `item`s (`user`):
/// `a user with this email already exists`, `a user with the same email and username already
/// exists`, or, with no field known, `a user with the same unique value already exists`.
pub fn in_words(item: &str, fields: &[String]) -> String {
    let article = if item.starts_with(['a', 'e', 'i', 'o']) {
        "an"
    } else {
        "a"
    };
    let names: Vec<&str> = fields
        .iter()
        .map(|f| if f == "_id" { "id" } else { f.as_str() })
        .collect();
    match names.as_slice() {
        [] => format!("{article} {item} with the same unique value already exists"),
        [one] => format!("{article} {item} with this {one} already exists"),
        [init @ .., last] => format!(
            "{article} {item} with the same {} and {last} already exists",
            init.join(", ")
        ),
    }
}

/// A duplicate-key text of the store (`E11000 ...`) in words; any other conflict text of the
/// store is worded as a duplicate of an unknown field (the CRUD Service answers 409 only for
/// duplicates, and its text may quote the value).
pub fn message_in_words(item: &str, upstream: &str) -> String {
    in_words(item, &fields_of(upstream))
}

/// The fields of the violated index: from its name (`index: email_1_username_-1`), else from
/// the keys of `dup key: { email: "..", username: ".." }`; empty when neither is readable.
pub fn fields_of(text: &str) -> Vec<String> {
    let from_index = after(text, "index: ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(index_fields);
    from_index
        .or_else(|| after(text, "dup key: {").map(dup_key_fields))
        .unwrap_or_default()
}

fn after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    text.find(marker).map(|at| &text[at + marker.len()..])
}

/// `email_1` → `[email]`; `first_name_1_age_-1` → `[first_name, age]`; `_id_` → `[_id]`; a name
/// that is not `<field>_<direction>` pairs (a custom index name) → `None`.
fn index_fields(name: &str) -> Option<Vec<String>> {
    if name == "_id_" {
        return Some(vec!["_id".to_owned()]);
    }
    let mut fields = Vec::new();
    let mut field: Vec<&str> = Vec::new();
    for part in name.split('_') {
        let is_direction = matches!(part, "1" | "-1" | "text" | "hashed" | "2d" | "2dsphere");
        if is_direction && !field.is_empty() {
            fields.push(field.join("_"));
            field.clear();
        } else {
            field.push(part);
        }
    }
    (field.is_empty() && !fields.is_empty() && fields.iter().all(|f| plausible_field(f))).then_some(fields)
}

/// The keys of the `{ key: value, ... }` text after `dup key: {`; values are skipped (quoted
/// strings may hold commas, colons and braces).
fn dup_key_fields(rest: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut key = String::new();
    let mut in_value = false;
    let mut quoted = false;
    let mut escaped = false;
    for c in rest.chars() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if in_value => quoted = true,
            '}' => break,
            ':' if !in_value => {
                let name = key.trim().to_owned();
                if plausible_field(&name) {
                    fields.push(name);
                }
                key.clear();
                in_value = true;
            }
            ',' if in_value => in_value = false,
            _ if !in_value => key.push(c),
            _ => {}
        }
    }
    fields
}

/// A field path as it may be shown: letters, digits, `_`, `-`, `.` and `$`, at most 100 bytes.
fn plausible_field(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'))
}

/// The word for one document of the collection at `path`: `/users` → `user`, `/ums-config` →
/// `group`, `/roles` → `role`; `document` when the name says nothing usable.
pub fn item_name(path: &str) -> String {
    let last = path.trim_matches('/').rsplit('/').next().unwrap_or_default();
    if last == "ums-config" {
        return "group".to_owned();
    }
    match last.strip_suffix('s') {
        Some(stem) if stem.len() > 1 && stem.chars().all(|c| c.is_ascii_alphabetic() || c == '-') => {
            stem.to_ascii_lowercase()
        }
        _ => "document".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRUD_EMAIL: &str =
        r#"E11000 duplicate key error collection: db.users index: email_1 dup key: { email: "a@b.c" }"#;

    #[test]
    fn the_crud_services_email_duplicate_says_email_and_nothing_else() {
        let words = message_in_words("user", CRUD_EMAIL);
        assert_eq!(words, "a user with this email already exists");
        assert!(is_duplicate_key(CRUD_EMAIL));
        assert!(!is_duplicate_key(&words));
    }

    #[test]
    fn fields_come_from_the_index_name_or_else_from_the_dup_key() {
        let read = |text: &str| fields_of(text);
        assert_eq!(
            read("E11000 ... index: email_1_username_-1 dup key: { }"),
            ["email", "username"]
        );
        assert_eq!(
            read("E11000 ... index: first_name_1 dup key: { first_name: 1 }"),
            ["first_name"]
        );
        assert_eq!(read("E11000 ... index: _id_ dup key: { _id: \"x\" }"), ["_id"]);
        assert_eq!(read("E11000 ... index: address.city_1 dup key"), ["address.city"]);
        assert_eq!(
            read(r#"E11000 ... index: unique_login dup key: { email: "a,b: {c}\"", username: "u" }"#),
            ["email", "username"]
        );
        assert_eq!(read("E11000 duplicate key error"), Vec::<String>::new());
        assert_eq!(
            read("E11000 ... index: my_index dup key: { : 1 }"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_message_names_one_field_several_fields_or_none() {
        let fields = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            in_words("user", &fields(&["email", "username"])),
            "a user with the same email and username already exists"
        );
        assert_eq!(
            in_words("user", &fields(&["a", "b", "c"])),
            "a user with the same a, b and c already exists"
        );
        assert_eq!(
            in_words("user", &fields(&["_id"])),
            "a user with this id already exists"
        );
        assert_eq!(
            in_words("user", &[]),
            "a user with the same unique value already exists"
        );
        assert_eq!(
            in_words("auth-token", &[]),
            "an auth-token with the same unique value already exists"
        );
        assert!(in_words("user", &[]).starts_with("a user "));
    }

    #[test]
    fn item_names_come_from_the_collection_path() {
        assert_eq!(item_name("/users"), "user");
        assert_eq!(item_name("/ums-config"), "group");
        assert_eq!(item_name("/roles"), "role");
        assert_eq!(item_name("/v2/jobs/"), "job");
        assert_eq!(item_name("/people"), "document");
        assert_eq!(item_name("/s"), "document");
    }
}
