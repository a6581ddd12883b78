"""Reading records from files for `llmops ingest`: JSONL, CSV, Parquet, and folders of text."""
