"""`llmops collections`: the tenant's knowledge bases for RAG, listed and deleted.

The commands call the ingestion service's `/v1/collections` with an API key of the `data` scope; the
tenant is the key's. Documents go into a collection with `llmops ingest --collection NAME`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .console import console
from .data import IngestionUrl, ingestion
from .prompts import ApiKey

collections_app = typer.Typer(
    help="Collections (knowledge bases) of documents for RAG: list and delete.",
    no_args_is_help=True,
    add_completion=False,
)


@collections_app.command("list")
def list_collections(api_key: ApiKey, url: IngestionUrl = None) -> None:
    """Lists the tenant's collections with the documents and chunks indexed in each."""
    with ingestion(url, api_key) as client:
        collections = client.collections()
    table = Table("collection", "documents", "chunks")
    for collection in collections:
        table.add_row(collection["name"], str(collection["documents"]), str(collection["chunks"]))
    console().print(table)


@collections_app.command()
def delete(
    name: Annotated[str, typer.Argument(help="The collection.")],
    api_key: ApiKey,
    url: IngestionUrl = None,
) -> None:
    """Deletes a collection: its documents leave the index within seconds."""
    with ingestion(url, api_key) as client:
        documents = client.delete_collection(name)
    typer.echo(f"{name}: deleted, {documents} documents leave the index")
