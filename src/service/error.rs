//! Errors of the service layer, before they become HTTP responses.

use crate::store::StoreError;

/// Why a service operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such resource.
    #[error("{0} not found")]
    NotFound(String),
    /// A request field is invalid; names the field.
    #[error("{field}: {message}")]
    Invalid {
        /// The field's path in the request, e.g. `commission.rate` or `params.fast`.
        field: String,
        /// What is wrong with its value.
        message: String,
    },
    /// A strategy's source does not compile (with its position when known).
    #[error("{message}")]
    Compile {
        /// The compiler's message.
        message: String,
        /// Line of the error in a script, from 1, when known.
        line: Option<usize>,
        /// Column of the error, from 1, when known.
        column: Option<usize>,
    },
    /// The request conflicts with the resource's state (e.g. cancelling a
    /// finished run) or with another resource (a taken name).
    #[error("{0}")]
    Conflict(String),
    /// The database failed (a unique-key clash becomes [`ServiceError::Conflict`]
    /// instead); its text is logged, not sent to the client.
    #[error(transparent)]
    Store(StoreError),
    /// A request body over the server's limit for its route (413).
    #[error("{0}")]
    TooLarge(String),
    /// Too much work is waiting already: try again later (429).
    #[error("{0}")]
    Busy(String),
    /// A setting this database cannot serve (worker processes on SQLite).
    #[error("{0}")]
    Unsupported(String),
    /// A failure inside the service (a worker thread that died); logged,
    /// never sent to the client in detail.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ServiceError::Conflict(format!("{what} already exists")),
            other => ServiceError::Store(other),
        }
    }
}

impl From<crate::strategy::UnknownRuntime> for ServiceError {
    fn from(e: crate::strategy::UnknownRuntime) -> Self {
        ServiceError::invalid("runtime", e.to_string())
    }
}

impl ServiceError {
    /// An invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid { field: field.into(), message: message.into() }
    }
}
