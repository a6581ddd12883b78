"""Builds the FastStream Kafka broker every service uses, from settings."""

from __future__ import annotations

import ssl
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from ..settings import PlatformSettings


def build_security(settings: PlatformSettings) -> BaseSecurity | None:
    """SASL and TLS options for a production cluster; None for a plaintext local broker.

    TLS verifies the brokers' certificates and host names, against `kafka_ssl_cafile` where it is set.
    SASL without a user name or password is refused here, at start, rather than by the broker later.
    """
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile) if "SSL" in protocol else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    username = settings.kafka_sasl_username
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    if not username or not password:
        raise ValueError(
            f"LLMOPS_KAFKA_SECURITY_PROTOCOL={protocol} needs LLMOPS_KAFKA_SASL_USERNAME and LLMOPS_KAFKA_SASL_PASSWORD"
        )
    sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    return sasl[settings.kafka_sasl_mechanism](username, password, ssl_context=context, use_ssl=protocol == "SASL_SSL")


def build_broker(settings: PlatformSettings, client_id: str, **extra: Any) -> KafkaBroker:
    """A broker whose producer waits for all in-sync replicas, and is idempotent where supported."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        security=build_security(settings),
        linger_ms=0,
        **extra,
    )


def client_kwargs(settings: PlatformSettings) -> dict[str, Any]:
    """Bootstrap servers and security options for a plain aiokafka client (admin, replica readers)."""
    return {"bootstrap_servers": settings.kafka_bootstrap, **parse_security(build_security(settings))}
