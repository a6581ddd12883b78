"""The API keys a service accepts, built from `llmops.auth.keys`, and who a request's key belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ForbiddenError, UnauthorizedError
from ..events import ApiKeyIssuedV1, ApiKeyRevokedV1
from .api_keys import parse_token, secret_matches
from .scopes import ADMIN, OPERATOR, scopes_of

UNKNOWN_OR_REVOKED = "unknown or revoked API key"
# Hashed against when a key id is unknown, so that a miss costs what a wrong secret costs.
_NO_KEY_SALT, _NO_KEY_HASH = "00" * 16, "00" * 32


@dataclass(frozen=True)
class Principal:
    """The holder of a valid key: its tenant, roles, models and limits."""

    key_id: str
    tenant: str
    roles: frozenset[str]
    models: frozenset[str]
    rpm: int | None = None
    tpm: int | None = None
    max_input_tokens: int | None = None

    @property
    def scopes(self) -> frozenset[str]:
        """What the key may do, from its roles (`llmops_common.auth.scopes`)."""
        return scopes_of(self.roles)

    @property
    def is_admin(self) -> bool:
        """Whether the key administers its tenant (an operator administers every tenant)."""
        return ADMIN in self.scopes

    @property
    def is_operator(self) -> bool:
        """Whether the key is the platform operator's, the only kind that sees every tenant."""
        return OPERATOR in self.scopes

    def sees_tenant(self, tenant: str) -> bool:
        """Whether the key may read `tenant`'s data: its own tenant, or any for an operator."""
        return self.is_operator or tenant == self.tenant

    def require(self, scope: str) -> None:
        """Raises `ForbiddenError` (403) unless the key holds `scope`."""
        if scope not in self.scopes:
            raise ForbiddenError(
                f"this API key lacks the '{scope}' scope",
                detail={"required_scope": scope, "key_scopes": sorted(self.scopes)},
            )

    def may_call(self, model: str) -> bool:
        """Whether the key may call `model`; a key that lists no models may call every one."""
        return not self.models or model in self.models


class KeyRing:
    """Issued keys by id; a revoked key stays refused, even if an issue of the same id comes later."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKeyIssuedV1] = {}
        self._revoked: set[str] = set()

    def apply(self, event: ApiKeyIssuedV1 | ApiKeyRevokedV1) -> None:
        """Takes in one event of `llmops.auth.keys`, in log order."""
        if isinstance(event, ApiKeyRevokedV1):
            self._revoked.add(event.key_id)
            self._keys.pop(event.key_id, None)
        elif event.key_id not in self._revoked:
            self._keys[event.key_id] = event

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an `Authorization: Bearer <token>` header, or `UnauthorizedError`."""
        if not authorization:
            raise UnauthorizedError("missing API key: send Authorization: Bearer <key>")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedError("the Authorization header must be: Bearer <key>")
        key_id, secret = parse_token(token.strip())
        key = self._keys.get(key_id)
        # One message and the same hashing work for unknown, revoked and wrong: neither the answer nor
        # its timing tells a caller which key ids exist.
        salt, key_hash = (key.salt, key.key_hash) if key else (_NO_KEY_SALT, _NO_KEY_HASH)
        if not secret_matches(salt, secret, key_hash) or key is None:
            raise UnauthorizedError(UNKNOWN_OR_REVOKED)
        return Principal(
            key_id=key.key_id,
            tenant=key.tenant,
            roles=frozenset(key.roles),
            models=frozenset(key.models),
            rpm=key.rpm,
            tpm=key.tpm,
            max_input_tokens=key.max_input_tokens,
        )
