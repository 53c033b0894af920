//! The HMAC key from Secrets Manager, read once per cold start. Fetched at run time rather than resolved into the
//! function's environment at deploy time, so that it is not part of the function configuration (which anyone allowed
//! `lambda:GetFunctionConfiguration` can read).

use crate::sdk_error::describe;

/// The value of a secret (its string, or its binary). Errors carry the SDK error code only, never the secret's id
/// or value.
pub async fn fetch_secret(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<Vec<u8>, String> {
    let out =
        client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| describe("GetSecretValue", &e).text)?;
    if let Some(text) = out.secret_string() {
        return Ok(text.as_bytes().to_vec());
    }
    out.secret_binary().map(|b| b.as_ref().to_vec()).ok_or_else(|| "GetSecretValue: the secret has no value".to_owned())
}
