-- Leases on the sweeps a server executes itself (on_workers = 0), on
-- PostgreSQL where several servers may share this table: the server that
-- marks a sweep running sets lease_owner and lease_until (epoch milliseconds
-- of the database's clock) and renews it while the sweep runs. Another
-- server queues the sweep again only once its lease ran out; the sweep's end
-- is written by its owner, or by a cancel. Unused on SQLite (one server per
-- file).
ALTER TABLE sweeps ADD COLUMN lease_owner TEXT;
ALTER TABLE sweeps ADD COLUMN lease_until BIGINT;
