-- Portfolio runs: why each trade closed, the benchmark's equity beside the
-- strategy's, and the returns tables (JSON) of each completed run.

ALTER TABLE trades ADD COLUMN exit_reason TEXT NOT NULL DEFAULT 'signal';
UPDATE trades SET exit_reason = 'end_of_run' WHERE closed_at_end;
ALTER TABLE equity_points ADD COLUMN benchmark_equity NUMERIC;
ALTER TABLE runs ADD COLUMN returns TEXT;
