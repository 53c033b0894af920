//! JSON wire types: field names are snake_case and fixed, callers rely on them.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use chrono::NaiveDate;
use domain::report::{CaseReport, ReportInput, StatusChange};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A JSON body whose errors name the offending field (by JSON path) but never echo a value: serde's own messages
/// quote the input ("invalid type: string \"TZ1234567\""), which could put personal data into an answer or a log.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::BadJson { field: "body".into(), problem: "could not be read" })?;
        parse_json(&bytes).map(JsonBody)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let parent = if path == "." || path.is_empty() { None } else { Some(path) };
        // serde names a missing field in its message ("missing field `time`"); that name is ours, not input.
        let message = e.inner().to_string();
        if let Some(name) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
            let field = match parent {
                Some(p) => format!("{p}.{name}"),
                None => name.to_owned(),
            };
            return ApiError::BadJson { field, problem: "is required" };
        }
        let field = parent.unwrap_or_else(|| "body".to_owned());
        let problem = match e.inner().classify() {
            serde_json::error::Category::Data => "has the wrong type or is not a known field",
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "is not valid JSON",
            serde_json::error::Category::Io => "could not be read",
        };
        ApiError::BadJson { field, problem }
    })
}

/// `POST /v1/reports`. Every field is optional at this level so that validation can list all problems at once.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateReport {
    pub health_center_code: Option<String>,
    pub case_number: Option<String>,
    pub prefecture_code: Option<String>,
    pub municipality_code: Option<String>,
    pub case_type: Option<String>,
    pub sex: Option<String>,
    pub date_of_birth: Option<String>,
    pub name: Option<String>,
    pub name_kana: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub preferred_language: Option<String>,
    pub occupation: Option<String>,
    pub residence: Option<String>,
    pub report_date: Option<String>,
    pub diagnosis_date: Option<String>,
    pub onset_date: Option<String>,
    pub publication_date: Option<String>,
    pub diagnosis_method: Option<String>,
    pub nationality: Option<String>,
    pub entry_date: Option<String>,
    pub passport_number: Option<String>,
}

impl From<CreateReport> for ReportInput {
    fn from(b: CreateReport) -> Self {
        ReportInput {
            health_center_code: b.health_center_code,
            case_number: b.case_number,
            prefecture_code: b.prefecture_code,
            municipality_code: b.municipality_code,
            case_type: b.case_type,
            sex: b.sex,
            date_of_birth: b.date_of_birth,
            name: b.name,
            name_kana: b.name_kana,
            phone: b.phone,
            email: b.email,
            preferred_language: b.preferred_language,
            occupation: b.occupation,
            residence: b.residence,
            report_date: b.report_date,
            diagnosis_date: b.diagnosis_date,
            onset_date: b.onset_date,
            publication_date: b.publication_date,
            diagnosis_method: b.diagnosis_method,
            nationality: b.nationality,
            entry_date: b.entry_date,
            passport_number: b.passport_number,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Created {
    pub report_id: String,
    pub version: u64,
}

#[derive(Debug, Serialize)]
pub struct StatusView {
    pub status: &'static str,
    pub effective_date: NaiveDate,
}

impl From<&StatusChange> for StatusView {
    fn from(s: &StatusChange) -> Self {
        StatusView { status: s.status.as_str(), effective_date: s.effective_date }
    }
}

/// `GET /v1/reports/{id}`: the report as the health centre entered it (normalised), with its version.
#[derive(Debug, Serialize)]
pub struct ReportView {
    pub report_id: String,
    pub version: u64,
    pub health_center_code: String,
    pub case_number: Option<String>,
    pub prefecture_code: String,
    pub municipality_code: String,
    pub case_type: &'static str,
    pub sex: &'static str,
    pub date_of_birth: NaiveDate,
    pub name: String,
    pub name_kana: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub preferred_language: &'static str,
    pub occupation: Option<String>,
    pub residence: Option<String>,
    pub report_date: NaiveDate,
    pub diagnosis_date: NaiveDate,
    pub onset_date: Option<NaiveDate>,
    pub publication_date: Option<NaiveDate>,
    pub diagnosis_method: Option<&'static str>,
    pub nationality: Option<String>,
    pub entry_date: Option<NaiveDate>,
    pub passport_number: Option<String>,
    pub status_history: Vec<StatusView>,
}

impl ReportView {
    pub fn new(r: &CaseReport, version: u64) -> Self {
        ReportView {
            report_id: r.id.to_string(),
            version,
            health_center_code: r.health_center_code.clone(),
            case_number: r.case_number.clone(),
            prefecture_code: r.prefecture.as_jis(),
            municipality_code: r.municipality_code.clone(),
            case_type: r.case_type.as_str(),
            sex: r.sex.as_str(),
            date_of_birth: r.date_of_birth,
            // The health centre sees what it entered: this is the one place personal data leaves in the clear.
            name: r.name.expose().to_owned(),
            name_kana: r.name_kana.as_ref().map(|n| n.expose().to_owned()),
            phone: r.phone.as_ref().map(|p| p.expose().to_owned()),
            email: r.email.as_ref().map(|e| e.expose().to_owned()),
            preferred_language: r.preferred_language.as_str(),
            occupation: r.occupation.clone(),
            residence: r.residence.clone(),
            report_date: r.report_date,
            diagnosis_date: r.diagnosis_date,
            onset_date: r.onset_date,
            publication_date: r.publication_date,
            diagnosis_method: r.diagnosis_method.map(|m| m.as_str()),
            nationality: r.nationality.clone(),
            entry_date: r.entry_date,
            passport_number: r.passport_number.as_ref().map(|p| p.expose().to_owned()),
            status_history: r.status_history.iter().map(StatusView::from).collect(),
        }
    }
}
