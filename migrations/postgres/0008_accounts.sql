-- Accounts: users, their API tokens (only a SHA-256 of each is kept), and
-- an owner for every strategy, dataset, run and sweep. Names are unique per
-- owner, not globally, and a symbol may have several dataset versions (an
-- upload with replace=true adds the next one; runs read the latest). Rows
-- from before belong to the first user, `admin`, an administrator who has
-- no token until one is created.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
INSERT INTO users (name, admin, created_at) VALUES ('admin', TRUE, (extract(epoch FROM now()) * 1000)::BIGINT);

CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);

ALTER TABLE strategies ADD COLUMN owner_id BIGINT NOT NULL DEFAULT 1 REFERENCES users (id);
ALTER TABLE strategies DROP CONSTRAINT strategies_name_key;
ALTER TABLE strategies ADD CONSTRAINT strategies_owner_name_key UNIQUE (owner_id, name);

ALTER TABLE datasets ADD COLUMN owner_id BIGINT NOT NULL DEFAULT 1 REFERENCES users (id);
ALTER TABLE datasets ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE datasets DROP CONSTRAINT datasets_symbol_key;
ALTER TABLE datasets ADD CONSTRAINT datasets_owner_symbol_version_key UNIQUE (owner_id, symbol, version);

ALTER TABLE runs ADD COLUMN owner_id BIGINT NOT NULL DEFAULT 1 REFERENCES users (id);
CREATE INDEX runs_by_owner ON runs (owner_id, id);
ALTER TABLE sweeps ADD COLUMN owner_id BIGINT NOT NULL DEFAULT 1 REFERENCES users (id);
CREATE INDEX sweeps_by_owner ON sweeps (owner_id, id);
