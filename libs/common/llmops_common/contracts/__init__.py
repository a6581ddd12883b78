"""The event contract as files under `schemas/`, and the checks that keep it backward compatible.

`event_schemas` turns each event model into a closed JSON Schema, `asyncapi` and `topic_docs` describe
the topic catalog, `schema_files` writes or checks them all, and `compat` finds breaking changes
between two revisions of one event type's schema. Run `python -m llmops_common.contracts write|check`.
"""
