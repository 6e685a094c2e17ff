//! Persistence of strategies, datasets, runs and results with sqlx, on
//! SQLite (the default: one file) or PostgreSQL.
//!
//! One query set serves both through sqlx's Any driver; each backend has its
//! own migrations folder (money in legacy result rows is TEXT in SQLite,
//! NUMERIC in PostgreSQL). A completed run's trades and equity curve are
//! stored encoded ([`codec`]), one value each, on both.

mod accounts;
mod codec;
mod curve_codec;
mod datasets;
mod deletion;
mod error;
mod failure;
mod leases;
mod results;
mod runs;
mod server_leases;
mod strategies;
mod sweep_chunks;
mod sweeps;
mod trade_codec;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::AnyPool;

pub use accounts::{NewToken, TokenRow, UserRow, FIRST_USER_ID};
pub use datasets::{DatasetRow, NewDataset};
pub use deletion::Deletion;
pub use error::StoreError;
pub use failure::FailureKind;
pub use leases::{with_transaction_timeout, Claim, Fence, LeaseState, MAX_ATTEMPTS, QUEUE_CHANNEL};
pub use results::{EquityInput, EquityRow, TradeRow};
pub use runs::{RunFilter, RunOutcome, RunRow, RunStatus};
pub use server_leases::SERVER_OWNER_PREFIX;
pub use strategies::{NewVersion, StrategyRow, VersionRow};
pub use sweep_chunks::{ChunkClaim, ChunkPlan, FINISH_CHUNK};
pub use sweeps::{ShapeRow, SweepRow, VariantOrder, VariantPage, VariantRow};

/// The two backends: where they differ (money as TEXT in SQLite, NUMERIC
/// in PostgreSQL; the migrations; SQLite's single writer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (`sqlite://PATH`): money as TEXT, one writer at a time.
    Sqlite,
    /// PostgreSQL (`postgres://...`): money as NUMERIC.
    Postgres,
}

impl Dialect {
    /// The backend a database URL names, without connecting.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`] for anything but `sqlite:` and `postgres(ql)://`.
    pub fn of(url: &str) -> Result<Dialect, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Dialect::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }
}

/// The database of a service.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite takes one writer at a time, and a transaction that read
    /// before it writes fails at once (not after the busy timeout) when
    /// another wrote meanwhile; so this process's writes to SQLite queue
    /// here instead, one after another. PostgreSQL needs no such queue.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The SQLite file, to notice it deleted or replaced while serving.
    file: Option<Arc<DatabaseFile>>,
}

/// A SQLite database file and the identity it had when opened.
#[derive(Debug)]
struct DatabaseFile {
    path: std::path::PathBuf,
    identity: FileIdentity,
}

/// What tells one file from another at the same path: device and inode on
/// Unix; elsewhere only that the path exists.
#[derive(Debug, PartialEq, Eq)]
struct FileIdentity(u64, u64);

impl FileIdentity {
    fn of(path: &std::path::Path) -> Option<FileIdentity> {
        let metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileIdentity(metadata.dev(), metadata.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            Some(FileIdentity(0, 0))
        }
    }
}

impl DatabaseFile {
    /// The file behind a `sqlite:` URL, when it is one on disk.
    fn of(url: &str) -> Option<DatabaseFile> {
        use std::str::FromStr;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
        let path = options.get_filename().to_path_buf();
        let identity = FileIdentity::of(&path)?;
        Some(DatabaseFile { path, identity })
    }

    /// Fails when the file at the path is gone or another one: SQLite would
    /// go on writing to the deleted file, which the next start cannot see.
    fn check(&self) -> Result<(), StoreError> {
        if FileIdentity::of(&self.path).as_ref() == Some(&self.identity) {
            return Ok(());
        }
        let e = StoreError::FileGone(self.path.clone());
        tracing::error!(error = %e, "the database file is gone");
        Err(e)
    }
}

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_URL: &str = "sqlite://backtester.db";

/// How long a SQLite write waits for another process's to end.
const SQLITE_BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 30000";

/// How long a request waits for a pooled connection before the database is
/// called unavailable (a 503), rather than holding the client for long.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`Store::ping`] waits for `SELECT 1`.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a first connection to PostgreSQL may take before the server is
/// called unreachable (the pool would wait its whole acquire timeout).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection to the PostgreSQL server at `url`, closed again: fails
/// within [`CONNECT_TIMEOUT`], naming the host and port and why.
async fn probe_postgres(url: &str) -> Result<(), StoreError> {
    use sqlx::postgres::{PgConnectOptions, PgConnection};
    use sqlx::{ConnectOptions, Connection};
    let options: PgConnectOptions = url.parse()?;
    let at = format!("{}:{}", options.get_host(), options.get_port());
    let unreachable = |reason: String| StoreError::Unreachable { at: at.clone(), reason };
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Err(_) => Err(unreachable(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))),
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(unreachable("connection refused (is PostgreSQL running there?)".into()))
        }
        Ok(Err(sqlx::Error::Io(e))) => Err(unreachable(e.to_string())),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Ok(Ok(connection)) => {
            let _ = PgConnection::close(connection).await;
            Ok(())
        }
    }
}

/// `work` on a thread that may block: in place on a multi-threaded
/// runtime (the runtime moves its other tasks away meanwhile), plainly on a
/// single-threaded one, where that is not possible.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Text as a database stores it: PostgreSQL's TEXT refuses NUL characters
/// (a strategy's error message may hold one), so they become U+FFFD on both
/// backends.
pub(crate) fn storable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

impl Store {
    /// Connects to `url` (`sqlite://PATH`, created if missing, or
    /// `postgres://...`) and runs the migrations.
    ///
    /// # Errors
    /// An unsupported URL, a connection failure or a failing migration.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    ///
    /// # Errors
    /// An unsupported URL or a connection failure.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let dialect = Dialect::of(url)?;
        let url = match url.strip_prefix("sqlite:") {
            Some(rest) if !rest.contains("mode=") => {
                let sep = if rest.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        if dialect == Dialect::Postgres {
            probe_postgres(&url).await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 4 } else { 8 })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // Another process (a `migrate`, a second server) may hold the
                        // write lock for a moment: wait for it rather than fail.
                        sqlx::query(SQLITE_BUSY_TIMEOUT).execute(connection).await?;
                    }
                    Ok(())
                })
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(&url)
            .await?;
        let mut file = None;
        if dialect == Dialect::Sqlite {
            // Readers go on while a run's results are written.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
            file = DatabaseFile::of(&url).map(Arc::new);
        }
        Ok(Store { pool, dialect, writer: Arc::default(), file })
    }

    /// Brings the schema up to date.
    ///
    /// # Errors
    /// A migration that fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.dialect {
            Dialect::Sqlite => {
                // A migration that rebuilds a table (SQLite cannot drop a
                // constraint) drops the old one while other tables refer to
                // it: enforcement is off on this connection meanwhile (it
                // cannot change inside the migration's transaction), and the
                // keys are checked once all have run.
                let mut connection = self.pool.acquire().await?;
                sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *connection).await?;
                let migrated = sqlx::migrate!("migrations/sqlite").run(&mut *connection).await;
                let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *connection).await;
                sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *connection).await?;
                migrated?;
                if !broken?.is_empty() {
                    return Err(StoreError::Db(sqlx::Error::Protocol(
                        "after migrating, rows refer to rows that do not exist (PRAGMA foreign_key_check)".into(),
                    )));
                }
            }
            Dialect::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await?,
        }
        Ok(())
    }

    /// Waits for this process's turn to write (SQLite only; see `writer`).
    ///
    /// # Errors
    /// [`StoreError::FileGone`] when the SQLite file was deleted or
    /// replaced: the write would be lost.
    pub(crate) async fn writing(&self) -> Result<Option<tokio::sync::MutexGuard<'_, ()>>, StoreError> {
        match self.dialect {
            Dialect::Sqlite => {
                let turn = self.writer.lock().await;
                self.file.as_ref().map_or(Ok(()), |file| file.check())?;
                Ok(Some(turn))
            }
            Dialect::Postgres => Ok(None),
        }
    }

    /// Checks that the database answers (`SELECT 1` within [`PING_TIMEOUT`]).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not answer in time,
    /// [`StoreError::FileGone`] when its SQLite file was deleted, or the
    /// query's own error.
    pub async fn ping(&self) -> Result<(), StoreError> {
        if let Some(file) = &self.file {
            file.check()?;
        }
        match tokio::time::timeout(PING_TIMEOUT, sqlx::query("SELECT 1").execute(&self.pool)).await {
            Ok(done) => done.map(|_| ()).map_err(StoreError::from),
            Err(_) => Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Which backend this is.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the epoch, now: when rows were created (the engine
/// never reads the clock; the store stamps its own rows).
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
