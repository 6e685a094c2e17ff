//! Accounts: users, their tokens and scopes, who is asking ([`Principal`])
//! and whose rows they see ([`Actor`]).
//!
//! A token is `btk_` and 64 hex digits, shown once when created and stored
//! only as its SHA-256. A server whose database holds no usable token
//! serves one local user (the first user, an administrator) without
//! tokens, and only on a loopback address.

mod expiry;
mod scope;
mod token;

pub use expiry::parse_expiry;
pub use scope::{Scope, Scopes, ALL_SCOPES};
pub use token::{hash as token_hash, random_hex16, TOKEN_PREFIX};

use crate::store::{now_millis, NewToken, Store, StoreError, TokenRow, UserRow, FIRST_USER_ID};

/// Why a request's credentials were refused (a 401: the message names
/// what is wrong, never the token).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer` header and no session cookie.
    #[error("this server needs a token: send `Authorization: Bearer btk_...`")]
    Missing,
    /// Not a token of this server (or not a token at all).
    #[error("the token is not valid")]
    Unknown,
    /// The token was revoked.
    #[error("the token was revoked")]
    Revoked,
    /// The token's expiry passed.
    #[error("the token expired")]
    Expired,
}

/// An account operation refused on the server's host (`user add`, `token ...`).
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A name, scope or expiry that is not valid, named.
    #[error("{0}")]
    Invalid(String),
    /// No such user or token.
    #[error("{0} not found")]
    NotFound(String),
    /// The database failed (or a name is taken).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The system's random source failed.
    #[error("cannot draw a random token: {0}")]
    Random(getrandom::Error),
}

/// Who a request comes from, once its credentials were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user's id.
    pub user_id: i64,
    /// The user's name (for the audit log).
    pub user_name: String,
    /// What the credentials allow.
    pub scopes: Scopes,
    /// Whether the user is an administrator (with the `admin` scope, they
    /// see every user's rows).
    pub admin: bool,
}

impl Principal {
    /// The one user of a server without tokens: the first user, every scope.
    pub fn local() -> Principal {
        Principal { user_id: FIRST_USER_ID, user_name: "local".into(), scopes: Scopes::ALL, admin: true }
    }

    /// Whose rows this principal sees and creates.
    pub fn actor(&self) -> Actor {
        Actor { user_id: self.user_id, sees_all: self.admin && self.scopes.has(Scope::Admin) }
    }
}

/// Whose rows an operation sees: its user's own, or every user's (an
/// administrator acting with the `admin` scope, or the service itself).
/// Another user's row is "not found", never "forbidden".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The user who acts; rows created belong to them.
    pub user_id: i64,
    /// Whether every user's rows are visible.
    pub sees_all: bool,
}

impl Actor {
    /// The service itself (watched files, recovery): the first user, seeing all.
    pub const SYSTEM: Actor = Actor { user_id: FIRST_USER_ID, sees_all: true };

    /// Whether a row of `owner_id` is visible.
    pub fn sees(self, owner_id: i64) -> bool {
        self.sees_all || owner_id == self.user_id
    }

    /// The owner to filter lists by: `None` for every user's.
    pub fn owner_filter(self) -> Option<i64> {
        (!self.sees_all).then_some(self.user_id)
    }
}

/// How often a token's `last_used_at` is written: at most once a minute.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The principal behind a token's text.
///
/// # Errors
/// [`AuthError`] for an unknown, revoked or expired token; database failures.
pub async fn authenticate(store: &Store, secret: &str) -> Result<Result<Principal, AuthError>, StoreError> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(Err(AuthError::Unknown));
    }
    let Some((token, user)) = store.token_by_hash(&token_hash(secret)).await? else {
        return Ok(Err(AuthError::Unknown));
    };
    let now = now_millis();
    if token.revoked_at.is_some() {
        return Ok(Err(AuthError::Revoked));
    }
    if token.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(AuthError::Expired));
    }
    if token.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY_MS) {
        store.touch_token(token.id, now).await?;
    }
    // Scopes were checked when stored; one unreadable is none.
    let scopes = Scopes::parse(&token.scopes).unwrap_or_default();
    Ok(Ok(Principal { user_id: user.id, user_name: user.name, scopes, admin: user.admin }))
}

/// A user name: 1 to 64 letters, digits, `-`, `_` or `.`.
fn check_user_name(name: &str) -> Result<(), AccountError> {
    let ok = (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::Invalid(format!("user name '{name}': use 1 to 64 letters, digits, '-', '_' or '.'")))
    }
}

/// Adds a user.
///
/// # Errors
/// An invalid or taken name; database failures.
pub async fn add_user(store: &Store, name: &str, admin: bool) -> Result<UserRow, AccountError> {
    check_user_name(name)?;
    Ok(store.create_user(name, admin).await?)
}

/// A token just created, with its text (shown once, never stored).
pub struct CreatedToken {
    /// What is stored of it.
    pub row: TokenRow,
    /// The token itself.
    pub secret: String,
}

/// Creates a token for user `user_name` with `scopes` (default: read, run,
/// write), expiring per `expires` (see [`parse_expiry`]) or never.
///
/// # Errors
/// An unknown user, the admin scope for a user who is not an
/// administrator, a bad scope or expiry; database failures.
pub async fn create_token(
    store: &Store,
    user_name: &str,
    scopes: Option<&str>,
    expires: Option<&str>,
) -> Result<CreatedToken, AccountError> {
    let user =
        store.user_by_name(user_name).await?.ok_or_else(|| AccountError::NotFound(format!("user '{user_name}'")))?;
    let scopes = match scopes {
        Some(text) => Scopes::parse(text).map_err(|e| AccountError::Invalid(format!("--scope: {e}")))?,
        None => Scopes::DEFAULT,
    };
    if scopes.has(Scope::Admin) && !user.admin {
        return Err(AccountError::Invalid(format!(
            "--scope: user '{user_name}' is not an administrator, so cannot have the admin scope"
        )));
    }
    let expires_at = expires
        .map(|text| parse_expiry(text, now_millis()).map_err(|e| AccountError::Invalid(format!("--expires: {e}"))))
        .transpose()?;
    let minted = token::mint().map_err(AccountError::Random)?;
    let row = store
        .create_token(NewToken {
            user_id: user.id,
            hash: minted.hash,
            hint: minted.hint,
            scopes: scopes.to_string(),
            expires_at,
        })
        .await?;
    Ok(CreatedToken { row, secret: minted.secret })
}

/// Revokes token `id`.
///
/// # Errors
/// No such token, or one revoked already; database failures.
pub async fn revoke_token(store: &Store, id: i64) -> Result<(), AccountError> {
    if store.revoke_token(id).await? {
        Ok(())
    } else {
        Err(AccountError::NotFound(format!("a token {id} that is not revoked yet")))
    }
}

impl crate::service::Service {
    /// The principal behind a token's text (see [`authenticate`]).
    ///
    /// # Errors
    /// Database failures; a refused token is the inner error.
    pub async fn authenticate(
        &self,
        secret: &str,
    ) -> Result<Result<Principal, AuthError>, crate::service::ServiceError> {
        Ok(authenticate(self.store(), secret).await?)
    }

    /// Whether the database holds a token that could still be used.
    ///
    /// # Errors
    /// Database failures.
    pub async fn has_live_tokens(&self) -> Result<bool, crate::service::ServiceError> {
        Ok(self.store().has_live_tokens().await?)
    }
}

#[cfg(test)]
mod tests;
