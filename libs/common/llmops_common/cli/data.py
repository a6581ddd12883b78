"""`llmops data`: seal a dataset, show a version's profile (a table and a PNG), erase a data subject.

The commands call the ingestion service's HTTP API (`/v1/datasets/...`, `/v1/erasures`) with an API
key: the examples live in that service's store, so it is the one that seals and erases them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..events import DatasetSealedV1
from ..events.dataset_profile import DatasetProfile
from ..ingest.client import IngestionCallError, IngestionClient
from ..settings import PlatformSettings
from .console import console
from .prompts import ApiKey, fail

data_app = typer.Typer(
    help="Datasets in the ingestion service: seal versions, show their profiles, erase records.",
    no_args_is_help=True,
    add_completion=False,
)

IngestionUrl = Annotated[
    str | None,
    typer.Option(
        "--url", help="The ingestion service's base URL; by default the platform's, from the LLMOPS_ settings."
    ),
]


@data_app.command()
def seal(
    name: Annotated[str, typer.Argument(help="The dataset.")],
    api_key: ApiKey,
    url: IngestionUrl = None,
) -> None:
    """Seals the dataset's examples as an immutable version; unchanged content gives the same version."""
    with ingestion(url, api_key) as client:
        created, event = client.seal(name)
    what = "sealed" if created else "unchanged, already sealed as"
    typer.echo(f"{event.name}: {what} {event.version}")
    typer.echo(f"  rows {event.rows} (train {event.train_rows}, eval {event.eval_rows})")
    typer.echo(f"  data {event.artifact.uri}")
    if event.lineage is not None:
        typer.echo(f"  lineage {event.lineage.uri}")


@data_app.command()
def versions(
    name: Annotated[str, typer.Argument(help="The dataset.")],
    api_key: ApiKey,
    url: IngestionUrl = None,
) -> None:
    """Lists the dataset's sealed versions, oldest first."""
    with ingestion(url, api_key) as client:
        lines = client.versions(name)
    table = Table("version", "sealed at", "rows", "train", "eval", "by")
    for line in lines:
        table.add_row(
            line["version"][:16],
            line["sealed_at"],
            str(line["rows"]),
            str(line["train_rows"]),
            str(line["eval_rows"]),
            line["trigger"] or "-",
        )
    console().print(table)


@data_app.command()
def profile(
    ref: Annotated[str, typer.Argument(metavar="NAME[@VERSION]", help="The dataset; its latest version by default.")],
    api_key: ApiKey,
    png: Annotated[
        Path | None, typer.Option(help="Where to write the histograms; NAME-VERSION.png by default.", dir_okay=False)
    ] = None,
    url: IngestionUrl = None,
) -> None:
    """Prints a version's profile as tables and writes a PNG of its length histograms."""
    name, _, version = ref.rpartition("@") if "@" in ref else (ref, "", "latest")
    with ingestion(url, api_key) as client:
        event = client.version(name, version)
    if event.eda_profile is None:
        typer.echo(f"error: {name}@{event.version[:12]} was sealed without a profile", err=True)
        raise typer.Exit(1)
    out = console()
    for table in profile_tables(event, event.eda_profile):
        out.print(table)
    from ..ingest.profile_chart import write_profile_png

    target = png or Path(f"{name}-{event.version[:12]}.png")
    write_profile_png(event.eda_profile, f"{name}@{event.version[:12]}", target)
    out.print(f"histograms: {target}")


@data_app.command()
def erase(
    api_key: ApiKey,
    doc_id: Annotated[str | None, typer.Option(help="Erase this document (or example).")] = None,
    key: Annotated[str | None, typer.Option(help="Erase every record whose metadata KEY ...")] = None,
    value: Annotated[str | None, typer.Option(help="... equals VALUE (a string; see --json-value).")] = None,
    json_value: Annotated[bool, typer.Option(help="Read VALUE as JSON: 42, true.")] = False,
    reason: Annotated[str, typer.Option(help="Why: kept in the audit log.")] = "right to erasure",
    url: IngestionUrl = None,
) -> None:
    """Erases a document or a data subject's records from future dataset versions and from the index."""
    if (doc_id is None) == (key is None or value is None):
        raise typer.BadParameter("give either --doc-id, or --key and --value")
    request: dict[str, object] = {"doc_id": doc_id, "reason": reason}
    if key is not None and value is not None:
        request = {"key": key, "value": _value(value, json_value), "reason": reason}
    with ingestion(url, api_key) as client:
        audit = client.erase(request)
    typer.echo(
        f"erasure {audit.erasure_id}: {audit.documents_erased} documents erased, "
        f"{audit.examples_removed} examples removed"
        + (f" (datasets: {', '.join(audit.datasets)})" if audit.datasets else "")
    )


def profile_tables(event: DatasetSealedV1, profile: DatasetProfile) -> list[Table]:
    """The profile as three tables: counts, token lengths, and the top sources."""
    counts = Table("measure", "value", title=f"{event.name}@{event.version[:12]} ({profile.tokenizer} tokens)")
    counts.add_row("rows", f"{profile.rows} (train {profile.train_rows}, eval {profile.eval_rows})")
    counts.add_row("records seen", str(profile.records_seen))
    counts.add_row(
        "duplicates removed", f"exact {profile.exact_duplicates_removed}, near {profile.near_duplicates_removed}"
    )
    counts.add_row("rejects", _by_key(profile.rejects))
    counts.add_row("PII hits", _by_key(profile.pii_hits))
    counts.add_row("examples erased", str(profile.examples_erased))
    counts.add_row("sources", str(profile.sources))
    lengths = Table("tokens", "min", "p50", "p90", "p99", "max", "mean")
    for row in profile.token_lengths:
        lengths.add_row(row.field, *(str(v) for v in (row.min, row.p50, row.p90, row.p99, row.max, row.mean)))
    sources = Table("top source", "rows")
    for top in profile.top_sources:
        sources.add_row(top.source, str(top.rows))
    return [counts, lengths, sources]


@contextmanager
def ingestion(url: str | None, api_key: str) -> Iterator[IngestionClient]:
    """A client of the ingestion service at `url` (the platform's by default); a failure inside exits 1."""
    base_url = url or PlatformSettings().url_of("ingestion")
    try:
        with IngestionClient(base_url, api_key) as client:
            yield client
    except IngestionCallError as error:
        fail(error)


def _by_key(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {count}" for key, count in sorted(counts.items()) if count) or "none"


def _value(text: str, as_json: bool) -> object:
    if not as_json:
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"--value is not JSON: {error.msg}") from error
