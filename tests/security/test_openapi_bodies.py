"""The model server's OpenAPI describes the bodies of its completion routes, which it parses by hand, so
that clients can be generated and the API fuzzed from `/openapi.json` alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.model_server.app import create_app
from services.model_server.settings import Settings


def resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    """The schema a local `$ref` names."""
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def refs_in(node: object) -> list[str]:
    """Every `$ref` anywhere in `node`."""
    if isinstance(node, list):
        return [ref for value in node for ref in refs_in(value)]
    if not isinstance(node, dict):
        return []
    own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
    return own + [ref for value in node.values() for ref in refs_in(value)]


def test_the_completion_routes_publish_their_request_bodies(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    document = TestClient(app).get("/openapi.json").json()  # no lifespan: the document needs none

    bodies = {}
    for path in ("/v1/chat/completions", "/v1/completions"):
        body = document["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        bodies[path] = resolve(document, body["content"]["application/json"]["schema"]["$ref"])

    chat, text = bodies["/v1/chat/completions"], bodies["/v1/completions"]
    assert chat["required"] == ["model"]
    assert {"model", "messages", "n", "max_tokens", "stream", "prompt_ref", "rag"} <= set(chat["properties"])
    assert text["required"] == ["model"]
    assert {"model", "prompt", "n", "max_tokens", "echo", "prompt_ref", "rag"} <= set(text["properties"])
    assert resolve(document, chat["properties"]["messages"]["items"]["$ref"])["required"] == ["role"]
    for ref in refs_in(document):
        resolve(document, ref)  # every reference, the bodies' nested models' included, resolves
