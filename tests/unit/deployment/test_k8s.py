"""The platform on Kubernetes (`infra/k8s`) cannot run here (no cluster), so the base and each overlay are
rendered with `kubectl kustomize` and checked offline: the core kinds against Kubernetes' strict schemas,
KEDA's kinds against KEDA's API models, and the platform's own rules. Every service has a Deployment and a
Service on its settings port; every container probes /healthz and /readyz and has requests and limits;
images are pinned; settings are real ones and secrets come through secretKeyRef; Kafka is reached over
SASL and TLS by the services and by KEDA alike; and each ScaledObject scales on exactly the consumer
groups and topics that the service's code subscribes with (recorded by calling its `subscribe`)."""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
from cloudcoil.models.keda.v1alpha1 import ScaledObject, TriggerAuthentication

from llmops_common.engines.factory import EngineKind
from llmops_common.kafka.batch_consumer import BatchConsumer
from llmops_common.settings import REPO_ROOT, SERVICE_NAMES, PlatformSettings
from llmops_common.topics import CATALOG, TopicSpec
from tests.unit.deployment.rendering import KUBECTL, NO_KUBECTL, Document, of_kind, render

pytestmark = pytest.mark.skipif(KUBECTL is None, reason=NO_KUBECTL)

K8S = REPO_ROOT / "infra" / "k8s"
OVERLAYS = {"base": K8S / "base", "production": K8S / "overlays" / "production", "gpu": K8S / "overlays" / "gpu"}
# The Kubernetes the trainer's job needs too (tests/unit/deployment/test_trainer_job.py).
KUBERNETES_VERSION = "1.31"
KEDA_MODELS: dict[str, Any] = {"ScaledObject": ScaledObject, "TriggerAuthentication": TriggerAuthentication}
SCALED_BY_LAG = {"trainer", "evaluator", "rag_retriever"}
"""The consumers KEDA scales; the other consumers are one instance each (docs/services/*: "Scaling")."""
SCALED_OUT = {"model_server", "prompt_registry", "rag_retriever"}
"""What runs as several replicas: stateless but for a scratch folder, with a disruption budget."""
CLIENT_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "HF_TOKEN"}
"""Variables that third-party clients read (boto3, the Hugging Face hub), not platform settings."""
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|CLICKHOUSE_URL|WEBHOOK|AWS_ACCESS_KEY_ID")
KEDA_SASL = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}


def k8s_name(service: str) -> str:
    return service.replace("_", "-")


@dataclass(frozen=True)
class Subscription:
    """One Kafka consumer group of a service, on one topic, and where the group starts."""

    group: str
    topic: str
    from_beginning: bool


class RecordingConsumer:
    """Stands in for `EventConsumer`: records what a service's `subscribe` registers."""

    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()

    def subscribe(
        self,
        topic: TopicSpec | str,
        events: object,
        handler: object,
        *,
        group_id: str,
        kafka_group_id: str | None = None,
        from_beginning: bool = True,
        **_: object,
    ) -> None:
        name = topic if isinstance(topic, str) else topic.name
        self.subscriptions.add(Subscription(kafka_group_id or group_id, name, from_beginning))


def recorded(register: Callable[[Any], object]) -> set[Subscription]:
    consumer = RecordingConsumer()
    register(consumer)
    return consumer.subscriptions


@pytest.fixture(scope="module")
def subscriptions() -> dict[str, set[Subscription]]:
    """Each service's consumer groups, from its own code. The deps are never touched while subscribing."""
    from services.evaluator import handlers as evaluator
    from services.feedback_collector import handlers as feedback_collector
    from services.ingestion import handlers as ingestion
    from services.monitor.sink_runner import SINK_GROUP
    from services.monitor.telemetry_rows import telemetry_routes
    from services.rag_retriever.handlers import RetrieverHandlers
    from services.trainer import handlers as trainer

    retriever = RetrieverHandlers(None, None)
    try:
        rag = recorded(retriever.subscribe)
    finally:
        retriever.close()
    # The monitor's sink is one batch consumer over every routed topic, in a group of its own.
    from_beginning = inspect.signature(BatchConsumer).parameters["from_beginning"].default
    return {
        "ingestion": recorded(lambda c: ingestion.subscribe(c, None)),
        "feedback_collector": recorded(lambda c: feedback_collector.subscribe(c, None)),
        "trainer": recorded(lambda c: trainer.subscribe(c, None, None, None, None, max_job_seconds=60)),
        "evaluator": recorded(
            lambda c: evaluator.subscribe(
                c, None, None, max_eval_seconds=60, label_moves=evaluator.LabelMoves(None, None)
            )
        ),
        "rag_retriever": rag,
        "monitor": {Subscription(SINK_GROUP, topic, from_beginning) for topic in telemetry_routes(lambda _: "")},
    }


@pytest.fixture(scope="module")
def renders() -> dict[str, list[Document]]:
    return {overlay: render(folder) for overlay, folder in OVERLAYS.items()}


@pytest.fixture(params=sorted(OVERLAYS))
def documents(request: pytest.FixtureRequest, renders: dict[str, list[Document]]) -> list[Document]:
    overlay: str = request.param
    return renders[overlay]


def one(documents: list[Document], kind: str, name: str) -> Document:
    [document] = [d for d in of_kind(documents, kind) if d["metadata"]["name"] == name]
    return document


def pod_of(documents: list[Document], service: str) -> Document:
    pod: Document = one(documents, "Deployment", k8s_name(service))["spec"]["template"]["spec"]
    return pod


def container_of(documents: list[Document], service: str) -> Document:
    [container] = pod_of(documents, service)["containers"]
    return container


def platform_config(documents: list[Document]) -> dict[str, str]:
    [config] = [d for d in of_kind(documents, "ConfigMap") if d["metadata"]["name"].startswith("llmops-platform-")]
    data: dict[str, str] = config["data"]
    return data


def setting_names() -> set[str]:
    """Every setting of every service, as docs/settings.md (generated from the settings classes) lists it."""
    return set(re.findall(r"^\| `(LLMOPS_[A-Z0-9_]+)`", (REPO_ROOT / "docs" / "settings.md").read_text(), re.M))


def keda_round_trip(document: Document) -> Document:
    dumped: Document = (
        KEDA_MODELS[document["kind"]].model_validate(document).model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    return dumped


def test_every_kind_passes_its_schema(documents: list[Document]) -> None:
    for document in documents:
        if document["kind"] in KEDA_MODELS:
            # The models drop what KEDA does not know, so a misspelled field would not come back.
            assert keda_round_trip(document) == document
        else:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_keda_check_refuses_a_misspelled_field(renders: dict[str, list[Document]]) -> None:
    scaled = copy.deepcopy(one(renders["base"], "ScaledObject", "trainer"))
    scaled["spec"]["maxReplicas"] = scaled["spec"].pop("maxReplicaCount")
    assert keda_round_trip(scaled) != scaled


def test_every_service_runs_behind_a_service_on_its_port(documents: list[Document]) -> None:
    assert {d["metadata"]["name"] for d in of_kind(documents, "Deployment")} == {k8s_name(s) for s in SERVICE_NAMES}
    defaults = PlatformSettings.model_construct()
    for service in SERVICE_NAMES:
        deployment, container = one(documents, "Deployment", k8s_name(service)), container_of(documents, service)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert container["ports"] == [{"name": "http", "containerPort": defaults.port_of(service)}]

        front = one(documents, "Service", k8s_name(service))["spec"]
        assert front["selector"].items() <= pod_labels.items()
        assert front["ports"] == [{"name": "http", "port": defaults.port_of(service), "targetPort": "http"}]


def test_every_container_probes_its_health_and_has_resources(documents: list[Document]) -> None:
    for service in SERVICE_NAMES:
        container = container_of(documents, service)
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), service
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), service


def test_images_are_the_services_own_and_pinned(documents: list[Document]) -> None:
    for service in SERVICE_NAMES:
        name, _, tag = container_of(documents, service)["image"].rpartition(":")
        assert re.search(rf"(^|/)(llmops-)?{k8s_name(service)}(-cuda)?$", name), name
        assert tag not in ("", "latest"), service


def test_settings_are_real_and_secrets_come_from_secret_refs(documents: list[Document]) -> None:
    config = platform_config(documents)
    known = setting_names() | CLIENT_VARIABLES
    assert set(config) <= known
    PlatformSettings.model_validate({k.removeprefix("LLMOPS_").lower(): v for k, v in config.items()})
    assert not of_kind(documents, "Secret"), "Secrets are made apart, never rendered"
    operations = (REPO_ROOT / "docs" / "operations.md").read_text()
    for service in SERVICE_NAMES:
        container = container_of(documents, service)
        [source] = container["envFrom"]
        assert source["configMapRef"]["name"].startswith("llmops-platform-")
        for env in container["env"]:
            assert env["name"] in known, env["name"]
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            assert ref or not SECRET_NAME.search(env["name"]), f"{env['name']} is not read from a Secret"
            if ref:
                # docs/operations.md says which Secrets to make, with which keys.
                assert f"`{ref['name']}`" in operations, ref
                assert f"`{ref['key']}`" in operations, ref
    assert not {name for name in config if SECRET_NAME.search(name)}


def test_kafka_is_reached_over_sasl_and_tls(documents: list[Document]) -> None:
    config = platform_config(documents)
    assert config["LLMOPS_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    cafile = config["LLMOPS_KAFKA_SSL_CAFILE"]
    for service in SERVICE_NAMES:
        container, pod = container_of(documents, service), pod_of(documents, service)
        refs = {env["name"]: env["valueFrom"]["secretKeyRef"] for env in container["env"] if "valueFrom" in env}
        assert refs["LLMOPS_KAFKA_SASL_USERNAME"] == {"name": "llmops-kafka", "key": "username"}
        assert refs["LLMOPS_KAFKA_SASL_PASSWORD"] == {"name": "llmops-kafka", "key": "password"}
        [mount] = [m for m in container["volumeMounts"] if cafile.startswith(m["mountPath"] + "/")]
        [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == "llmops-kafka"
        assert volume["secret"]["items"] == [{"key": "ca.crt", "path": cafile.removeprefix(mount["mountPath"] + "/")}]

    # KEDA's scaler uses the same user and CA, and the same mechanism in its own words.
    auth = one(documents, "TriggerAuthentication", "llmops-kafka")["spec"]
    from_secret = {ref["parameter"]: (ref["name"], ref["key"]) for ref in auth["secretTargetRef"]}
    assert from_secret == {
        "username": ("llmops-kafka", "username"),
        "password": ("llmops-kafka", "password"),
        "ca": ("llmops-kafka", "ca.crt"),
    }
    scaler = {
        ref["parameter"]: one(documents, "ConfigMap", ref["name"])["data"][ref["key"]]
        for ref in auth["configMapTargetRef"]
    }
    assert scaler == {"sasl": KEDA_SASL[config["LLMOPS_KAFKA_SASL_MECHANISM"]], "tls": "enable"}


def test_scaled_objects_follow_the_consumer_groups_in_the_code(
    documents: list[Document], subscriptions: dict[str, set[Subscription]]
) -> None:
    catalog = {spec.name: spec for spec in CATALOG}
    partitions = int(platform_config(documents)["LLMOPS_KAFKA_TOPIC_PARTITIONS"])
    services = {k8s_name(service): service for service in SERVICE_NAMES}
    authentications = {d["metadata"]["name"] for d in of_kind(documents, "TriggerAuthentication")}
    scaled = {services[d["spec"]["scaleTargetRef"]["name"]]: d["spec"] for d in of_kind(documents, "ScaledObject")}
    assert set(scaled) == SCALED_BY_LAG
    for service, spec in scaled.items():
        env = set(platform_config(documents)) | {e["name"] for e in container_of(documents, service)["env"]}
        triggers = set()
        for trigger in spec["triggers"]:
            assert trigger["type"] == "kafka"
            assert trigger["authenticationRef"]["name"] in authentications
            meta = trigger["metadata"]
            assert meta["bootstrapServersFromEnv"] in env
            assert meta["topic"] in catalog, meta["topic"]
            assert meta["offsetResetPolicy"] in ("earliest", "latest")
            triggers.add(Subscription(meta["consumerGroup"], meta["topic"], meta["offsetResetPolicy"] == "earliest"))
        assert triggers == subscriptions[service], service
        # More members than a topic has partitions would sit idle.
        most = min(catalog[t.topic].partitions or partitions for t in triggers)
        assert spec["minReplicaCount"] <= spec["maxReplicaCount"] <= most, service


def test_one_instance_services_keep_their_state_on_a_volume(
    documents: list[Document], subscriptions: dict[str, set[Subscription]]
) -> None:
    scaled = {d["spec"]["scaleTargetRef"]["name"]: d["spec"] for d in of_kind(documents, "ScaledObject")}
    autoscaled = {d["spec"]["scaleTargetRef"]["name"] for d in of_kind(documents, "HorizontalPodAutoscaler")}
    claims = {d["metadata"]["name"] for d in of_kind(documents, "PersistentVolumeClaim")}
    budgets = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: d["spec"]
        for d in of_kind(documents, "PodDisruptionBudget")
    }
    for service in SERVICE_NAMES:
        name = k8s_name(service)
        deployment = one(documents, "Deployment", name)["spec"]
        [data] = [v for v in pod_of(documents, service)["volumes"] if v["name"] == "data"]
        if service in SCALED_OUT:
            assert "emptyDir" in data, service
            assert budgets[name] == {"maxUnavailable": 1, "selector": deployment["selector"]}
            most = scaled[name]["maxReplicaCount"] if name in scaled else deployment.get("replicas", 1)
            assert most >= 2 or name in autoscaled, service
        else:
            assert data["persistentVolumeClaim"]["claimName"] in claims, service
            assert deployment["strategy"] == {"type": "Recreate"}, service
            assert deployment.get("replicas", 1) <= 1, service
            assert name not in autoscaled, service
            assert name not in budgets, service
            assert scaled.get(name, {"maxReplicaCount": 1})["maxReplicaCount"] == 1, service


def test_the_model_server_scales_on_an_hpa(documents: list[Document]) -> None:
    [hpa] = of_kind(documents, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "model-server"}
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert "replicas" not in one(documents, "Deployment", "model-server")["spec"]


def test_network_policies_deny_all_but_what_the_platform_needs(documents: list[Document]) -> None:
    policies = {d["metadata"]["name"]: d["spec"] for d in of_kind(documents, "NetworkPolicy")}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for service in SERVICE_NAMES:
        labels = one(documents, "Deployment", k8s_name(service))["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "llmops"
    egress_ports = {
        port["port"] for spec in policies.values() for rule in spec.get("egress", []) for port in rule["ports"]
    }
    config = platform_config(documents)
    servers = [*config["LLMOPS_KAFKA_BOOTSTRAP"].split(","), urlsplit(config["LLMOPS_QDRANT_URL"]).netloc]
    assert {53, 443, 8123} | {int(server.rsplit(":", 1)[1]) for server in servers} <= egress_ports
    # Prometheus reaches every pod's HTTP port.
    metrics = policies["allow-metrics-from-monitoring"]
    assert metrics["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "llmops"}}
    assert metrics["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "http"}]


def test_production_runs_in_a_restricted_namespace(renders: dict[str, list[Document]]) -> None:
    for overlay in ("production", "gpu"):
        documents = renders[overlay]
        [namespace] = of_kind(documents, "Namespace")
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        for document in documents:
            if document["kind"] != "Namespace":
                assert document["metadata"]["namespace"] == namespace["metadata"]["name"]


def test_the_gpu_overlay_puts_only_the_model_server_on_gpus_with_vllm(renders: dict[str, list[Document]]) -> None:
    documents = renders["gpu"]
    pod, container = pod_of(documents, "model_server"), container_of(documents, "model_server")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    engine = {e["name"]: e.get("value") for e in container["env"]}["LLMOPS_ENGINE"]
    assert engine == "vllm"
    assert engine in get_args(EngineKind)
    assert container["image"].rpartition(":")[0].endswith("-cuda")
    for service in set(SERVICE_NAMES) - {"model_server"}:
        assert "nvidia.com/gpu" not in container_of(documents, service)["resources"]["limits"]
        assert container_of(documents, service) == container_of(renders["production"], service)

    # The HPA scales on a gauge the model server really exports.
    from prometheus_client import CollectorRegistry

    from services.model_server.metrics import ServerMetrics

    registry = CollectorRegistry()
    ServerMetrics(registry)
    [hpa] = of_kind(documents, "HorizontalPodAutoscaler")
    [metric] = hpa["spec"]["metrics"]
    assert registry.get_sample_value(metric["pods"]["metric"]["name"]) is not None
