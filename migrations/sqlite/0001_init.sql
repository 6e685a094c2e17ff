-- Strategies, their immutable versions, datasets, runs and their results.
-- Money is TEXT here (exact decimal strings; SQLite has no exact numeric
-- type) and NUMERIC in the PostgreSQL twin of this file. Times are epoch
-- milliseconds.

CREATE TABLE strategies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    runtime TEXT NOT NULL CHECK (runtime IN ('rhai', 'wasm')),
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_reload_error TEXT
);

CREATE TABLE strategy_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    strategy_id BIGINT NOT NULL REFERENCES strategies (id),
    version BIGINT NOT NULL,
    source BLOB NOT NULL,
    content_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (strategy_id, version)
);

CREATE TABLE datasets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL UNIQUE,
    content BLOB NOT NULL,
    content_hash TEXT NOT NULL,
    rows BIGINT NOT NULL,
    first_ts BIGINT NOT NULL,
    last_ts BIGINT NOT NULL,
    interval_ms BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
    qty TEXT NOT NULL,
    entry_ts BIGINT NOT NULL,
    entry_price TEXT NOT NULL,
    exit_ts BIGINT NOT NULL,
    exit_price TEXT NOT NULL,
    commission TEXT NOT NULL,
    gross_pnl TEXT NOT NULL,
    net_pnl TEXT NOT NULL,
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
    equity TEXT NOT NULL,
    cash TEXT NOT NULL,
    drawdown_pct DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, step)
);
