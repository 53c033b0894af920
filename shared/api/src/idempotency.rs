//! `Idempotency-Key` for any POST that must not happen twice (a report created, a message sent), after AWS
//! Powertools: one conditional write claims the key; a retry with the same body gets the first answer again, with
//! another body 422, while the first is still running 409. Failed requests are not remembered, so a corrected retry
//! with the same key may succeed.

use std::future::Future;

use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use domain::app::{App, AppError};
use domain::idempotency::{Claim, IdempotencyRecord, IdempotencyState};

use crate::auth::Caller;
use crate::error::ApiError;

/// How long a claimed key stays locked if its request dies half-way (the API function times out well before), and
/// how long an answer is replayed.
const LOCK_SECONDS: i64 = 30;
const KEEP_HOURS: i64 = 24;

/// `Idempotency-Key`: 1 to 255 visible ASCII characters.
fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else { return Ok(None) };
    raw.to_str()
        .ok()
        .filter(|v| (1..=255).contains(&v.len()) && v.chars().all(|c| c.is_ascii_graphic()))
        .map(|v| Some(v.to_owned()))
        .ok_or(ApiError::BadJson {
            field: "Idempotency-Key".into(),
            problem: "must be 1 to 255 visible ASCII characters",
        })
}

/// Runs `operation` at most once per (`scope`, caller, key) and gives its answer as (status, JSON text, replayed).
/// Without an `Idempotency-Key` header it just runs. The key is stored only as a keyed hash, scoped to the caller.
pub(crate) async fn once(
    app: &App,
    scope: &str,
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
    operation: impl Future<Output = Result<(StatusCode, String), ApiError>>,
) -> Result<(StatusCode, String, bool), ApiError> {
    let Some(key) = key_of(headers)? else {
        return operation.await.map(|(status, text)| (status, text, false));
    };
    let now = app.clock.now();
    let record_key = app.hasher.opaque(&format!("idem-{scope}"), &format!("{}\n{key}", caller.subject));
    let record = IdempotencyRecord {
        key: record_key.clone(),
        payload_hash: app.hasher.opaque("idem-body", &String::from_utf8_lossy(body)).as_str().to_owned(),
        state: IdempotencyState::InProgress { lock_expires_at: now + Duration::seconds(LOCK_SECONDS) },
        expires_at: now + Duration::hours(KEEP_HOURS),
    };
    match app.idempotency.claim(&record, now).await.map_err(AppError::from)? {
        Claim::Acquired => match operation.await {
            Ok((status, text)) => {
                let stored = format!("{}\n{text}", status.as_u16());
                app.idempotency.complete(&record_key, &stored, record.expires_at).await.map_err(AppError::from)?;
                Ok((status, text, false))
            }
            Err(e) => {
                if let Err(release) = app.idempotency.release(&record_key).await {
                    tracing::warn!(error = %release, "could not release an idempotency key");
                }
                Err(e)
            }
        },
        Claim::Completed { response } => {
            let (status, text) = response.split_once('\n').unwrap_or(("200", response.as_str()));
            let status =
                status.parse::<u16>().ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
            Ok((status, text.to_owned(), true))
        }
        Claim::PayloadMismatch => Err(ApiError::IdempotencyConflict("payload")),
        Claim::InProgress => Err(ApiError::IdempotencyConflict("in progress")),
    }
}

/// An answer given again for a retried key says so (`Idempotent-Replayed: true`), as Stripe's API does.
pub(crate) fn marked(mut response: axum::response::Response, replayed: bool) -> axum::response::Response {
    if replayed {
        response.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    response
}
