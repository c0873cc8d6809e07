//! Bulk activation in local mode: the import records (`user_id`, `email`, `username`, `blocked`)
//! become credentials at once, without a password (an unusable hash: the users must reset it).
//! The outcome is stored as a completed job document, so `import_status` and `import_errors`
//! answer like a provider job that finished immediately.

use serde_json::{json, Value};

use super::credentials::{normalize_email, Credential, EMAIL_TAKEN, USERNAME_TAKEN};
use super::{invalid, not_found, password, LocalAuth};
use crate::auth::AuthError;
use crate::auth::{
    AuthResult, AuthUser, ImportErrorDetail, ImportFailure, ImportJob, ImportJobState, ImportSummary,
};
use crate::context::CallContext;
use crate::store::StoreError;
use crate::store::{DocState, Filter};

/// What one record led to.
enum Outcome {
    Inserted,
    Updated,
    Failed(ImportFailure),
}

fn failure(record: &Value, code: &str, message: impl Into<String>) -> Outcome {
    let text = |key: &str| record.get(key).and_then(Value::as_str).map(str::to_owned);
    Outcome::Failed(ImportFailure {
        user_id: text("user_id"),
        email: text("email"),
        errors: vec![ImportErrorDetail {
            code: code.to_owned(),
            message: message.into(),
        }],
    })
}

impl LocalAuth {
    /// `start_import`: creates (or, with `upsert`, updates) the credentials of every record.
    pub(super) async fn import(
        &self,
        ctx: &CallContext,
        users_json: &[u8],
        upsert: bool,
    ) -> AuthResult<ImportJob> {
        let Ok(Value::Array(records)) = serde_json::from_slice::<Value>(users_json) else {
            return Err(invalid("the users file must be a JSON array of users"));
        };
        let mut summary = ImportSummary {
            total: records.len() as u64,
            ..ImportSummary::default()
        };
        let mut failures = Vec::new();
        for record in &records {
            match self.import_record(ctx, record, upsert).await? {
                Outcome::Inserted => summary.inserted += 1,
                Outcome::Updated => summary.updated += 1,
                Outcome::Failed(failed) => {
                    summary.failed += 1;
                    failures.push(failed);
                }
            }
        }
        let job = json!({
            "kind": "import",
            "status": ImportJobState::Completed,
            "upsert": upsert,
            "summary": summary,
            "failures": failures,
            "__STATE__": DocState::Public.as_str(),
        });
        let id = self.config.tokens.insert(ctx, &job).await?;
        Ok(ImportJob {
            id,
            state: ImportJobState::Completed,
            summary: Some(summary),
        })
    }

    /// One record; store failures abort the import (the job retries the file).
    async fn import_record(&self, ctx: &CallContext, record: &Value, upsert: bool) -> AuthResult<Outcome> {
        let text = |key: &str| record.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
        let (Some(id), Some(email)) = (text("user_id"), text("email")) else {
            return Ok(failure(record, "FORMAT", "a user needs a user_id and an email"));
        };
        let user = Credential::new(
            id.to_owned(),
            Some(normalize_email(email)),
            text("username").map(str::to_owned),
            record.get("blocked").and_then(Value::as_bool).unwrap_or(false),
        )
        .auth_user();
        let existing = self.credential(ctx, id).await?;
        if existing.is_some() && !upsert {
            return Ok(failure(record, "DUPLICATED_USER", "The user already exist."));
        }
        let unique = self
            .ensure_unique(ctx, id, user.email.as_deref(), user.username.as_deref())
            .await;
        match unique {
            Ok(()) => {}
            Err(e) => match e {
                AuthError::Conflict(message) if message == EMAIL_TAKEN => {
                    return Ok(failure(record, "CONFLICT_EMAIL", message))
                }
                AuthError::Conflict(message) if message == USERNAME_TAKEN => {
                    return Ok(failure(record, "CONFLICT_USERNAME", message))
                }
                _ => return Err(e),
            },
        }
        match existing {
            Some(current) => self.import_update(ctx, &current, &user, record).await,
            None => match self.insert_credential(ctx, &user, password::UNUSABLE_HASH).await {
                Ok(()) => Ok(Outcome::Inserted),
                Err(e) => match e {
                    AuthError::Conflict(message) => Ok(failure(record, "DUPLICATED_USER", message)),
                    _ => Err(e),
                },
            },
        }
    }

    /// Upsert of an existing user: email, username and blocked; the password is kept.
    async fn import_update(
        &self,
        ctx: &CallContext,
        current: &Credential,
        user: &AuthUser,
        record: &Value,
    ) -> AuthResult<Outcome> {
        let mut set = serde_json::Map::new();
        set.insert("email".into(), user.email.clone().into());
        set.insert("blocked".into(), user.blocked.into());
        if let Some(username) = &user.username {
            set.insert("username".into(), username.clone().into());
        }
        // Blocking revokes the user's tokens, as `update_user` does.
        let blocks = user.blocked && !current.blocked;
        let update = if blocks {
            json!({ "$set": set, "$inc": { "tokenGeneration": 1 } })
        } else {
            json!({ "$set": set })
        };
        match self
            .config
            .credentials
            .patch(ctx, &current.doc_id, &Filter::default(), &update)
            .await
        {
            Ok(Some(_)) if blocks => {
                self.revoke_sessions(ctx, &current.id).await?;
                Ok(Outcome::Updated)
            }
            Ok(Some(_)) => Ok(Outcome::Updated),
            Ok(None) => Ok(failure(
                record,
                "IMPORT_FAILED",
                "the user was deleted during the import",
            )),
            Err(e) => match e {
                StoreError::Conflict { .. } => Ok(failure(record, "CONFLICT_EMAIL", EMAIL_TAKEN)),
                _ => Err(e.into()),
            },
        }
    }

    /// The stored import job `job_id`.
    async fn job_doc(&self, ctx: &CallContext, job_id: &str) -> AuthResult<Value> {
        let filter = Filter {
            q: Some(json!({ "kind": "import" })),
            ..Filter::default()
        };
        match self.config.tokens.get(ctx, job_id, &filter).await {
            Ok(Some(doc)) => Ok(doc),
            // An id the store cannot even parse names no job either.
            Ok(None) | Err(StoreError::Invalid(_)) => {
                Err(not_found(format!("import job \"{job_id}\" does not exist")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `import_status`: always `completed`, with the stored summary.
    pub(super) async fn import_job(&self, ctx: &CallContext, job_id: &str) -> AuthResult<ImportJob> {
        let doc = self.job_doc(ctx, job_id).await?;
        let state = doc
            .get("status")
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .unwrap_or(ImportJobState::Completed);
        let summary = doc
            .get("summary")
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        Ok(ImportJob {
            id: job_id.to_owned(),
            state,
            summary,
        })
    }

    /// `import_errors`: the stored per-record failures.
    pub(super) async fn import_failures(
        &self,
        ctx: &CallContext,
        job_id: &str,
    ) -> AuthResult<Vec<ImportFailure>> {
        let doc = self.job_doc(ctx, job_id).await?;
        Ok(doc
            .get("failures")
            .and_then(|f| serde_json::from_value(f.clone()).ok())
            .unwrap_or_default())
    }
}
