//! Sweeps and their finished variants: a sweep's life from queued to a
//! final status, and one row per finished variant, written once.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_millis, storable, RunStatus, Store, StoreError};
use crate::sweep::{Objective, Outcome, Ran, ReturnShape, VariantResult, METRICS};

/// A sweep as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    /// The sweep's id.
    pub id: i64,
    /// The user it belongs to.
    pub owner_id: i64,
    /// The strategy it sweeps.
    pub strategy_id: i64,
    /// The [`VersionRow::id`](super::VersionRow::id) of the code it runs.
    pub version_id: i64,
    /// Where the sweep is in its life (the statuses of a run).
    pub status: RunStatus,
    /// Its checked request as JSON.
    pub config: String,
    /// How many variants it has.
    pub total: i64,
    /// When it was queued, in milliseconds since the epoch.
    pub created_at: i64,
    /// When it last started running (again after a restart), in milliseconds since the epoch.
    pub started_at: Option<i64>,
    /// When it reached a final status, in milliseconds since the epoch.
    pub finished_at: Option<i64>,
    /// Why a failed sweep failed.
    pub error_message: Option<String>,
    /// JSON, once finished: what the service computed over every variant.
    pub summary: Option<String>,
    /// Whether its variants go to worker processes (in chunks, see
    /// `sweep_chunks`) rather than to the server that queued it.
    pub on_workers: bool,
}

/// A finished variant as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantRow {
    /// The variant's number in its sweep.
    pub number: i64,
    /// What became of it.
    pub outcome: Outcome,
    /// The attempt of the worker's chunk that stored it; 0 when a server ran it.
    pub attempt: i64,
}

/// How a page of variants is ordered: by a metric (an index into
/// [`METRICS`]) one way or the other, or by number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VariantOrder {
    /// By variant number, ascending.
    Number,
    /// By the metric, variants without it last, ties by number.
    Metric {
        /// Index into [`METRICS`].
        metric: usize,
        /// Highest first.
        descending: bool,
    },
}

/// What [`Store::variant_shapes`] reads of a variant that ran.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShapeRow {
    /// The variant's number.
    pub number: u64,
    /// The metric asked for.
    pub value: Option<f64>,
    /// Its trades.
    pub trades: Option<f64>,
    /// Its returns' shape.
    pub shape: Option<ReturnShape>,
}

/// Which finished variants of a sweep to read, in which order.
#[derive(Clone, Copy, Debug)]
pub struct VariantPage<'a> {
    /// Their order.
    pub order: VariantOrder,
    /// Only those with this outcome (`ran`, `excluded`, `failed`).
    pub outcome: Option<&'a str>,
    /// Only those with at least this many trades.
    pub min_trades: Option<u64>,
    /// Skip this many.
    pub offset: u64,
    /// At most this many; all when `None`.
    pub limit: Option<u64>,
}

impl VariantPage<'static> {
    /// The `limit` best variants by `objective`, best first: those that ran
    /// with at least its minimum of trades, in its metric's order (ties by
    /// number), as a sweep's leaderboard ranks them.
    pub fn ranked(objective: &Objective, limit: usize) -> Self {
        VariantPage {
            order: VariantOrder::Metric { metric: objective.metric, descending: !objective.minimize },
            outcome: Some("ran"),
            min_trades: Some(objective.min_trades as u64),
            offset: 0,
            limit: Some(limit as u64),
        }
    }
}

pub(super) const SWEEP_COLUMNS: &str =
    "id, owner_id, strategy_id, version_id, status, config, total, created_at, started_at, finished_at, error_message, summary, on_workers";

/// `m_return_pct, m_annual_return_pct, ...`: the metric columns, in [`METRICS`] order.
fn metric_columns() -> String {
    METRICS.iter().map(|m| format!("m_{}", m.name)).collect::<Vec<_>>().join(", ")
}

pub(super) fn sweep(row: &AnyRow) -> Result<SweepRow, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(SweepRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        strategy_id: row.try_get("strategy_id")?,
        version_id: row.try_get("version_id")?,
        status: status.parse().map_err(|detail| StoreError::Corrupt { what: "sweeps.status", detail })?,
        config: row.try_get("config")?,
        total: row.try_get("total")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        error_message: row.try_get("error_message")?,
        summary: row.try_get("summary")?,
        on_workers: row.try_get::<i64, _>("on_workers")? != 0,
    })
}

fn variant(row: &AnyRow) -> Result<VariantRow, StoreError> {
    let outcome: String = row.try_get("outcome")?;
    let outcome = match outcome.as_str() {
        "excluded" => Outcome::Excluded,
        "failed" => Outcome::Failed(row.try_get::<Option<String>, _>("error")?.unwrap_or_default()),
        "ran" => {
            let mut metrics = Vec::with_capacity(METRICS.len());
            for m in &METRICS {
                metrics.push(row.try_get::<Option<f64>, _>(format!("m_{}", m.name).as_str())?);
            }
            let shape: Option<String> = row.try_get("shape")?;
            let shape = shape.as_deref().map(shape_from_json).transpose()?;
            Outcome::Ran(Ran { metrics, shape })
        }
        other => {
            let detail = format!("unknown outcome '{other}'");
            return Err(StoreError::Corrupt { what: "sweep_variants.outcome", detail });
        }
    };
    Ok(VariantRow { number: row.try_get("number")?, outcome, attempt: row.try_get("attempt")? })
}

/// `[sharpe, skew, kurtosis, count]`: a shape as stored (JSON numbers round-trip an f64 exactly).
fn shape_json(shape: &ReturnShape) -> String {
    serde_json::json!([shape.sharpe, shape.skew, shape.kurtosis, shape.count]).to_string()
}

fn shape_from_json(text: &str) -> Result<ReturnShape, StoreError> {
    let corrupt = || StoreError::Corrupt { what: "sweep_variants.shape", detail: format!("unreadable '{text}'") };
    let (sharpe, skew, kurtosis, count): (f64, f64, f64, usize) = serde_json::from_str(text).map_err(|_| corrupt())?;
    Ok(ReturnShape { sharpe, skew, kurtosis, count })
}

impl Store {
    /// Stores a new queued sweep of `total` variants, owned by `owner_id`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn create_sweep(
        &self,
        owner_id: i64,
        strategy_id: i64,
        version_id: i64,
        config_json: &str,
        total: u64,
    ) -> Result<SweepRow, StoreError> {
        let _write = self.writing().await?;
        let sql = format!(
            "INSERT INTO sweeps (owner_id, strategy_id, version_id, status, config, total, created_at) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $6) RETURNING {SWEEP_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(strategy_id)
            .bind(version_id)
            .bind(config_json)
            .bind(i64::try_from(total).unwrap_or(i64::MAX))
            .bind(now_millis())
            .fetch_one(&self.pool)
            .await?;
        sweep(&row)
    }

    /// One sweep.
    ///
    /// # Errors
    /// Database failures.
    pub async fn sweep(&self, id: i64) -> Result<Option<SweepRow>, StoreError> {
        let sql = format!("SELECT {SWEEP_COLUMNS} FROM sweeps WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(sweep).transpose()
    }

    /// The newest sweeps of `owner` (every user's with `None`) first, at most `limit`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn sweeps(&self, owner: Option<i64>, limit: usize) -> Result<Vec<SweepRow>, StoreError> {
        let sql =
            format!("SELECT {SWEEP_COLUMNS} FROM sweeps WHERE $1 IS NULL OR owner_id = $1 ORDER BY id DESC LIMIT $2");
        let rows =
            sqlx::query(&sql).bind(owner).bind(i64::try_from(limit).unwrap_or(i64::MAX)).fetch_all(&self.pool).await?;
        rows.iter().map(sweep).collect()
    }

    /// Marks a queued sweep running; false when it is not queued (cancelled meanwhile).
    ///
    /// # Errors
    /// Database failures.
    pub async fn mark_sweep_running(&self, id: i64) -> Result<bool, StoreError> {
        let _write = self.writing().await?;
        let done =
            sqlx::query("UPDATE sweeps SET status = 'running', started_at = $1 WHERE id = $2 AND status = 'queued'")
                .bind(now_millis())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a sweep that has not ended: `status` is final; `error` says why
    /// a failed one failed; `summary` is JSON. False when it had already ended.
    ///
    /// # Errors
    /// Database failures.
    pub async fn finish_sweep(
        &self,
        id: i64,
        status: RunStatus,
        error: Option<&str>,
        summary: Option<&str>,
    ) -> Result<bool, StoreError> {
        let _write = self.writing().await?;
        let mut conn = self.pool.acquire().await?;
        end_sweep(&mut conn, id, status, error, summary, None).await
    }

    /// [`finish_sweep`](Self::finish_sweep) by the server `owner` whose lease
    /// the sweep ran under: false, and nothing written, once it is not
    /// `owner`'s any more (queued again by another server after the lease
    /// ran out, or ended elsewhere).
    ///
    /// # Errors
    /// Database failures.
    pub async fn finish_leased_sweep(
        &self,
        id: i64,
        owner: &str,
        status: RunStatus,
        error: Option<&str>,
        summary: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        end_sweep(&mut conn, id, status, error, summary, Some(owner)).await
    }

    /// Stores finished variants of sweep `id` in one transaction; a variant
    /// already stored is left as it is (a variant is never stored twice).
    ///
    /// # Errors
    /// Database failures; then none of them is stored.
    pub async fn insert_variants(&self, id: i64, variants: &[VariantResult]) -> Result<(), StoreError> {
        if variants.is_empty() {
            return Ok(());
        }
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        insert_variant_rows(&mut tx, id, variants, 0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A page of sweep `id`'s finished variants, as `page` says.
    ///
    /// # Errors
    /// Database failures.
    pub async fn variant_page(&self, id: i64, page: &VariantPage<'_>) -> Result<Vec<VariantRow>, StoreError> {
        let VariantPage { order, outcome, min_trades, offset, limit } = *page;
        let order_by = match order {
            VariantOrder::Number => "number".to_string(),
            VariantOrder::Metric { metric, descending } => {
                let column = format!("m_{}", METRICS[metric.min(METRICS.len() - 1)].name);
                let direction = if descending { "DESC" } else { "ASC" };
                format!("{column} IS NULL, {column} {direction}, number")
            }
        };
        let mut filter = String::new();
        if outcome.is_some() {
            filter.push_str(" AND outcome = $4");
        }
        if let Some(trades) = min_trades {
            // A whole number of trades, checked by the caller: not a bound value.
            filter.push_str(&format!(" AND m_trades >= {trades}"));
        }
        let sql = format!(
            "SELECT number, outcome, error, shape, attempt, {} FROM sweep_variants WHERE sweep_id = $1 {filter} \
             ORDER BY {order_by} LIMIT $2 OFFSET $3",
            metric_columns()
        );
        let mut query = sqlx::query(&sql)
            .bind(id)
            .bind(limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX)))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX));
        if let Some(outcome) = outcome {
            query = query.bind(outcome);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(variant).collect()
    }

    /// Per finished variant of sweep `id` that ran: its number and the
    /// value of metric `metric` (an index into [`METRICS`]), by number.
    ///
    /// # Errors
    /// Database failures.
    pub async fn variant_metric(&self, id: i64, metric: usize) -> Result<Vec<(u64, Option<f64>)>, StoreError> {
        let column = format!("m_{}", METRICS[metric.min(METRICS.len() - 1)].name);
        let sql = format!(
            "SELECT number, {column} AS value FROM sweep_variants WHERE sweep_id = $1 AND outcome = 'ran' ORDER BY number"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((u64::try_from(r.try_get::<i64, _>("number")?).unwrap_or(0), r.try_get("value")?)))
            .collect()
    }

    /// Per variant of sweep `id` that ran, by number: its number, the value
    /// of metric `metric` (an index into [`METRICS`]), its trades and its
    /// returns' shape: what a leaderboard's best and its Deflated Sharpe
    /// Ratio are computed from.
    ///
    /// # Errors
    /// Database failures; a shape that does not read back.
    pub async fn variant_shapes(&self, id: i64, metric: usize) -> Result<Vec<ShapeRow>, StoreError> {
        let column = format!("m_{}", METRICS[metric.min(METRICS.len() - 1)].name);
        let sql = format!(
            "SELECT number, {column} AS value, m_trades, shape FROM sweep_variants \
             WHERE sweep_id = $1 AND outcome = 'ran' ORDER BY number"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let shape: Option<String> = r.try_get("shape")?;
                Ok(ShapeRow {
                    number: u64::try_from(r.try_get::<i64, _>("number")?).unwrap_or(0),
                    value: r.try_get("value")?,
                    trades: r.try_get("m_trades")?,
                    shape: shape.as_deref().map(shape_from_json).transpose()?,
                })
            })
            .collect()
    }

    /// How many of sweep `id`'s variants ran, were excluded and failed.
    ///
    /// # Errors
    /// Database failures.
    pub async fn variant_counts(&self, id: i64) -> Result<(u64, u64, u64), StoreError> {
        let rows =
            sqlx::query("SELECT outcome, COUNT(*) AS n FROM sweep_variants WHERE sweep_id = $1 GROUP BY outcome")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let mut counts = (0, 0, 0);
        for row in &rows {
            let outcome: String = row.try_get("outcome")?;
            let n = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
            match outcome.as_str() {
                "ran" => counts.0 = n,
                "excluded" => counts.1 = n,
                _ => counts.2 = n,
            }
        }
        Ok(counts)
    }

    /// The numbers of sweep `id`'s finished variants, ascending.
    ///
    /// # Errors
    /// Database failures.
    pub async fn variant_numbers(&self, id: i64) -> Result<Vec<u64>, StoreError> {
        let rows = sqlx::query("SELECT number FROM sweep_variants WHERE sweep_id = $1 ORDER BY number")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(u64::try_from(r.try_get::<i64, _>("number")?).unwrap_or(0))).collect()
    }

    /// The numbers of sweep `id`'s finished variants within `numbers` (a
    /// worker's chunk), ascending.
    ///
    /// # Errors
    /// Database failures.
    pub async fn variant_numbers_in(&self, id: i64, numbers: std::ops::Range<u64>) -> Result<Vec<u64>, StoreError> {
        let bound = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT number FROM sweep_variants WHERE sweep_id = $1 AND number >= $2 AND number < $3 ORDER BY number",
        )
        .bind(id)
        .bind(bound(numbers.start))
        .bind(bound(numbers.end))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(u64::try_from(r.try_get::<i64, _>("number")?).unwrap_or(0))).collect()
    }

    /// After a crash or a stop: sweeps left `running` are queued again
    /// (their finished variants stay; the rest run at the next start);
    /// returns every queued sweep, oldest first. Sweeps on workers are not
    /// the server's: their chunks' leases recover them.
    ///
    /// # Errors
    /// Database failures.
    pub async fn recover_sweeps(&self) -> Result<Vec<i64>, StoreError> {
        let _write = self.writing().await?;
        // On PostgreSQL another server may be executing a leased one (see
        // `store::server_leases`): only those without a lease now, and
        // those whose lease ran out.
        sqlx::query(
            "UPDATE sweeps SET status = 'queued' WHERE status = 'running' AND on_workers = 0 AND lease_owner IS NULL",
        )
        .execute(&self.pool)
        .await?;
        if self.dialect == super::Dialect::Postgres {
            self.requeue_lost_server_sweeps(&[]).await?;
        }
        let rows = sqlx::query("SELECT id FROM sweeps WHERE status = 'queued' AND on_workers = 0 ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?)
    }
}

/// Ends sweep `id` unless it has ended (`status` final, `error`, `summary`
/// JSON), on `conn` (a transaction's, for a worker's fenced end), and with
/// `holder` only while that server's lease holds it (`store::server_leases`);
/// false when it had already ended, or was not `holder`'s.
pub(super) async fn end_sweep(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    status: RunStatus,
    error: Option<&str>,
    summary: Option<&str>,
    holder: Option<&str>,
) -> Result<bool, StoreError> {
    let held = if holder.is_some() { " AND lease_owner = $6" } else { "" };
    let sql = format!(
        "UPDATE sweeps SET status = $1, finished_at = $2, error_message = $3, summary = $4, lease_owner = NULL \
         WHERE id = $5 AND status IN ('queued', 'running'){held}"
    );
    let query = sqlx::query(&sql)
        .bind(status.as_str())
        .bind(now_millis())
        .bind(error.map(|e| storable(e).into_owned()))
        .bind(summary)
        .bind(id);
    let query = match holder {
        Some(owner) => query.bind(owner),
        None => query,
    };
    Ok(query.execute(conn).await?.rows_affected() == 1)
}

/// Inserts finished variants of sweep `id` in transaction `tx`, each with
/// `attempt` (its worker's chunk attempt, 0 for a server's); a variant
/// already stored is left as it is. Rows go in groups of 64, 32, ... 1 per
/// statement: few round trips, and few statement texts to prepare.
pub(super) async fn insert_variant_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    variants: &[VariantResult],
    attempt: i64,
) -> Result<(), StoreError> {
    let mut rest = variants;
    while !rest.is_empty() {
        let n = [64, 32, 16, 8, 4, 2, 1].into_iter().find(|&n| n <= rest.len()).unwrap_or(1);
        let (group, tail) = rest.split_at(n);
        let sql = insert_sql(n);
        let mut query = sqlx::query(&sql);
        for v in group {
            let (outcome, error, shape, metrics) = match &v.outcome {
                Outcome::Excluded => ("excluded", None, None, None),
                Outcome::Failed(message) => ("failed", Some(storable(message).into_owned()), None, None),
                Outcome::Ran(ran) => ("ran", None, ran.shape.as_ref().map(shape_json), Some(&ran.metrics)),
            };
            query = query
                .bind(id)
                .bind(i64::try_from(v.number).unwrap_or(i64::MAX))
                .bind(outcome)
                .bind(error)
                .bind(shape)
                .bind(attempt);
            for i in 0..METRICS.len() {
                // A missing metric goes as NaN, stored as NULL (see insert_sql).
                query = query.bind(metrics.and_then(|m| m.get(i).copied().flatten()).unwrap_or(f64::NAN));
            }
        }
        query.execute(&mut **tx).await?;
        rest = tail;
    }
    Ok(())
}

/// The columns a variant's row binds before its metrics.
const VARIANT_FIELDS: usize = 6;

/// `INSERT` of `rows` variants. A metric is bound as a number always, NaN
/// for none, and `NULLIF` stores NULL for it: sqlx 0.8's Any driver declares
/// a NULL double as a 4-byte float on PostgreSQL, so that a statement
/// prepared with one refuses the 8-byte numbers of later variants ("incorrect
/// binary data format"). SQLite stores a bound NaN as NULL itself.
fn insert_sql(rows: usize) -> String {
    let width = VARIANT_FIELDS + METRICS.len();
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let at = |c: usize| r * width + c + 1;
            let fields = (0..VARIANT_FIELDS).map(|c| format!("${}", at(c)));
            let metrics = (VARIANT_FIELDS..width).map(|c| format!("NULLIF(${}, 'NaN')", at(c)));
            format!("({})", fields.chain(metrics).collect::<Vec<_>>().join(", "))
        })
        .collect();
    format!(
        "INSERT INTO sweep_variants (sweep_id, number, outcome, error, shape, attempt, {}) VALUES {} \
         ON CONFLICT (sweep_id, number) DO NOTHING",
        metric_columns(),
        values.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewVersion;

    fn ran(number: u64, missing: usize) -> VariantResult {
        let metrics = (0..METRICS.len()).map(|i| (i != missing).then_some(number as f64 * 1.5 - i as f64)).collect();
        let shape = Some(ReturnShape { sharpe: 0.25, skew: -0.5, kurtosis: 3.25, count: 100 });
        VariantResult { number, outcome: Outcome::Ran(Ran { metrics, shape }) }
    }

    #[tokio::test]
    async fn variants_read_back_as_stored_missing_metrics_included_in_any_order_of_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        let first =
            NewVersion { source: b"fn on_bar(ctx) {}".to_vec(), content_hash: "h".into(), params_json: "[]".into() };
        let (strategy, version) = store.create_strategy(1, "s", "rhai", "", first).await.unwrap();
        let sweep = store.create_sweep(1, strategy.id, version.id, "{}", 70).await.unwrap();
        // An excluded variant first (no metrics at all), then 69 more: groups of 64, 4 and 2 rows.
        let mut variants = vec![VariantResult { number: 0, outcome: Outcome::Excluded }];
        variants.push(VariantResult { number: 1, outcome: Outcome::Failed("boom".into()) });
        variants.extend((2..70).map(|n| ran(n, (n % 16) as usize)));
        store.insert_variants(sweep.id, &variants).await.unwrap();
        store.insert_variants(sweep.id, &[ran(5, 0)]).await.unwrap();
        let page = VariantPage { order: VariantOrder::Number, outcome: None, min_trades: None, offset: 0, limit: None };
        let stored = store.variant_page(sweep.id, &page).await.unwrap();
        let outcomes: Vec<Outcome> = stored.iter().map(|v| v.outcome.clone()).collect();
        assert_eq!(
            outcomes,
            variants.iter().map(|v| v.outcome.clone()).collect::<Vec<_>>(),
            "a second write of 5 kept the first"
        );
        assert!(stored.iter().all(|v| v.attempt == 0));
    }
}
