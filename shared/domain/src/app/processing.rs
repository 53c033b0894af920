//! Processing numbers around the pure state machine of [`crate::cycle`]: the health centre's issue, redemption by the
//! app backend, the re-issue sweep, the health centre's view and cancel, and the operators' statistics.
//!
//! Every send follows one pattern: claim (a versioned write that only one invocation can win), send, record the
//! outcome (another versioned write, re-read and re-applied if somebody else wrote in between). Only the claim's
//! winner holds the number's plaintext, and only until the message is handed over.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use futures::StreamExt;

use super::{AppError, Cases};
use crate::cycle::{
    Channel, Cycle, CycleId, CycleState, IssuedNumber, NewCycle, NotApplicable, NumberState, Step, Transition,
    number_message, reminder_message,
};
use crate::error::{FieldError, NotifyError, Problem, StoreError, ValidationError};
use crate::keyed_hash::KeyedHash;
use crate::pii::ProcessingNumber;
use crate::ports::{OutgoingMessage, Recipient, Versioned};
use crate::report::{CaseReport, ReportId};
use crate::time::{Instant, japan_date};

/// Conflicting writers are retried this often before an operation gives up (the next tick tries again).
const WRITE_ATTEMPTS: usize = 5;
/// Fresh draws when a drawn number's record already exists (the space is 10^8; records live about a week).
const DRAW_ATTEMPTS: usize = 5;
/// Due cycles handled at once by one sweep invocation.
const SWEEP_CONCURRENCY: usize = 16;
/// Due cycles read per page of the due index.
const SWEEP_PAGE: usize = 500;

/// Limits on failed redemptions. Windows are fixed 15-minute slots; a caller with `PER_CLIENT` failures in the
/// current and previous slot together is locked out until that count falls (15 to 30 minutes). See
/// docs/processing-numbers.md for the guessing odds these give.
pub mod limits {
    use chrono::Duration;

    pub const WINDOW_MINUTES: i64 = 15;
    /// Failures per end user (the app backend's caller plus the device it names).
    pub const PER_CLIENT: u64 = 10;
    /// Failures per calling system over all its end users: a ceiling on guessing through a compromised backend.
    pub const PER_CALLER: u64 = 300;
    pub fn window() -> Duration {
        Duration::minutes(WINDOW_MINUTES)
    }

    /// The first slot in which a key with `current` failures in slot `slot` and `previous` in the one before is no
    /// longer locked out by `limit`, or `None` if it is not locked now. A slot counts together with the one before
    /// it, so the current slot's failures still count in the next one: if they alone reach the limit, the lock lasts
    /// until the slot after next.
    pub fn free_at(slot: i64, current: u64, previous: u64, limit: u64) -> Option<i64> {
        if current + previous < limit {
            None
        } else if current >= limit {
            Some(slot + 2)
        } else {
            Some(slot + 1)
        }
    }
}

/// Counters the operators see (per Japan date) and the metrics of the same names.
pub const STAT_NAMES: &[&str] = &[
    "issued",
    "reissued",
    "reminded",
    "redeemed_0",
    "redeemed_1",
    "redeemed_2",
    "redeemed_3",
    "redeemed_4",
    "redeemed_within_1h",
    "redeemed_1h_to_2h",
    "redeemed_2h_to_3h",
    "redeemed_3h_to_4h",
    "redeemed_4h_to_5h",
    "redeemed_after_5h",
    "exhausted",
    "cancelled",
    "opted_out",
    "undeliverable",
    "delivery_failures",
    "redemption_failures",
];

/// The statistics counters a sweep bumped, written once per name when it ends.
#[derive(Default)]
struct StatTally(std::sync::Mutex<BTreeMap<&'static str, u64>>);

impl StatTally {
    fn add(&self, name: &'static str) {
        // A poisoned lock means a panic elsewhere in this sweep; statistics are best effort, as in `bump`.
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(name).or_default() += 1;
        }
    }

    async fn flush(&self, cases: &Cases, now: Instant) {
        let counts = self.0.lock().map(|c| c.clone()).unwrap_or_default();
        for (name, n) in counts {
            if let Err(e) =
                cases.counters.add_to_counter(&stat_name(japan_date(now), name), n, now + KEEP_STATS_FOR).await
            {
                tracing::warn!(counter = name, error = %e, "statistics counter not updated");
            }
        }
    }
}

/// How long statistics counters are kept.
const KEEP_STATS_FOR: Duration = Duration::days(400);

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepRun {
    pub due: usize,
    pub reissued: usize,
    pub reminded: usize,
    pub exhausted: usize,
    pub reminders_skipped: usize,
    pub opted_out: usize,
    pub delivery_failures: usize,
    /// Cycles left for later (quiet hours, a claim of another invocation, a retry not yet due).
    pub waiting: usize,
    /// Of those, the sends that were due but that quiet hours hold back, and when the quiet hours end (the latest
    /// such end; `None` when none was held back).
    pub held_for_quiet_hours: usize,
    pub quiet_hours_end: Option<Instant>,
    /// Cycles another invocation changed first; it handles them.
    pub lost_races: usize,
    /// Cycles whose handling failed (storage, the opt-out check); they stay due and the next tick retries them.
    pub failed: usize,
}

/// A cycle as the health centre sees it, with the failed redemption attempts seen per number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleView {
    pub cycle: Cycle,
    pub version: u64,
    /// One per entry of `cycle.numbers`: failed redemptions that gave this number.
    pub failed_redemptions: Vec<u64>,
}

/// Counters per day and in total over the days asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub totals: BTreeMap<&'static str, u64>,
    pub days: BTreeMap<NaiveDate, BTreeMap<&'static str, u64>>,
}

/// Why a redemption failed. The caller's answer is the same for every kind of bad number.
#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    /// Unknown, expired, superseded, cancelled or already used: deliberately not told apart.
    #[error("the processing number is not valid")]
    Invalid,
    #[error("too many failed attempts; retry after {retry_after_seconds} s")]
    Locked { retry_after_seconds: i64 },
    #[error(transparent)]
    App(#[from] AppError),
}

enum Outcome {
    Reissued,
    Reminded,
    Exhausted,
    ReminderSkipped,
    OptedOut,
    DeliveryFailed,
    Waiting,
    /// A due send held back until quiet hours end.
    QuietHours(Instant),
    LostRace,
    Nothing,
}

fn stat_name(day: NaiveDate, name: &str) -> String {
    format!("stats#{day}#{name}")
}

fn invalid_channel(why: &'static str) -> AppError {
    AppError::Invalid(ValidationError(vec![FieldError::new("channel", Problem::Invalid(why))]))
}

fn recipient(report: &CaseReport, channel: Channel) -> Option<Recipient> {
    match channel {
        Channel::Sms => report.phone.clone().map(Recipient::Sms),
        Channel::Email => report.email.clone().map(Recipient::Email),
    }
}

impl Cases {
    fn not_applicable(_: NotApplicable) -> AppError {
        AppError::Conflict("state")
    }

    /// Writes a transition over the version it was computed from, without the sealed copies of numbers that can no
    /// longer be redeemed at `now`.
    async fn write(&self, from: u64, t: &Transition, now: Instant) -> Result<Versioned<Cycle>, StoreError> {
        let mut cycle = t.cycle.clone();
        cycle.forget_spent_numbers(now);
        let version = self.cycles.advance_cycle(&cycle, from, &t.changed, t.created.as_ref()).await?;
        Ok(Versioned { value: cycle, version })
    }

    /// Re-reads the cycle and applies `f` until the write goes through; `None` if `f` no longer applies (somebody
    /// else moved the cycle on, e.g. the patient redeemed while we recorded the delivery).
    async fn record(
        &self,
        id: &CycleId,
        now: Instant,
        f: impl Fn(&Cycle) -> Result<Transition, NotApplicable>,
    ) -> Result<Option<Versioned<Cycle>>, AppError> {
        self.record_over(None, id, now, f).await
    }

    /// [`Self::record`], first trying the write over `known` (the state this invocation itself wrote, e.g. its
    /// claim) without reading it again: one storage request instead of two when nobody wrote in between, which is
    /// the rule. A version conflict falls back to re-reading, as before.
    async fn record_over(
        &self,
        known: Option<&Versioned<Cycle>>,
        id: &CycleId,
        now: Instant,
        f: impl Fn(&Cycle) -> Result<Transition, NotApplicable>,
    ) -> Result<Option<Versioned<Cycle>>, AppError> {
        let mut known = known.cloned();
        for _ in 0..WRITE_ATTEMPTS {
            let current = match known.take() {
                Some(k) => k,
                None => match self.cycles.get_cycle(id).await? {
                    Some(c) => c,
                    None => return Ok(None),
                },
            };
            let Ok(t) = f(&current.value) else { return Ok(None) };
            match self.write(current.version, &t, now).await {
                Ok(done) => return Ok(Some(done)),
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("cycle"))
    }

    /// Like [`Self::bump`], but during a sweep the stored counter is only tallied, and written once per name when
    /// the sweep ends ([`StatTally::flush`]): one counter write per run instead of one per re-issue.
    async fn bump_in(
        &self,
        tally: Option<&StatTally>,
        now: Instant,
        name: &'static str,
        dimensions: &[(&'static str, String)],
    ) {
        match tally {
            Some(tally) => {
                self.metrics.count(name, dimensions, 1.0);
                tally.add(name);
            }
            None => self.bump(now, name, dimensions).await,
        }
    }

    async fn bump(&self, now: Instant, name: &'static str, dimensions: &[(&'static str, String)]) {
        self.metrics.count(name, dimensions, 1.0);
        // Statistics must not fail the operation they count; a lost increment is logged.
        if let Err(e) = self.counters.add_to_counter(&stat_name(japan_date(now), name), 1, now + KEEP_STATS_FOR).await {
            tracing::warn!(counter = name, error = %e, "statistics counter not updated");
        }
    }

    /// Sends the claimed number of `claimed` and records the outcome. The hour of validity starts when the service
    /// accepted the message: `now` plus the time the hand-over took (the event's "now" may be simulated, so the
    /// service's own clock is not mixed in).
    async fn send_number(
        &self,
        claimed: &Versioned<Cycle>,
        number: &ProcessingNumber,
        hash: &KeyedHash,
        to: Recipient,
        now: Instant,
        tally: Option<&StatTally>,
    ) -> Result<(Versioned<Cycle>, Result<(), NotifyError>), AppError> {
        let cycle = &claimed.value;
        let started = std::time::Instant::now();
        let (subject, body) = number_message(cycle.language, number, &self.app_link, now + self.policy.validity);
        let sent = self.notifier.send(&OutgoingMessage { to, subject, body }).await;
        let accepted_at = now + Duration::from_std(started.elapsed()).unwrap_or_default();
        let policy = self.policy;
        let recorded = match &sent {
            Ok(_) => {
                self.record_over(Some(claimed), &cycle.id, accepted_at, |c| c.number_sent(hash, accepted_at, &policy))
                    .await?
            }
            Err(NotifyError::OptedOut) => {
                self.record_over(Some(claimed), &cycle.id, accepted_at, |c| {
                    c.stop(CycleState::OptedOut, accepted_at, &policy)
                })
                .await?
            }
            Err(NotifyError::Rejected(_)) => {
                self.record_over(Some(claimed), &cycle.id, accepted_at, |c| {
                    c.number_failed(hash, true, accepted_at, &policy)
                })
                .await?
            }
            Err(NotifyError::Unavailable(_)) => {
                self.record_over(Some(claimed), &cycle.id, accepted_at, |c| {
                    c.number_failed(hash, false, accepted_at, &policy)
                })
                .await?
            }
        };
        if let Err(e) = &sent {
            tracing::warn!(
                cycle_id = %cycle.id,
                generation = ?cycle.current().map(|n| n.generation),
                error = %e,
                "processing number not delivered"
            );
            self.bump_in(tally, now, "delivery_failures", &[("Channel", cycle.channel.as_str().to_owned())]).await;
        }
        let latest = match recorded {
            Some(v) => v,
            None => self.cycles.get_cycle(&cycle.id).await?.ok_or(AppError::NotFound)?,
        };
        Ok((latest, sent.map(|_| ())))
    }

    /// Draws numbers until one's record can be created with the transition `claim` builds: over the stored version
    /// of `from`, or as a new cycle when `from` is `None`. The claim carries the number sealed by the vault, in the
    /// same write: keeping it for the reminder costs no storage request of its own.
    async fn claim_fresh_number(
        &self,
        from: Option<&Versioned<Cycle>>,
        now: Instant,
        claim: impl Fn(KeyedHash) -> Result<Transition, NotApplicable>,
    ) -> Result<Result<(Versioned<Cycle>, ProcessingNumber, KeyedHash), StoreError>, AppError> {
        for _ in 0..DRAW_ATTEMPTS {
            let number = ProcessingNumber::random().map_err(|e| AppError::Internal(e.to_string()))?;
            let hash = self.hasher.processing_number(&number);
            let mut t = claim(hash.clone()).map_err(Self::not_applicable)?;
            // The number matters more than the reminder repeating it: if the vault fails, the number goes out
            // unsealed and the reminder points to this message instead.
            match self.vault.seal(&number, &hash).await {
                Ok(sealed) => t.cycle.keep_sealed(&hash, sealed),
                Err(e) => tracing::warn!(cycle_id = %t.cycle.id, error = %e, "processing number not sealed"),
            }
            let written = match from {
                Some(stored) => self.write(stored.version, &t, now).await,
                None => {
                    let first = t.created.clone().ok_or(AppError::Internal("a new cycle without a number".into()))?;
                    self.cycles
                        .create_cycle(&t.cycle, &first)
                        .await
                        .map(|()| Versioned { value: t.cycle.clone(), version: 1 })
                }
            };
            match written {
                Ok(v) => return Ok(Ok((v, number, hash))),
                // The drawn number's record exists (a live or recent number): draw again.
                Err(StoreError::AlreadyExists) => continue,
                Err(e) => return Ok(Err(e)),
            }
        }
        Err(AppError::Internal("no free processing number after several draws".into()))
    }

    /// The health centre issues a number for its report, sent by `channel` in the patient's language. Any active
    /// cycle of the report is superseded first: its live number stops working and nothing more is sent for it.
    pub async fn issue_number(
        &self,
        report_id: &ReportId,
        health_center: &str,
        channel: Channel,
    ) -> Result<CycleView, AppError> {
        let now = self.clock.now();
        let report = self.get_report(report_id).await?.value;
        if report.health_center_code != health_center {
            return Err(AppError::NotFound);
        }
        let to = recipient(&report, channel).ok_or_else(|| {
            invalid_channel(match channel {
                Channel::Sms => "the report has no phone number",
                Channel::Email => "the report has no e-mail address",
            })
        })?;
        if let Recipient::Sms(phone) = &to
            && self.notifier.is_opted_out(phone).await.map_err(|e| AppError::Internal(e.to_string()))?
        {
            return Err(AppError::Impossible(ValidationError(vec![FieldError::new(
                "channel",
                Problem::Invalid("the phone number is on the SMS opt-out list; choose email"),
            )])));
        }
        let policy = self.policy;
        for old in self.cycles.cycles_of_report(report_id).await? {
            if old.value.is_active() {
                self.record(&old.value.id, now, |c| c.stop(CycleState::Superseded, now, &policy)).await?;
            }
        }
        let id = CycleId::generate();
        let (claimed, number, hash) = self
            .claim_fresh_number(None, now, |hash| {
                let new = NewCycle {
                    id: id.clone(),
                    report_id: report.id.clone(),
                    health_center_code: report.health_center_code.clone(),
                    channel,
                    language: report.preferred_language,
                };
                Ok(Cycle::start(new, hash, now, &policy))
            })
            .await??;
        let (latest, _) = self.send_number(&claimed, &number, &hash, to, now, None).await?;
        drop(number);
        self.bump(now, "issued", &[("Channel", channel.as_str().to_owned())]).await;
        tracing::info!(
            report_id = %report.id,
            cycle_id = %latest.value.id,
            channel = channel.as_str(),
            state = ?latest.value.state,
            "processing number issued"
        );
        self.view(latest, now).await
    }

    /// The app backend redeems a number for a patient. `caller` identifies the calling system (JWT subject) and
    /// `client` the end user's device as the backend names it; both only ever as keyed hashes.
    pub async fn redeem_number(&self, caller: &str, client: Option<&str>, raw: &str) -> Result<(), RedeemError> {
        let now = self.clock.now();
        let slot = now.timestamp().div_euclid(limits::WINDOW_MINUTES * 60);
        let client_key = self.hasher.opaque("redeem-client", &format!("{caller}\u{1f}{}", client.unwrap_or("")));
        let caller_key = self.hasher.opaque("redeem-caller", caller);
        let names = [
            format!("fail#{}#{slot}", client_key.as_str()),
            format!("fail#{}#{}", client_key.as_str(), slot - 1),
            format!("failall#{}#{slot}", caller_key.as_str()),
            format!("failall#{}#{}", caller_key.as_str(), slot - 1),
        ];
        let counts = self.counters.counters(&names, now).await.map_err(AppError::from)?;
        let free_at = [
            limits::free_at(slot, counts[0], counts[1], limits::PER_CLIENT),
            limits::free_at(slot, counts[2], counts[3], limits::PER_CALLER),
        ];
        if let Some(free_slot) = free_at.into_iter().flatten().max() {
            let free_from = free_slot * limits::WINDOW_MINUTES * 60;
            return Err(RedeemError::Locked { retry_after_seconds: (free_from - now.timestamp()).max(1) });
        }
        // Every failure below costs the same storage work (one read, four counter writes), whatever the reason: the
        // answer's timing must not tell a guesser whether a number exists.
        let parsed = ProcessingNumber::parse("processing_number", raw).ok();
        let hash = match &parsed {
            Some(n) => self.hasher.processing_number(n),
            None => self.hasher.opaque("pn-malformed", ""),
        };
        let record = self.cycles.get_number(&hash, now).await.map_err(AppError::from)?;
        let policy = self.policy;
        let redeemable =
            |r: &IssuedNumber| matches!(r.state, NumberState::Live | NumberState::Sending) && now < r.expires_at;
        if let Some(record) = record.filter(|r| parsed.is_some() && redeemable(r))
            && let Some(done) = self.record(&record.cycle_id, now, |c| c.redeem(&hash, now, &policy)).await?
        {
            let cycle = &done.value;
            let generation = cycle.redeemed_generation.unwrap_or(0);
            self.bump(now, REDEEMED[usize::from(generation.min(4))], &[]).await;
            let hours = usize::try_from((now - cycle.created_at).num_hours().clamp(0, 5)).unwrap_or(5);
            self.bump(now, REDEEMED_AFTER[hours], &[]).await;
            self.metrics.count("redeemed", &[("Generation", generation.to_string())], 1.0);
            tracing::info!(cycle_id = %cycle.id, generation, "processing number redeemed");
            return Ok(());
        }
        let purge = now + limits::window() * 2;
        self.counters.add_to_counter(&names[0], 1, purge).await.map_err(AppError::from)?;
        self.counters.add_to_counter(&names[2], 1, purge).await.map_err(AppError::from)?;
        self.counters
            .add_to_counter(&format!("tried#{}", hash.as_str()), 1, now + crate::cycle::KEEP_NUMBERS_FOR)
            .await
            .map_err(AppError::from)?;
        self.bump(now, "redemption_failures", &[]).await;
        Err(RedeemError::Invalid)
    }

    /// The re-issuer: handles every cycle due as of `now` (the scheduled event's time), through the due index.
    pub async fn run_due_cycles(&self, now: Instant) -> Result<SweepRun, AppError> {
        let mut run = SweepRun::default();
        let tally = StatTally::default();
        let mut seen = std::collections::HashSet::new();
        loop {
            let due: Vec<CycleId> = self
                .cycles
                .due_cycles(now, SWEEP_PAGE)
                .await?
                .into_iter()
                .filter(|id| seen.insert(id.clone()))
                .collect();
            if due.is_empty() {
                break;
            }
            run.due += due.len();
            // Built into a Vec first: a closure inside the stream's type trips the compiler's Send inference.
            let work: Vec<_> = due.iter().map(|id| self.handle_due(id, now, &tally)).collect();
            let outcomes: Vec<Result<Outcome, AppError>> =
                futures::stream::iter(work).buffer_unordered(SWEEP_CONCURRENCY).collect().await;
            for outcome in outcomes {
                match outcome {
                    Ok(Outcome::Reissued) => run.reissued += 1,
                    Ok(Outcome::Reminded) => run.reminded += 1,
                    Ok(Outcome::Exhausted) => run.exhausted += 1,
                    Ok(Outcome::ReminderSkipped) => run.reminders_skipped += 1,
                    Ok(Outcome::OptedOut) => run.opted_out += 1,
                    Ok(Outcome::DeliveryFailed) => run.delivery_failures += 1,
                    Ok(Outcome::Waiting) => run.waiting += 1,
                    Ok(Outcome::QuietHours(end)) => {
                        run.waiting += 1;
                        run.held_for_quiet_hours += 1;
                        run.quiet_hours_end = run.quiet_hours_end.max(Some(end));
                    }
                    Ok(Outcome::LostRace) => run.lost_races += 1,
                    Ok(Outcome::Nothing) => {}
                    // One cycle's trouble must not stop the others; it stays due and the next tick retries it.
                    Err(e) => {
                        tracing::warn!(error = %e, "a due cycle failed; it stays due");
                        run.failed += 1;
                    }
                }
            }
        }
        tally.flush(self, now).await;
        Ok(run)
    }

    /// A cycle that is not due after all (quiet hours, another invocation's claim): moves its due time to `at`, if
    /// that changed it.
    async fn wait(&self, current: &Versioned<Cycle>, at: Option<Instant>, now: Instant) -> Result<(), StoreError> {
        match current.value.wait_until(at) {
            Some(waiting) => self
                .write(current.version, &Transition { cycle: waiting, changed: vec![], created: None }, now)
                .await
                .map(|_| ()),
            None => Ok(()),
        }
    }

    async fn handle_due(&self, id: &CycleId, now: Instant, tally: &StatTally) -> Result<Outcome, AppError> {
        let policy = self.policy;
        let Some(current) = self.cycles.get_cycle(id).await? else { return Ok(Outcome::Nothing) };
        let cycle = &current.value;
        let result = match cycle.next_step(now, &policy) {
            Step::Wait(at) => self.wait(&current, at, now).await.map(|()| Outcome::Waiting),
            Step::QuietHours(end) => self.wait(&current, Some(end), now).await.map(|()| Outcome::QuietHours(end)),
            Step::Exhaust => {
                let t = cycle.exhaust(now, &policy).map_err(Self::not_applicable)?;
                let r = self.write(current.version, &t, now).await.map(|_| Outcome::Exhausted);
                if r.is_ok() {
                    self.bump_in(Some(tally), now, "exhausted", &[]).await;
                }
                r
            }
            Step::SkipReminder => {
                let t = cycle.skip_reminder(now, &policy).map_err(Self::not_applicable)?;
                self.write(current.version, &t, now).await.map(|_| Outcome::ReminderSkipped)
            }
            Step::SendNumber { generation } => return self.reissue(&current, generation, now, tally).await,
            Step::SendReminder => return self.remind(&current, now, tally).await,
        };
        match result {
            Ok(o) => Ok(o),
            Err(StoreError::VersionConflict { .. }) => Ok(Outcome::LostRace),
            Err(e) => Err(e.into()),
        }
    }

    /// Where the cycle's messages go now, or `None` if the patient opted out (the cycle is then ended).
    async fn reachable_recipient(
        &self,
        current: &Versioned<Cycle>,
        now: Instant,
        tally: &StatTally,
    ) -> Result<Option<Recipient>, AppError> {
        let cycle = &current.value;
        let report = self.get_report(&cycle.report_id).await?.value;
        let Some(to) = recipient(&report, cycle.channel) else {
            // The contact was removed by a correction: nothing can be sent any more.
            let t = cycle.stop(CycleState::Undeliverable, now, &self.policy).map_err(Self::not_applicable)?;
            self.write(current.version, &t, now).await?;
            return Ok(None);
        };
        if let Recipient::Sms(phone) = &to
            && self.notifier.is_opted_out(phone).await.map_err(|e| AppError::Internal(e.to_string()))?
        {
            let t = cycle.stop(CycleState::OptedOut, now, &self.policy).map_err(Self::not_applicable)?;
            self.write(current.version, &t, now).await?;
            self.bump_in(Some(tally), now, "opted_out", &[]).await;
            return Ok(None);
        }
        Ok(Some(to))
    }

    async fn reissue(
        &self,
        current: &Versioned<Cycle>,
        generation: u8,
        now: Instant,
        tally: &StatTally,
    ) -> Result<Outcome, AppError> {
        let Some(to) = self.reachable_recipient(current, now, tally).await? else { return Ok(Outcome::OptedOut) };
        let policy = self.policy;
        let claimed = self
            .claim_fresh_number(Some(current), now, |hash| current.value.claim_number(generation, hash, now, &policy))
            .await?;
        let (claimed, number, hash) = match claimed {
            Ok(c) => c,
            Err(StoreError::VersionConflict { .. }) => return Ok(Outcome::LostRace),
            Err(e) => return Err(e.into()),
        };
        if !claimed.value.is_active() {
            return Ok(Outcome::DeliveryFailed); // attempts used up: the claim ended the cycle as undeliverable
        }
        let (_, sent) = self.send_number(&claimed, &number, &hash, to, now, Some(tally)).await?;
        drop(number);
        if sent.is_err() {
            return Ok(Outcome::DeliveryFailed);
        }
        if generation > 0 {
            self.bump_in(Some(tally), now, "reissued", &[("Generation", generation.to_string())]).await;
        }
        Ok(Outcome::Reissued)
    }

    async fn remind(&self, current: &Versioned<Cycle>, now: Instant, tally: &StatTally) -> Result<Outcome, AppError> {
        let Some(to) = self.reachable_recipient(current, now, tally).await? else { return Ok(Outcome::OptedOut) };
        let policy = self.policy;
        let t = current.value.claim_reminder(now, &policy).map_err(Self::not_applicable)?;
        let claimed = match self.write(current.version, &t, now).await {
            Ok(c) => c,
            Err(StoreError::VersionConflict { .. }) => return Ok(Outcome::LostRace),
            Err(e) => return Err(e.into()),
        };
        let expires_at = claimed.value.current().and_then(|n| n.expires_at).unwrap_or(now);
        let number = self.live_number(&claimed.value, now).await;
        let (subject, body) = reminder_message(claimed.value.language, number.as_ref(), &self.app_link, expires_at);
        drop(number);
        let started = std::time::Instant::now();
        let sent = self.notifier.send(&OutgoingMessage { to, subject, body }).await;
        let at = now + Duration::from_std(started.elapsed()).unwrap_or_default();
        let id = &claimed.value.id;
        match sent {
            Ok(_) => {
                self.record_over(Some(&claimed), id, at, |c| c.reminder_sent(at, &policy)).await?;
                self.bump_in(Some(tally), now, "reminded", &[]).await;
                Ok(Outcome::Reminded)
            }
            Err(NotifyError::OptedOut) => {
                self.record_over(Some(&claimed), id, at, |c| c.stop(CycleState::OptedOut, at, &policy)).await?;
                Ok(Outcome::OptedOut)
            }
            Err(e) => {
                tracing::warn!(cycle_id = %id, error = %e, "reminder not delivered");
                self.record_over(Some(&claimed), id, at, |c| c.reminder_failed(at, &policy)).await?;
                let channel = claimed.value.channel.as_str().to_owned();
                self.bump_in(Some(tally), now, "delivery_failures", &[("Channel", channel)]).await;
                Ok(Outcome::DeliveryFailed)
            }
        }
    }

    /// The cycle's live number, opened from its sealed copy; `None` (logged) if there is none or it cannot be opened.
    async fn live_number(&self, cycle: &Cycle, now: Instant) -> Option<ProcessingNumber> {
        let (sealed, hash) = (cycle.live_sealed(now)?, &cycle.current()?.hash);
        match self.vault.open(sealed, hash).await {
            Ok(number) => Some(number),
            Err(e) => {
                tracing::warn!(cycle_id = %cycle.id, error = %e, "sealed processing number not opened");
                None
            }
        }
    }

    async fn view(&self, v: Versioned<Cycle>, now: Instant) -> Result<CycleView, AppError> {
        let names: Vec<String> = v.value.numbers.iter().map(|n| format!("tried#{}", n.hash.as_str())).collect();
        let failed_redemptions = self.counters.counters(&names, now).await?;
        Ok(CycleView { cycle: v.value, version: v.version, failed_redemptions })
    }

    /// The cycles of a report of `health_center`, newest first.
    pub async fn cycles_of_report(
        &self,
        report_id: &ReportId,
        health_center: &str,
    ) -> Result<Vec<CycleView>, AppError> {
        let report = self.get_report(report_id).await?.value;
        if report.health_center_code != health_center {
            return Err(AppError::NotFound);
        }
        let now = self.clock.now();
        let mut cycles = self.cycles.cycles_of_report(report_id).await?;
        cycles.sort_by(|a, b| (b.value.created_at, &b.value.id).cmp(&(a.value.created_at, &a.value.id)));
        let mut views = Vec::with_capacity(cycles.len());
        for c in cycles {
            views.push(self.view(c, now).await?);
        }
        Ok(views)
    }

    /// The health centre cancels an active cycle: its number stops working; nothing more is sent.
    pub async fn cancel_cycle(
        &self,
        report_id: &ReportId,
        health_center: &str,
        cycle_id: &CycleId,
    ) -> Result<CycleView, AppError> {
        let report = self.get_report(report_id).await?.value;
        let current = self.cycles.get_cycle(cycle_id).await?.ok_or(AppError::NotFound)?;
        if report.health_center_code != health_center || current.value.report_id != *report_id {
            return Err(AppError::NotFound);
        }
        if !current.value.is_active() {
            return Err(AppError::Conflict("state"));
        }
        let now = self.clock.now();
        let policy = self.policy;
        let done = self
            .record(cycle_id, now, |c| c.stop(CycleState::Cancelled, now, &policy))
            .await?
            .ok_or(AppError::Conflict("state"))?;
        self.bump(now, "cancelled", &[]).await;
        self.view(done, now).await
    }

    /// Operator statistics per Japan date from `from` to `to`, both included: at most [`MAX_STATS_DAYS`] days, read
    /// in one batch of counters. A longer or reversed range is refused, naming `from`.
    pub async fn processing_stats(&self, from: NaiveDate, to: NaiveDate) -> Result<Stats, AppError> {
        if from > to || (to - from).num_days() >= MAX_STATS_DAYS {
            return Err(AppError::Invalid(ValidationError(vec![FieldError::new(
                "from",
                Problem::Invalid("must be on or before to, at most 92 days before it"),
            )])));
        }
        let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
        let names: Vec<String> = days.iter().flat_map(|d| STAT_NAMES.iter().map(move |n| stat_name(*d, n))).collect();
        let values = self.counters.counters(&names, self.clock.now()).await?;
        let mut stats = Stats { from, to, totals: BTreeMap::new(), days: BTreeMap::new() };
        for (i, value) in values.into_iter().enumerate() {
            let (day, name) = (days[i / STAT_NAMES.len()], STAT_NAMES[i % STAT_NAMES.len()]);
            *stats.totals.entry(name).or_default() += value;
            stats.days.entry(day).or_default().insert(name, value);
        }
        Ok(stats)
    }
}

/// The longest range of the operator statistics, in days: a quarter, 92 days x 20 counters = 1,840 counters a read.
pub const MAX_STATS_DAYS: i64 = 92;

const REDEEMED: [&str; 5] = ["redeemed_0", "redeemed_1", "redeemed_2", "redeemed_3", "redeemed_4"];
const REDEEMED_AFTER: [&str; 6] = [
    "redeemed_within_1h",
    "redeemed_1h_to_2h",
    "redeemed_2h_to_3h",
    "redeemed_3h_to_4h",
    "redeemed_4h_to_5h",
    "redeemed_after_5h",
];

#[cfg(test)]
mod tests {
    use super::limits::{PER_CLIENT, free_at};

    #[test]
    fn a_lockout_lasts_until_the_failures_have_left_both_counted_slots() {
        assert_eq!(free_at(100, PER_CLIENT - 1, 0, PER_CLIENT), None);
        // Every failure in this slot: they still count in the next one.
        assert_eq!(free_at(100, PER_CLIENT, 0, PER_CLIENT), Some(102));
        // Some in the slot before: those stop counting when the next slot starts.
        assert_eq!(free_at(100, 4, PER_CLIENT - 4, PER_CLIENT), Some(101));
    }
}
