-- Raw `llmops.models.lifecycle` events, one row per change, whatever its type. action is
-- promoted | canary_started | rolled_back | retired. adapter_version is what all traffic gets after the
-- change (for a canary: the stable version); candidate_* is set for canary_started only.
-- The detectors' default reference window starts at a model's last promoted / rolled_back row.
CREATE TABLE IF NOT EXISTS model_lifecycle (
    event_id String,
    event_time DateTime64(3, 'UTC'),
    action LowCardinality(String),
    model_name LowCardinality(String),
    base_model LowCardinality(String) DEFAULT '',
    adapter_version LowCardinality(String) DEFAULT '',
    adapter_uri String DEFAULT '',
    candidate_adapter_version LowCardinality(String) DEFAULT '',
    candidate_percent Nullable(Float64),
    eval_id String DEFAULT '',
    reason String DEFAULT '',
    changed_by String,
    changed_at DateTime64(3, 'UTC'),
    INDEX event_id_bloom event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (model_name, changed_at, event_id)
TTL toDateTime(event_time) + INTERVAL 730 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
