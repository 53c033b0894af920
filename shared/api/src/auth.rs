//! Who is calling. The identity is established before the router: in AWS by API Gateway's JWT authorizer (the
//! `http-api` function turns the verified claims into a [`Caller`]), locally by `hersys serve`, which verifies tokens
//! itself. Handlers only read the [`Caller`] and check roles and tenancy.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The roles of the product. Each route states which it admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A health centre (or a hospital filing for it): its own reports only.
    HealthCenter,
    /// The quarantine system: posts entry records.
    Quarantine,
    /// The entrants' follow-up system (ERFS): posts follow-up records.
    FollowUp,
    /// The contact app's backend: redeems processing numbers.
    AppBackend,
    /// Ministry analysts: linkage statistics and exports.
    Analyst,
    /// Operators: settings and operational statistics.
    Operator,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::HealthCenter, Role::Quarantine, Role::FollowUp, Role::AppBackend, Role::Analyst, Role::Operator];

    /// The spelling in the `role` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::HealthCenter => "health_center",
            Role::Quarantine => "quarantine",
            Role::FollowUp => "follow_up",
            Role::AppBackend => "app_backend",
            Role::Analyst => "analyst",
            Role::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The authenticated caller, from verified token claims: `sub`, `role`, and for health centres `health_center_code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
    /// Set for the health-centre role: the tenant whose reports the caller may see and change.
    pub health_center: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    #[error("the token has no {0} claim")]
    Missing(&'static str),
    #[error("the token's {0} claim is not valid")]
    Invalid(&'static str),
}

impl Caller {
    /// Builds a caller from claims, whatever carried them (API Gateway's authorizer context or a local token).
    pub fn from_claims(claim: impl Fn(&str) -> Option<String>) -> Result<Caller, ClaimsError> {
        let subject = claim("sub").filter(|s| !s.is_empty()).ok_or(ClaimsError::Missing("sub"))?;
        let role = claim("role").ok_or(ClaimsError::Missing("role"))?;
        let role = Role::parse(&role).ok_or(ClaimsError::Invalid("role"))?;
        let health_center = claim("health_center_code").filter(|s| !s.is_empty());
        if role == Role::HealthCenter {
            let code = health_center.as_deref().ok_or(ClaimsError::Missing("health_center_code"))?;
            if !(4..=6).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_digit()) {
                return Err(ClaimsError::Invalid("health_center_code"));
            }
        }
        Ok(Caller { subject, role, health_center })
    }

    /// Refuses (403) a caller whose role is not among `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// Whether a health-centre caller may touch a report of `health_center_code`. Other roles never may.
    pub fn owns(&self, health_center_code: &str) -> bool {
        self.role == Role::HealthCenter && self.health_center.as_deref() == Some(health_center_code)
    }
}

/// The identity layer inserts a `Caller` into the request's extensions; no caller there means 401.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or(ApiError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn a_health_centre_needs_its_code() {
        let c =
            Caller::from_claims(claims(&[("sub", "u1"), ("role", "health_center"), ("health_center_code", "131016")]))
                .unwrap();
        assert!(c.owns("131016"));
        assert!(!c.owns("440001"));
        assert_eq!(
            Caller::from_claims(claims(&[("sub", "u1"), ("role", "health_center")])),
            Err(ClaimsError::Missing("health_center_code"))
        );
        assert_eq!(Caller::from_claims(claims(&[("sub", "u1"), ("role", "admin")])), Err(ClaimsError::Invalid("role")));
    }

    #[test]
    fn other_roles_own_no_reports() {
        let c = Caller::from_claims(claims(&[("sub", "q"), ("role", "quarantine"), ("health_center_code", "131016")]))
            .unwrap();
        assert!(!c.owns("131016"));
        assert!(c.require(&[Role::Quarantine]).is_ok());
        assert!(c.require(&[Role::HealthCenter]).is_err());
    }
}
