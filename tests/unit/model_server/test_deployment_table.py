"""The deployment table routes by model, splits a canary by a sticky hash, and shows a tenant's model to
that tenant alone."""

from __future__ import annotations

from pathlib import Path

from llmops_common.auth.keyring import Principal
from llmops_common.engines.base import AdapterSpec
from services.model_server.deployments import BASE, Deployment, DeploymentTable, ServedVersion, canary_bucket

STABLE = ServedVersion("v1", AdapterSpec("v1@aaa", Path("/a")))
CANDIDATE = ServedVersion("v2", AdapterSpec("v2@bbb", Path("/b")))


def test_the_base_model_and_deployed_models_route_and_others_do_not() -> None:
    table = DeploymentTable("tiny").with_deployment(Deployment("support", STABLE))
    assert table.route("tiny", "u") is not None
    assert table.route("tiny", "u").served == BASE  # type: ignore[union-attr]
    assert table.route("support", "u").served == STABLE  # type: ignore[union-attr]
    assert table.route("nope", "u") is None
    assert table.names() == ["tiny", "support"]
    assert table.without("support").route("support", "u") is None


def test_canary_split_is_sticky_and_near_its_percent() -> None:
    table = DeploymentTable("tiny").with_deployment(Deployment("m", STABLE, CANDIDATE, 10.0))
    arms = [table.route("m", f"user-{i}").arm for i in range(5000)]  # type: ignore[union-attr]
    share = arms.count("candidate") / len(arms)
    assert 0.08 <= share <= 0.12
    assert [table.route("m", f"user-{i}").arm for i in range(100)] == arms[:100]  # type: ignore[union-attr]
    assert table.adapters_in_use() == {"v1@aaa", "v2@bbb"}


def test_buckets_differ_between_models() -> None:
    assert 0 <= canary_bucket("a", "user") < 100
    assert [canary_bucket("a", f"u{i}") for i in range(20)] != [canary_bucket("b", f"u{i}") for i in range(20)]


def key(tenant: str, *roles: str, models: tuple[str, ...] = ()) -> Principal:
    return Principal("k", tenant, frozenset(roles), frozenset(models))


def test_an_owned_model_exists_only_for_its_tenant_unless_shared() -> None:
    table = (
        DeploymentTable("tiny")
        .with_deployment(Deployment("public", STABLE))
        .with_deployment(Deployment("acme-bot", STABLE, owner_tenant="acme"))
        .with_deployment(Deployment("acme-faq", STABLE, owner_tenant="acme", shared=True))
    )
    assert table.names_for(key("acme")) == ["tiny", "acme-bot", "acme-faq", "public"]
    assert table.names_for(key("globex")) == ["tiny", "acme-faq", "public"]
    assert table.names_for(key("ops", "operator")) == table.names()
    assert not table.serves("acme-bot", key("globex", "admin"))  # a tenant's admin is not every tenant's
    assert table.names_for(key("acme", models=("acme-bot", "nope"))) == ["acme-bot"]
