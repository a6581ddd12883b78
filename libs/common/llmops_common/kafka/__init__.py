"""The Kafka layer: CloudEvents envelopes, a broker factory, publishing, consuming and request/reply."""
