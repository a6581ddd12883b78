-- Raw `llmops.eval.completed.v1` events: one row per evaluation run, its metrics as a map.
CREATE TABLE IF NOT EXISTS eval_completed (
    event_id String,
    event_time DateTime64(3, 'UTC'),
    eval_id String,
    tenant LowCardinality(String),
    model_name LowCardinality(String),
    adapter_version LowCardinality(String) DEFAULT '',
    dataset LowCardinality(String),
    dataset_version String,
    metrics Map(LowCardinality(String), Float64),
    gate_passed Bool,
    gate_reasons Array(String),
    INDEX event_id_bloom event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (model_name, event_time, event_id)
-- Evaluation history is small and audited: kept two years.
TTL toDateTime(event_time) + INTERVAL 730 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
