"""The production path cannot run here (no Docker), so its files are checked for what can be checked:
the compose file parses, names real services, sets only real settings, and has health checks; no password
has a default, every variable it reads is in the env example, and the servers publish no port beyond
127.0.0.1."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops_common.settings import REPO_ROOT, SERVICE_NAMES, PlatformSettings

INFRASTRUCTURE = {"kafka", "kafka-topics", "clickhouse", "qdrant", "minio", "minio-buckets"}
ONE_SHOT_JOBS = {"kafka-topics", "minio-buckets"}
SERVERS = {"kafka", "clickhouse", "qdrant", "minio"}
ENV_EXAMPLE = REPO_ROOT / "infra" / "compose" / "env.example"
# Compose's interpolation: `${NAME}`, `${NAME:-default}`, `${NAME:?error}`; `$$` is a literal `$`.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?:(:[-?])([^}]*))?\}")
SECRET_VARIABLE = re.compile(r"PASSWORD|SECRET|API_KEY|ACCESS_KEY")
# Variables that third-party clients read (boto3 for S3), not platform settings.
CLIENT_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return document


def platform_services(compose: dict[str, Any]) -> dict[str, Any]:
    return {name: spec for name, spec in compose["services"].items() if name not in INFRASTRUCTURE}


def test_compose_runs_every_service_and_the_servers(compose: dict[str, Any]) -> None:
    assert set(platform_services(compose)) == set(SERVICE_NAMES)
    assert set(compose["services"]) >= INFRASTRUCTURE


def test_each_service_is_built_from_the_one_dockerfile_as_itself(compose: dict[str, Any]) -> None:
    for name, spec in platform_services(compose).items():
        assert spec["build"]["context"] == "."
        assert spec["build"]["args"]["SERVICE"] == name
        assert (REPO_ROOT / "services" / name / "__main__.py").is_file()


def test_build_extras_are_real_optional_dependency_groups(compose: dict[str, Any]) -> None:
    groups = set(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    for spec in compose["services"].values():
        extras = spec.get("build", {}).get("args", {}).get("EXTRAS")
        if extras:
            assert set(extras.split(",")) <= groups, extras


def test_every_llmops_variable_is_a_real_setting(compose: dict[str, Any]) -> None:
    fields = {f"LLMOPS_{name.upper()}" for name in PlatformSettings.model_fields}
    dockerfile_vars = set(re.findall(r"\b(LLMOPS_[A-Z_]+)=", (REPO_ROOT / "Dockerfile").read_text()))
    compose_vars = {var for name in SERVICE_NAMES for var in compose["services"][name]["environment"]}
    assert dockerfile_vars | {v for v in compose_vars if v.startswith("LLMOPS_")} <= fields
    assert {v for v in compose_vars if not v.startswith("LLMOPS_")} <= CLIENT_VARIABLES


def test_every_setting_value_in_compose_parses(compose: dict[str, Any]) -> None:
    environment = compose["services"]["monitor"]["environment"]
    settings = PlatformSettings.model_validate(
        {key.removeprefix("LLMOPS_").lower(): value for key, value in environment.items() if key.startswith("LLMOPS_")}
    )
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.clickhouse_url is not None


def test_long_running_containers_have_health_checks_and_named_volumes(compose: dict[str, Any]) -> None:
    declared_volumes = set(compose["volumes"])
    for name, spec in compose["services"].items():
        if name in ONE_SHOT_JOBS:
            continue
        assert "healthcheck" in spec, name
        for volume in spec.get("volumes", []):
            assert volume.split(":")[0] in declared_volumes, f"{name} uses an undeclared volume {volume}"


def test_dependencies_name_existing_containers(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        assert set(spec.get("depends_on", {})) <= set(compose["services"]), name


def test_service_ports_are_the_documented_defaults(compose: dict[str, Any]) -> None:
    defaults = PlatformSettings.model_construct()
    for name, spec in platform_services(compose).items():
        port = defaults.port_of(name)
        assert spec["ports"] == [f"${{PUBLISH_ADDRESS:-127.0.0.1}}:{port}:{port}"]


def test_servers_publish_no_port_beyond_this_machine(compose: dict[str, Any]) -> None:
    for name in SERVERS:
        for port in compose["services"][name].get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port}"


def interpolations() -> list[tuple[str, str, str]]:
    """Each `${...}` in the compose file: the variable, its operator (`:-`, `:?` or none) and the rest."""
    return INTERPOLATION.findall((REPO_ROOT / "docker-compose.yml").read_text())


def test_no_secret_has_a_default(compose: dict[str, Any]) -> None:
    for variable, operator, _ in interpolations():
        if variable != "PUBLISH_ADDRESS":
            assert operator == ":?", f"${{{variable}}} must be required, with no default"
    for name, spec in compose["services"].items():
        for key, value in spec.get("environment", {}).items():
            if SECRET_VARIABLE.search(key):
                assert INTERPOLATION.fullmatch(str(value)), f"{name} sets {key} to a literal"
    platform = compose["services"]["monitor"]["environment"]
    assert "${CLICKHOUSE_PASSWORD:?" in platform["LLMOPS_CLICKHOUSE_URL"]
    # The services get their own S3 user, never MinIO's root user.
    assert not any("MINIO_ROOT" in str(value) for value in platform.values())


def test_the_env_example_names_every_variable_and_holds_no_secret() -> None:
    example = dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")
    )
    assert set(example) == {variable for variable, _, _ in interpolations()}
    assert all(value == "" for name, value in example.items() if SECRET_VARIABLE.search(name))


def test_the_image_runs_the_service_named_at_build_time() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "ARG SERVICE" in dockerfile
    assert "exec python -m services.${SERVICE}" in dockerfile
    assert Path(REPO_ROOT / "infra" / "clickhouse").is_dir()
