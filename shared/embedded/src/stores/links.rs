//! The linkage decisions on SQLite: table `links` (pk = report id, or `summary`), `reviewed` set once a health
//! centre answered, `review_hc` set only while a review is pending (the partial index is the review queue).

use async_trait::async_trait;
use domain::StoreError;
use domain::linkage_records::{DecisionWrite, LinkDecision, LinkageSummary, Review};
use domain::ports::LinkStore;
use domain::report::ReportId;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStores, decode, docs_by_pk, encode, immediate, sql};

const SUMMARY_PK: &str = "summary";

fn queue_key(d: &LinkDecision) -> Option<String> {
    d.is_pending().then(|| d.health_center_code.clone())
}

#[async_trait]
impl LinkStore for SqliteStores {
    async fn put_decision(&self, decision: &LinkDecision) -> Result<DecisionWrite, StoreError> {
        let mut outcomes = self.put_decisions(std::slice::from_ref(decision)).await?;
        outcomes.pop().ok_or_else(|| StoreError::Unavailable("a decision write answered nothing".to_owned()))
    }

    async fn put_decisions(&self, decisions: &[LinkDecision]) -> Result<Vec<DecisionWrite>, StoreError> {
        let rows = decisions
            .iter()
            .map(|d| Ok((d.report_id.as_str().to_owned(), encode(d, "decision")?, d.is_reviewed(), queue_key(d))))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.db
            .run(move |conn| {
                // One transaction: a commit per decision would append the same pages to the WAL hundreds of times.
                let tx = immediate(conn)?;
                let outcomes = {
                    let mut stmt = tx
                        .prepare_cached(
                            "INSERT INTO links (pk, doc, reviewed, review_hc) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (pk) DO UPDATE SET doc = excluded.doc, reviewed = excluded.reviewed,
                               review_hc = excluded.review_hc WHERE links.reviewed = 0",
                        )
                        .map_err(sql)?;
                    rows.iter()
                        .map(|(pk, doc, reviewed, hc)| {
                            let n = stmt.execute(params![pk, doc, reviewed, hc]).map_err(sql)?;
                            Ok(if n == 0 { DecisionWrite::KeptReviewed } else { DecisionWrite::Written })
                        })
                        .collect::<Result<Vec<_>, StoreError>>()?
                };
                tx.commit().map_err(sql)?;
                Ok(outcomes)
            })
            .await
    }

    async fn get_decision(&self, report: &ReportId) -> Result<Option<LinkDecision>, StoreError> {
        let pk = report.as_str().to_owned();
        self.db
            .run(move |conn| {
                let doc: Option<String> = conn
                    .query_row("SELECT doc FROM links WHERE pk = ?1", [pk], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                doc.map(|d| decode(&d, "decision")).transpose()
            })
            .await
    }

    async fn decisions_of(&self, reports: &[ReportId]) -> Result<Vec<LinkDecision>, StoreError> {
        let keys: Vec<String> = reports.iter().map(ToString::to_string).collect();
        self.db.run(move |conn| docs_by_pk(conn, "SELECT doc FROM links WHERE pk = ?1", &keys, "decision")).await
    }

    async fn remove_decision(&self, report: &ReportId) -> Result<bool, StoreError> {
        let pk = report.as_str().to_owned();
        self.db
            .run(move |conn| {
                let n = conn.execute("DELETE FROM links WHERE pk = ?1 AND reviewed = 0", [pk]).map_err(sql)?;
                Ok(n > 0)
            })
            .await
    }

    async fn all_decisions(&self) -> Result<Vec<LinkDecision>, StoreError> {
        self.db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT doc FROM links WHERE pk <> ?1 ORDER BY pk").map_err(sql)?;
                let docs = stmt.query_map([SUMMARY_PK], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, "decision")).collect()
            })
            .await
    }

    async fn review_queue(&self, health_center: &str) -> Result<Vec<LinkDecision>, StoreError> {
        let hc = health_center.to_owned();
        self.db
            .run(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT doc FROM links WHERE review_hc = ?1 ORDER BY pk").map_err(sql)?;
                let docs = stmt.query_map([hc], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, "decision")).collect()
            })
            .await
    }

    async fn record_review(&self, report: &ReportId, review: &Review) -> Result<LinkDecision, StoreError> {
        let pk = report.as_str().to_owned();
        let review = review.clone();
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                let doc: Option<String> =
                    tx.query_row("SELECT doc FROM links WHERE pk = ?1", [&pk], |r| r.get(0)).optional().map_err(sql)?;
                let mut decision: LinkDecision = decode(&doc.ok_or(StoreError::NotFound)?, "decision")?;
                if !decision.is_pending() {
                    return Err(StoreError::VersionConflict { expected: 0 });
                }
                decision = decision.with_review(review);
                let (doc, reviewed, hc) =
                    (encode(&decision, "decision")?, decision.is_reviewed(), queue_key(&decision));
                tx.execute(
                    "UPDATE links SET doc = ?2, reviewed = ?3, review_hc = ?4 WHERE pk = ?1",
                    params![pk, doc, reviewed, hc],
                )
                .map_err(sql)?;
                tx.commit().map_err(sql)?;
                Ok(decision)
            })
            .await
    }

    async fn put_summary(&self, summary: &LinkageSummary) -> Result<(), StoreError> {
        let doc = encode(summary, "summary")?;
        self.db
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO links (pk, doc, reviewed) VALUES (?1, ?2, 0)
                     ON CONFLICT (pk) DO UPDATE SET doc = excluded.doc",
                    params![SUMMARY_PK, doc],
                )
                .map_err(sql)?;
                Ok(())
            })
            .await
    }

    async fn get_summary(&self) -> Result<Option<LinkageSummary>, StoreError> {
        self.db
            .run(move |conn| {
                let doc: Option<String> = conn
                    .query_row("SELECT doc FROM links WHERE pk = ?1", [SUMMARY_PK], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                doc.map(|d| decode(&d, "summary")).transpose()
            })
            .await
    }
}
