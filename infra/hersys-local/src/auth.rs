//! The local stand-in for API Gateway's JWT authorizer: `hersys serve` verifies bearer tokens (HS256, with a key
//! kept in the data dir) and `hersys token` mints development tokens with the same key.

use std::path::Path;

use api::Caller;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "hersys-local";
const AUDIENCE: &str = "hersys";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    health_center_code: Option<String>,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// The signing key: `DATA_DIR/jwt.key`, made on first use (by whichever process comes first).
fn key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    crate::setup::read_or_create_key(&data_dir.join("jwt.key"))
}

/// Verifies bearer tokens and puts the [`Caller`] into the request.
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl Verifier {
    pub fn new(data_dir: &Path) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Ok(Self { key: DecodingKey::from_secret(&key(data_dir)?), validation })
    }

    fn caller(&self, token: &str) -> Option<Caller> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).ok()?.claims;
        Caller::from_claims(|name| match name {
            "sub" => Some(claims.sub.clone()),
            "role" => Some(claims.role.clone()),
            "health_center_code" => claims.health_center_code.clone(),
            _ => None,
        })
        .ok()
    }
}

/// Like API Gateway: a request without a token goes on without a caller (routes that need one answer 401); a
/// token that does not verify is refused here.
pub async fn verify(State(verifier): State<Verifier>, mut request: Request, next: Next) -> Response {
    let bearer = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if let Some(token) = bearer {
        match verifier.caller(&token) {
            Some(caller) => {
                request.extensions_mut().insert(caller);
            }
            None => return api::ApiError::Unauthenticated.into_response(),
        }
    }
    next.run(request).await
}

/// `hersys token`: a development token for a role (and a health centre).
pub fn mint(
    data_dir: &Path,
    role: &str,
    health_center: Option<&str>,
    subject: &str,
    hours: i64,
) -> anyhow::Result<String> {
    // Refuse what the server would refuse, with the reason, rather than mint a useless token.
    let caller = Caller::from_claims(|name| match name {
        "sub" => Some(subject.to_owned()),
        "role" => Some(role.to_owned()),
        "health_center_code" => health_center.map(str::to_owned),
        _ => None,
    })?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: caller.subject,
        role: caller.role.as_str().to_owned(),
        health_center_code: caller.health_center,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        exp: now + hours * 3600,
    };
    Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&key(data_dir)?))?)
}
