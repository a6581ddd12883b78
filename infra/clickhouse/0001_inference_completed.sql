-- Raw `llmops.inference.completed.v1` events, one row per request; the monitor aggregates from here.
-- Columns carry the event's field names. event_id and event_time come from the CloudEvents envelope.
-- Optional text fields store '' when absent; optional numbers stay NULL so averages skip them.
-- A redelivered event has the same sorting key, so ReplacingMergeTree folds the copies on merge
-- (read with FINAL where an exact count matters).
CREATE TABLE IF NOT EXISTS inference_completed (
    event_id String,
    event_time DateTime64(3, 'UTC'),
    request_id String,
    tenant LowCardinality(String),
    key_id String DEFAULT '',
    model_name LowCardinality(String),
    base_model LowCardinality(String),
    adapter_version LowCardinality(String) DEFAULT '',
    canary_arm LowCardinality(String) DEFAULT '',
    prompt_name LowCardinality(String) DEFAULT '',
    prompt_version Nullable(UInt32),
    prompt_tokens UInt32,
    completion_tokens UInt32,
    time_to_first_token_ms Nullable(Float64),
    latency_ms Float64,
    tokens_per_second Nullable(Float64),
    queue_time_ms Float64 DEFAULT 0,
    cost_usd Float64 DEFAULT 0,
    finish_reason LowCardinality(String) DEFAULT '',
    status LowCardinality(String),
    error_code LowCardinality(String) DEFAULT '',
    http_status UInt16,
    started_at DateTime64(3, 'UTC'),
    prompt_text Nullable(String) CODEC(ZSTD(3)),
    completion_text Nullable(String) CODEC(ZSTD(3)),
    text_capture LowCardinality(String) DEFAULT 'redacted',
    -- Feedback arrives keyed by request id; this lets a lookup skip most granules.
    INDEX request_id_bloom request_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (tenant, model_name, event_time, event_id)
-- Whole days expire together: a partition is dropped, not rewritten row by row.
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1;
