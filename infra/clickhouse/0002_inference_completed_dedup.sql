-- The sink's duplicate guards on the inference table (0001 predates the sink):
-- * a block inserted again with the same `insert_deduplication_token` (built from the Kafka topic,
--   partition and offsets of the batch) is dropped, and so are the rows it would add to the rollups;
-- * a bloom filter on event_id lets the sink find which events of a batch are already stored.
ALTER TABLE inference_completed MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE inference_completed ADD INDEX IF NOT EXISTS event_id_bloom event_id TYPE bloom_filter GRANULARITY 4;
