use super::*;

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    let store = Store::open(&url).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn a_token_works_until_it_is_revoked_and_only_its_hash_is_stored() {
    let (_dir, store) = store().await;
    assert!(!store.has_live_tokens().await.unwrap());
    add_user(&store, "alice", false).await.unwrap();
    let created = create_token(&store, "alice", Some("read,run"), None).await.unwrap();
    assert!(store.has_live_tokens().await.unwrap());
    let who = authenticate(&store, &created.secret).await.unwrap().unwrap();
    assert_eq!((who.user_name.as_str(), who.scopes.to_string().as_str(), who.admin), ("alice", "read,run", false));
    assert_eq!(who.actor(), Actor { user_id: who.user_id, sees_all: false });
    let listed = store.tokens().await.unwrap();
    assert!(listed[0].last_used_at.is_some());
    let stored = format!("{listed:?}");
    assert!(!stored.contains(&created.secret[12..]), "{stored}");
    revoke_token(&store, created.row.id).await.unwrap();
    assert_eq!(authenticate(&store, &created.secret).await.unwrap(), Err(AuthError::Revoked));
    assert!(matches!(revoke_token(&store, created.row.id).await, Err(AccountError::NotFound(_))));
    assert!(!store.has_live_tokens().await.unwrap());
}

#[tokio::test]
async fn unknown_expired_and_foreign_tokens_are_refused() {
    let (_dir, store) = store().await;
    add_user(&store, "bob", false).await.unwrap();
    let created = create_token(&store, "bob", None, Some("1m")).await.unwrap();
    assert_eq!(created.row.scopes, "read,run,write");
    assert_eq!(authenticate(&store, "btk_00").await.unwrap(), Err(AuthError::Unknown));
    assert_eq!(authenticate(&store, "hello").await.unwrap(), Err(AuthError::Unknown));
    // Expire it by hand: the clock is the store's.
    sqlx_expire(&store, created.row.id).await;
    assert_eq!(authenticate(&store, &created.secret).await.unwrap(), Err(AuthError::Expired));
}

async fn sqlx_expire(store: &Store, id: i64) {
    store.expire_token_for_tests(id).await.unwrap();
}

#[tokio::test]
async fn admin_scope_only_for_administrators_and_names_are_checked() {
    let (_dir, store) = store().await;
    add_user(&store, "carol", false).await.unwrap();
    let e = create_token(&store, "carol", Some("read,admin"), None).await.err().unwrap();
    assert!(e.to_string().contains("not an administrator"), "{e}");
    assert!(matches!(create_token(&store, "nobody", None, None).await, Err(AccountError::NotFound(_))));
    assert!(create_token(&store, "carol", Some("sudo"), None)
        .await
        .err()
        .unwrap()
        .to_string()
        .contains("unknown scope"));
    assert!(create_token(&store, "carol", None, Some("soon")).await.err().unwrap().to_string().contains("--expires"));
    assert!(add_user(&store, "carol", false).await.err().unwrap().to_string().contains("already exists"));
    assert!(add_user(&store, "a b", false).await.err().unwrap().to_string().contains("user name 'a b'"));
    // The migrations' first user is an administrator named admin.
    let admin = create_token(&store, "admin", Some("read,admin"), None).await.unwrap();
    let who = authenticate(&store, &admin.secret).await.unwrap().unwrap();
    assert_eq!(who.actor(), Actor { user_id: FIRST_USER_ID, sees_all: true });
}
