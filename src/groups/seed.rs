//! Group schemas shipped as files: every `*.json` of `GROUPS_CONFIG_DIR` (one group each:
//! `userGroup`, `crudSchema`, `label`, `authUserCreationDisabled`, `scopes`) is inserted into the
//! group-config collection at startup (embedded mode) when no group of that name is stored. A
//! stored group is never overwritten: one that differs from its file is kept, with a warning
//! saying how to apply the file. A bad file is skipped with a warning.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::admin::check_group;
use crate::config::InputLimits;
use crate::context::CallContext;
use crate::store::StoreError;
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter};

/// What loading a directory did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Groups inserted.
    pub inserted: Vec<String>,
    /// Groups already stored as their file says.
    pub unchanged: Vec<String>,
    /// Groups stored with a content that differs from their file: kept, the file not applied.
    pub kept: Vec<String>,
    /// Files skipped, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// Inserts every group file of `dir` whose `userGroup` is not in `groups` (in any state); a
/// file whose `crudSchema` does not compile under `limits` is skipped.
pub async fn seed_from_dir(
    groups: &dyn Collection,
    ctx: &CallContext,
    dir: &Path,
    limits: &InputLimits,
) -> Result<SeedReport, StoreError> {
    let mut report = SeedReport::default();
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => {
            report.skipped.push((
                dir.display().to_string(),
                format!("cannot read the directory: {e}"),
            ));
            return Ok(report);
        }
    };
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    for file in files {
        let name = file.display().to_string();
        match read_group(&file, limits) {
            Ok(doc) => insert_missing(groups, ctx, doc, &name, &mut report).await?,
            Err(reason) => {
                tracing::warn!(file = %name, reason = %reason, "group file skipped");
                report.skipped.push((name, reason));
            }
        }
    }
    Ok(report)
}

fn read_group(file: &Path, limits: &InputLimits) -> Result<Map<String, Value>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let Value::Object(doc) = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))? else {
        return Err("not a JSON object".into());
    };
    check_group(&doc, limits).map_err(|e| e.to_string())?;
    Ok(doc)
}

/// A group document without the fields the store adds, to compare it with its file.
fn content(doc: &Map<String, Value>) -> Map<String, Value> {
    doc.iter()
        .filter(|(key, _)| !super::admin::STANDARD_FIELDS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

async fn insert_missing(
    groups: &dyn Collection,
    ctx: &CallContext,
    mut doc: Map<String, Value>,
    file: &str,
    report: &mut SeedReport,
) -> Result<(), StoreError> {
    let name = doc
        .get("userGroup")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let query = FindQuery {
        filter: Filter {
            q: Some(json!({ "userGroup": name })),
            state: Some(StateFilter(vec![
                DocState::Public,
                DocState::Draft,
                DocState::Trash,
                DocState::Deleted,
            ])),
            ..Filter::default()
        },
        limit: Some(1),
        ..FindQuery::default()
    };
    let existing = groups.find(ctx, &query).await?;
    match existing.first().and_then(Value::as_object) {
        Some(stored) if content(stored) == content(&doc) => report.unchanged.push(name),
        Some(stored) => {
            let id = stored.get("_id").and_then(Value::as_str).unwrap_or_default();
            tracing::warn!(
                user_group = %name,
                group_id = %id,
                file = %file,
                "group file not applied: group \"{name}\" is stored with a content that differs from {file}, \
                 and the stored group is kept (it may have been edited through /groups); to apply the file, \
                 PATCH /groups/{id} with its fields, or DELETE /groups/{id} and restart"
            );
            report.kept.push(name);
        }
        None => {
            doc.insert("__STATE__".into(), json!("PUBLIC"));
            groups.insert(ctx, &Value::Object(doc)).await?;
            report.inserted.push(name);
        }
    }
    Ok(())
}
