-- Per-minute rollup of inference_completed by tenant, model and adapter version, filled on insert by
-- the materialized view below. Several rows may hold one minute until parts merge: always aggregate,
--   sum(requests), sum(errors), sum(cost_usd), ...
--   quantilesTDigestMerge(0.5, 0.95, 0.99)(latency_ms)   -- [p50, p95, p99]
--   quantilesTDigestMerge(0.5, 0.95, 0.99)(time_to_first_token_ms)
-- The quantile states take any level at merge time. Requests without a time to first token (errors,
-- non-streamed) are left out of its state; ttft_requests counts those that have one.
-- A redelivered raw insert is deduplicated by its insert token before it reaches this view.
CREATE TABLE IF NOT EXISTS inference_minute (
    minute DateTime('UTC'),
    tenant LowCardinality(String),
    model_name LowCardinality(String),
    adapter_version LowCardinality(String),
    requests SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    prompt_tokens SimpleAggregateFunction(sum, UInt64),
    completion_tokens SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Float64),
    ttft_requests SimpleAggregateFunction(sum, UInt64),
    latency_ms AggregateFunction(quantileTDigest, Float64),
    time_to_first_token_ms AggregateFunction(quantileTDigest, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (tenant, model_name, adapter_version, minute)
TTL minute + INTERVAL 400 DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS inference_minute_mv TO inference_minute AS
SELECT
    toStartOfMinute(src.event_time) AS minute,
    src.tenant AS tenant,
    src.model_name AS model_name,
    src.adapter_version AS adapter_version,
    toUInt64(count()) AS requests,
    toUInt64(countIf(src.status = 'error')) AS errors,
    toUInt64(sum(src.prompt_tokens)) AS prompt_tokens,
    toUInt64(sum(src.completion_tokens)) AS completion_tokens,
    sum(src.cost_usd) AS cost_usd,
    toUInt64(countIf(isNotNull(src.time_to_first_token_ms))) AS ttft_requests,
    quantileTDigestState(src.latency_ms) AS latency_ms,
    quantileTDigestStateIf(assumeNotNull(src.time_to_first_token_ms), isNotNull(src.time_to_first_token_ms))
        AS time_to_first_token_ms
FROM inference_completed AS src
GROUP BY minute, tenant, model_name, adapter_version;
