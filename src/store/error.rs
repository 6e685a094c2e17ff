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
    Unreachable { at: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value that does not read back (a corrupt row).
    #[error("corrupt stored value in {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    /// The database cannot be reached now (the server stopped or refuses
    /// connections, no connection within the pool's acquire timeout): worth
    /// retrying later, unlike [`StoreError::Db`].
    #[error("the database is unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            StoreError::Unavailable(e)
        } else {
            StoreError::Db(e)
        }
    }
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
    /// Turns a unique-constraint violation into [`StoreError::Conflict`].
    pub(super) fn conflict_as(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
        let what = what.into();
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::from(e),
        }
    }
}
