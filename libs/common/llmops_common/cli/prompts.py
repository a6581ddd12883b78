"""`llmops prompts`: push prompt files to the prompt registry, and list, show, label and diff prompts.

Output meant for scripts (`show --yaml`, `diff`) goes to stdout as is; errors go to stderr with the
registry's message and detail, and exit 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from ..errors import LlmopsError
from ..prompts.files import PromptFile, PromptFileError, dump_prompt_file, load_prompt_file
from ..prompts.refs import PromptRef, parse_prompt_ref
from ..prompts.registry_client import PromptRegistryClient, RegistryError
from ..settings import PlatformSettings
from .console import console

prompts_app = typer.Typer(
    help="Prompts in the prompt registry: push prompt files, then list, show, label and diff versions.",
    no_args_is_help=True,
    add_completion=False,
)

RegistryUrl = Annotated[
    str | None,
    typer.Option("--url", help="The prompt registry's base URL; by default the platform's, from the LLMOPS_ settings."),
]
ApiKey = Annotated[
    str,
    typer.Option("--api-key", envvar="LLMOPS_API_KEY", show_default=False, help="An API key of the tenant."),
]


@prompts_app.command()
def push(
    file: Annotated[Path, typer.Argument(help="A prompt file (YAML).", dir_okay=False)],
    api_key: ApiKey,
    expected_version: Annotated[
        int | None,
        typer.Option(help="The latest version you based this on (0 for a new prompt); refused if another came since."),
    ] = None,
    url: RegistryUrl = None,
) -> None:
    """Saves the file as a new version of its prompt, then points the file's labels at it."""
    with registry(url, api_key) as client:
        prompt = load_prompt_file(file)
        saved = client.create_version(prompt.name, prompt.version_request(expected_version))
        typer.echo(f"{saved['name']} v{saved['version']}")
        for label in prompt.labels:
            moved = client.move_label(prompt.name, label, saved["version"])
            typer.echo(f"  {_label_move(moved)}")


@prompts_app.command("list")
def list_prompts(
    api_key: ApiKey,
    label: Annotated[str | None, typer.Option(help="Only the prompts that carry this label.")] = None,
    url: RegistryUrl = None,
) -> None:
    """Lists the tenant's prompts: name, latest version and labels."""
    with registry(url, api_key) as client:
        prompts = list(client.iter_prompts(label=label))
    if not prompts:
        typer.echo("no prompts" + (f" with label {label!r}" if label else ""))
        return
    table = Table("name", "latest", "labels", "updated")
    for item in prompts:
        labels = ", ".join(f"{name}=v{version}" for name, version in sorted(item["labels"].items()))
        table.add_row(item["name"], f"v{item['latest_version']}", labels, _when(item.get("updated_at")))
    console().print(table)


@prompts_app.command()
def show(
    ref: Annotated[
        PromptRef,
        typer.Argument(
            metavar="NAME[@LABEL|:VERSION]", parser=parse_prompt_ref, help="The prompt; its latest version by default."
        ),
    ],
    api_key: ApiKey,
    as_yaml: Annotated[
        bool, typer.Option("--yaml", help="Print a prompt file (without labels) that `push` takes back.")
    ] = False,
    url: RegistryUrl = None,
) -> None:
    """Shows one version of a prompt."""
    with registry(url, api_key) as client:
        body = client.get_prompt(ref.name, label=ref.label, version=ref.version)
    if as_yaml:
        typer.echo(dump_prompt_file(PromptFile.from_version(body)), nl=False)
    else:
        typer.echo(describe_version(body))


@prompts_app.command()
def label(
    name: Annotated[str, typer.Argument(help="The prompt.")],
    version: Annotated[int, typer.Argument(help="The version the label should point at.", min=1)],
    label: Annotated[str, typer.Argument(help="The label: production, staging, ...")],
    api_key: ApiKey,
    expected_version: Annotated[
        int | None,
        typer.Option(help="Where you saw the label point (0: nowhere); refused if it moved since."),
    ] = None,
    url: RegistryUrl = None,
) -> None:
    """Points a label at a version; pointing it back is the rollback."""
    with registry(url, api_key) as client:
        moved = client.move_label(name, label, version, expected_version=expected_version)
    typer.echo(f"{moved['name']}: {_label_move(moved)}")


@prompts_app.command()
def diff(
    name: Annotated[str, typer.Argument(help="The prompt.")],
    from_ref: Annotated[str, typer.Argument(metavar="FROM", help="A version number or a label.")],
    to_ref: Annotated[str, typer.Argument(metavar="TO", help="A version number or a label.")],
    api_key: ApiKey,
    url: RegistryUrl = None,
) -> None:
    """Prints a unified diff between two versions of a prompt."""
    with registry(url, api_key) as client:
        body = client.diff(name, from_ref, to_ref)
    if body["diff"]:
        typer.echo(body["diff"], nl=not body["diff"].endswith("\n"))
    else:
        # On stderr, so that stdout stays a patch (an empty one) for scripts.
        typer.echo(f"v{body['from_version']} and v{body['to_version']} are the same", err=True)


@contextmanager
def registry(url: str | None, api_key: str) -> Iterator[PromptRegistryClient]:
    """A client of the registry at `url` (the platform's by default); a failure inside exits 1."""
    base_url = url or PlatformSettings().url_of("prompt_registry")
    try:
        with PromptRegistryClient(base_url, api_key) as client:
            yield client
    except (RegistryError, PromptFileError) as error:
        fail(error)


def fail(error: LlmopsError) -> NoReturn:
    """Prints the error's message, and its detail where that adds something, to stderr; exits 1."""
    typer.echo(f"error: {error.message}", err=True)
    # A prompt file's message already lists its problems; the detail repeats them for programs.
    if not isinstance(error, PromptFileError):
        for line in detail_lines(error.detail):
            typer.echo(f"  {line}", err=True)
    raise typer.Exit(1)


def detail_lines(detail: object) -> list[str]:
    """An error's detail as lines: one per schema problem or per key, else its JSON."""
    if detail is None:
        return []
    if isinstance(detail, list) and all(isinstance(p, dict) and {"location", "problem"} <= p.keys() for p in detail):
        return [f"{problem['location']}: {problem['problem']}" for problem in detail]
    if isinstance(detail, dict):
        return [f"{key}: {json.dumps(value)}" for key, value in detail.items()]
    return [json.dumps(detail)]


def describe_version(body: dict[str, Any]) -> str:
    """A version for people: its facts, then its template or messages."""
    lines = [
        f"{body['name']} v{body['version']} ({body['kind']})",
        f"labels:     {', '.join(body.get('labels', [])) or '-'}",
        f"author:     {body.get('author', '-')}",
        f"created:    {_when(body.get('created_at'))}",
        f"commit:     {body.get('commit_message') or '-'}",
        f"parameters: {_parameters(body.get('parameters') or {})}",
        f"variables:  {_variables(body.get('variables') or [])}",
    ]
    # Trailing newlines are exact in `--yaml`; here they would only pile up blank lines.
    if body["kind"] == "text":
        lines += ["", "[template]", (body.get("template") or "").rstrip("\n")]
    for message in body.get("messages") or []:
        lines += ["", f"[{message['role']}]", message["content"].rstrip("\n")]
    return "\n".join(lines)


def _parameters(parameters: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in parameters.items() if value is not None) or "-"


def _variables(variables: list[dict[str, Any]]) -> str:
    described = [
        f"{v['name']}: {v.get('type', 'string')}" + ("" if v.get("required", True) else " (optional)")
        for v in variables
    ]
    return ", ".join(described) or "-"


def _label_move(moved: dict[str, Any]) -> str:
    previous = moved.get("previous_version")
    was = "was unset" if previous is None else f"was v{previous}"
    return f"{moved['label']} -> v{moved['version']} ({was})"


def _when(timestamp: str | None) -> str:
    if not timestamp:
        return "-"
    return datetime.fromisoformat(timestamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
