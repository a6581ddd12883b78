-- What each detector run measured, fired or not: the drift-score (and quality, latency, cost) history
-- that dashboards plot. The monitor's detectors write it; the scope columns are '' for "every value".
-- metric names the figure (psi_prompt_tokens, ks_completion_tokens, embedding_cosine, mmd_p_value,
-- feedback_mean_drop, p95_latency_ms, hourly_spend_usd, ...).
CREATE TABLE IF NOT EXISTS detector_measurements (
    measured_at DateTime64(3, 'UTC'),
    detector LowCardinality(String),
    metric LowCardinality(String),
    tenant LowCardinality(String) DEFAULT '',
    model_name LowCardinality(String) DEFAULT '',
    adapter_version LowCardinality(String) DEFAULT '',
    value Float64,
    threshold Nullable(Float64),
    breached Bool DEFAULT false,
    current_start DateTime64(3, 'UTC'),
    current_end DateTime64(3, 'UTC'),
    reference_start Nullable(DateTime64(3, 'UTC')),
    reference_end Nullable(DateTime64(3, 'UTC'))
)
ENGINE = MergeTree
PARTITION BY toDate(measured_at)
ORDER BY (model_name, detector, metric, measured_at)
TTL toDateTime(measured_at) + INTERVAL 180 DAY
SETTINGS ttl_only_drop_parts = 1;
