"""The deployment table: which adapter version each deployed model serves, and the canary split.

The table is immutable: a lifecycle change builds a new one and swaps it in whole, so a request that
already picked its route keeps it, and none ever sees half a change.

A deployment whose adapter was trained on a tenant's data is that tenant's (`owner_tenant`): to every
other tenant it does not exist, unless it is `shared`. One with no owner (a base model an operator
deployed) serves every tenant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from llmops_common.auth.keyring import Principal
from llmops_common.engines.base import AdapterSpec

CanaryArm = Literal["stable", "candidate"]
_BUCKETS = 10_000


@dataclass(frozen=True)
class ServedVersion:
    """An adapter version as loaded in the engine (`adapter` None: the bare base model)."""

    version: str | None
    adapter: AdapterSpec | None


BASE = ServedVersion(None, None)


@dataclass(frozen=True)
class Deployment:
    """A deployed model: its stable version, a candidate taking `candidate_percent` of the traffic, and
    the tenant it belongs to (None, or `shared`: every tenant's)."""

    name: str
    stable: ServedVersion
    candidate: ServedVersion | None = None
    candidate_percent: float = 0.0
    owner_tenant: str | None = None
    shared: bool = False

    def visible_to(self, principal: Principal) -> bool:
        """Whether the key's tenant may see and call this model (an operator's key sees every tenant's)."""
        return self.owner_tenant is None or self.shared or principal.sees_tenant(self.owner_tenant)

    def adapters(self) -> set[str]:
        """The engine adapters this deployment needs loaded."""
        return {v.adapter.name for v in (self.stable, self.candidate) if v is not None and v.adapter is not None}


@dataclass(frozen=True)
class Route:
    """Where one request goes."""

    model: str
    served: ServedVersion
    arm: CanaryArm | None


def canary_bucket(model: str, sticky_key: str) -> float:
    """A stable number in [0, 100) for a user (or session, or request) of a model."""
    digest = hashlib.sha256(f"{model}\x00{sticky_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS * 100 / _BUCKETS


@dataclass(frozen=True)
class DeploymentTable:
    """Every deployed model by name; the base model is served by its own name too."""

    base_model: str
    deployments: Mapping[str, Deployment] = field(default_factory=lambda: MappingProxyType({}))

    def with_deployment(self, deployment: Deployment) -> DeploymentTable:
        """A new table where `deployment` replaces the model of its name."""
        return DeploymentTable(self.base_model, MappingProxyType({**self.deployments, deployment.name: deployment}))

    def without(self, name: str) -> DeploymentTable:
        """A new table without the model `name`."""
        return DeploymentTable(
            self.base_model, MappingProxyType({k: v for k, v in self.deployments.items() if k != name})
        )

    def names(self) -> list[str]:
        """The base model, then the deployed models by name."""
        return [self.base_model, *sorted(self.deployments)]

    def names_for(self, principal: Principal) -> list[str]:
        """The models the key may see and call, in the order of `names`."""
        return [name for name in self.names() if self.serves(name, principal)]

    def serves(self, model: str, principal: Principal) -> bool:
        """Whether `model` exists for the key: deployed or the base model, visible to its tenant, and
        among the models it may call."""
        deployment = self.deployments.get(model)
        if deployment is None:
            return model == self.base_model and principal.may_call(model)
        return deployment.visible_to(principal) and principal.may_call(model)

    def adapters_in_use(self) -> set[str]:
        """Every adapter some deployment serves."""
        return {name for deployment in self.deployments.values() for name in deployment.adapters()}

    def route(self, model: str, sticky_key: str) -> Route | None:
        """The version that serves `model` for `sticky_key`; None for an unknown model."""
        deployment = self.deployments.get(model)
        if deployment is None:
            return Route(model, BASE, None) if model == self.base_model else None
        if deployment.candidate is None:
            return Route(model, deployment.stable, None)
        if canary_bucket(model, sticky_key) < deployment.candidate_percent:
            return Route(model, deployment.candidate, "candidate")
        return Route(model, deployment.stable, "stable")
