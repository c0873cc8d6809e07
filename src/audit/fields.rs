//! The field names of a request body, for [`super::AuditRecord::fields`]: names only, never a
//! value, bounded in count and length whatever the body.

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The visitor methods accepting a boolean or a number as `$value` (the value is skipped).
macro_rules! skip_scalars {
    ($value:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// The visitor methods accepting a string or null as `$value` (the value is skipped).
macro_rules! skip_text {
    ($value:expr) => {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// At most this many names are kept (then `…` is added).
pub const MAX_FIELDS: usize = 100;

/// A longer name is cut to this many bytes (at a character boundary).
pub const MAX_NAME_BYTES: usize = 256;

/// The names of a JSON body: the top-level keys of an object, the keys under each update
/// operator (`$set.name`, `$unset.phone`), the keys of every object of an array (`[{filter,
/// stateTo}]`); other bodies have none. Also the string values of the top-level fields `wanted`
/// names (cut to [`MAX_NAME_BYTES`]). Read as the body streams by: no value is ever built, so the
/// memory is the names', whatever the body holds.
pub fn of_json(body: &[u8], wanted: &[&'static str]) -> (Vec<String>, Vec<(&'static str, String)>) {
    let mut seen = Seen {
        names: Names::default(),
        wanted,
        targets: Vec::new(),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    // A malformed body keeps what was read before the error; the route answers it.
    let _ = serde::Deserializer::deserialize_any(&mut deserializer, Top(&mut seen));
    (seen.names.0, seen.targets)
}

/// What the walk over a JSON body collects.
struct Seen<'w> {
    names: Names,
    wanted: &'w [&'static str],
    targets: Vec<(&'static str, String)>,
}

/// The body: an object (names and targets) or an array of objects (names).
struct Top<'a, 'w>(&'a mut Seen<'w>);

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON body")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        walk_object(self.0, map, true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Item(&mut *self.0))?.is_some() {}
        Ok(())
    }

    skip_scalars!(());
    skip_text!(());
}

/// One element of an array body: an object gives its names, anything else is skipped.
struct Item<'a, 'w>(&'a mut Seen<'w>);

impl<'de> DeserializeSeed<'de> for Item<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(ItemVisitor(self.0))
    }
}

struct ItemVisitor<'a, 'w>(&'a mut Seen<'w>);

impl<'de> Visitor<'de> for ItemVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array element")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        walk_object(self.0, map, false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    skip_scalars!(());
    skip_text!(());
}

/// The keys of an object (the keys under an operator's object as `$op.key`); at the top level,
/// the string values of the wanted keys too.
fn walk_object<'de, A: MapAccess<'de>>(seen: &mut Seen<'_>, mut map: A, top: bool) -> Result<(), A::Error> {
    while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
        if key.starts_with('$') {
            let inner = map.next_value::<OperatorKeys>()?;
            match inner.0 {
                Some(keys) => keys.iter().for_each(|k| seen.names.push(&format!("{key}.{k}"))),
                None => seen.names.push(&key),
            }
            continue;
        }
        seen.names.push(&key);
        let wanted = seen.wanted.iter().find(|w| top && **w == key.as_ref());
        match wanted {
            Some(name) => {
                if let Some(text) = map.next_value::<StrOrSkip>()?.0 {
                    seen.targets.push((name, bounded(&text)));
                }
            }
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

/// The keys of an operator's object (at most [`MAX_FIELDS`] + 1 kept), or `None` when the
/// value is not an object.
struct OperatorKeys(Option<Vec<String>>);

impl<'de> Deserialize<'de> for OperatorKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = OperatorKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an operator's value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OperatorKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    map.next_value::<IgnoredAny>()?;
                    if keys.len() <= MAX_FIELDS {
                        keys.push(cut(&key).to_owned());
                    }
                }
                Ok(OperatorKeys(Some(keys)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OperatorKeys, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(OperatorKeys(None))
            }
            skip_scalars!(OperatorKeys(None));
            skip_text!(OperatorKeys(None));
        }
        deserializer.deserialize_any(Keys)
    }
}

/// A string value, or `None` for any other value (skipped without being built).
struct StrOrSkip(Option<String>);

impl<'de> Deserialize<'de> for StrOrSkip {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Str;
        impl<'de> Visitor<'de> for Str {
            type Value = StrOrSkip;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_str<E>(self, text: &str) -> Result<StrOrSkip, E> {
                Ok(StrOrSkip(Some(bounded(text))))
            }
            fn visit_unit<E>(self) -> Result<StrOrSkip, E> {
                Ok(StrOrSkip(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrOrSkip, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StrOrSkip(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrOrSkip, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StrOrSkip(None))
            }
            skip_scalars!(StrOrSkip(None));
        }
        deserializer.deserialize_any(Str)
    }
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
    use serde_json::Value;

    /// The names of `body`, read from its text.
    fn names(body: &Value) -> Vec<String> {
        of_json(body.to_string().as_bytes(), &[]).0
    }

    #[test]
    fn the_wanted_top_level_strings_are_read_and_nothing_else() {
        let body = br#"{"authUserId": "auth0|1", "nested": {"authUserId": "x"}, "_id": 3, "name": "Ann"}"#;
        let (names, targets) = of_json(body, &["authUserId", "_id", "missing"]);
        assert_eq!(names, ["authUserId", "nested", "_id", "name"]);
        assert_eq!(targets, [("authUserId", "auth0|1".to_owned())]);
        let (names, targets) = of_json(br#"[{"authUserId": "a"}]"#, &["authUserId"]);
        assert_eq!((names, targets), (vec!["authUserId".to_owned()], Vec::new()));
    }

    #[test]
    fn a_malformed_body_keeps_the_names_read_before_the_error() {
        assert_eq!(of_json(br#"{"a": 1, "b": [1, 2"#, &[]).0, ["a", "b"]);
        assert!(of_json(b"not json", &[]).0.is_empty());
    }

    #[test]
    fn a_create_body_gives_its_top_level_keys_and_no_value() {
        let body = json!({"userGroup": "customer", "name": "Ann", "password": "s3cret!",
            "address": {"city": "Rome"}});
        let names = names(&body);
        assert_eq!(names, ["userGroup", "name", "password", "address"]);
        let text = names.join(",");
        assert!(!text.contains("s3cret") && !text.contains("Rome") && !text.contains("city"));
    }

    #[test]
    fn an_update_gives_the_keys_under_each_operator() {
        let body = json!({"$set": {"name": "B", "password": "x"}, "$unset": {"phone": true},
            "$push": {"roles": "admin"}});
        assert_eq!(
            names(&body),
            ["$set.name", "$set.password", "$unset.phone", "$push.roles"]
        );
    }

    #[test]
    fn an_array_body_gives_the_keys_of_its_objects_once() {
        let body = json!([{"filter": {"_id": "a"}, "stateTo": "TRASH"},
            {"filter": {"_id": "b"}, "stateTo": "PUBLIC"}, 3, "x"]);
        assert_eq!(names(&body), ["filter", "stateTo"]);
    }

    #[test]
    fn scalars_have_no_names() {
        for body in [json!(null), json!(1), json!("password"), json!(true)] {
            assert!(names(&body).is_empty(), "{body}");
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
        let found = names(&Value::Object(many));
        assert_eq!(found.len(), MAX_FIELDS + 1);
        assert_eq!(found.last().map(String::as_str), Some("…"));
        let long = "é".repeat(MAX_NAME_BYTES);
        let found = names(&json!({ long.clone(): 1 }));
        assert!(found[0].len() <= MAX_NAME_BYTES && long.starts_with(&found[0]));
    }
}
