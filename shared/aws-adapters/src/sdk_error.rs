//! SDK failures reduced to what may be logged and returned: the operation and the service's error code, or the kind
//! of transport failure. Service messages are dropped on purpose: services echo request values in them (a DynamoDB
//! `ValidationException` can quote a key, SES an address).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// A failure as the adapters see it.
pub(crate) struct Failure {
    /// `"<operation>: <code or kind>"`, free of request values.
    pub text: String,
    /// Worth retrying later: throttling, a 5xx answer, or no answer at all.
    pub transient: bool,
}

/// Error codes that mean "slow down" rather than "no" (they come back as 400 answers).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "KMSThrottlingException",
    "SlowDown",
];

pub(crate) fn describe<E: ProvideErrorMetadata>(operation: &str, error: &SdkError<E, HttpResponse>) -> Failure {
    let (kind, transient) = match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("unknown service error");
            let transient = status >= 500 || status == 429 || THROTTLING.contains(&code);
            (code.to_owned(), transient)
        }
        SdkError::TimeoutError(_) => ("timeout".to_owned(), true),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => ("timeout while sending".to_owned(), true),
        SdkError::DispatchFailure(failure) if failure.is_io() => ("connection failed".to_owned(), true),
        SdkError::DispatchFailure(_) => ("request not sent".to_owned(), true),
        SdkError::ResponseError(_) => ("unreadable response".to_owned(), true),
        // Construction failures are our bug (a missing required field), not the service's mood.
        SdkError::ConstructionFailure(_) => ("request could not be built".to_owned(), false),
        _ => ("unknown SDK error".to_owned(), true),
    };
    Failure { text: format!("{operation}: {kind}"), transient }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_s3::primitives::SdkBody;

    use super::*;

    fn service_error(status: u16, code: &str) -> SdkError<PutItemError, HttpResponse> {
        // Services quote request values in messages, as DynamoDB does for invalid keys.
        let meta = ErrorMetadata::builder().code(code).message("invalid key value TZ1234567").build();
        SdkError::service_error(
            PutItemError::generic(meta),
            HttpResponse::new(status.try_into().unwrap(), SdkBody::empty()),
        )
    }

    #[test]
    fn only_the_operation_and_the_code_are_kept() {
        let failure = describe("PutItem", &service_error(400, "ValidationException"));
        assert_eq!(failure.text, "PutItem: ValidationException");
        assert!(!failure.transient);
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        for (status, code) in [
            (400, "ThrottlingException"),
            (400, "ProvisionedThroughputExceededException"),
            (500, "InternalServerError"),
            (503, "ServiceUnavailable"),
        ] {
            assert!(describe("PutItem", &service_error(status, code)).transient, "{status} {code}");
        }
    }
}
