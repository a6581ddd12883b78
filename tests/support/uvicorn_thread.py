"""Serves an app over real HTTP from a thread, for clients that cannot take a TestClient (the CLI, SDKs)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_SECONDS = 90.0


@contextmanager
def serving(app: FastAPI, port: int, name: str = "service") -> Iterator[str]:
    """Serves `app` on 127.0.0.1:`port` from a thread of its own until the block ends; yields its URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"{name}-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    # `started` turns true only after the lifespan has run (replicas replayed) and the port is bound.
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the {name} stopped while starting; see the log above")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"the {name} did not start in {START_TIMEOUT_SECONDS}s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
