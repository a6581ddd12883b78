"""`llmops up`: the whole platform on this machine, until Ctrl-C."""

from __future__ import annotations

from typing import Annotated

import typer

from ..auth.dev_key import DEV_TENANT, dev_key_path
from ..local_platform import PortBusyError, kafka_is_configured, run_platform, wait_for_stop_signal, wait_until_ready
from ..settings import PlatformSettings
from .console import console
from .health_probe import probe_all
from .model import ensure_base_model
from .status import health_table


def up(
    kafka_port: Annotated[
        int, typer.Option(help="Port of the local broker, when LLMOPS_KAFKA_BOOTSTRAP is unset.")
    ] = 9092,
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for every service to be ready.")] = 120.0,
    publish_dev_key: Annotated[
        bool,
        typer.Option(
            envvar="LLMOPS_PUBLISH_DEV_KEY",
            help="Publish the admin development key to the broker LLMOPS_KAFKA_BOOTSTRAP names too; "
            "without it, only the local broker gets it.",
        ),
    ] = False,
) -> None:
    """Starts Kafka (unless LLMOPS_KAFKA_BOOTSTRAP names one), creates the topics, and runs every service."""
    out = console()
    stop = wait_for_stop_signal()

    def report(settings: PlatformSettings, dev_token: str | None) -> None:
        where = "yours" if kafka_is_configured() else "local Tansu, memory only"
        out.print(f"kafka: {settings.kafka_bootstrap} ({where}); logs in {settings.data_dir / 'logs'}")
        ready = wait_until_ready(
            lambda: all(s.health == "ready" for s in probe_all(settings, 1.0)), ready_timeout, stop
        )
        out.print(health_table(probe_all(settings)))
        out.print("all services ready; Ctrl-C stops everything" if ready else "[yellow]not every service is ready")
        if dev_token is None:
            out.print(
                "no development key: on a broker of yours the admin dev key is published only with "
                "--publish-dev-key; create a key instead: llmops keys create --tenant <tenant> --role admin"
            )
            return
        out.print(f"development key (tenant {DEV_TENANT}, admin): {dev_token}")
        out.print(f"  kept in {dev_key_path(settings.data_dir)}; try: export LLMOPS_API_KEY={dev_token}")

    ensure_base_model(PlatformSettings())
    try:
        code = run_platform(
            PlatformSettings(), kafka_port=kafka_port, stop=stop, on_started=report, publish_dev_key=publish_dev_key
        )
    except PortBusyError as error:
        out.print(f"[red]{error}")
        raise typer.Exit(2) from error
    out.print("stopped")
    raise typer.Exit(code)
