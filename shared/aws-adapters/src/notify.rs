//! Messages to patients: SMS through SNS, e-mail through SES v2. Error texts carry the provider's error code only,
//! never the recipient or the text (which may hold a processing number).

use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::create_email_identity::CreateEmailIdentityError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sns::types::MessageAttributeValue;
use chrono::Utc;
use domain::NotifyError;
use domain::pii::{Email, PhoneNumber};
use domain::ports::{Delivery, Notifier, OutgoingMessage, Recipient};

use crate::sdk_error::describe;

#[derive(Debug, Clone)]
pub struct AwsNotifier {
    pub sns: aws_sdk_sns::Client,
    pub ses: aws_sdk_sesv2::Client,
    /// A sender identity verified in SES.
    pub from_address: String,
}

impl AwsNotifier {
    pub fn new(sns: aws_sdk_sns::Client, ses: aws_sdk_sesv2::Client, from_address: impl Into<String>) -> Self {
        Self { sns, ses, from_address: from_address.into() }
    }

    async fn send_sms(&self, to: &PhoneNumber, body: &str) -> Result<Option<String>, NotifyError> {
        // Transactional: routed for reliability rather than cost, as befits a one-hour code.
        let sms_type = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|_| NotifyError::Rejected("Publish: request could not be built".to_owned()))?;
        let out = self
            .sns
            .publish()
            .phone_number(to.expose())
            .message(body)
            .message_attributes("AWS.SNS.SMS.SMSType", sms_type)
            .send()
            .await
            .map_err(|e| notify_error("Publish", &e))?;
        Ok(out.message_id)
    }

    async fn send_email(&self, to: &Email, subject: &str, body: &str) -> Result<Option<String>, NotifyError> {
        let text = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|_| NotifyError::Rejected("SendEmail: request could not be built".to_owned()))
        };
        let message =
            Message::builder().subject(text(subject)?).body(Body::builder().text(text(body)?).build()).build();
        let out = self
            .ses
            .send_email()
            .from_email_address(&self.from_address)
            .destination(Destination::builder().to_addresses(to.expose()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| notify_error("SendEmail", &e))?;
        Ok(out.message_id)
    }
}

/// Throttling, 5xx and transport failures are worth a retry; any other refusal is final.
fn notify_error<E: ProvideErrorMetadata>(operation: &str, error: &SdkError<E, HttpResponse>) -> NotifyError {
    let failure = describe(operation, error);
    if failure.transient { NotifyError::Unavailable(failure.text) } else { NotifyError::Rejected(failure.text) }
}

#[async_trait]
impl Notifier for AwsNotifier {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, NotifyError> {
        let message_id = match &message.to {
            Recipient::Sms(phone) => self.send_sms(phone, &message.body).await?,
            Recipient::Email(email) => self.send_email(email, &message.subject, &message.body).await?,
        };
        // Both services always return an id on success; an empty one still means "accepted".
        Ok(Delivery { message_id: message_id.unwrap_or_default(), accepted_at: Utc::now() })
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, NotifyError> {
        let out = self
            .sns
            .check_if_phone_number_is_opted_out()
            .phone_number(phone.expose())
            .send()
            .await
            .map_err(|e| notify_error("CheckIfPhoneNumberIsOptedOut", &e))?;
        Ok(out.is_opted_out())
    }
}

/// Registers `address` as an SES sender identity (CreateEmailIdentity). SES (and moto) refuse to send from an
/// address until then; in AWS the owner must also click the verification link. An existing identity is fine.
pub async fn verify_sender(ses: &aws_sdk_sesv2::Client, address: &str) -> Result<(), NotifyError> {
    match ses.create_email_identity().email_identity(address).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(CreateEmailIdentityError::is_already_exists_exception) => Ok(()),
        Err(e) => Err(notify_error("CreateEmailIdentity", &e)),
    }
}
