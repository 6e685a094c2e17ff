//! Users and their API tokens. A token is stored only as the SHA-256 of its
//! text, with a short hint (its first characters) to tell tokens apart.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_millis, Store, StoreError};

/// The first user, created by the migrations: an administrator who owns
/// every row from before accounts, and the one local user of a server
/// without tokens.
pub const FIRST_USER_ID: i64 = 1;

/// A user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserRow {
    /// The user's id (rows they create carry it as `owner_id`).
    pub id: i64,
    /// The user's name, unique.
    pub name: String,
    /// Whether the user may be given the `admin` scope (sees every user's rows).
    pub admin: bool,
    /// When the user was added, in milliseconds since the epoch.
    pub created_at: i64,
}

/// A token's facts, never its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    /// The token's id (what `token revoke` takes).
    pub id: i64,
    /// Its user.
    pub user_id: i64,
    /// Its user's name.
    pub user_name: String,
    /// The token's first characters, to recognise it; not enough to use it.
    pub hint: String,
    /// Its scopes, comma-separated (`read,run,write`).
    pub scopes: String,
    /// When it was created, in milliseconds since the epoch.
    pub created_at: i64,
    /// When it stops working, if it does.
    pub expires_at: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// When it was last used (updated at most once a minute).
    pub last_used_at: Option<i64>,
}

/// A token to store.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// Its user.
    pub user_id: i64,
    /// Lowercase hex SHA-256 of the token's text.
    pub hash: String,
    /// The token's first characters.
    pub hint: String,
    /// Its scopes, comma-separated.
    pub scopes: String,
    /// When it stops working, if it does.
    pub expires_at: Option<i64>,
}

const USER_COLUMNS: &str = "id, name, CASE WHEN admin THEN 1 ELSE 0 END AS admin, created_at";
const TOKEN_COLUMNS: &str = "t.id, t.user_id, u.name AS user_name, t.hint, t.scopes, t.created_at, t.expires_at, \
                             t.revoked_at, t.last_used_at";

fn user(row: &AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        admin: row.try_get::<i64, _>("admin")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

fn token(row: &AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("user_name")?,
        hint: row.try_get("hint")?,
        scopes: row.try_get("scopes")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

impl Store {
    /// Adds a user.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the name is taken.
    pub async fn create_user(&self, name: &str, admin: bool) -> Result<UserRow, StoreError> {
        let _write = self.writing().await?;
        let sql = format!("INSERT INTO users (name, admin, created_at) VALUES ($1, $2, $3) RETURNING {USER_COLUMNS}");
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(admin)
            .bind(now_millis())
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::conflict_as(format!("a user named '{name}'")))?;
        Ok(user(&row)?)
    }

    /// Every user, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(user).collect::<Result<_, _>>()?)
    }

    /// A user by name.
    ///
    /// # Errors
    /// Database failures.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
        let row = sqlx::query(&sql).bind(name).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(user).transpose()?)
    }

    /// A user by id.
    ///
    /// # Errors
    /// Database failures.
    pub async fn user(&self, id: i64) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(user).transpose()?)
    }

    /// Stores a token.
    ///
    /// # Errors
    /// Database failures (a hash clash would be a conflict).
    pub async fn create_token(&self, new: NewToken) -> Result<TokenRow, StoreError> {
        let _write = self.writing().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO tokens (user_id, hash, hint, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id",
        )
        .bind(new.user_id)
        .bind(new.hash)
        .bind(new.hint)
        .bind(new.scopes)
        .bind(now_millis())
        .bind(new.expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::conflict_as("a token with that hash".to_string()))?
        .try_get("id")?;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_one(&self.pool).await?;
        Ok(token(&row)?)
    }

    /// Every token (revoked and expired ones too), oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(token).collect::<Result<_, _>>()?)
    }

    /// The token whose text hashes to `hash`, with its user, whatever its state.
    ///
    /// # Errors
    /// Database failures.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<(TokenRow, UserRow)>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS}, CASE WHEN u.admin THEN 1 ELSE 0 END AS admin, u.created_at AS user_created_at \
             FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1"
        );
        let Some(row) = sqlx::query(&sql).bind(hash).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let t = token(&row)?;
        let u = UserRow {
            id: t.user_id,
            name: t.user_name.clone(),
            admin: row.try_get::<i64, _>("admin")? != 0,
            created_at: row.try_get("user_created_at")?,
        };
        Ok(Some((t, u)))
    }

    /// Revokes a token; `false` when there is no such token or it was
    /// revoked already.
    ///
    /// # Errors
    /// Database failures.
    pub async fn revoke_token(&self, id: i64) -> Result<bool, StoreError> {
        let _write = self.writing().await?;
        let done = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_millis())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that a token was used at `at`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn touch_token(&self, id: i64, at: i64) -> Result<(), StoreError> {
        let _write = self.writing().await?;
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2").bind(at).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Whether any token could still be used (not revoked, not expired):
    /// a server with none serves one local user, or refuses to start.
    ///
    /// # Errors
    /// Database failures.
    pub async fn has_live_tokens(&self) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(now_millis())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}

#[cfg(test)]
impl Store {
    /// Makes token `id` expired a moment ago (tests cannot wait for a clock).
    pub(crate) async fn expire_token_for_tests(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE tokens SET expires_at = $1 WHERE id = $2")
            .bind(now_millis() - 1)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
