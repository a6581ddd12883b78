"""The platform's stores: telemetry (ClickHouse or chdb), vectors (Qdrant) and artifacts (files or S3).

Each store opens through a factory that reads `PlatformSettings`, so a service picks the embedded or the
server backend by configuration alone: `open_telemetry_store`, `open_vector_store`, `open_artifact_store`.
"""
