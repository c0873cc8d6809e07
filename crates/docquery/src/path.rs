//! Dotted paths: reading one value (`get_path`) and collecting every value a filter path reaches
//! through arrays of objects, as MongoDB does.

use serde_json::Value;

/// Reads a dotted path (`address.city`) of `doc`. A numeric segment indexes an array
/// (`roles.0`); arrays are not traversed implicitly.
pub fn get_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |v, k| match v {
        Value::Array(items) => k.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => v.get(k),
    })
}

/// Every value the dotted `path` reaches in `doc`, MongoDB style: an array met before the last
/// segment is traversed element by element (objects only) unless the segment is a numeric index.
/// `None` stands for a branch where the field is missing; the result is never empty.
pub(crate) fn resolve<'a>(doc: &'a Value, path: &str) -> Vec<Option<&'a Value>> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    collect(doc, &segs, &mut out);
    out
}

fn collect<'a>(v: &'a Value, segs: &[&str], out: &mut Vec<Option<&'a Value>>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(Some(v));
        return;
    };
    match v {
        Value::Object(m) => match m.get(*first) {
            Some(child) => collect(child, rest, out),
            None => out.push(None),
        },
        Value::Array(items) => {
            if let Ok(i) = first.parse::<usize>() {
                match items.get(i) {
                    Some(child) => collect(child, rest, out),
                    None => out.push(None),
                }
                return;
            }
            let before = out.len();
            for item in items.iter().filter(|item| item.is_object()) {
                collect(item, segs, out);
            }
            if out.len() == before {
                out.push(None);
            }
        }
        _ => out.push(None),
    }
}

/// Removes the dotted `path` from `doc` (an exclusion projection); arrays are not traversed and a
/// missing path changes nothing.
pub fn remove_path(doc: &mut Value, path: &str) {
    match path.split_once('.') {
        None => {
            if let Some(obj) = doc.as_object_mut() {
                obj.shift_remove(path);
            }
        }
        Some((head, rest)) => {
            if let Some(child) = doc.get_mut(head) {
                remove_path(child, rest);
            }
        }
    }
}
