"""TLS and SASL reach every Kafka client the platform makes: the FastStream broker and each plain aiokafka
producer, consumer and admin client. No SASL broker runs here (the local Tansu broker has no SASL), so SASL
is checked as far as the clients' own settings; TLS is checked for real, against a TLS server on 127.0.0.1
whose certificate a CA made by the test signs: the client trusts it through `LLMOPS_KAFKA_SSL_CAFILE` and
sends its first Kafka request over it, and refuses a server that CA did not sign."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from llmops_common.kafka.broker import build_broker, client_kwargs
from llmops_common.settings import REPO_ROOT, PlatformSettings

API_VERSIONS = 18
"""The Kafka API key of the first request a client sends on a new connection."""
CLIENT_CLASSES = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}
USER, PASSWORD = "llmops", "not-a-real-password"


@dataclass(frozen=True)
class Authority:
    """A CA, and a server certificate for 127.0.0.1 that it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_authority(folder: Path, name: str) -> Authority:
    now = dt.datetime.now(dt.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kafka")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    authority = Authority(folder / f"{name}-ca.pem", folder / f"{name}-server.pem", folder / f"{name}-server.key")
    authority.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    authority.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    authority.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return authority


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_authority(tmp_path_factory.mktemp("tls"), "llmops-test")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_authority(tmp_path_factory.mktemp("tls-other"), "someone-else")


def settings_with(**values: object) -> PlatformSettings:
    return PlatformSettings.model_validate({"kafka_bootstrap": "127.0.0.1:9093", **values})


def test_plaintext_clients_get_no_security_options() -> None:
    assert client_kwargs(settings_with()) == {"bootstrap_servers": "127.0.0.1:9093"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_carries_the_user_the_mechanism_and_a_context_from_the_ca_file(
    authority: Authority, mechanism: str
) -> None:
    kwargs = client_kwargs(
        settings_with(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism=mechanism,
            kafka_sasl_username=USER,
            kafka_sasl_password=PASSWORD,
            kafka_ssl_cafile=authority.ca_file,
        )
    )
    context = kwargs.pop("ssl_context")
    assert kwargs == {
        "bootstrap_servers": "127.0.0.1:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": USER,
        "sasl_plain_password": PASSWORD,
    }
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert [dict(entry[0] for entry in ca["subject"]) for ca in context.get_ca_certs()] == [
        {"commonName": "llmops-test"}
    ]


def test_sasl_without_tls_has_no_context_and_tls_without_sasl_no_user(authority: Authority) -> None:
    sasl = client_kwargs(
        settings_with(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username=USER, kafka_sasl_password=PASSWORD)
    )
    assert sasl["security_protocol"] == "SASL_PLAINTEXT"
    assert sasl["ssl_context"] is None
    tls = client_kwargs(settings_with(kafka_security_protocol="SSL", kafka_ssl_cafile=authority.ca_file))
    assert set(tls) == {"bootstrap_servers", "security_protocol", "ssl_context"}
    assert tls["security_protocol"] == "SSL"


@pytest.mark.parametrize("missing", ["kafka_sasl_username", "kafka_sasl_password"])
def test_sasl_without_credentials_is_refused_at_start(missing: str) -> None:
    values = {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": USER, "kafka_sasl_password": PASSWORD}
    del values[missing]
    with pytest.raises(ValueError, match="LLMOPS_KAFKA_SASL_USERNAME and LLMOPS_KAFKA_SASL_PASSWORD"):
        client_kwargs(settings_with(**values))


async def test_every_client_kind_takes_the_options(authority: Authority) -> None:
    settings = settings_with(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username=USER,
        kafka_sasl_password=PASSWORD,
        kafka_ssl_cafile=authority.ca_file,
    )
    consumer, producer = AIOKafkaConsumer(**client_kwargs(settings)), AIOKafkaProducer(**client_kwargs(settings))
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    try:
        for client in (consumer._client, producer.client, admin._client):
            assert client._security_protocol == "SASL_SSL"
            assert client._sasl_mechanism == "SCRAM-SHA-512"
            assert client._sasl_plain_username == USER
            assert client._sasl_plain_password == PASSWORD
            assert client._ssl_context is not None
    finally:
        await consumer.stop()
        await producer.stop()
        await admin.close()

    # The services' FastStream broker: its producer and every subscriber's consumer.
    broker = build_broker(settings, client_id="test")
    for options in (broker._connection_kwargs, broker.config.broker_config.builder.keywords):
        assert options["security_protocol"] == "SASL_SSL"
        assert options["sasl_mechanism"] == "SCRAM-SHA-512"
        assert options["sasl_plain_username"] == USER
        assert [ca["subject"] for ca in options["ssl_context"].get_ca_certs()] == [((("commonName", "llmops-test"),),)]


def test_every_plain_client_in_the_code_is_built_from_client_kwargs() -> None:
    """A client made without `client_kwargs` would ignore the TLS and SASL settings."""
    calls = 0
    for path in [*(REPO_ROOT / "libs").rglob("*.py"), *(REPO_ROOT / "services").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            where = f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
            if name in CLIENT_CLASSES:
                calls += 1
                spread = [kw.value for kw in node.keywords if kw.arg is None]
                assert any(
                    isinstance(value, ast.Call) and getattr(value.func, "id", "") == "client_kwargs" for value in spread
                ), f"{where} builds {name} without **client_kwargs(settings)"
            if name == "KafkaBroker":
                assert path.name == "broker.py", f"{where} builds a KafkaBroker apart from build_broker"
    assert calls >= 5


@pytest.fixture
async def tls_server(authority: Authority) -> AsyncIterator[tuple[int, list[int]]]:
    """A TLS server on 127.0.0.1 that records the API key of the first Kafka request on each connection."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(authority.cert_file, authority.key_file)
    api_keys: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            header = await reader.readexactly(6)  # the request's size, then its API key
            api_keys.append(int.from_bytes(header[4:6], "big"))
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1], api_keys
    finally:
        server.close()
        await server.wait_closed()


async def reach(settings: PlatformSettings) -> None:
    admin = AIOKafkaAdminClient(**client_kwargs(settings), request_timeout_ms=3000)
    try:
        with pytest.raises(KafkaConnectionError):
            await admin.start()  # the server answers no Kafka request, so bootstrapping fails
    finally:
        await admin.close()


async def test_a_client_speaks_kafka_over_tls_to_a_broker_the_ca_signed(
    tls_server: tuple[int, list[int]], authority: Authority
) -> None:
    port, api_keys = tls_server
    await reach(
        settings_with(
            kafka_bootstrap=f"127.0.0.1:{port}", kafka_security_protocol="SSL", kafka_ssl_cafile=authority.ca_file
        )
    )
    assert api_keys[:1] == [API_VERSIONS]


async def test_a_client_refuses_a_broker_another_ca_signed(
    tls_server: tuple[int, list[int]], stranger: Authority
) -> None:
    port, api_keys = tls_server
    await reach(
        settings_with(
            kafka_bootstrap=f"127.0.0.1:{port}", kafka_security_protocol="SSL", kafka_ssl_cafile=stranger.ca_file
        )
    )
    assert api_keys == []
