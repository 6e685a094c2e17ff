-- The tables and columns of the PostgreSQL twin of this file, so that one
-- query set reads sweeps on both backends; only PostgreSQL has worker
-- processes, so on SQLite sweep_chunks stays empty.
CREATE TABLE sweep_chunks (
    sweep_id INTEGER NOT NULL REFERENCES sweeps (id),
    chunk INTEGER NOT NULL,
    first_number INTEGER NOT NULL,
    end_number INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    lease_owner TEXT,
    lease_until INTEGER,
    attempt INTEGER NOT NULL DEFAULT 0,
    indicators INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sweep_id, chunk)
);
ALTER TABLE sweeps ADD COLUMN on_workers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweep_variants ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN live_equity REAL;
ALTER TABLE runs ADD COLUMN live_pnl REAL;
