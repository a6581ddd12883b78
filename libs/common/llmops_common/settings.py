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
    """Kafka brokers, `host:port[,host:port]`; the default is the broker `llmops up` starts."""
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """How clients reach Kafka: plain, TLS, SASL, or SASL over TLS."""
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    """The SASL mechanism, when the protocol uses SASL."""
    kafka_sasl_username: str | None = None
    """The SASL user name."""
    kafka_sasl_password: SecretStr | None = None
    """The SASL password (kept out of logs and reprs)."""
    kafka_ssl_cafile: Path | None = None
    """A CA bundle that signs the brokers' TLS certificates; unset, the system's."""
    # Apache Kafka supports idempotent producers; the local Tansu broker does not.
    kafka_enable_idempotence: bool = False
    # A new group member waits for others to join; Tansu makes that wait half the session timeout.
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    """How often a consumer tells its group it is alive."""
    kafka_topic_partitions: int = Field(default=3, ge=1)
    """Partitions of each catalog topic the services create."""
    kafka_replication_factor: int = Field(default=1, ge=1)
    """Replicas of each catalog topic the services create (3 on a production cluster)."""
    # Services create missing catalog topics at start; turn off where an operator owns topic creation.
    kafka_create_topics: bool = True
    kafka_publish_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a service's publish waits for the broker to take its events before it fails as unavailable:
    an HTTP request that publishes then answers 503, and a handler retries it as a transient failure."""
    kafka_request_fetch_wait_ms: int = Field(default=2, ge=1)
    """The longest fetch wait of the consumers a caller awaits: retrieval requests and their replies.
    Tansu answers a fetch only when the wait ends, even if records arrived, so this is the latency
    floor of each hop; each idle consumer then asks 1000/this times a second (at 2 ms about 7% of a core
    in the service and 9% in Tansu, against 4% and 5% at 5 ms). Apache Kafka answers as soon as records
    arrive: raise it there (500) and lose no latency."""

    data_dir: Path = Path(".llmops")
    """Where embedded stores, state folders, artifacts and the dev key live."""
    clickhouse_url: str | None = None
    """A ClickHouse server (`http://user:password@host:8123/db`); unset, the embedded chDB engine."""
    clickhouse_migrations_dir: Path = REPO_ROOT / "infra" / "clickhouse"
    """The SQL migrations applied to ClickHouse at start."""
    qdrant_url: str | None = None
    """A Qdrant server; unset, the embedded engine."""
    qdrant_api_key: SecretStr | None = None
    """The Qdrant server's API key."""
    artifact_url: str | None = None
    """Where adapters, datasets and reports are stored (`s3://bucket/prefix` or a folder); unset, the data folder."""
    # A Hugging Face model folder or hub id; unset means the default that `llmops model init` stores.
    base_model: str | None = None
    s3_endpoint_url: str | None = None
    """An S3-compatible endpoint (MinIO, say) for `artifact_url`."""
    # What computes text embeddings (retriever, monitor); unset: onnx where onnxruntime is installed.
    embedding_backend: Literal["onnx", "torch"] | None = None

    http_host: str = "127.0.0.1"
    """The address every service's HTTP API binds to."""
    model_server_port: int = 8000
    """The model server's HTTP port."""
    ingestion_port: int = 8001
    """Ingestion's HTTP port."""
    prompt_registry_port: int = 8002
    """The prompt registry's HTTP port."""
    trainer_port: int = 8003
    """The trainer's HTTP port (health and metrics)."""
    evaluator_port: int = 8004
    """The evaluator's HTTP port (health and metrics)."""
    rag_retriever_port: int = 8005
    """The RAG retriever's HTTP port."""
    feedback_collector_port: int = 8006
    """The feedback collector's HTTP port."""
    monitor_port: int = 8007
    """The monitor's HTTP port."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The lowest level written to the JSON logs."""
    handler_max_attempts: int = Field(default=3, ge=1)
    """Tries of a handler that fails with an error of unknown kind (a bug, an event it cannot take) before
    its event is dead-lettered; a permanent error is dead-lettered at once, a transient one see below."""
    handler_backoff_seconds: float = Field(default=0.2, ge=0)
    """The pause after a handler's first failure; each further pause doubles (with jitter)."""
    handler_retry_max_seconds: float = Field(default=60.0, ge=0)
    """How long a handler that fails with a transient error (a store or the broker briefly away) is
    retried, with exponential backoff and jitter, before its event is dead-lettered. Keep it well under
    a subscription's max poll interval (5 minutes by default), or the group counts the member dead."""
    handler_backoff_max_seconds: float = Field(default=5.0, gt=0)
    """The longest pause between two tries of a failing handler."""
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
