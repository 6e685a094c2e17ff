-- Datasets kept parsed: an upload is validated as it streams in and stored
-- as columnar bars (src/data/bars_file.rs) in chunks of a few MiB, so that a
-- run reads bars instead of parsing CSV text again and a large upload never
-- sits whole in memory. Datasets uploaded before keep their CSV in
-- `content` (encoding 'csv'); new ones have an empty `content` and their
-- chunks in dataset_blocks (encoding 'bars'). load_options: how the upload
-- was read (date format, delimiter, columns, sort), as JSON.
ALTER TABLE datasets ADD COLUMN encoding TEXT NOT NULL DEFAULT 'csv';
ALTER TABLE datasets ADD COLUMN load_options TEXT NOT NULL DEFAULT '{}';

CREATE TABLE dataset_blocks (
    dataset_id BIGINT NOT NULL REFERENCES datasets (id),
    seq BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (dataset_id, seq)
);
