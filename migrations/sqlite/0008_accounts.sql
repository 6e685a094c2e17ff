-- Accounts: users, their API tokens (only a SHA-256 of each is kept), and
-- an owner for every strategy, dataset, run and sweep. Names are unique per
-- owner, not globally, and a symbol may have several dataset versions (an
-- upload with replace=true adds the next one; runs read the latest). Rows
-- from before belong to the first user, `admin`, an administrator who has
-- no token until one is created.
--
-- Dropping a UNIQUE column constraint means rebuilding the table in SQLite;
-- the store runs migrations with foreign-key enforcement off on their
-- connection for that, and checks the keys afterwards.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
INSERT INTO users (name, admin, created_at) VALUES ('admin', TRUE, CAST(strftime('%s', 'now') AS INTEGER) * 1000);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);

CREATE TABLE strategies_owned (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id BIGINT NOT NULL DEFAULT 1 REFERENCES users (id),
    name TEXT NOT NULL,
    runtime TEXT NOT NULL CHECK (runtime IN ('rhai', 'wasm')),
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_reload_error TEXT,
    UNIQUE (owner_id, name)
);
INSERT INTO strategies_owned (id, owner_id, name, runtime, description, created_at, last_reload_error)
    SELECT id, 1, name, runtime, description, created_at, last_reload_error FROM strategies;
DROP TABLE strategies;
ALTER TABLE strategies_owned RENAME TO strategies;

CREATE TABLE datasets_owned (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id BIGINT NOT NULL DEFAULT 1 REFERENCES users (id),
    symbol TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    content BLOB NOT NULL,
    content_hash TEXT NOT NULL,
    rows BIGINT NOT NULL,
    first_ts BIGINT NOT NULL,
    last_ts BIGINT NOT NULL,
    interval_ms BIGINT,
    created_at BIGINT NOT NULL,
    encoding TEXT NOT NULL DEFAULT 'csv',
    load_options TEXT NOT NULL DEFAULT '{}',
    UNIQUE (owner_id, symbol, version)
);
INSERT INTO datasets_owned (id, owner_id, symbol, version, content, content_hash, rows, first_ts, last_ts,
                            interval_ms, created_at, encoding, load_options)
    SELECT id, 1, symbol, 1, content, content_hash, rows, first_ts, last_ts, interval_ms, created_at, encoding,
           load_options FROM datasets;
DROP TABLE datasets;
ALTER TABLE datasets_owned RENAME TO datasets;

ALTER TABLE runs ADD COLUMN owner_id BIGINT NOT NULL DEFAULT 1 REFERENCES users (id);
CREATE INDEX runs_by_owner ON runs (owner_id, id);
ALTER TABLE sweeps ADD COLUMN owner_id BIGINT NOT NULL DEFAULT 1 REFERENCES users (id);
CREATE INDEX sweeps_by_owner ON sweeps (owner_id, id);
