"""The errors the stores raise, placed in the platform's one hierarchy."""

from __future__ import annotations

from llmops_common.errors import PermanentError, RetryableError


class StoreUnavailableError(RetryableError):
    """A store cannot be reached or opened now: a server is down, or another process holds the folder."""


class StoreConfigError(PermanentError):
    """A store URL or folder setting that no backend understands."""

    status_code = 500
    code = "store_misconfigured"


class TelemetryQueryError(PermanentError):
    """ClickHouse rejected a statement: bad SQL, a missing table, a value of the wrong type."""

    status_code = 500
    code = "telemetry_query_failed"


class MigrationError(PermanentError):
    """The migrations folder and the applied migrations disagree, or a migration file is malformed."""

    status_code = 500
    code = "migration_failed"


class ArtifactIntegrityError(PermanentError):
    """An artifact's bytes do not hash to the sha256 its reference names."""

    status_code = 500
    code = "artifact_corrupt"
