-- Sweeps on worker processes (`serve --workers 0`): a sweep's variants are
-- split into chunks of consecutive numbers, each claimed under a lease as a
-- run is (owner, lease_until on the database's clock, attempt). A chunk's
-- variants are written only while its owner and attempt still match. The
-- chunk numbered -1 finishes the sweep (its summary, its best variants'
-- runs); it is claimed once every other chunk is done. A walk-forward is
-- one chunk, 0, that finishes the sweep itself.
CREATE TABLE sweep_chunks (
    sweep_id BIGINT NOT NULL REFERENCES sweeps (id),
    chunk BIGINT NOT NULL,
    first_number BIGINT NOT NULL,
    end_number BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    lease_owner TEXT,
    lease_until BIGINT,
    attempt BIGINT NOT NULL DEFAULT 0,
    -- Distinct indicators the chunk computed (summed into the sweep's summary).
    indicators BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (sweep_id, chunk)
);
CREATE INDEX sweep_chunks_by_status ON sweep_chunks (status, sweep_id, chunk);

-- 1 for a sweep whose variants go to workers: the server that queued it
-- neither runs nor recovers it.
ALTER TABLE sweeps ADD COLUMN on_workers BIGINT NOT NULL DEFAULT 0;

-- The attempt of the chunk that stored the variant (0: a server ran it).
ALTER TABLE sweep_variants ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0;

-- The equity and PnL at the latest bar of a run executing on a worker,
-- written with its lease renewals, for the API's event streams.
ALTER TABLE runs ADD COLUMN live_equity DOUBLE PRECISION;
ALTER TABLE runs ADD COLUMN live_pnl DOUBLE PRECISION;
