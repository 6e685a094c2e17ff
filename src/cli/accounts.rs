//! `backtester user ...` and `backtester token ...`: accounts, managed on
//! the server's host against its database (no API route creates them).

use anyhow::Context;
use clap::{Args, Subcommand};

use super::serve::DatabaseArgs;
use crate::service::accounts;
use crate::store::{Store, TokenRow};

/// `user`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        /// The user's name: letters, digits, '-', '_' or '.'.
        name: String,
        /// An administrator may be given the admin scope (sees every user's rows).
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List the users.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// `token`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: only its hash is stored).
    Create(CreateToken),
    /// List the tokens (never their text).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// The token's id, as `token list` shows it.
        id: i64,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// `token create`'s flags.
#[derive(Debug, Args)]
pub struct CreateToken {
    /// The user the token acts as.
    #[arg(long)]
    pub user: String,
    /// What it may do: read, run, write, admin, separated by commas (default: read,run,write).
    #[arg(long)]
    pub scope: Option<String>,
    /// When it stops working: 90m, 12h, 30d or a date (2027-01-31); default: never.
    #[arg(long)]
    pub expires: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")
}

async fn open(db: &DatabaseArgs) -> anyhow::Result<Store> {
    Store::open(&db.database_url).await.with_context(|| format!("opening {}", db.database_url))
}

/// Runs a `user` subcommand.
///
/// # Errors
/// A bad or taken name; the database.
pub fn user(cmd: &UserCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match cmd {
            UserCommand::Add { name, admin, db } => {
                let store = open(db).await?;
                let user = accounts::add_user(&store, name, *admin).await?;
                let role = if user.admin { "administrator" } else { "user" };
                println!("added {role} '{}' (id {})", user.name, user.id);
                store.close().await;
            }
            UserCommand::List { db } => {
                let store = open(db).await?;
                println!("{:>4}  {:<24} admin", "id", "name");
                for user in store.users().await? {
                    println!("{:>4}  {:<24} {}", user.id, user.name, if user.admin { "yes" } else { "no" });
                }
                store.close().await;
            }
        }
        Ok(())
    })
}

/// Runs a `token` subcommand.
///
/// # Errors
/// An unknown user or token, a bad scope or expiry; the database.
pub fn token(cmd: &TokenCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match cmd {
            TokenCommand::Create(args) => {
                let store = open(&args.db).await?;
                let created =
                    accounts::create_token(&store, &args.user, args.scope.as_deref(), args.expires.as_deref()).await?;
                // The token alone on stdout, for scripts; what it is on stderr.
                println!("{}", created.secret);
                eprintln!(
                    "token {} for '{}' ({}, {}): shown once; send it as `Authorization: Bearer <token>`",
                    created.row.id,
                    created.row.user_name,
                    created.row.scopes,
                    expiry(&created.row)
                );
                store.close().await;
            }
            TokenCommand::List { db } => {
                let store = open(db).await?;
                println!("{:>4}  {:<16} {:<14} {:<22} {:<10} last used", "id", "user", "hint", "scopes", "state");
                let now = crate::store::now_millis();
                for t in store.tokens().await? {
                    let state = match (t.revoked_at, t.expires_at) {
                        (Some(_), _) => "revoked",
                        (None, Some(at)) if at <= now => "expired",
                        _ => "active",
                    };
                    let used =
                        t.last_used_at.map_or("never".to_string(), |at| crate::domain::Timestamp(at).to_string());
                    println!("{:>4}  {:<16} {:<14} {:<22} {:<10} {used}", t.id, t.user_name, t.hint, t.scopes, state);
                }
                store.close().await;
            }
            TokenCommand::Revoke { id, db } => {
                let store = open(db).await?;
                accounts::revoke_token(&store, *id).await?;
                println!("token {id} revoked");
                store.close().await;
            }
        }
        Ok(())
    })
}

fn expiry(row: &TokenRow) -> String {
    row.expires_at.map_or("no expiry".to_string(), |at| format!("expires {}", crate::domain::Timestamp(at)))
}
