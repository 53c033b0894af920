//! The linkage statistics from the stores, counted one way in two settings: in one pass over everything (the daily
//! run and the single-process full run: [`summarise`]), and a partition's share of them (a full re-link in
//! partitions: [`Linkage::tally_reports`], [`Linkage::tally_entries_and_follow_ups`]), whose tallies add up exactly to
//! the single pass's ([`LinkageTally::add`]). The counting itself is the pure [`Tally`] and [`FollowUpTally`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::entry::EntryRecord;
use crate::follow_up::{FollowUpRecord, follow_up_of};
use crate::keyed_hash::KeyedHash;
use crate::linkage_records::{LinkDecision, LinkageSummary, ReviewStatus};
use crate::linkage_statistics::follow_up::{FollowUpTally, StatFollowUp};
use crate::linkage_statistics::{StatEntry, StatReport, Tally};
use crate::ports::Segment;
use crate::report::{CaseReport, ReportId};
use crate::time::Instant;

use super::{AppError, Linkage, each_page};

/// Entry and follow-up records read at a time by a partition's count.
const PAGE: usize = 1_000;

/// Every count behind a [`LinkageSummary`]: what one partition of a full re-link counts, added up by the combining
/// step. Kept privately between the steps (its counts are not suppressed); no personal data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkageTally {
    stats: Tally,
    follow_ups: FollowUpTally,
    /// Decisions pending, confirmed and rejected by a health centre.
    reviews: [u64; 3],
}

impl LinkageTally {
    pub fn add_entry(&mut self, e: &EntryRecord) {
        self.stats.add_entry(&stat_entry(e));
    }

    pub fn add_follow_up(&mut self) {
        self.follow_ups.under_follow_up += 1;
    }

    /// A decision's review, if it has one.
    pub fn add_decision(&mut self, d: &LinkDecision) {
        let slot = match d.review.as_ref().map(|r| r.status) {
            Some(ReviewStatus::Pending) => 0,
            Some(ReviewStatus::Confirmed) => 1,
            Some(ReviewStatus::Rejected) => 2,
            None => return,
        };
        self.reviews[slot] += 1;
    }

    /// A report with the entry its decision links it to (`None` when it is not linked, or the entry is not stored),
    /// and the follow-up records under the passport number that reaches it (the linked entry's, else its own).
    pub fn add_report<'a>(
        &mut self,
        report: &CaseReport,
        linked_entry: Option<&EntryRecord>,
        follow_ups: impl IntoIterator<Item = &'a FollowUpRecord>,
    ) {
        let code = report.prefecture.as_jis();
        let stat = StatReport {
            diagnosis_date: report.diagnosis_date,
            prefecture_code: &code,
            has_passport: report.passport_hash.is_some(),
        };
        let linked = linked_entry.map(|e| (e.entry_id.as_str(), stat_entry(e)));
        self.stats.add_report(&stat, linked.as_ref().map(|(id, e)| (*id, e)));
        if let Some(f) = follow_up_of(report, linked_entry, follow_ups) {
            self.follow_ups.add_diagnosis(&f.follow_up_id, &stat_follow_up(f), report.diagnosis_date);
        }
    }

    /// Adds another partition's tally (of disjoint entries, reports and follow-ups).
    pub fn add(&mut self, other: LinkageTally) {
        self.stats.add(other.stats);
        self.follow_ups.add(other.follow_ups);
        for (mine, theirs) in self.reviews.iter_mut().zip(other.reviews) {
            *mine += theirs;
        }
    }

    pub fn summary(&self, now: Instant) -> LinkageSummary {
        let s = self.stats.summary();
        LinkageSummary {
            computed_at: Some(now),
            entries: self.stats.entries,
            reports: self.stats.reports,
            links: self.stats.links,
            reviews_pending: self.reviews[0],
            reviews_confirmed: self.reviews[1],
            reviews_rejected: self.reviews[2],
            entrants: s.entrants,
            negative_then_diagnosed_28d: s.negative_then_diagnosed,
            days_entry_to_diagnosis: s.days_to_diagnosis,
            prefectures: s.prefectures,
            follow_up: self.follow_ups.summary(),
        }
    }
}

fn stat_entry(e: &EntryRecord) -> StatEntry<'_> {
    StatEntry {
        entry_date: e.entry_date,
        port_of_entry: &e.port_of_entry,
        nationality: &e.nationality,
        test_result: e.entry_test_result,
    }
}

fn stat_follow_up(f: &FollowUpRecord) -> StatFollowUp {
    StatFollowUp {
        follow_up_from: f.follow_up_from,
        follow_up_until: f.follow_up_until,
        symptoms_reported_on: f.symptoms_reported_on,
        status: f.status,
    }
}

/// The statistics over every entry, report, decision and follow-up record, in one pass: links are the decisions that
/// count as links (link band, or a confirmed review) whose entry is stored; each report reaches at most one
/// follow-up ([`follow_up_of`]), through its linked entry or its own passport number.
pub(super) fn summarise(
    now: Instant,
    entries: &[EntryRecord],
    reports: &[CaseReport],
    decisions: &HashMap<ReportId, LinkDecision>,
    follow_ups: &[FollowUpRecord],
) -> LinkageSummary {
    let mut tally = LinkageTally::default();
    entries.iter().for_each(|e| tally.add_entry(e));
    follow_ups.iter().for_each(|_| tally.add_follow_up());
    decisions.values().for_each(|d| tally.add_decision(d));
    let mut by_passport: HashMap<&KeyedHash, Vec<&FollowUpRecord>> = HashMap::new();
    for f in follow_ups {
        by_passport.entry(&f.person.passport_hash).or_default().push(f);
    }
    let entry_by_id: HashMap<&str, &EntryRecord> = entries.iter().map(|e| (e.entry_id.as_str(), e)).collect();
    for report in reports {
        let linked_entry = decisions
            .get(&report.id)
            .filter(|d| d.counts_as_link())
            .and_then(|d| entry_by_id.get(d.entry_id.as_str()).copied());
        let hash = linked_entry.map(|e| &e.passport_hash).or(report.passport_hash.as_ref());
        let reached = hash.and_then(|h| by_passport.get(h)).into_iter().flatten().copied();
        tally.add_report(report, linked_entry, reached);
    }
    tally.summary(now)
}

impl Linkage {
    /// Counts a page of reports with their decisions as they stand (`decisions[i]` is `reports[i]`'s): reads the
    /// linked entries (one batch) and, for each report with a passport number that reaches one, the follow-up
    /// records under it (a query each).
    pub(super) async fn tally_reports(
        &self,
        reports: &[CaseReport],
        decisions: &[Option<LinkDecision>],
        tally: &mut LinkageTally,
    ) -> Result<(), AppError> {
        let mut linked_ids: Vec<String> =
            decisions.iter().flatten().filter(|d| d.counts_as_link()).map(|d| d.entry_id.clone()).collect();
        // Two reports may link one entry; a batch read takes each key once.
        linked_ids.sort_unstable();
        linked_ids.dedup();
        let entries: HashMap<String, EntryRecord> =
            self.entries.get_entries(&linked_ids).await?.into_iter().map(|e| (e.entry_id.clone(), e)).collect();
        for (report, decision) in reports.iter().zip(decisions) {
            if let Some(d) = decision {
                tally.add_decision(d);
            }
            let linked_entry = decision.as_ref().filter(|d| d.counts_as_link()).and_then(|d| entries.get(&d.entry_id));
            let follow_ups = match linked_entry.map(|e| &e.passport_hash).or(report.passport_hash.as_ref()) {
                Some(hash) => self.follow_ups.follow_ups_by_passport(hash).await?,
                None => Vec::new(),
            };
            tally.add_report(report, linked_entry, &follow_ups);
        }
        Ok(())
    }

    /// Counts the entry and follow-up records of a segment (a page at a time).
    pub(super) async fn tally_entries_and_follow_ups(
        &self,
        segment: Segment,
        tally: &mut LinkageTally,
    ) -> Result<(), AppError> {
        let entries = |cursor| self.entries.entries_in_segment(segment, cursor, PAGE);
        each_page(entries, |page| page.iter().for_each(|e| tally.add_entry(e))).await?;
        let follow_ups = |cursor| self.follow_ups.follow_ups_in_segment(segment, cursor, PAGE);
        each_page(follow_ups, |page| page.iter().for_each(|_| tally.add_follow_up())).await?;
        Ok(())
    }
}
