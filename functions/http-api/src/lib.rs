//! The HTTP API function: the shared HTTP router behind API Gateway, whose JWT authorizer has verified the
//! token before the function runs.

use api::{Caller, ClaimsError};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::app::App;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// The service `lambda_http` runs; `hersys invoke http-api` runs the same one on an event file.
pub fn service(app: App) -> axum::Router {
    // The claims' check inside the request id's layer, so that its refusal carries an x-request-id as well.
    api::with_request_id(api::routes(app).layer(axum::middleware::from_fn(caller_from_authorizer)))
}

/// The claims API Gateway's JWT authorizer verified, as a [`Caller`]. Requests without them (the health route is
/// the only one API Gateway lets through unauthenticated) go on without a caller, and routes that need one answer
/// 401.
async fn caller_from_authorizer(mut request: Request, next: Next) -> Response {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|jwt| jwt.claims.clone())
        }
        _ => None,
    };
    if let Some(claims) = claims {
        match Caller::from_claims(|name| claims.get(name).cloned()) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
            }
            Err(e) => return refuse(e),
        }
    }
    next.run(request).await
}

fn refuse(e: ClaimsError) -> Response {
    tracing::warn!(error = %e, "token claims refused");
    api::ApiError::Unauthenticated.into_response()
}
