use chrono::{DateTime, Utc};

use super::*;
use crate::keyed_hash::KeyedHash;

fn jst(s: &str) -> Instant {
    DateTime::parse_from_rfc3339(&format!("{s}+09:00")).unwrap().with_timezone(&Utc)
}

fn hash(n: u32) -> KeyedHash {
    KeyedHash::from_stored(format!("h{n}"))
}

fn started(now: Instant, policy: &Policy) -> Cycle {
    let new = NewCycle {
        id: CycleId::from_stored("c1".into()),
        report_id: ReportId::generate(),
        health_center_code: "131016".into(),
        channel: Channel::Sms,
        language: Language::Ja,
    };
    let t = Cycle::start(new, hash(0), now, policy);
    assert_eq!(t.created.as_ref().unwrap().state, NumberState::Sending);
    t.cycle
}

/// What a driver sent, minute by minute: (instant, generation or None for the reminder).
#[derive(Debug, Default)]
struct Sent(Vec<(Instant, Option<u8>)>);

/// Drives a cycle one tick a minute from `from` to `to` as the re-issuer does, with a message service that accepts
/// everything at once unless `fail` says otherwise for (tick, generation).
fn drive(
    mut cycle: Cycle,
    from: Instant,
    to: Instant,
    policy: &Policy,
    fail: impl Fn(Instant, Option<u8>) -> bool,
) -> (Cycle, Sent) {
    let mut sent = Sent::default();
    let mut draws = 100;
    let mut now = from;
    while now <= to {
        loop {
            let step = cycle.next_step(now, policy);
            match step {
                Step::Wait(_) | Step::QuietHours(_) => break,
                Step::SendNumber { generation } => {
                    draws += 1;
                    let h = hash(draws);
                    let t = cycle.claim_number(generation, h.clone(), now, policy).unwrap();
                    cycle = t.cycle;
                    if !cycle.is_active() {
                        break;
                    }
                    cycle = if fail(now, Some(generation)) {
                        cycle.number_failed(&h, false, now, policy).unwrap().cycle
                    } else {
                        sent.0.push((now, Some(generation)));
                        cycle.number_sent(&h, now, policy).unwrap().cycle
                    };
                }
                Step::SendReminder => {
                    cycle = cycle.claim_reminder(now, policy).unwrap().cycle;
                    cycle = if fail(now, None) {
                        cycle.reminder_failed(now, policy).unwrap().cycle
                    } else {
                        sent.0.push((now, None));
                        cycle.reminder_sent(now, policy).unwrap().cycle
                    };
                }
                Step::Exhaust => cycle = cycle.exhaust(now, policy).unwrap().cycle,
                Step::SkipReminder => cycle = cycle.skip_reminder(now, policy).unwrap().cycle,
            }
        }
        now += Duration::minutes(1);
    }
    (cycle, sent)
}

fn deliver_first(cycle: &Cycle, at: Instant, policy: &Policy) -> Cycle {
    cycle.number_sent(&hash(0), at, policy).unwrap().cycle
}

#[test]
fn unused_numbers_are_reissued_four_times_with_one_reminder_then_the_cycle_ends() {
    let policy = Policy { quiet: QuietHours::NONE, ..Policy::default() };
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    let (cycle, sent) = drive(cycle, t0, t0 + Duration::hours(8), &policy, |_, _| false);
    let expected: Vec<(Instant, Option<u8>)> = vec![
        (t0 + Duration::hours(1), Some(1)),
        (t0 + Duration::hours(2), Some(2)),
        (t0 + Duration::hours(3), Some(3)),
        (t0 + Duration::hours(4), Some(4)),
        (t0 + Duration::minutes(4 * 60 + 30), None),
    ];
    assert_eq!(sent.0, expected);
    assert_eq!(cycle.state, CycleState::Exhausted);
    assert_eq!(cycle.ended_at, Some(t0 + Duration::hours(5)));
    assert_eq!(cycle.next_due_at, None, "a finished cycle leaves the due index");
    assert_eq!(cycle.numbers.len(), 5);
    assert!(cycle.numbers.iter().all(|n| n.state == NumberState::Expired));
}

#[test]
fn validity_starts_when_the_service_accepts_not_when_drawn() {
    let policy = Policy::default();
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = started(t0, &policy);
    let accepted = t0 + Duration::seconds(50);
    let cycle = deliver_first(&cycle, accepted, &policy);
    assert_eq!(cycle.current().unwrap().expires_at, Some(accepted + Duration::minutes(60)));
    assert_eq!(cycle.next_due_at, Some(accepted + Duration::minutes(60)));
    assert_eq!(
        cycle.next_step(t0 + Duration::minutes(60), &policy),
        Step::Wait(Some(accepted + Duration::minutes(60)))
    );
}

#[test]
fn redeeming_ends_the_cycle_and_only_the_live_number_counts() {
    let policy = Policy { quiet: QuietHours::NONE, ..Policy::default() };
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    let (cycle, _) = drive(cycle, t0, t0 + Duration::minutes(150), &policy, |_, _| false);
    assert_eq!(cycle.current().unwrap().generation, 2);
    let live = cycle.current().unwrap().hash.clone();
    let at = t0 + Duration::minutes(151);
    assert_eq!(cycle.redeem(&hash(0), at, &policy), Err(NotApplicable), "an expired number");
    let t = cycle.redeem(&live, at, &policy).unwrap();
    assert_eq!(t.cycle.state, CycleState::Redeemed);
    assert_eq!(t.cycle.redeemed_generation, Some(2));
    assert_eq!(t.changed[0].state, NumberState::Used);
    assert_eq!(t.cycle.next_due_at, None);
    assert_eq!(t.cycle.redeem(&live, at, &policy), Err(NotApplicable), "used once only");
    let (after, sent) = drive(t.cycle, at, at + Duration::hours(5), &policy, |_, _| false);
    assert!(sent.0.is_empty(), "no re-issue and no reminder after redemption");
    assert_eq!(after.state, CycleState::Redeemed);
}

#[test]
fn a_live_number_past_its_hour_cannot_be_redeemed() {
    let policy = Policy::default();
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    assert!(cycle.redeem(&hash(0), t0 + Duration::minutes(59), &policy).is_ok());
    assert_eq!(cycle.redeem(&hash(0), t0 + Duration::minutes(60), &policy), Err(NotApplicable));
}

#[test]
fn quiet_hours_hold_reissues_until_morning() {
    let policy = Policy::default(); // 21:00-08:00
    let t0 = jst("2021-02-01T20:30:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    let (cycle, sent) = drive(cycle, t0, jst("2021-02-02T08:59:00"), &policy, |_, _| false);
    assert_eq!(sent.0, vec![(jst("2021-02-02T08:00:00"), Some(1))]);
    assert_eq!(cycle.current().unwrap().generation, 1);
    // While waiting, the cycle asked to be looked at when quiet hours end, not every minute.
    let waiting = deliver_first(&started(t0, &policy), t0, &policy);
    assert_eq!(waiting.next_step(jst("2021-02-01T22:00:00"), &policy), Step::QuietHours(jst("2021-02-02T08:00:00")));
}

#[test]
fn a_reminder_that_would_fall_in_quiet_hours_with_little_validity_left_is_skipped() {
    let policy = Policy::default();
    // Fourth re-issue delivered at 20:40: reminder due 21:10 (quiet), number expires 21:40, quiet ends 08:00.
    let t0 = jst("2021-02-01T16:40:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    let (cycle, sent) = drive(cycle, t0, jst("2021-02-01T21:39:00"), &policy, |_, _| false);
    assert_eq!(sent.0.len(), 4, "four re-issues, no reminder: {sent:?}");
    assert!(matches!(cycle.reminder, Some(Reminder::Skipped { .. })));
}

#[test]
fn a_failed_send_is_retried_with_a_fresh_number_of_the_same_generation() {
    let policy = Policy { quiet: QuietHours::NONE, ..Policy::default() };
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    // The service fails for the first 3 minutes of the first re-issue.
    let outage_end = t0 + Duration::minutes(63);
    let (cycle, sent) = drive(cycle, t0, t0 + Duration::hours(9), &policy, |now, g| g == Some(1) && now < outage_end);
    let generations: Vec<Option<u8>> = sent.0.iter().map(|(_, g)| *g).collect();
    assert_eq!(
        generations,
        vec![Some(1), Some(2), Some(3), Some(4), None],
        "each generation sent once, count never exceeded"
    );
    assert_eq!(sent.0[0].0, outage_end);
    let gen1: Vec<&NumberEntry> = cycle.numbers.iter().filter(|n| n.generation == 1).collect();
    assert_eq!(gen1.len(), 4, "three undelivered draws superseded, one delivered");
    assert!(gen1[..3].iter().all(|n| n.state == NumberState::Superseded));
    assert_eq!(gen1[3].failed_attempts, 3);
    assert_eq!(cycle.state, CycleState::Exhausted);
}

#[test]
fn an_orphaned_claim_is_taken_over_after_the_lease() {
    let policy = Policy { quiet: QuietHours::NONE, ..Policy::default() };
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    let at = t0 + Duration::minutes(60);
    let claimed = cycle.claim_number(1, hash(7), at, &policy).unwrap().cycle;
    // The claimant died. Another invocation must wait out the lease, then re-draw.
    assert_eq!(claimed.next_step(at + Duration::minutes(1), &policy), Step::Wait(Some(at + policy.claim_lease)));
    assert_eq!(claimed.claim_number(1, hash(8), at + Duration::minutes(1), &policy), Err(NotApplicable));
    assert_eq!(claimed.next_step(at + policy.claim_lease, &policy), Step::SendNumber { generation: 1 });
    let retaken = claimed.claim_number(1, hash(8), at + policy.claim_lease, &policy).unwrap();
    assert_eq!(retaken.changed[0].state, NumberState::Superseded);
    assert_eq!(retaken.cycle.current().unwrap().failed_attempts, 1);
}

#[test]
fn a_service_down_for_longer_than_the_policy_makes_the_cycle_undeliverable() {
    let policy = Policy { quiet: QuietHours::NONE, max_delivery_attempts: 3, ..Policy::default() };
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    let (cycle, sent) = drive(cycle, t0, t0 + Duration::hours(3), &policy, |_, g| g == Some(1));
    assert!(sent.0.is_empty());
    assert_eq!(cycle.state, CycleState::Undeliverable);
    assert_eq!(cycle.next_due_at, None);
}

#[test]
fn a_permanent_refusal_ends_the_cycle_at_once() {
    let policy = Policy::default();
    let t0 = jst("2021-02-01T10:00:00");
    let t = started(t0, &policy).number_failed(&hash(0), true, t0, &policy).unwrap();
    assert_eq!(t.cycle.state, CycleState::Undeliverable);
    assert_eq!(t.changed[0].state, NumberState::Undelivered);
}

#[test]
fn cancelling_stops_everything_and_voids_the_live_number() {
    let policy = Policy { quiet: QuietHours::NONE, ..Policy::default() };
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    let t = cycle.stop(CycleState::Cancelled, t0 + Duration::minutes(5), &policy).unwrap();
    assert_eq!(t.changed[0].state, NumberState::Cancelled);
    assert_eq!(t.cycle.redeem(&hash(0), t0 + Duration::minutes(6), &policy), Err(NotApplicable));
    let (_, sent) = drive(t.cycle.clone(), t0, t0 + Duration::hours(6), &policy, |_, _| false);
    assert!(sent.0.is_empty());
    assert_eq!(t.cycle.stop(CycleState::Cancelled, t0, &policy), Err(NotApplicable), "only an active cycle");
}

#[test]
fn two_claims_from_the_same_state_cannot_both_apply_after_each_other() {
    // The store's versioned write refuses the second writer; here: once claimed, the same claim is not due again.
    let policy = Policy { quiet: QuietHours::NONE, ..Policy::default() };
    let t0 = jst("2021-02-01T10:00:00");
    let cycle = deliver_first(&started(t0, &policy), t0, &policy);
    let at = t0 + Duration::minutes(60);
    let first = cycle.claim_number(1, hash(1), at, &policy).unwrap().cycle;
    assert_eq!(first.claim_number(1, hash(2), at, &policy), Err(NotApplicable));
    assert_eq!(first.claim_number(2, hash(2), at, &policy), Err(NotApplicable));
}

fn sealed(tag: &str) -> SealedNumber {
    SealedNumber { key: "k".into(), nonce: tag.into(), ciphertext: tag.into() }
}

#[test]
fn a_sealed_number_is_kept_while_redeemable_and_forgotten_after() {
    let policy = Policy::default();
    let t0 = jst("2021-02-04T10:00:00");
    let mut cycle = started(t0, &policy);
    cycle.keep_sealed(&hash(0), sealed("g0"));
    cycle.forget_spent_numbers(t0);
    assert!(cycle.numbers[0].sealed.is_some(), "kept while sending");
    let mut cycle = cycle.number_sent(&hash(0), t0, &policy).unwrap().cycle;
    assert!(cycle.live_sealed(t0 + Duration::minutes(59)).is_some(), "opened while live");
    assert!(cycle.live_sealed(t0 + Duration::minutes(61)).is_none(), "never opened after expiry");
    cycle.forget_spent_numbers(t0 + Duration::minutes(30));
    assert!(cycle.numbers[0].sealed.is_some());
    // The re-issue at expiry marks it expired: the write drops its sealed copy, the new one keeps its own.
    let at = t0 + Duration::minutes(61);
    let mut next = cycle.claim_number(1, hash(1), at, &policy).unwrap().cycle;
    next.keep_sealed(&hash(1), sealed("g1"));
    next.forget_spent_numbers(at);
    assert!(next.numbers[0].sealed.is_none() && next.numbers[1].sealed.is_some());
    // A live number past its expiry with no transition yet (quiet hours) is dropped by the waiting write too.
    let mut live = next.number_sent(&hash(1), at, &policy).unwrap().cycle;
    live.forget_spent_numbers(at + Duration::minutes(61));
    assert!(live.numbers.iter().all(|n| n.sealed.is_none()));
    // An ended cycle keeps none.
    let mut live = next.number_sent(&hash(1), at, &policy).unwrap().cycle;
    let mut ended = live.stop(CycleState::Cancelled, at, &policy).unwrap().cycle;
    ended.forget_spent_numbers(at);
    assert!(ended.numbers.iter().all(|n| n.sealed.is_none()));
    live.forget_spent_numbers(at);
    assert!(live.numbers[1].sealed.is_some());
}
