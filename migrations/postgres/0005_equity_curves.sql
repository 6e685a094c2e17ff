-- A run's equity curve in one compact value (store/curve_codec.rs) instead
-- of a row per bar, and the sampled curve the API shows, both written with
-- the run's results. Runs stored before keep their rows in equity_points.
CREATE TABLE equity_curves (
    run_id BIGINT PRIMARY KEY REFERENCES runs (id),
    points BIGINT NOT NULL,
    curve BYTEA NOT NULL,
    sampled BYTEA NOT NULL
);
