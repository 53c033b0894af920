//! Case reports: the `reports` table, with the claim of (health centre, case number) as the unique `case_key`.

use async_trait::async_trait;
use domain::error::StoreError;
use domain::keyed_hash::KeyedHash;
use domain::ports::{Page, ReportStore, Segment, Versioned};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, ReportId};
use domain::time::{Instant, sortable_text};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStores, db_version, decode, docs_by_pk, encode, immediate, missing_or_stale, sql, version_of};

#[async_trait]
impl ReportStore for SqliteStores {
    async fn approximate_count(&self) -> Result<u64, StoreError> {
        self.count_rows("reports").await
    }

    async fn create_report(&self, report: &CaseReport) -> Result<(), StoreError> {
        let doc = encode(report, "report")?;
        let (pk, hash, pref) = (
            report.id.to_string(),
            report.passport_hash.as_ref().map(|h| h.as_str().to_owned()),
            report.prefecture.as_jis(),
        );
        let case_key = report.case_key.as_ref().map(|k| k.as_str().to_owned());
        let written = sortable_text(report.updated_at);
        self.db
            .run(move |conn| {
                // The unique index on case_key refuses a second report of the same (health centre, case number).
                let n = conn
                    .execute(
                        "INSERT INTO reports (pk, version, doc, passport_hash, prefecture, case_key, updated_at)
                         VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                        params![pk, doc, hash, pref, case_key, written],
                    )
                    .map_err(sql)?;
                if n == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) }
            })
            .await
    }

    async fn get_report(&self, id: &ReportId) -> Result<Option<Versioned<CaseReport>>, StoreError> {
        let pk = id.to_string();
        self.db
            .run(move |conn| {
                let row: Option<(i64, String)> = conn
                    .query_row("SELECT version, doc FROM reports WHERE pk = ?1", [pk], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(sql)?;
                row.map(|(v, doc)| Ok(Versioned { value: decode(&doc, "report")?, version: version_of(v)? }))
                    .transpose()
            })
            .await
    }

    async fn update_report(&self, report: &CaseReport, expected_version: u64) -> Result<u64, StoreError> {
        let doc = encode(report, "report")?;
        let (pk, hash, pref) = (
            report.id.to_string(),
            report.passport_hash.as_ref().map(|h| h.as_str().to_owned()),
            report.prefecture.as_jis(),
        );
        let expected = db_version(expected_version);
        let written = sortable_text(report.updated_at);
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                let new: Option<i64> = tx
                    .query_row(
                        "UPDATE reports
                         SET version = version + 1, doc = ?2, passport_hash = ?3, prefecture = ?4, updated_at = ?6
                         WHERE pk = ?1 AND version = ?5 RETURNING version",
                        params![pk, doc, hash, pref, expected, written],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                match new {
                    Some(v) => {
                        tx.commit().map_err(sql)?;
                        version_of(v)
                    }
                    None => Err(missing_or_stale(&tx, "reports", &pk, expected_version)?),
                }
            })
            .await
    }

    async fn reports_by_passport(&self, passport: &KeyedHash) -> Result<Vec<ReportId>, StoreError> {
        let hash = passport.as_str().to_owned();
        self.db
            .run(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT pk FROM reports WHERE passport_hash = ?1 ORDER BY pk").map_err(sql)?;
                let ids = stmt.query_map([hash], |r| r.get::<_, String>(0)).map_err(sql)?;
                ids.map(|id| {
                    ReportId::parse(&id.map_err(sql)?)
                        .ok_or_else(|| StoreError::Corrupt("stored report id is not a UUID".to_owned()))
                })
                .collect()
            })
            .await
    }

    async fn reports_by_prefecture(&self, prefecture: PrefectureCode) -> Result<Vec<CaseReport>, StoreError> {
        let pref = prefecture.as_jis();
        self.db
            .run(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT doc FROM reports WHERE prefecture = ?1 ORDER BY pk").map_err(sql)?;
                let docs = stmt.query_map([pref], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, "report")).collect()
            })
            .await
    }

    async fn report_ids_changed_since(&self, since: Instant, _until: Instant) -> Result<Vec<ReportId>, StoreError> {
        let since = sortable_text(since);
        self.db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT pk FROM reports WHERE updated_at >= ?1").map_err(sql)?;
                let ids = stmt.query_map([since], |r| r.get::<_, String>(0)).map_err(sql)?;
                ids.map(|id| {
                    ReportId::parse(&id.map_err(sql)?)
                        .ok_or_else(|| StoreError::Corrupt("stored report id is not a UUID".to_owned()))
                })
                .collect()
            })
            .await
    }

    async fn get_reports(&self, ids: &[ReportId]) -> Result<Vec<CaseReport>, StoreError> {
        let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.db.run(move |conn| docs_by_pk(conn, "SELECT doc FROM reports WHERE pk = ?1", &keys, "report")).await
    }

    async fn reports_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<CaseReport>, StoreError> {
        let (index, of) = (i64::from(segment.index), i64::from(segment.of.max(1)));
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        self.db
            .run(move |conn| {
                // A report's segment is the value of its id's last two hex digits (random in a UUID v7) modulo the
                // number of segments: disjoint segments that together hold every report, read in key order.
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT pk, doc FROM reports
                         WHERE pk > ?1
                           AND ((instr('0123456789abcdef', substr(pk, -2, 1)) - 1) * 16
                                + instr('0123456789abcdef', substr(pk, -1, 1)) - 1) % ?2 = ?3
                         ORDER BY pk LIMIT ?4",
                    )
                    .map_err(sql)?;
                let rows = stmt
                    .query_map(params![cursor.unwrap_or_default(), of, index, limit], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })
                    .map_err(sql)?;
                let mut page = Page { items: Vec::new(), next: None };
                let mut last = None;
                for row in rows {
                    let (pk, doc) = row.map_err(sql)?;
                    page.items.push(decode(&doc, "report")?);
                    last = Some(pk);
                }
                // A short page is the last one.
                if i64::try_from(page.items.len()).unwrap_or(i64::MAX) == limit {
                    page.next = last;
                }
                Ok(page)
            })
            .await
    }
}
