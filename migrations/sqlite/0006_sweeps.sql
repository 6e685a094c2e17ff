-- Parameter sweeps: one strategy version, one data set and base settings,
-- many variants. A sweep's config is its request (the run's fields plus
-- the variant set, constraint, objective and top), so that a restart
-- enumerates the same variants in the same order. Each finished variant is
-- one row, written once (its primary key): a sweep resumed after a restart
-- runs only the variants without a row.
CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    strategy_id BIGINT NOT NULL REFERENCES strategies (id),
    version_id BIGINT NOT NULL REFERENCES strategy_versions (id),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    config TEXT NOT NULL,
    total BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    error_message TEXT,
    -- JSON, once finished: the Deflated Sharpe Ratio of the best variant,
    -- indicators computed, variants per second.
    summary TEXT
);
CREATE INDEX sweeps_by_status ON sweeps (status, id);

-- One finished variant: ran (its metrics, one column each so that any of
-- them sorts in SQL), excluded by the constraint, or failed (its error).
-- shape: the returns' Sharpe ratio, skew, kurtosis and count, as JSON, for
-- the Deflated Sharpe Ratio.
CREATE TABLE sweep_variants (
    sweep_id BIGINT NOT NULL REFERENCES sweeps (id),
    number BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ran', 'excluded', 'failed')),
    error TEXT,
    shape TEXT,
    m_return_pct DOUBLE PRECISION,
    m_annual_return_pct DOUBLE PRECISION,
    m_annual_volatility_pct DOUBLE PRECISION,
    m_sharpe DOUBLE PRECISION,
    m_sortino DOUBLE PRECISION,
    m_calmar DOUBLE PRECISION,
    m_max_drawdown_pct DOUBLE PRECISION,
    m_trades DOUBLE PRECISION,
    m_win_rate_pct DOUBLE PRECISION,
    m_profit_factor DOUBLE PRECISION,
    m_avg_trade_pct DOUBLE PRECISION,
    m_sqn DOUBLE PRECISION,
    m_expectancy DOUBLE PRECISION,
    m_net_pnl DOUBLE PRECISION,
    m_final_equity DOUBLE PRECISION,
    m_exposure_pct DOUBLE PRECISION,
    PRIMARY KEY (sweep_id, number)
);
