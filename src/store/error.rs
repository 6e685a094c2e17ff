//! Errors of the persistence layer.

/// A database operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (e.g. a strategy name taken).
    #[error("{0} already exists")]
    Conflict(String),
    /// The URL is not one this build can use.
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// The database server cannot be reached (or refuses us).
    #[error("cannot connect to the database at {at}: {reason}")]
    Unreachable {
        /// The server's `host:port`.
        at: String,
        /// Why the connection failed (refused, no answer in time, ...).
        reason: String,
    },
    /// Applying the backend's migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value that does not read back (a corrupt row).
    #[error("corrupt stored value in {what}: {detail}")]
    Corrupt {
        /// Where the value is stored, e.g. `runs.status` or `trades`.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The database cannot be reached now (the server stopped or refuses
    /// connections, no connection within the pool's acquire timeout): worth
    /// retrying later, unlike [`StoreError::Db`].
    #[error("the database is unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The database has no room for the write (a full disk; SQLite's
    /// SQLITE_FULL, PostgreSQL's disk_full).
    #[error("the database is full: {0}")]
    Full(sqlx::Error),
    /// The SQLite file was deleted or replaced while the server ran: writes
    /// would go to the unlinked file and be lost at the next start.
    #[error("the database file {0} was deleted or replaced while the server ran; restart the server")]
    FileGone(std::path::PathBuf),
    /// Reading a server-side file to store (an upload's parsed bars) failed.
    #[error("cannot read the file to store: {0}")]
    File(#[source] std::io::Error),
    /// A worker's write for an attempt at a run that is no longer its own:
    /// its lease ran out and the run was claimed again (or ended). Nothing
    /// was written.
    #[error("run {run}'s attempt {attempt} no longer holds its lease; its write was refused")]
    Fenced {
        /// The run.
        run: i64,
        /// The attempt that lost its lease.
        attempt: i64,
    },
    /// A worker's write for an attempt at a chunk of a sweep's variants that
    /// is no longer its own (as [`StoreError::Fenced`] for a run). Nothing
    /// was written.
    #[error(
        "sweep {sweep}'s variants {first}..{end} (attempt {attempt}) no longer hold their lease; the write was refused"
    )]
    ChunkFenced {
        /// The sweep.
        sweep: i64,
        /// The chunk's first variant.
        first: i64,
        /// The variant after the chunk's last.
        end: i64,
        /// The attempt that lost its lease.
        attempt: i64,
    },
    /// Any other database failure; unlike [`StoreError::Unavailable`], not worth retrying.
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            StoreError::Unavailable(e)
        } else if is_full(&e) {
            StoreError::Full(e)
        } else {
            StoreError::Db(e)
        }
    }
}

/// SQLite's SQLITE_FULL (13, the low byte of an extended result code) or
/// PostgreSQL's disk_full (53100), told apart by the driver's error type.
fn is_full(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else { return false };
    if let Some(sqlite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        use sqlx::error::DatabaseError as _;
        const SQLITE_FULL: i32 = 13;
        return sqlite.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| code & 0xff == SQLITE_FULL);
    }
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some_and(|pg| pg.code() == "53100")
}

/// Whether `e` says the database is out of reach rather than that the
/// query failed; decided by kind and SQLSTATE, never by message text.
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P01-57P03: the server shuts down
            // or is starting; 53300: too many connections.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl StoreError {
    /// What a client may be told of this error: a short sentence without
    /// the database's own text, which names tables and constraints (log it).
    pub fn summary(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => "the database is unavailable; try again shortly",
            StoreError::Full(_) => "the database is full: its disk has no space left",
            StoreError::FileGone(_) => {
                "the database file was deleted or replaced while the server ran; restart the server"
            }
            _ => "a database operation failed (the detail is in the server log)",
        }
    }

    /// Turns a unique-constraint violation into [`StoreError::Conflict`].
    pub(super) fn conflict_as(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
        let what = what.into();
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::from(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::StoreError;

    #[tokio::test]
    async fn a_full_sqlite_database_was_a_bare_database_error() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("full.db").display());
        let mut db = SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (x BLOB)").execute(&mut db).await.unwrap();
        // As a full disk would: no page beyond those the file has.
        sqlx::query("PRAGMA max_page_count = 2").execute(&mut db).await.unwrap();
        let refused = sqlx::query("INSERT INTO t VALUES (zeroblob(100000))").execute(&mut db).await.unwrap_err();
        let e = StoreError::from(refused);
        assert!(matches!(e, StoreError::Full(_)), "{e:?}");
        let other = sqlx::query("SELECT * FROM missing").execute(&mut db).await.unwrap_err();
        assert!(matches!(StoreError::from(other), StoreError::Db(_)));
    }
}
