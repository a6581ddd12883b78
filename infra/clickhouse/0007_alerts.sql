-- Raw `llmops.alerts` events: state is fired | resolved. The scope columns are '' for "every value".
-- An alert is open when its latest row (argMax(state, at) by alert_id) is fired. severity, message and
-- enforce come with fired rows; resolved rows carry '' / false. The reference window is NULL when the
-- detector compared against a fixed threshold.
CREATE TABLE IF NOT EXISTS alerts (
    event_id String,
    event_time DateTime64(3, 'UTC'),
    alert_id String,
    state LowCardinality(String),
    detector LowCardinality(String),
    severity LowCardinality(String) DEFAULT '',
    tenant LowCardinality(String) DEFAULT '',
    model_name LowCardinality(String) DEFAULT '',
    adapter_version LowCardinality(String) DEFAULT '',
    value Float64,
    threshold Float64,
    current_start DateTime64(3, 'UTC'),
    current_end DateTime64(3, 'UTC'),
    reference_start Nullable(DateTime64(3, 'UTC')),
    reference_end Nullable(DateTime64(3, 'UTC')),
    query_url String DEFAULT '',
    message String DEFAULT '',
    enforce Bool DEFAULT false,
    at DateTime64(3, 'UTC'),
    INDEX event_id_bloom event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (model_name, detector, alert_id, at, event_id)
TTL toDateTime(event_time) + INTERVAL 365 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
