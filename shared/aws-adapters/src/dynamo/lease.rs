//! The full runs' leases on DynamoDB: one item (`pk` "meta", `sk` the lease's name) holding the run and the lease's
//! end (`run` S, `lease_until` N, epoch ms), put and deleted under conditions. The full graph export's is in the
//! GraphSources table (`sk` `full_export`), the full re-link's in the LinkIndex table (`sk` `full_linkage`).

use async_trait::async_trait;
use domain::StoreError;
use domain::full_run::FullRun;
use domain::ports::FullRunLeases;
use domain::time::Instant;

use super::{DynamoStores, Table, n, read_i64, read_string, s, unavailable};

const WHAT: &str = "lease";

/// Where the lease of `kind` is kept: its table and its item's sort key.
fn place(kind: FullRun) -> (Table, &'static str) {
    match kind {
        FullRun::Export => (Table::GraphSources, "full_export"),
        FullRun::Linkage => (Table::LinkIndex, "full_linkage"),
    }
}

#[async_trait]
impl FullRunLeases for DynamoStores {
    async fn claim(&self, kind: FullRun, run: &str, now: Instant, until: Instant) -> Result<bool, StoreError> {
        let (table, name) = place(kind);
        self.claim_lease(table, name, run, now, until).await
    }

    async fn holder(&self, kind: FullRun, now: Instant) -> Result<Option<String>, StoreError> {
        let (table, name) = place(kind);
        self.lease_holder(table, name, now).await
    }

    async fn release(&self, kind: FullRun, run: &str) -> Result<(), StoreError> {
        let (table, name) = place(kind);
        self.release_lease(table, name, run).await
    }
}

impl DynamoStores {
    /// Takes the lease `name` of `table` for `run` until `until` unless another run holds one unexpired at `now`.
    async fn claim_lease(
        &self,
        table: Table,
        name: &str,
        run: &str,
        now: Instant,
        until: Instant,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(self.tables.name(table)?)
            .item("pk", s("meta"))
            .item("sk", s(name))
            .item("run", s(run))
            .item("lease_until", n(until.timestamp_millis()))
            // Free, ours already (a retried start), or expired (a run that died).
            .condition_expression("attribute_not_exists(pk) OR #run = :run OR lease_until <= :now")
            .expression_attribute_names("#run", "run")
            .expression_attribute_values(":run", s(run))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(unavailable("PutItem", &e)),
        }
    }

    /// The run holding the unexpired lease `name` of `table` as of `now`.
    async fn lease_holder(&self, table: Table, name: &str, now: Instant) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.tables.name(table)?)
            .key("pk", s("meta"))
            .key("sk", s(name))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", &e))?;
        let Some(item) = out.item else { return Ok(None) };
        let until = read_i64(WHAT, &item, "lease_until")?;
        if until <= now.timestamp_millis() {
            return Ok(None);
        }
        read_string(WHAT, &item, "run").map(Some)
    }

    /// Gives the lease `name` of `table` up if `run` holds it.
    async fn release_lease(&self, table: Table, name: &str, run: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(self.tables.name(table)?)
            .key("pk", s("meta"))
            .key("sk", s(name))
            .condition_expression("#run = :run")
            .expression_attribute_names("#run", "run")
            .expression_attribute_values(":run", s(run))
            .send()
            .await;
        match result {
            // Not ours (any more): nothing to give up.
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(unavailable("DeleteItem", &e)),
        }
    }
}
