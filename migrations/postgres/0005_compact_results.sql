-- A completed run's equity curve, its chart sample and its trades, each in
-- one compact value (store/codec.rs) instead of a row per bar and per trade,
-- written in the run's results transaction. Runs stored before keep their
-- rows in equity_points and trades.
CREATE TABLE run_results (
    run_id BIGINT PRIMARY KEY REFERENCES runs (id),
    points BIGINT NOT NULL,
    curve BYTEA NOT NULL,
    sampled BYTEA NOT NULL,
    trade_count BIGINT NOT NULL,
    trades BYTEA NOT NULL
);
