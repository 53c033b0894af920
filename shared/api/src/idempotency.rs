//! `Idempotency-Key` for any POST that must not happen twice (a report created, a message sent), after AWS
//! Powertools: one conditional write claims the key; a retry with the same body gets the first answer again, with
//! another body 422, while the first is still running 409. Failed requests are not remembered, so a corrected retry
//! with the same key may succeed.

use std::future::Future;

use axum::http::{HeaderMap, StatusCode};
use domain::app::App;
use domain::idempotency::Claim;

use crate::auth::Caller;
use crate::error::ApiError;

/// `Idempotency-Key`: 1 to 255 visible ASCII characters.
fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else { return Ok(None) };
    raw.to_str()
        .ok()
        .filter(|v| (1..=255).contains(&v.len()) && v.chars().all(|c| c.is_ascii_graphic()))
        .map(|v| Some(v.to_owned()))
        .ok_or_else(|| ApiError::invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters"))
}

/// Runs `operation` at most once per (`scope`, caller, key) and gives its answer as (status, JSON text, replayed).
/// Without an `Idempotency-Key` header it just runs. The key is stored only as a keyed hash, scoped to the caller
/// ([`domain::app::Idempotency`]).
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
    let (claim, claimed) = app.idempotency.claim(scope, &caller.subject, &key, body).await?;
    match claim {
        Claim::Acquired => match operation.await {
            Ok((status, text)) => {
                app.idempotency.complete(&claimed, &format!("{}\n{text}", status.as_u16())).await?;
                Ok((status, text, false))
            }
            Err(e) => {
                if let Err(release) = app.idempotency.release(&claimed).await {
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
