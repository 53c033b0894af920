//! The local stand-in for API Gateway's JWT authorizer: `hersys serve` verifies bearer tokens (HS256, with a key
//! kept in the data dir) and `hersys token` mints development tokens with the same key.

use std::path::Path;

use api::{Caller, ClaimsError, Role};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clap::builder::{PossibleValuesParser, TypedValueParser};
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

/// The signing key's file in the data dir.
const KEY_FILE: &str = "jwt.key";

/// The signing key: `DATA_DIR/jwt.key`, made on first use (by whichever process comes first).
fn key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    crate::setup::read_or_create_key(&data_dir.join(KEY_FILE))
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

/// `--role`'s values: the roles of [`Role::ALL`] spelt as in the `role` claim. clap lists them in `--help` and in the
/// error for any other value, so the list of roles stays the one in `api`.
pub fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.map(Role::as_str))
        .try_map(|name: String| Role::parse(&name).ok_or("not one of the roles"))
}

/// `hersys token`: a development token for a role (and a health centre), signed with the key of the server whose
/// data dir is `data_dir`.
pub fn mint(
    data_dir: &Path,
    role: Role,
    health_center: Option<&str>,
    subject: &str,
    hours: i64,
) -> anyhow::Result<String> {
    // Refuse what the server would refuse, naming the flags, rather than mint a useless token.
    match (role, health_center) {
        (Role::HealthCenter, None) => anyhow::bail!("--health-center is required for --role health_center"),
        (Role::HealthCenter, Some(_)) | (_, None) => {}
        (other, Some(_)) => anyhow::bail!(
            "--health-center goes with --role health_center only; --role {} takes no health centre",
            other.as_str()
        ),
    }
    let caller = Caller::from_claims(|name| match name {
        "sub" => Some(subject.to_owned()),
        "role" => Some(role.as_str().to_owned()),
        "health_center_code" => health_center.map(str::to_owned),
        _ => None,
    })
    .map_err(|e| anyhow::anyhow!(in_flags(&e)))?;
    // The key is the server's: `hersys serve` makes it in its data dir before it says where it listens, with
    // `--aws` too (the data dir then holds keys and no store). A directory with neither that key nor a store is no
    // server's, and a key made there would sign tokens every server refuses.
    if !data_dir.join(KEY_FILE).is_file() {
        crate::setup::existing_store(data_dir)?;
    }
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

/// A claim the server would refuse, told in terms of the flag that gave it.
fn in_flags(error: &ClaimsError) -> String {
    match error {
        ClaimsError::Missing("sub") | ClaimsError::Invalid("sub") => "--subject must not be empty".to_owned(),
        ClaimsError::Invalid("health_center_code") => {
            "--health-center must be a health centre's code: 4 to 6 digits".to_owned()
        }
        // `--role` was parsed from the list of roles and `--health-center` checked against it above.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(role: Role, health_center: Option<&str>, subject: &str) -> String {
        let dir = std::env::temp_dir().join("hersys-token-refusals-never-created");
        let refused = match mint(&dir, role, health_center, subject, 1) {
            Ok(_) => panic!("minted a token for {role:?}, {health_center:?}, {subject:?}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(!dir.exists(), "a refused token creates nothing");
        refused
    }

    #[test]
    fn refusals_name_the_flags() {
        assert_eq!(refusal(Role::HealthCenter, None, "u"), "--health-center is required for --role health_center");
        assert_eq!(
            refusal(Role::Quarantine, Some("131016"), "u"),
            "--health-center goes with --role health_center only; --role quarantine takes no health centre"
        );
        assert_eq!(
            refusal(Role::HealthCenter, Some("13-1016"), "u"),
            "--health-center must be a health centre's code: 4 to 6 digits"
        );
        assert_eq!(refusal(Role::Analyst, None, ""), "--subject must not be empty");
    }

    #[test]
    fn the_role_flag_takes_the_claims_spelling_of_every_role() {
        let parser = role_parser();
        let command = clap::Command::new("token");
        for role in Role::ALL {
            let parsed = parser.parse_ref(&command, None, std::ffi::OsStr::new(role.as_str()));
            assert_eq!(parsed.ok(), Some(role));
        }
        assert!(parser.parse_ref(&command, None, std::ffi::OsStr::new("admin")).is_err());
    }
}
