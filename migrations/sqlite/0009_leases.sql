-- The lease columns of the PostgreSQL twin of this file, so that one query
-- set reads runs on both backends; only PostgreSQL has worker processes
-- (SQLite is one machine's database, with the server's in-process queue).
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_until BIGINT;
ALTER TABLE runs ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
