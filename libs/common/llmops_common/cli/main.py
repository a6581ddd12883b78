"""The `llmops` command."""

from __future__ import annotations

import logging

import typer

from .data import data_app
from .demo import demo
from .dlq import dlq_app
from .evals import eval_app
from .ingest import ingest
from .keys import keys_app
from .model import model_app
from .prompts import prompts_app
from .rag_collections import collections_app
from .report import report
from .status import status
from .topics import topics
from .train import train_app
from .up import up

app = typer.Typer(help="The LLMOps platform's command line.", no_args_is_help=True, add_completion=False)


@app.callback()
def quiet_client_logs() -> None:
    """Keeps the Kafka client's reconnect chatter off the console; the commands report what matters."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


app.command()(up)
app.command()(status)
app.command()(topics)
app.command()(ingest)
app.command()(report)
app.command()(demo)
app.add_typer(prompts_app, name="prompts")
app.add_typer(keys_app, name="keys")
app.add_typer(model_app, name="model")
app.add_typer(data_app, name="data")
app.add_typer(collections_app, name="collections")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(dlq_app, name="dlq")

if __name__ == "__main__":
    app()
