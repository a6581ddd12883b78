"""PII redaction: typed placeholders in place of emails, phones, cards, IBANs, IPs and national ids.

`types` holds the `Redactor` protocol; `regex_redactor` is the default engine and `presidio_redactor`
wraps Presidio when it is installed. Ingestion redacts documents with it, the model server the text it
captures in telemetry.
"""
