//! Real stores with a fault injected: a test's way to make a step fail as a Lambda dies, on either stack.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use domain::StoreError;
use domain::keyed_hash::KeyedHash;
use domain::ports::{Page, ReportStore, Segment, Versioned};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, ReportId};
use domain::time::Instant;

/// The real report store, whose parallel read fails once for one segment (a partition's Lambda dying).
pub struct FailingSegmentOnce {
    inner: Arc<dyn ReportStore>,
    segment: u32,
    /// Fail at the segment's second page (a partition that has done part of its work), else at its first.
    at_second_page: bool,
    /// Whether the failure happened (a test asserts that it did).
    pub failed: AtomicBool,
}

impl FailingSegmentOnce {
    /// Fails at the second page of `segment`.
    pub fn new(inner: Arc<dyn ReportStore>, segment: u32) -> FailingSegmentOnce {
        FailingSegmentOnce { inner, segment, at_second_page: true, failed: AtomicBool::new(false) }
    }

    /// Fails at the first page of `segment` (a segment of one page).
    pub fn at_first_page(inner: Arc<dyn ReportStore>, segment: u32) -> FailingSegmentOnce {
        FailingSegmentOnce { inner, segment, at_second_page: false, failed: AtomicBool::new(false) }
    }
}

#[async_trait]
impl ReportStore for FailingSegmentOnce {
    async fn approximate_count(&self) -> Result<u64, StoreError> {
        self.inner.approximate_count().await
    }
    async fn create_report(&self, report: &CaseReport) -> Result<(), StoreError> {
        self.inner.create_report(report).await
    }
    async fn get_report(&self, id: &ReportId) -> Result<Option<Versioned<CaseReport>>, StoreError> {
        self.inner.get_report(id).await
    }
    async fn update_report(&self, report: &CaseReport, expected_version: u64) -> Result<u64, StoreError> {
        self.inner.update_report(report, expected_version).await
    }
    async fn reports_by_passport(&self, passport: &KeyedHash) -> Result<Vec<ReportId>, StoreError> {
        self.inner.reports_by_passport(passport).await
    }
    async fn reports_by_prefecture(&self, prefecture: PrefectureCode) -> Result<Vec<CaseReport>, StoreError> {
        self.inner.reports_by_prefecture(prefecture).await
    }
    async fn report_ids_changed_since(&self, since: Instant, until: Instant) -> Result<Vec<ReportId>, StoreError> {
        self.inner.report_ids_changed_since(since, until).await
    }
    async fn get_reports(&self, ids: &[ReportId]) -> Result<Vec<CaseReport>, StoreError> {
        self.inner.get_reports(ids).await
    }
    async fn reports_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<CaseReport>, StoreError> {
        if segment.index == self.segment
            && cursor.is_some() == self.at_second_page
            && !self.failed.swap(true, Ordering::SeqCst)
        {
            return Err(StoreError::Unavailable("injected: the partition died".to_owned()));
        }
        self.inner.reports_in_segment(segment, cursor, limit).await
    }
}
