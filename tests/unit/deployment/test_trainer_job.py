"""The trainer's distributed job on Kubernetes (`infra/k8s/trainer-job`) cannot run here (no cluster), so
both kustomizations are rendered with `kubectl kustomize` and checked offline: the core kinds against
Kubernetes' strict schemas, the TrainJob against Kubeflow Trainer's API models, and each node's pod for
what makes it the platform's job: the trainer's entry point under torchrun, the platform's image, the spec
it ships, a volume for the results, resources, and as many torchrun nodes as pods."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

import kubernetes_validate
import pytest
from kubeflow_trainer_api.models import TrainerV1alpha1TrainJob

from llmops_common.settings import REPO_ROOT, PlatformSettings
from services.trainer.run_files import RunSpecDocument
from tests.unit.deployment.rendering import KUBECTL, NO_KUBECTL, Document, of_kind, render

JOB_FOLDER = REPO_ROOT / "infra" / "k8s" / "trainer-job"
VARIANTS = {"trainjob": JOB_FOLDER, "indexed": JOB_FOLDER / "indexed"}
# The oldest Kubernetes that Kubeflow Trainer v2 supports; the indexed Job needs nothing newer.
KUBERNETES_VERSION = "1.31"
IMAGE = "llmops-trainer"
ENTRY_POINT = ["--module", "services.trainer.distributed"]
# Kubeflow's Torch plugin sets these on every node and refuses a TrainJob that sets them itself.
TORCHRUN_RESERVED_ENV = {"PET_NNODES", "PET_NPROC_PER_NODE", "PET_NODE_RANK", "PET_MASTER_ADDR", "PET_MASTER_PORT"}
# Variables that third-party clients read (boto3 for S3), not platform settings.
CLIENT_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


pytestmark = pytest.mark.skipif(KUBECTL is None, reason=NO_KUBECTL)


def only(documents: list[Document], kind: str) -> Document:
    [document] = of_kind(documents, kind)
    return document


def named(items: list[Document], name: str) -> Document:
    [item] = [item for item in items if item["name"] == name]
    return item


@dataclass(frozen=True)
class NodePod:
    """What each node's pod runs, gathered from wherever the manifest puts it."""

    command: list[str]
    image: str
    resources: Document
    env: list[Document]
    env_from: list[Document]
    mounts: list[Document]
    volumes: list[Document]

    def module_args(self) -> dict[str, str]:
        """The entry point's `--flag value` pairs, after `--module services.trainer.distributed`."""
        at = self.command.index(ENTRY_POINT[0])
        args = self.command[at + len(ENTRY_POINT) :]
        assert len(args) % 2 == 0, args
        return dict(zip(args[::2], args[1::2], strict=True))

    def torchrun_flags(self) -> dict[str, str]:
        """torchrun's `--flag=value` options, before the module."""
        flags = self.command[1 : self.command.index(ENTRY_POINT[0])]
        return dict(flag.split("=", 1) for flag in flags)

    def mount_of(self, path: PurePosixPath) -> tuple[Document, Document]:
        """The mount that holds `path`, and its volume."""
        holders = [mount for mount in self.mounts if path.is_relative_to(mount["mountPath"])]
        assert len(holders) == 1, f"{path} lies on {len(holders)} mounts, not one"
        return holders[0], named(self.volumes, holders[0]["name"])


def node_pod(documents: list[Document]) -> NodePod:
    trainjobs = of_kind(documents, "TrainJob")
    if not trainjobs:
        pod = only(documents, "Job")["spec"]["template"]["spec"]
        [container] = pod["containers"]
        return NodePod(
            command=container["command"] + container.get("args", []),
            image=container["image"],
            resources=container["resources"],
            env=container.get("env", []),
            env_from=container.get("envFrom", []),
            mounts=container["volumeMounts"],
            volumes=pod["volumes"],
        )
    spec = trainjobs[0]["spec"]
    trainer = spec["trainer"]
    # The trainer section has no volumes: they reach the runtime's `node` pods through a runtime patch.
    [patch] = spec["runtimePatches"]
    node_job = named(patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"], "node")
    pod = node_job["template"]["spec"]["template"]["spec"]
    return NodePod(
        command=trainer["command"] + trainer.get("args", []),
        image=trainer["image"],
        resources=trainer["resourcesPerNode"],
        env=trainer.get("env", []),
        env_from=[],
        mounts=named(pod["containers"], "node")["volumeMounts"],
        volumes=pod["volumes"],
    )


@pytest.fixture(scope="module")
def renders() -> dict[str, list[Document]]:
    return {variant: render(folder) for variant, folder in VARIANTS.items()}


@pytest.fixture(params=sorted(VARIANTS))
def documents(request: pytest.FixtureRequest, renders: dict[str, list[Document]]) -> list[Document]:
    variant: str = request.param
    return renders[variant]


@pytest.mark.parametrize(
    ("variant", "kinds"),
    [
        ("trainjob", ["ConfigMap", "ConfigMap", "PersistentVolumeClaim", "TrainJob"]),
        ("indexed", ["ConfigMap", "ConfigMap", "Job", "PersistentVolumeClaim", "Service"]),
    ],
)
def test_core_kinds_pass_the_strict_kubernetes_schemas(
    renders: dict[str, list[Document]], variant: str, kinds: list[str]
) -> None:
    assert sorted(document["kind"] for document in renders[variant]) == kinds
    for document in renders[variant]:
        if document["kind"] != "TrainJob":
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_strict_schemas_refuse_a_misspelled_field(renders: dict[str, list[Document]]) -> None:
    job = copy.deepcopy(only(renders["indexed"], "Job"))
    job["spec"]["completion"] = job["spec"].pop("completions")
    with pytest.raises(kubernetes_validate.ValidationError, match="completion"):
        kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)


def test_the_trainjob_is_one_that_kubeflow_trainer_accepts(renders: dict[str, list[Document]]) -> None:
    document = only(renders["trainjob"], "TrainJob")
    trainjob = TrainerV1alpha1TrainJob.from_dict(document)
    assert trainjob is not None
    # The models drop what the API does not know, so a misspelled field would not come back.
    assert trainjob.to_dict() == document
    assert trainjob.api_version == "trainer.kubeflow.org/v1alpha1"
    assert trainjob.spec is not None
    assert trainjob.spec.runtime_ref.name == "torch-distributed"
    assert trainjob.spec.trainer is not None
    assert trainjob.spec.trainer.num_nodes is not None
    assert trainjob.spec.trainer.num_nodes >= 2
    assert not {env.name for env in trainjob.spec.trainer.env or []} & TORCHRUN_RESERVED_ENV
    # The CRD's own rules on the name: an RFC 1035 label of at most 63 characters.
    assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", document["metadata"]["name"])
    assert len(document["metadata"]["name"]) <= 63


def test_each_node_runs_the_trainer_entry_point_under_torchrun(documents: list[Document]) -> None:
    pod = node_pod(documents)
    assert pod.command[0] == "torchrun"
    assert pod.command[pod.command.index(ENTRY_POINT[0]) :][:2] == ENTRY_POINT
    assert set(pod.module_args()) == {"--spec", "--result"}


def test_the_spec_is_the_shipped_one_and_results_go_to_the_claim(documents: list[Document]) -> None:
    pod = node_pod(documents)
    spec_path = PurePosixPath(pod.module_args()["--spec"])
    spec_mount, spec_volume = pod.mount_of(spec_path)
    assert spec_mount["readOnly"] is True
    config_maps = {c["metadata"]["name"]: c["data"] for c in of_kind(documents, "ConfigMap")}
    shipped = config_maps[spec_volume["configMap"]["name"]]
    spec = RunSpecDocument.model_validate_json(shipped[str(spec_path.relative_to(spec_mount["mountPath"]))])
    spec.spec()  # its hyperparameters parse

    claims = {claim["metadata"]["name"] for claim in of_kind(documents, "PersistentVolumeClaim")}
    for written in (PurePosixPath(pod.module_args()["--result"]), PurePosixPath(spec.work_dir)):
        mount, volume = pod.mount_of(written)
        assert not mount.get("readOnly", False), written
        assert volume["persistentVolumeClaim"]["claimName"] in claims, written


def test_both_run_the_platforms_trainer_image(renders: dict[str, list[Document]]) -> None:
    images = {node_pod(documents).image for documents in renders.values()}
    [image] = images
    name, tag = image.rsplit(":", 1)
    assert name == IMAGE
    assert tag not in ("", "latest")


def test_every_node_has_cpu_and_memory_requests_and_limits(documents: list[Document]) -> None:
    resources = node_pod(documents).resources
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert {"cpu", "memory"} <= set(resources["limits"])


def test_settings_come_from_the_shipped_configmap_and_an_optional_secret(documents: list[Document]) -> None:
    pod = node_pod(documents)
    config_maps = {c["metadata"]["name"]: c["data"] for c in of_kind(documents, "ConfigMap")}
    from_config_maps: set[str] = set()
    from_secrets: set[str] = set()
    for env in pod.env:
        source = env["valueFrom"]
        if "configMapKeyRef" in source:
            assert source["configMapKeyRef"]["key"] in config_maps[source["configMapKeyRef"]["name"]]
            from_config_maps.add(env["name"])
        elif "secretKeyRef" in source:
            assert source["secretKeyRef"]["optional"] is True  # made apart, and not every cluster needs it
            from_secrets.add(env["name"])
        else:
            assert env["name"] == "OMP_NUM_THREADS"
            assert source["resourceFieldRef"]["resource"] == "limits.cpu"
    for env_from in pod.env_from:
        if "configMapRef" in env_from:
            from_config_maps |= set(config_maps[env_from["configMapRef"]["name"]])
        else:
            assert env_from["secretRef"]["optional"] is True
            from_secrets |= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}  # the keys the README's Secret has

    assert {"LLMOPS_ARTIFACT_URL", "LLMOPS_S3_ENDPOINT_URL"} <= from_config_maps
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= from_secrets
    settings = {f"LLMOPS_{name.upper()}" for name in PlatformSettings.model_fields}
    assert from_config_maps | from_secrets <= settings | CLIENT_VARIABLES


def test_the_indexed_job_runs_one_torchrun_node_per_pod(renders: dict[str, list[Document]]) -> None:
    documents = renders["indexed"]
    job, service = only(documents, "Job"), only(documents, "Service")
    flags = node_pod(documents).torchrun_flags()
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == int(flags["--nnodes"])
    assert flags["--node-rank"] == "$(JOB_COMPLETION_INDEX)"

    # Node 0 is reachable by name through the headless Service, whose name is the pods' subdomain.
    job_name, service_name = job["metadata"]["name"], service["metadata"]["name"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"] == {"batch.kubernetes.io/job-name": job_name}
    assert job["spec"]["template"]["spec"]["subdomain"] == service_name
    assert flags["--master-addr"] == f"{job_name}-0.{service_name}"
    assert int(flags["--master-port"]) in {port["port"] for port in service["spec"]["ports"]}
