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
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    /// Turns a unique-constraint violation into [`StoreError::Conflict`].
    pub(super) fn conflict_as(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
        let what = what.into();
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Db(e),
        }
    }
}
