"""Settings shared by every service, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]

SERVICE_NAMES: tuple[str, ...] = (
    "model_server",
    "ingestion",
    "prompt_registry",
    "trainer",
    "evaluator",
    "rag_retriever",
    "feedback_collector",
    "monitor",
)
"""Every service, in port order: the model server takes 8000 and the others the ports after it."""


class PlatformSettings(BaseSettings):
    """What every process of the platform shares: where Kafka, the stores and each service live."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_", extra="ignore", frozen=True)

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    # Apache Kafka supports idempotent producers; the local Tansu broker does not.
    kafka_enable_idempotence: bool = False
    # A new group member waits for others to join; Tansu makes that wait half the session timeout.
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    # Services create missing catalog topics at start; turn off where an operator owns topic creation.
    kafka_create_topics: bool = True
    kafka_request_fetch_wait_ms: int = Field(default=2, ge=1)
    """The longest fetch wait of the consumers a caller awaits: retrieval requests and their replies.
    Tansu answers a fetch only when the wait ends, even if records arrived, so this is the latency
    floor of each hop; each idle consumer then asks 1000/this times a second (at 2 ms about 7% of a core
    in the service and 9% in Tansu, against 4% and 5% at 5 ms). Apache Kafka answers as soon as records
    arrive: raise it there (500) and lose no latency."""

    data_dir: Path = Path(".llmops")
    clickhouse_url: str | None = None
    clickhouse_migrations_dir: Path = REPO_ROOT / "infra" / "clickhouse"
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    artifact_url: str | None = None
    # A Hugging Face model folder or hub id; unset means the default that `llmops model init` stores.
    base_model: str | None = None
    s3_endpoint_url: str | None = None
    # What computes text embeddings (retriever, monitor); unset: onnx where onnxruntime is installed.
    embedding_backend: Literal["onnx", "torch"] | None = None

    http_host: str = "127.0.0.1"
    model_server_port: int = 8000
    ingestion_port: int = 8001
    prompt_registry_port: int = 8002
    trainer_port: int = 8003
    evaluator_port: int = 8004
    rag_retriever_port: int = 8005
    feedback_collector_port: int = 8006
    monitor_port: int = 8007

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    handler_max_attempts: int = Field(default=3, ge=1)
    handler_backoff_seconds: float = Field(default=0.2, ge=0)
    prompt_render_max_chars: int = Field(default=256 * 1024, ge=1)
    """The most characters one prompt render may output (a longer one is a 422)."""
    prompt_render_max_iterations: int = Field(default=100_000, ge=1)
    """The most `{% for %}` iterations one prompt render may run, nested loops together."""
    prompt_render_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long one prompt render may take before it is refused."""
    consumer_batch_size: int = Field(default=5000, ge=1)
    """The most records a consumer takes per poll. Large enough to take all that a fetch brought (up to
    1 MiB per partition): aiokafka fetches again only once every partition's records are taken, and
    then the broker serves the next fetch while this batch is handled."""

    @property
    def embedding_cache_dir(self) -> Path:
        """Where embedding models exported to ONNX are kept, shared by every service of this data dir."""
        return self.data_dir / "models" / "onnx"

    def port_of(self, service: str) -> int:
        """The HTTP port of `service`."""
        port: int = getattr(self, f"{service}_port")
        return port

    def url_of(self, service: str) -> str:
        """The base URL of `service`'s HTTP API."""
        return f"http://{self.http_host}:{self.port_of(service)}"


class ServiceSettings(PlatformSettings):
    """Base of each service's own settings class; `service_name` says which service it is."""

    service_name: ClassVar[str]

    @property
    def http_port(self) -> int:
        """The port this service listens on."""
        return self.port_of(self.service_name)

    @property
    def state_dir(self) -> Path:
        """A folder only this service writes to (idempotency records, embedded stores)."""
        return self.data_dir / "state" / self.service_name
