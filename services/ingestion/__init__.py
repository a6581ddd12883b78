"""The ingestion service: cleans, deduplicates, redacts and versions incoming data."""
