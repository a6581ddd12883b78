-- Raw `llmops.training.completed.v1` events: one row per finished fine-tune. The adapter's claim
-- check is flattened into adapter_uri / adapter_sha256 ('' when the job failed).
CREATE TABLE IF NOT EXISTS training_completed (
    event_id String,
    event_time DateTime64(3, 'UTC'),
    job_id String,
    tenant LowCardinality(String),
    model_name LowCardinality(String),
    base_model LowCardinality(String),
    status LowCardinality(String),
    adapter_version LowCardinality(String) DEFAULT '',
    adapter_uri String DEFAULT '',
    adapter_sha256 String DEFAULT '',
    metrics Map(LowCardinality(String), Float64),
    error String DEFAULT '',
    duration_seconds Float64,
    INDEX event_id_bloom event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (model_name, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL 730 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
