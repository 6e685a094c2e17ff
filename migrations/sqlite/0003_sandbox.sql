-- What each completed run's strategy used of its sandbox (JSON; NULL for a
-- native strategy and for runs completed before this column existed).

ALTER TABLE runs ADD COLUMN sandbox TEXT;
