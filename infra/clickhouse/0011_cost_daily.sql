-- Daily spend per tenant and model, filled on insert from inference_completed. Aggregate on read:
--   SELECT day, tenant, model_name, sum(cost_usd) FROM cost_daily GROUP BY day, tenant, model_name
-- Kept three years, for finance.
CREATE TABLE IF NOT EXISTS cost_daily (
    day Date,
    tenant LowCardinality(String),
    model_name LowCardinality(String),
    requests SimpleAggregateFunction(sum, UInt64),
    prompt_tokens SimpleAggregateFunction(sum, UInt64),
    completion_tokens SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, model_name, day)
TTL day + INTERVAL 3 YEAR
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS cost_daily_mv TO cost_daily AS
SELECT
    toDate(src.event_time) AS day,
    src.tenant AS tenant,
    src.model_name AS model_name,
    toUInt64(count()) AS requests,
    toUInt64(sum(src.prompt_tokens)) AS prompt_tokens,
    toUInt64(sum(src.completion_tokens)) AS completion_tokens,
    sum(src.cost_usd) AS cost_usd
FROM inference_completed AS src
GROUP BY day, tenant, model_name;
