-- A completed run's manifest (everything that decided its results, as JSON)
-- and its fingerprint, which later caching and sweeps look runs up by.
ALTER TABLE runs ADD COLUMN manifest TEXT;
ALTER TABLE runs ADD COLUMN fingerprint TEXT;
CREATE INDEX runs_fingerprint ON runs (fingerprint);
