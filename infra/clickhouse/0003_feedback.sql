-- Raw `llmops.feedback.submitted.v1` events, one row per feedback. score is thumbs (-1 or 1) or a
-- rating (1 to 5), as submitted. model_name and adapter_version are '' when the app did not say;
-- join inference_completed on (tenant, request_id) to learn them.
-- ReplacingMergeTree folds a redelivered event (same sorting key) on merge: read with FINAL where an
-- exact count matters.
CREATE TABLE IF NOT EXISTS feedback (
    event_id String,
    event_time DateTime64(3, 'UTC'),
    feedback_id String,
    request_id String,
    tenant LowCardinality(String),
    model_name LowCardinality(String) DEFAULT '',
    adapter_version LowCardinality(String) DEFAULT '',
    score Int8,
    label LowCardinality(String) DEFAULT '',
    comment String DEFAULT '' CODEC(ZSTD(3)),
    tags Array(LowCardinality(String)),
    correction Nullable(String) CODEC(ZSTD(3)),
    submitted_at DateTime64(3, 'UTC'),
    INDEX event_id_bloom event_id TYPE bloom_filter GRANULARITY 4,
    INDEX request_id_bloom request_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (tenant, model_name, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL 180 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
