-- Strategies, their immutable versions, datasets, runs and their results.
-- Money is NUMERIC here and TEXT in the SQLite twin of this file (SQLite
-- has no exact numeric type). Times are epoch
-- milliseconds.

CREATE TABLE strategies (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    runtime TEXT NOT NULL CHECK (runtime IN ('rhai', 'wasm')),
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_reload_error TEXT
);

CREATE TABLE strategy_versions (
    id BIGSERIAL PRIMARY KEY,
    strategy_id BIGINT NOT NULL REFERENCES strategies (id),
    version BIGINT NOT NULL,
    source BYTEA NOT NULL,
    content_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (strategy_id, version)
);

CREATE TABLE datasets (
    id BIGSERIAL PRIMARY KEY,
    symbol TEXT NOT NULL UNIQUE,
    content BYTEA NOT NULL,
    content_hash TEXT NOT NULL,
    rows BIGINT NOT NULL,
    first_ts BIGINT NOT NULL,
    last_ts BIGINT NOT NULL,
    interval_ms BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE runs (
    id BIGSERIAL PRIMARY KEY,
    strategy_id BIGINT NOT NULL REFERENCES strategies (id),
    version_id BIGINT NOT NULL REFERENCES strategy_versions (id),
    rerun_of BIGINT REFERENCES runs (id),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    config TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    bars_total BIGINT,
    bars_processed BIGINT NOT NULL DEFAULT 0,
    error_kind TEXT,
    error_message TEXT,
    metrics TEXT,
    timings TEXT,
    log TEXT
);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_strategy ON runs (strategy_id, id);

CREATE TABLE trades (
    run_id BIGINT NOT NULL REFERENCES runs (id),
    seq BIGINT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty NUMERIC NOT NULL,
    entry_ts BIGINT NOT NULL,
    entry_price NUMERIC NOT NULL,
    exit_ts BIGINT NOT NULL,
    exit_price NUMERIC NOT NULL,
    commission NUMERIC NOT NULL,
    gross_pnl NUMERIC NOT NULL,
    net_pnl NUMERIC NOT NULL,
    return_pct DOUBLE PRECISION NOT NULL,
    duration_bars BIGINT NOT NULL,
    duration_secs BIGINT NOT NULL,
    closed_at_end BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE equity_points (
    run_id BIGINT NOT NULL REFERENCES runs (id),
    step BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    equity NUMERIC NOT NULL,
    cash NUMERIC NOT NULL,
    drawdown_pct DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, step)
);
