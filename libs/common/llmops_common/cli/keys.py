"""`llmops keys create|revoke`: API keys, published on `llmops.auth.keys` for every service to pick up."""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from ..auth.api_keys import issue_key
from ..auth.scopes import DEFAULT_ROLES, ROLES, unknown_roles
from ..events import ApiKeyRevokedV1
from ..kafka.one_shot import publish_once
from ..settings import PlatformSettings

keys_app = typer.Typer(
    help="Create and revoke API keys; running services take them up without a restart.", no_args_is_help=True
)
ROLE_HELP = (
    "A role, repeatable: inference (call models, send feedback; the default, for an app's key), "
    "data (ingest, seal, erase), prompts (write and read prompts), admin (all of its tenant: protected "
    "labels, ops SQL, alerts) or operator (the platform's: every tenant)."
)


@keys_app.command()
def create(
    tenant: Annotated[str, typer.Option(help="The tenant the key belongs to.")],
    role: Annotated[list[str], typer.Option("--role", "--roles", help=ROLE_HELP)] = [],  # noqa: B006
    model: Annotated[
        list[str],
        typer.Option(
            "--model", "--models", help="A deployed model the key may call (and send feedback on); none means all."
        ),
    ] = [],  # noqa: B006
    rpm: Annotated[int | None, typer.Option(help="Requests per minute.", min=1)] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute.", min=1)] = None,
    max_input_tokens: Annotated[int | None, typer.Option(help="Most input tokens per request.", min=1)] = None,
    description: Annotated[str, typer.Option(help="What the key is for.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object for scripts.")] = False,
) -> None:
    """Creates a key and prints it once: only its salted hash is stored."""
    if unknown := unknown_roles(role):
        raise typer.BadParameter(
            f"unknown role {', '.join(unknown)}; the roles are {', '.join(ROLES)}", param_hint="--role"
        )
    token, event = issue_key(
        tenant,
        # Stored explicitly, so the event says what the key may do without knowing the default.
        roles=role or list(DEFAULT_ROLES),
        models=model,
        rpm=rpm,
        tpm=tpm,
        max_input_tokens=max_input_tokens,
        issued_by=getpass.getuser(),
        description=description,
    )
    asyncio.run(publish_once(PlatformSettings(), event, source="llmops-cli"))
    if as_json:
        typer.echo(
            json.dumps(
                {"key": token, "key_id": event.key_id, "tenant": tenant, "roles": event.roles, "models": event.models}
            )
        )
        return
    typer.echo(f"key:     {token}")
    typer.echo(
        f"id:      {event.key_id}   tenant: {tenant}   roles: {', '.join(event.roles) or '-'}"
        f"   models: {', '.join(event.models) or 'all'}"
    )
    typer.echo("Keep the key now: it is not stored and cannot be shown again.", err=True)


@keys_app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The id `create` printed.")],
    tenant: Annotated[str, typer.Option(help="The tenant the key belongs to.")],
) -> None:
    """Revokes a key on every running service."""
    event = ApiKeyRevokedV1(key_id=key_id, tenant=tenant, revoked_by=getpass.getuser(), revoked_at=datetime.now(UTC))
    asyncio.run(publish_once(PlatformSettings(), event, source="llmops-cli"))
    typer.echo(f"revoked {key_id}")
