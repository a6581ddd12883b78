"""Issues API keys and reads the tokens clients send: `llmops_<key id>_<secret>`."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from ..errors import UnauthorizedError
from ..events import ApiKeyIssuedV1
from .scopes import ROLES, unknown_roles

TOKEN_PREFIX = "llmops"  # noqa: S105 - the public prefix of every token, not a secret
_KEY_ID = re.compile(r"[0-9a-f]{12}")


def issue_key(
    tenant: str,
    *,
    roles: Sequence[str] = (),
    models: Sequence[str] = (),
    rpm: int | None = None,
    tpm: int | None = None,
    max_input_tokens: int | None = None,
    issued_by: str,
    description: str = "",
) -> tuple[str, ApiKeyIssuedV1]:
    """A new key: the token to hand out once, and the event that publishes only its salted hash.

    No role means an app's key (`inference` only); an unknown role is a `ValueError`.
    """
    if unknown := unknown_roles(roles):
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; the roles are {', '.join(ROLES)}")
    key_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_hex(16)
    event = ApiKeyIssuedV1(
        key_id=key_id,
        tenant=tenant,
        roles=sorted(set(roles)),
        models=sorted(set(models)),
        rpm=rpm,
        tpm=tpm,
        max_input_tokens=max_input_tokens,
        salt=salt,
        key_hash=secret_hash(salt, secret),
        issued_by=issued_by,
        issued_at=datetime.now(UTC),
        description=description,
    )
    return f"{TOKEN_PREFIX}_{key_id}_{secret}", event


def parse_token(token: str) -> tuple[str, str]:
    """The key id and the secret of a token; `UnauthorizedError` when it is not one of ours."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not _KEY_ID.fullmatch(key_id) or not secret:
        raise UnauthorizedError("malformed API key: expected llmops_<key id>_<secret>")
    return key_id, secret


def secret_hash(salt: str, secret: str) -> str:
    """The salted hash stored for a secret.

    A fast HMAC is enough: the secret is 256 random bits, so no dictionary or brute force can reach
    it, and a slow key-derivation function would cost milliseconds on every request.
    """
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(salt: str, secret: str, key_hash: str) -> bool:
    """Whether `secret` is the one `key_hash` was made from, compared in constant time."""
    return hmac.compare_digest(secret_hash(salt, secret), key_hash)
