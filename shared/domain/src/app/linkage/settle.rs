//! How a run stores its decisions against the stored ones: a reviewed decision stays, the same outcome is not
//! rewritten, an exact link is never removed by a scored run.

use super::*;

impl Linkage {
    /// Stores each report's new decision (or its absence) against the stored one: a reviewed decision stays, the
    /// same outcome is not rewritten, no decision removes an unreviewed scored one (the exact step's links stay).
    /// The writes go to the store together (`LinkStore::put_decisions`). Counts them in `run` and says, in order,
    /// what it did with each.
    pub(super) async fn settle_all(
        &self,
        items: &[(&ReportId, Option<&LinkDecision>, Option<&LinkDecision>)],
        run: &mut LinkageRun,
    ) -> Result<Vec<Settled>, AppError> {
        let mut settled = Vec::with_capacity(items.len());
        // The decisions to write, and where each stands in `items`.
        let (mut writes, mut write_at): (Vec<LinkDecision>, Vec<usize>) = (Vec::new(), Vec::new());
        for (i, &(id, stored, decision)) in items.iter().enumerate() {
            let Some(decision) = decision else {
                let removable = stored.is_some_and(|old| !old.is_reviewed() && old.method != EXACT_METHOD);
                settled.push(if removable && self.links.remove_decision(id).await? {
                    run.removed += 1;
                    Settled::Removed
                } else {
                    Settled::Kept
                });
                continue;
            };
            if decision.band == LinkBand::Link {
                run.links += 1;
            } else {
                run.reviews += 1;
            }
            match stored {
                Some(old) if old.is_reviewed() => run.kept_reviewed += 1,
                Some(old) if old.same_outcome(decision) => run.unchanged += 1,
                _ => {
                    writes.push(decision.clone());
                    write_at.push(i);
                }
            }
            settled.push(Settled::Kept);
        }
        let outcomes = self.links.put_decisions(&writes).await?;
        if outcomes.len() != writes.len() {
            return Err(StoreError::Unavailable("the link store answered another number of writes".to_owned()).into());
        }
        for (i, outcome) in write_at.into_iter().zip(outcomes) {
            match outcome {
                DecisionWrite::Written => {
                    run.written += 1;
                    settled[i] = Settled::Written;
                }
                DecisionWrite::KeptReviewed => run.kept_reviewed += 1,
            }
        }
        Ok(settled)
    }
}
