//! Stored linkage decisions: which entry record a report was linked to, how sure, by which method, and
//! the health centre's review of the doubtful ones; and the stored summary statistics of the last run.
//!
//! Architecture invariant: a decision holds ids, a score and field names, never a personal value.

use serde::{Deserialize, Serialize};

use crate::linkage_statistics::follow_up::FollowUpSummary;
use crate::linkage_statistics::{DaysRow, EntrantsRow, PrefectureRow, ShareWithInterval};
use crate::report::ReportId;
use crate::time::Instant;

/// Which side of the thresholds a decision fell on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkBand {
    /// Above the upper threshold (or an exact keyed-hash match): linked without review.
    Link,
    /// Between the thresholds: waits for the health centre.
    Review,
}

impl LinkBand {
    /// The band's name in every view (the API, `hersys links`, the files): `link` or `review`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkBand::Link => "link",
            LinkBand::Review => "review",
        }
    }
}

/// The health centre's answer to a review-band decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Pending,
    Confirmed,
    Rejected,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Confirmed => "confirmed",
            ReviewStatus::Rejected => "rejected",
        }
    }
}

/// Who answered a review and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub status: ReviewStatus,
    /// The reviewer's subject (user id from the token), not a name.
    pub by: Option<String>,
    pub at: Option<Instant>,
    /// For a confirmation: the candidate entry the reviewer picked (one of the decision's `candidates`).
    #[serde(default)]
    pub entry_id: Option<String>,
}

/// One entry record a review offers, with how it scored: an id, a score and field names, no values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewCandidate {
    pub entry_id: String,
    pub score: f64,
    pub method: String,
    pub agreeing_fields: Vec<String>,
}

/// The linkage's decision for one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkDecision {
    pub report_id: ReportId,
    /// The report's health centre: whose review queue a review-band decision is in.
    pub health_center_code: String,
    /// The quarantine system's entry id (not personal data).
    pub entry_id: String,
    /// Fellegi-Sunter score in bits (log2 odds); exact keyed-hash matches carry the exact step's score.
    pub score: f64,
    pub band: LinkBand,
    /// e.g. `exact_passport_hash` or `fellegi_sunter:passport,date_of_birth,name`.
    pub method: String,
    /// The names of the compared fields that agreed (never their values).
    pub agreeing_fields: Vec<String>,
    pub decided_at: Instant,
    /// `None` for links; the review's state for review-band decisions.
    pub review: Option<Review>,
    /// For a review: up to three candidate entries, best first, the decision's own entry among them (the first).
    /// Empty for links and for reviews stored before candidates were kept (their one candidate is `entry_id`).
    #[serde(default)]
    pub candidates: Vec<ReviewCandidate>,
    /// The version of the stored model the scheduled run scored with ([`StoredModel::version`]); `None` for the
    /// exact step's links and for decisions stored before models were versioned.
    #[serde(default)]
    pub model_version: Option<String>,
}

impl LinkDecision {
    /// Confirmed or rejected: a later run never replaces it.
    pub fn is_reviewed(&self) -> bool {
        self.review.as_ref().is_some_and(|r| r.status != ReviewStatus::Pending)
    }

    /// Waiting in the health centre's review queue.
    pub fn is_pending(&self) -> bool {
        self.review.as_ref().is_some_and(|r| r.status == ReviewStatus::Pending)
    }

    /// What the decision stands for now, the one vocabulary of every view: `Link` for a link or a review a
    /// health centre confirmed, `Review` for a pending review, `None` for a rejected one (it links nothing).
    pub fn standing(&self) -> Option<LinkBand> {
        match self.review.as_ref().map(|r| r.status) {
            None => Some(self.band),
            Some(ReviewStatus::Confirmed) => Some(LinkBand::Link),
            Some(ReviewStatus::Pending) => Some(LinkBand::Review),
            Some(ReviewStatus::Rejected) => None,
        }
    }

    /// Whether the decision counts as a link (in the statistics): a link, or a confirmed review.
    pub fn counts_as_link(&self) -> bool {
        self.standing() == Some(LinkBand::Link)
    }

    /// Who confirmed the decision (the reviewer's token subject, an id) and when; `None` unless a person did.
    pub fn confirmation(&self) -> Option<(&str, Instant)> {
        let review = self.review.as_ref().filter(|r| r.status == ReviewStatus::Confirmed)?;
        Some((review.by.as_deref()?, review.at?))
    }

    /// The entries a reviewer chooses among: the stored candidates, or the decision's own entry alone.
    pub fn review_candidates(&self) -> Vec<ReviewCandidate> {
        if !self.candidates.is_empty() {
            return self.candidates.clone();
        }
        vec![ReviewCandidate {
            entry_id: self.entry_id.clone(),
            score: self.score,
            method: self.method.clone(),
            agreeing_fields: self.agreeing_fields.clone(),
        }]
    }

    /// The decision with a health centre's answer. A confirmation of another candidate than the best makes that
    /// candidate the linked entry (with its score, method and agreeing fields); an `entry_id` that is not a candidate
    /// changes nothing here (the application refuses it before).
    pub fn with_review(mut self, review: Review) -> LinkDecision {
        if review.status == ReviewStatus::Confirmed
            && let Some(picked) = review.entry_id.as_deref()
            && let Some(c) = self.review_candidates().into_iter().find(|c| c.entry_id == picked)
        {
            self.entry_id = c.entry_id;
            self.score = c.score;
            self.method = c.method;
            self.agreeing_fields = c.agreeing_fields;
        }
        self.review = Some(review);
        self
    }

    /// Same outcome as `other`, ignoring when it was decided (a re-run that finds the same need not write).
    pub fn same_outcome(&self, other: &LinkDecision) -> bool {
        self.report_id == other.report_id
            && self.health_center_code == other.health_center_code
            && self.entry_id == other.entry_id
            && (self.score - other.score).abs() < 1e-6
            && self.band == other.band
            && self.method == other.method
            && self.agreeing_fields == other.agreeing_fields
            && self.review.as_ref().map(|r| r.status) == other.review.as_ref().map(|r| r.status)
            && self.candidates.iter().map(|c| &c.entry_id).eq(other.candidates.iter().map(|c| &c.entry_id))
            && self.model_version == other.model_version
    }
}

/// What a write of a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionWrite {
    Written,
    /// The stored decision was confirmed or rejected by a health centre: kept, nothing written.
    KeptReviewed,
}

/// The linkage model as stored: estimated on its own schedule (or on demand), used by every run until the next
/// estimate. Decisions record its `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredModel {
    /// `v1`, `v2`, ...: one more than the version it replaced.
    pub version: String,
    pub estimated_at: Instant,
    /// What it was estimated on (counts only).
    pub entries: u64,
    pub reports: u64,
    pub candidate_pairs: u64,
    pub params: linkage_engine::score::ModelParams,
}

impl StoredModel {
    /// The version after this one.
    pub fn next_version(previous: Option<&StoredModel>) -> String {
        let n = previous.and_then(|m| m.version.strip_prefix('v')?.parse::<u64>().ok()).unwrap_or(0);
        format!("v{}", n + 1)
    }
}

/// Where the incremental linkage stands: records written before `linked_until` have been linked (and indexed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkageState {
    pub linked_until: Instant,
    /// The window of the runs (days from entry to diagnosis) that built the stored index's decisions.
    pub window_days: i32,
    /// The entries and reports written shortly before `linked_until` that the run linked: the next run reads that
    /// stretch again (a write stamped before the run may land after its read) and leaves these out. Empty when there
    /// were too many to keep here; the next run then links them again (which decides the same).
    #[serde(default)]
    pub recent_entries: Vec<String>,
    #[serde(default)]
    pub recent_reports: Vec<String>,
}

/// One record's keyed blocking keys in the stored linkage index ([`crate::keyed_hash::KeyedHasher::block_key`]):
/// opaque, no personal value. `day` is the entry date of an entry, the diagnosis date of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedRecord {
    pub id: String,
    pub day: chrono::NaiveDate,
    pub keys: Vec<String>,
}

/// One lookup in the stored linkage index: the entries filed under `key` with an entry day in `from..=to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLookup {
    pub key: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

/// The statistics of the last scheduled run (counts only, no personal data), as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkageSummary {
    /// `None` before the first scheduled run.
    pub computed_at: Option<Instant>,
    pub entries: u64,
    pub reports: u64,
    pub links: u64,
    pub reviews_pending: u64,
    pub reviews_confirmed: u64,
    pub reviews_rejected: u64,
    pub entrants: Vec<EntrantsRow>,
    /// Entrants with a negative entry test diagnosed within 28 days of entry.
    pub negative_then_diagnosed_28d: ShareWithInterval,
    pub days_entry_to_diagnosis: Vec<DaysRow>,
    pub prefectures: Vec<PrefectureRow>,
    /// Entrants under follow-up reported as cases (summaries stored before follow-ups existed read as zeros).
    #[serde(default)]
    pub follow_up: FollowUpSummary,
}

impl LinkageSummary {
    /// The summary before any run: nothing counted.
    pub fn empty() -> LinkageSummary {
        LinkageSummary {
            computed_at: None,
            entries: 0,
            reports: 0,
            links: 0,
            reviews_pending: 0,
            reviews_confirmed: 0,
            reviews_rejected: 0,
            entrants: Vec::new(),
            negative_then_diagnosed_28d: ShareWithInterval {
                count: 0,
                total: 0,
                share: 0.0,
                ci95_low: 0.0,
                ci95_high: 0.0,
            },
            days_entry_to_diagnosis: Vec::new(),
            prefectures: Vec::new(),
            follow_up: FollowUpSummary::default(),
        }
    }
}
