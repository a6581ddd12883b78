"""`llmops report --model NAME --since 24h`: a PNG dashboard of a deployed model and a summary table.

The monitor owns the telemetry store (embedded chdb admits one process), so the command reads the
figures from the monitor's `GET /v1/report` and draws them here with matplotlib (Agg, no display).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from ..settings import PlatformSettings
from .console import console


def report(
    model: Annotated[str, typer.Option("--model", help="The deployed model.")],
    api_key: Annotated[str, typer.Option("--api-key", envvar="LLMOPS_API_KEY", show_default=False, help="An API key.")],
    since: Annotated[str, typer.Option(help="How far back: 30m, 24h, 7d.")] = "24h",
    out: Annotated[Path | None, typer.Option(help="The PNG to write; by default report-<model>.png.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="The monitor's base URL; by default the platform's.")] = None,
    tenant: Annotated[
        str | None,
        typer.Option(help="One tenant's figures (an operator's key); a tenant admin's key reads its own tenant's."),
    ] = None,
) -> None:
    """Writes a PNG dashboard (traffic, latency, cost, drift, feedback) and prints a summary table."""
    base = url or PlatformSettings().url_of("monitor")
    params = {"model": model, "since": since} | ({"tenant": tenant} if tenant else {})
    try:
        response = httpx.get(
            f"{base}/v1/report",
            params=params,
            headers={"authorization": f"Bearer {api_key}"},
            timeout=60,
        )
    except httpx.HTTPError as error:
        typer.echo(f"error: cannot reach the monitor at {base}: {error}", err=True)
        raise typer.Exit(1) from error
    if response.status_code != 200:
        typer.echo(f"error: the monitor answered {response.status_code}: {response.text}", err=True)
        raise typer.Exit(1)
    data = response.json()
    path = out or Path(f"report-{model}.png")
    draw_dashboard(data, path)
    console().print(summary_table(data))
    typer.echo(f"wrote {path}")


def summary_table(data: dict[str, Any]) -> Table:
    """Totals of the window, and the alerts in it."""
    buckets = data["buckets"]
    requests = sum(b["requests"] for b in buckets)
    errors = sum(b["errors"] for b in buckets)
    feedback = sum(b["feedback"] for b in buckets)
    p95 = [b["p95_latency_ms"] for b in buckets if b["p95_latency_ms"] is not None]
    psi = [b["psi_prompt_tokens"] for b in buckets if b["psi_prompt_tokens"] is not None]
    table = Table(title=f"{data['model']}, last {data['since']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("requests", f"{requests:,}"),
        ("error rate", f"{errors / requests:.2%}" if requests else "-"),
        ("cost", f"${sum(b['cost_usd'] for b in buckets):,.2f}"),
        ("worst bucket p95 latency", f"{max(p95):.0f} ms" if p95 else "-"),
        ("feedback (thumbs down)", f"{feedback:,} ({sum(b['negative_feedback'] for b in buckets):,})"),
        ("highest prompt-token PSI", f"{max(psi):.3f}" if psi else "-"),
        ("open alerts", str(sum(a["state"] == "fired" for a in data["alerts"]))),
        ("resolved alerts", str(sum(a["state"] == "resolved" for a in data["alerts"]))),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def draw_dashboard(data: dict[str, Any], path: Path) -> None:
    """Five panels over time: traffic and errors, latency, cost, drift, feedback."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buckets = data["buckets"]
    times = [datetime.fromisoformat(b["start"]) for b in buckets]

    def series(name: str) -> list[float]:
        return [float("nan") if b[name] is None else b[name] for b in buckets]

    figure, axes = plt.subplots(5, 1, figsize=(11, 14), sharex=True)
    panels: list[tuple[str, list[tuple[str, str]]]] = [
        ("traffic (requests per bucket)", [("requests", "requests"), ("errors", "errors")]),
        ("latency (ms)", [("p50_latency_ms", "p50"), ("p95_latency_ms", "p95"), ("p95_ttft_ms", "p95 TTFT")]),
        ("cost (USD per bucket)", [("cost_usd", "cost")]),
        (
            "drift",
            [
                ("psi_prompt_tokens", "PSI prompt tokens"),
                ("psi_completion_tokens", "PSI completion tokens"),
                ("embedding_centroid_cosine", "embedding centroid distance"),
            ],
        ),
        ("feedback", [("feedback", "scores"), ("negative_feedback", "thumbs down")]),
    ]
    for axis, (title, lines) in zip(axes, panels, strict=True):
        for name, label in lines:
            axis.plot(times, series(name), marker=".", label=label)
        axis.set_title(title, loc="left")
        axis.grid(alpha=0.3)
        axis.legend(loc="upper left", fontsize="small")
    for alert in data["alerts"]:
        for axis in axes:
            axis.axvline(datetime.fromisoformat(alert["first_fired_at"] or alert["updated_at"]), color="red", alpha=0.3)
    figure.suptitle(f"{data['model']}: last {data['since']} (red lines: alerts)")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
