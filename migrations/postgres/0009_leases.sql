-- Leases for worker processes (`backtester worker`) that share the queue of
-- runs through this table. A worker claims a queued run, or a running one
-- whose lease ran out, by setting lease_owner, lease_until (epoch
-- milliseconds of the database's clock, never a worker's) and attempt + 1;
-- it completes the run only while owner and attempt still match. A cancel
-- of a run on another process sets cancel_requested, which its worker reads.
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_until BIGINT;
ALTER TABLE runs ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_by_lease ON runs (status, lease_until) WHERE status = 'running';
