//! Processing numbers (処理番号) for the contact app: one cycle per issue by a health centre, holding up to five
//! numbers (the health centre's issue and four automatic re-issues) and one reminder.
//!
//! This module is the state machine, pure: [`Cycle::next_step`] says what is due, and the transition methods return
//! the next state plus the number records to write with it. The application layer (`app::processing`) does the I/O
//! around them: it claims a send with a conditional write, sends, and records the outcome with another.
//!
//! Invariants:
//! - a number is stored only as a keyed hash; the plaintext exists only in the outgoing message;
//! - a send is claimed (state `Sending`, by a versioned write) before the message service is called, so two
//!   re-issuers never both send; only the claim's winner sends;
//! - the hour of validity starts when the message service accepted the message, not when the number was drawn;
//! - at most `1 + max_reissues` generations and one reminder per cycle, whatever fails and is retried.

mod message;
mod policy;

use std::fmt;

use chrono::Duration;
use serde::{Deserialize, Serialize};

pub use message::{
    AppLink, AppLinkError, DEFAULT_APP_LINK_BASE, MAX_APP_LINK_BASE_CHARS, MAX_SMS_SEGMENTS, SmsEncoding, SmsLength,
    number_message, reminder_message, sms_length,
};
pub use policy::{Policy, QuietHours};

use crate::keyed_hash::KeyedHash;
use crate::report::{Language, ReportId};
use crate::time::Instant;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CycleId(String);

impl CycleId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Spreads due cycles over a few index partitions so that one hot partition does not throttle the re-issuer.
    pub fn due_shard(&self) -> u8 {
        self.0.bytes().fold(0u8, |acc, b| acc.wrapping_add(b)) % DUE_SHARDS
    }
}

/// Number of partitions of the due index.
pub const DUE_SHARDS: u8 = 4;

impl fmt::Debug for CycleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CycleId({})", self.0)
    }
}

impl fmt::Display for CycleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    /// The one spelling used in JSON, metrics, the outbox and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Sms, Channel::Email].into_iter().find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleState {
    /// A number is live, being sent, or waiting to be (re-)issued.
    Active,
    /// The patient registered in the app.
    Redeemed,
    /// The last re-issue expired unused.
    Exhausted,
    /// The health centre cancelled the cycle.
    Cancelled,
    /// A manual issue started a new cycle for the report.
    Superseded,
    /// The phone is on the SMS opt-out list.
    OptedOut,
    /// The message service refused the address for good, or kept failing for longer than the policy allows.
    Undeliverable,
}

/// A number's state, in the cycle's history and in its own record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberState {
    /// Drawn and claimed for sending; the message service has not confirmed yet.
    Sending,
    /// Accepted by the message service; redeemable until `expires_at`.
    Live,
    /// The message service failed; a later tick sends a fresh number for the same generation.
    Undelivered,
    Used,
    Expired,
    /// Replaced before it was used: an undelivered number re-drawn, or the cycle superseded.
    Superseded,
    Cancelled,
}

/// One number of a cycle, as the health centre sees it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberEntry {
    pub generation: u8,
    pub hash: KeyedHash,
    pub state: NumberState,
    pub claimed_at: Instant,
    /// When the message service accepted the message: the hour of validity starts here.
    pub sent_at: Option<Instant>,
    pub expires_at: Option<Instant>,
    /// Failed delivery attempts for this generation so far (counting earlier numbers of it that were re-drawn).
    pub failed_attempts: u32,
    pub retry_at: Option<Instant>,
    /// The number itself, encrypted by a [`crate::ports::NumberVault`], while it can still be redeemed: the reminder
    /// repeats it. Dropped by the first write after it is used, replaced, cancelled or expired
    /// ([`Cycle::forget_spent_numbers`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedNumber>,
}

/// A live number encrypted with AES-256-GCM, bound to its keyed hash (the associated data), with what is needed to
/// find its key. Opaque to the domain; the vault adapters fill and read it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedNumber {
    /// Which key opens it: the KMS-encrypted data key in AWS, the key file's id locally (hex).
    pub key: String,
    /// The 96-bit nonce (hex).
    pub nonce: String,
    /// The ciphertext with its tag (hex).
    pub ciphertext: String,
}

impl fmt::Debug for SealedNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedNumber(<sealed>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Reminder {
    Sending {
        claimed_at: Instant,
        failed_attempts: u32,
    },
    Failed {
        failed_attempts: u32,
        retry_at: Instant,
    },
    Sent {
        at: Instant,
    },
    /// Quiet hours covered the rest of the last number's validity.
    Skipped {
        at: Instant,
    },
}

/// One issue cycle of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    pub id: CycleId,
    pub report_id: ReportId,
    pub health_center_code: String,
    pub channel: Channel,
    pub language: Language,
    pub state: CycleState,
    /// Oldest first; the last entry is the current generation.
    pub numbers: Vec<NumberEntry>,
    pub reminder: Option<Reminder>,
    /// Generation of the number that was redeemed.
    pub redeemed_generation: Option<u8>,
    /// When the re-issuer must look at this cycle next; `None` once nothing is left to do. This feeds the sparse due
    /// index: a finished cycle drops out of it.
    pub next_due_at: Option<Instant>,
    pub created_at: Instant,
    pub ended_at: Option<Instant>,
}

/// One issued number's own record, keyed by its hash: redemption finds it there. Creating it only if absent keeps
/// numbers unique among all records kept (live ones included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedNumber {
    pub hash: KeyedHash,
    pub cycle_id: CycleId,
    pub generation: u8,
    pub state: NumberState,
    pub issued_at: Instant,
    /// Redeemable before this instant (while `Sending`: the latest it could expire once accepted).
    pub expires_at: Instant,
    /// After this instant the record may be deleted (TTL), and reads treat it as gone.
    pub purge_after: Instant,
}

/// How long number records are kept after they can no longer be redeemed: long enough for the health centre's view
/// and for support questions, short enough that the space of 10^8 numbers stays sparse.
pub const KEEP_NUMBERS_FOR: Duration = Duration::days(7);

/// What the re-issuer should do with a cycle now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing before this instant (`None`: nothing ever again).
    Wait(Option<Instant>),
    /// A send is due, but quiet hours hold it back until they end at this instant.
    QuietHours(Instant),
    /// Draw and send a number of this generation: a re-issue, or a fresh number for an undelivered one.
    SendNumber {
        generation: u8,
    },
    SendReminder,
    /// The last number expired unused: end the cycle.
    Exhaust,
    /// Quiet hours cover the rest of the last number's validity: record the reminder as skipped.
    SkipReminder,
}

/// A transition refused because the cycle is not in a state that allows it (somebody else moved it first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cycle is no longer in a state that allows this")]
pub struct NotApplicable;

/// A new state and the number records to write with it, in one all-or-nothing write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub cycle: Cycle,
    /// Existing number records whose state changes.
    pub changed: Vec<IssuedNumber>,
    /// A new number record, created only if no record with its hash exists.
    pub created: Option<IssuedNumber>,
}

/// Who a new cycle is for and how it reaches them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCycle {
    pub id: CycleId,
    pub report_id: ReportId,
    pub health_center_code: String,
    pub channel: Channel,
    pub language: Language,
}

impl Cycle {
    /// A new cycle whose first number (generation 0, the health centre's issue) is claimed for sending now.
    pub fn start(new: NewCycle, first: KeyedHash, now: Instant, policy: &Policy) -> Transition {
        let mut cycle = Cycle {
            id: new.id,
            report_id: new.report_id,
            health_center_code: new.health_center_code,
            channel: new.channel,
            language: new.language,
            state: CycleState::Active,
            numbers: Vec::new(),
            reminder: None,
            redeemed_generation: None,
            next_due_at: None,
            created_at: now,
            ended_at: None,
        };
        let created = cycle.push_claim(0, first, now, 0, policy);
        cycle.next_due_at = cycle.due(policy);
        Transition { cycle, changed: Vec::new(), created: Some(created) }
    }

    pub fn current(&self) -> Option<&NumberEntry> {
        self.numbers.last()
    }

    fn current_mut(&mut self) -> Option<&mut NumberEntry> {
        self.numbers.last_mut()
    }

    pub fn is_active(&self) -> bool {
        self.state == CycleState::Active
    }

    /// What is due at `now`. Quiet hours hold back automatic sends (re-issues, retries of re-issues, the reminder);
    /// the health centre's own issue (generation 0) is not held back: a person decided to send it.
    pub fn next_step(&self, now: Instant, policy: &Policy) -> Step {
        if !self.is_active() {
            return Step::Wait(None);
        }
        let Some(current) = self.current() else { return Step::Wait(None) };
        let quiet_until = |step: Step| {
            if policy.quiet.contains(now) { Step::QuietHours(policy.quiet.end_after(now)) } else { step }
        };
        match current.state {
            NumberState::Sending => {
                let lease_end = current.claimed_at + policy.claim_lease;
                if now < lease_end {
                    return Step::Wait(Some(lease_end));
                }
                // The claimant died between claim and outcome: treat it as a failed attempt.
                let step = Step::SendNumber { generation: current.generation };
                if current.generation == 0 { step } else { quiet_until(step) }
            }
            NumberState::Undelivered => match current.retry_at {
                Some(at) if now < at => Step::Wait(Some(at)),
                _ => {
                    let step = Step::SendNumber { generation: current.generation };
                    if current.generation == 0 { step } else { quiet_until(step) }
                }
            },
            NumberState::Live => {
                let (Some(sent_at), Some(expires_at)) = (current.sent_at, current.expires_at) else {
                    return Step::Wait(None);
                };
                if now >= expires_at {
                    return if current.generation >= policy.max_reissues {
                        Step::Exhaust
                    } else {
                        quiet_until(Step::SendNumber { generation: current.generation + 1 })
                    };
                }
                if current.generation < policy.max_reissues {
                    return Step::Wait(Some(expires_at));
                }
                self.reminder_step(now, sent_at, expires_at, policy)
            }
            NumberState::Used | NumberState::Expired | NumberState::Superseded | NumberState::Cancelled => {
                Step::Wait(None)
            }
        }
    }

    /// The reminder rule while the last number is live (and before `expires_at`).
    fn reminder_step(&self, now: Instant, sent_at: Instant, expires_at: Instant, policy: &Policy) -> Step {
        let due_at = match self.reminder {
            None => sent_at + policy.reminder_after,
            Some(Reminder::Failed { retry_at, .. }) => retry_at,
            Some(Reminder::Sending { claimed_at, .. }) => claimed_at + policy.claim_lease,
            Some(Reminder::Sent { .. } | Reminder::Skipped { .. }) => return Step::Wait(Some(expires_at)),
        };
        if now < due_at {
            return Step::Wait(Some(due_at.min(expires_at)));
        }
        if policy.quiet.contains(now) {
            let end = policy.quiet.end_after(now);
            // A reminder for a number about to expire only annoys: require a quarter of the validity left.
            return if end + policy.validity / 4 < expires_at { Step::Wait(Some(end)) } else { Step::SkipReminder };
        }
        Step::SendReminder
    }

    /// When `next_step` will next return something other than `Wait`, as of the state's own times.
    fn due(&self, policy: &Policy) -> Option<Instant> {
        if !self.is_active() {
            return None;
        }
        let current = self.current()?;
        match current.state {
            NumberState::Sending => Some(current.claimed_at + policy.claim_lease),
            NumberState::Undelivered => current.retry_at,
            NumberState::Live => {
                let expires_at = current.expires_at?;
                if current.generation < policy.max_reissues {
                    return Some(expires_at);
                }
                let reminder_due = match (self.reminder, current.sent_at) {
                    (None, Some(sent_at)) => Some(sent_at + policy.reminder_after),
                    (Some(Reminder::Failed { retry_at, .. }), _) => Some(retry_at),
                    (Some(Reminder::Sending { claimed_at, .. }), _) => Some(claimed_at + policy.claim_lease),
                    _ => None,
                };
                Some(reminder_due.map_or(expires_at, |r| r.min(expires_at)))
            }
            _ => None,
        }
    }

    /// Keeps `next_due_at` for a step that waits (e.g. quiet hours), so the due index does not bring the cycle back
    /// every minute. `None` if nothing changes.
    pub fn wait_until(&self, at: Option<Instant>) -> Option<Cycle> {
        (self.next_due_at != at).then(|| Cycle { next_due_at: at, ..self.clone() })
    }

    fn push_claim(
        &mut self,
        generation: u8,
        hash: KeyedHash,
        now: Instant,
        failed_attempts: u32,
        policy: &Policy,
    ) -> IssuedNumber {
        self.numbers.push(NumberEntry {
            generation,
            hash: hash.clone(),
            state: NumberState::Sending,
            claimed_at: now,
            sent_at: None,
            expires_at: None,
            failed_attempts,
            retry_at: None,
            sealed: None,
        });
        let expires_at = now + policy.claim_lease + policy.validity;
        IssuedNumber {
            hash,
            cycle_id: self.id.clone(),
            generation,
            state: NumberState::Sending,
            issued_at: now,
            expires_at,
            purge_after: expires_at + KEEP_NUMBERS_FOR,
        }
    }

    /// The record of the current number with a new state (and expiry, if given).
    fn record_of(&self, entry: &NumberEntry, state: NumberState, policy: &Policy) -> IssuedNumber {
        let expires_at = entry.expires_at.unwrap_or(entry.claimed_at + policy.claim_lease + policy.validity);
        IssuedNumber {
            hash: entry.hash.clone(),
            cycle_id: self.id.clone(),
            generation: entry.generation,
            state,
            issued_at: entry.sent_at.unwrap_or(entry.claimed_at),
            expires_at,
            purge_after: expires_at + KEEP_NUMBERS_FOR,
        }
    }

    /// Claims the send of a number of `generation` (what `next_step` returned), drawn as `hash`. The current number
    /// ends as expired (a re-issue) or superseded (an undelivered or orphaned one re-drawn).
    pub fn claim_number(
        &self,
        generation: u8,
        hash: KeyedHash,
        now: Instant,
        policy: &Policy,
    ) -> Result<Transition, NotApplicable> {
        if self.next_step(now, policy) != (Step::SendNumber { generation }) {
            return Err(NotApplicable);
        }
        let mut next = self.clone();
        let mut changed = Vec::new();
        let mut failed_attempts = 0;
        if let Some(current) = next.current_mut() {
            if current.generation == generation {
                // A retry: the earlier number of this generation never reached (or may not have reached) the patient.
                failed_attempts = current.failed_attempts + u32::from(current.state == NumberState::Sending);
                current.state = NumberState::Superseded;
            } else {
                current.state = NumberState::Expired;
            }
            let (entry, state) = (current.clone(), current.state);
            changed.push(self.record_of(&entry, state, policy));
        }
        if failed_attempts >= policy.max_delivery_attempts {
            return Ok(next.end(CycleState::Undeliverable, now, changed));
        }
        let created = next.push_claim(generation, hash, now, failed_attempts, policy);
        next.next_due_at = next.due(policy);
        Ok(Transition { cycle: next, changed, created: Some(created) })
    }

    /// The message service accepted the current number at `accepted_at`: its hour starts now.
    pub fn number_sent(
        &self,
        hash: &KeyedHash,
        accepted_at: Instant,
        policy: &Policy,
    ) -> Result<Transition, NotApplicable> {
        let mut next = self.clone();
        let entry = match next.current_mut() {
            Some(e) if e.hash == *hash && e.state == NumberState::Sending && self.is_active() => e,
            _ => return Err(NotApplicable),
        };
        entry.state = NumberState::Live;
        entry.sent_at = Some(accepted_at);
        entry.expires_at = Some(accepted_at + policy.validity);
        entry.retry_at = None;
        let entry = entry.clone();
        next.next_due_at = next.due(policy);
        let record = next.record_of(&entry, NumberState::Live, policy);
        Ok(Transition { cycle: next, changed: vec![record], created: None })
    }

    /// The message service failed on the current number. `permanent`: it refused the address for good.
    pub fn number_failed(
        &self,
        hash: &KeyedHash,
        permanent: bool,
        now: Instant,
        policy: &Policy,
    ) -> Result<Transition, NotApplicable> {
        let mut next = self.clone();
        let entry = match next.current_mut() {
            Some(e) if e.hash == *hash && e.state == NumberState::Sending && self.is_active() => e,
            _ => return Err(NotApplicable),
        };
        entry.state = NumberState::Undelivered;
        entry.failed_attempts += 1;
        entry.retry_at = Some(now + policy.retry_after);
        let entry = entry.clone();
        let changed = vec![next.record_of(&entry, NumberState::Undelivered, policy)];
        if permanent || entry.failed_attempts >= policy.max_delivery_attempts {
            return Ok(next.end(CycleState::Undeliverable, now, changed));
        }
        next.next_due_at = next.due(policy);
        Ok(Transition { cycle: next, changed, created: None })
    }

    pub fn claim_reminder(&self, now: Instant, policy: &Policy) -> Result<Transition, NotApplicable> {
        if self.next_step(now, policy) != Step::SendReminder {
            return Err(NotApplicable);
        }
        let failed_attempts = match self.reminder {
            Some(Reminder::Failed { failed_attempts, .. }) => failed_attempts,
            Some(Reminder::Sending { failed_attempts, .. }) => failed_attempts + 1,
            _ => 0,
        };
        let mut next = self.clone();
        next.reminder = Some(Reminder::Sending { claimed_at: now, failed_attempts });
        next.next_due_at = next.due(policy);
        Ok(Transition { cycle: next, changed: Vec::new(), created: None })
    }

    pub fn reminder_sent(&self, accepted_at: Instant, policy: &Policy) -> Result<Transition, NotApplicable> {
        if !matches!(self.reminder, Some(Reminder::Sending { .. })) || !self.is_active() {
            return Err(NotApplicable);
        }
        let mut next = self.clone();
        next.reminder = Some(Reminder::Sent { at: accepted_at });
        next.next_due_at = next.due(policy);
        Ok(Transition { cycle: next, changed: Vec::new(), created: None })
    }

    pub fn reminder_failed(&self, now: Instant, policy: &Policy) -> Result<Transition, NotApplicable> {
        let Some(Reminder::Sending { failed_attempts, .. }) = self.reminder else { return Err(NotApplicable) };
        if !self.is_active() {
            return Err(NotApplicable);
        }
        let mut next = self.clone();
        next.reminder =
            Some(Reminder::Failed { failed_attempts: failed_attempts + 1, retry_at: now + policy.retry_after });
        next.next_due_at = next.due(policy);
        Ok(Transition { cycle: next, changed: Vec::new(), created: None })
    }

    pub fn skip_reminder(&self, now: Instant, policy: &Policy) -> Result<Transition, NotApplicable> {
        if self.next_step(now, policy) != Step::SkipReminder {
            return Err(NotApplicable);
        }
        let mut next = self.clone();
        next.reminder = Some(Reminder::Skipped { at: now });
        next.next_due_at = next.due(policy);
        Ok(Transition { cycle: next, changed: Vec::new(), created: None })
    }

    /// The last number expired unused.
    pub fn exhaust(&self, now: Instant, policy: &Policy) -> Result<Transition, NotApplicable> {
        if self.next_step(now, policy) != Step::Exhaust {
            return Err(NotApplicable);
        }
        let mut next = self.clone();
        let mut changed = Vec::new();
        if let Some(current) = next.current_mut() {
            current.state = NumberState::Expired;
            let entry = current.clone();
            changed.push(self.record_of(&entry, NumberState::Expired, policy));
        }
        Ok(next.end(CycleState::Exhausted, now, changed))
    }

    /// The patient redeemed the number with this hash at `now`.
    pub fn redeem(&self, hash: &KeyedHash, now: Instant, policy: &Policy) -> Result<Transition, NotApplicable> {
        let mut next = self.clone();
        let entry = match next.current_mut() {
            Some(e) if e.hash == *hash && self.is_active() => e,
            _ => return Err(NotApplicable),
        };
        let redeemable = match entry.state {
            NumberState::Live => entry.expires_at.is_some_and(|at| now < at),
            // Accepted by the service but not yet recorded (the patient was quicker than our write).
            NumberState::Sending => now < entry.claimed_at + policy.claim_lease + policy.validity,
            _ => false,
        };
        if !redeemable {
            return Err(NotApplicable);
        }
        entry.state = NumberState::Used;
        let entry = entry.clone();
        next.redeemed_generation = Some(entry.generation);
        let changed = vec![self.record_of(&entry, NumberState::Used, policy)];
        Ok(next.end(CycleState::Redeemed, now, changed))
    }

    /// Ends an active cycle for `state` (cancelled, superseded, opted out); its live number can no longer be redeemed.
    pub fn stop(&self, state: CycleState, now: Instant, policy: &Policy) -> Result<Transition, NotApplicable> {
        if !self.is_active() {
            return Err(NotApplicable);
        }
        let mut next = self.clone();
        let mut changed = Vec::new();
        if let Some(current) = next.current_mut()
            && matches!(current.state, NumberState::Live | NumberState::Sending | NumberState::Undelivered)
        {
            current.state =
                if state == CycleState::Superseded { NumberState::Superseded } else { NumberState::Cancelled };
            let entry = current.clone();
            changed.push(self.record_of(&entry, entry.state, policy));
        }
        Ok(next.end(state, now, changed))
    }

    fn end(mut self, state: CycleState, now: Instant, changed: Vec<IssuedNumber>) -> Transition {
        self.state = state;
        self.ended_at = Some(now);
        self.next_due_at = None;
        Transition { cycle: self, changed, created: None }
    }

    /// Keeps the sealed copy of the number drawn as `hash` (the claim just made), for the reminder.
    pub fn keep_sealed(&mut self, hash: &KeyedHash, sealed: SealedNumber) {
        if let Some(entry) = self.numbers.iter_mut().rev().find(|n| n.hash == *hash) {
            entry.sealed = Some(sealed);
        }
    }

    /// Drops the sealed copy of every number that can no longer be redeemed at `now`: used, replaced, cancelled,
    /// undelivered, past its expiry, or of an ended cycle. Every write of a cycle passes through here, so the sweep's
    /// write at expiry (re-issue, exhaustion, or the wait over quiet hours) removes what the expiry made useless.
    pub fn forget_spent_numbers(&mut self, now: Instant) {
        let active = self.is_active();
        for entry in &mut self.numbers {
            let redeemable = match entry.state {
                NumberState::Sending => true,
                NumberState::Live => entry.expires_at.is_some_and(|at| now < at),
                _ => false,
            };
            if !(active && redeemable) {
                entry.sealed = None;
            }
        }
    }

    /// The sealed copy of the current number if it is live at `now`.
    pub fn live_sealed(&self, now: Instant) -> Option<&SealedNumber> {
        let current = self.current()?;
        let live = current.state == NumberState::Live && current.expires_at.is_some_and(|at| now < at);
        (self.is_active() && live).then_some(current.sealed.as_ref()).flatten()
    }

    /// Automatic re-issues delivered so far (generations above 0 that reached the message service).
    pub fn reissues_sent(&self) -> usize {
        self.numbers.iter().filter(|n| n.generation > 0 && n.sent_at.is_some()).count()
    }
}

#[cfg(test)]
mod tests;
