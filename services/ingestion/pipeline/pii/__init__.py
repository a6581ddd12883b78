"""Ingestion's choice of PII redaction engine; the engines live in `llmops_common.pii`."""
