"""The container health check exits 0 only when its own service's `/readyz` says 200."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from llmops_common.service import healthcheck


class _Readyz(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def readyz_server() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Readyz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_ready_service_passes(readyz_server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE", "monitor")
    monkeypatch.setenv("LLMOPS_MONITOR_PORT", str(readyz_server.server_address[1]))
    _Readyz.status = 200
    assert healthcheck.main() == 0


def test_unready_service_fails(readyz_server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE", "monitor")
    monkeypatch.setenv("LLMOPS_MONITOR_PORT", str(readyz_server.server_address[1]))
    _Readyz.status = 503
    assert healthcheck.main() == 1


def test_unknown_service_fails_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SERVICE", "nope")
    assert healthcheck.main() == 1
    assert "names no service" in capsys.readouterr().err
