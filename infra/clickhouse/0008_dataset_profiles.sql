-- Raw `llmops.data.datasets` events (DatasetSealedV1): one row per sealed dataset version.
-- The counts are the event's own. The profile's schema belongs to ingestion and may grow, so it is
-- stored as a JSON document in `profile` (read it with JSONExtract*): the sink copies the document
-- the event's `profile` claim check points at, and leaves '' when the event has none or it could not
-- be read (profile_uri then says where it lies).
CREATE TABLE IF NOT EXISTS dataset_profiles (
    event_id String,
    event_time DateTime64(3, 'UTC'),
    tenant LowCardinality(String),
    name LowCardinality(String),
    version String,
    artifact_uri String,
    artifact_sha256 String,
    artifact_size_bytes UInt64,
    rows UInt64,
    train_rows UInt64,
    eval_rows UInt64,
    profile_uri String DEFAULT '',
    profile_sha256 String DEFAULT '',
    profile String DEFAULT '' CODEC(ZSTD(3)),
    INDEX event_id_bloom event_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (tenant, name, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL 730 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
