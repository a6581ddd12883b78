"""Schemathesis fuzzes every operation of each service's OpenAPI, in process over ASGI, with an admin key:
no answer is a 5xx, and what a route answers matches what its OpenAPI says.

Each service runs as in production: its lifespan, the real broker, its real stores, and for the model
server its transformers engine on the tiny test model. Its positive cases call the served model, so they
reach the engine. Where a route reads its body itself and the OpenAPI does not show it, the fuzzer is
given the body's model. The trainer, the evaluator and the retriever serve only the health routes, which
are fuzzed here on the other services.

Schemathesis runs through its engine (what its CLI drives) rather than its pytest plugin, which does not
run on pytest 9.2 (it sets `Node._nodeid`). The 5xx the fuzzer found are pinned by the tests at the end.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from pydantic import BaseModel
from schemathesis.engine import Status, events, from_schema
from schemathesis.python import asgi

from llmops_common.settings import PlatformSettings
from services.feedback_collector.app import create_app as feedback_app
from services.feedback_collector.settings import Settings as FeedbackSettings
from services.ingestion.app import create_app as ingestion_app
from services.ingestion.schemas import IngestBatch
from services.ingestion.settings import Settings as IngestionSettings
from services.model_server.app import create_app as model_server_app
from services.model_server.protocol import ChatCompletionRequest, CompletionRequest
from services.model_server.settings import Settings as ModelServerSettings
from services.monitor.app import create_app as monitor_app
from services.monitor.settings import Settings as MonitorSettings
from services.prompt_registry.app import create_app as registry_app
from services.prompt_registry.settings import Settings as RegistrySettings
from tests.support.prompt_registry import publish_api_key

MAX_EXAMPLES = 50
"""Generated cases per operation and mode (positive, negative), besides the coverage phase's own."""
SEED = 17
SERVED = "fuzz-base"
"""The model server's base model name."""
CHECKS = ("not_a_server_error", "response_schema_conformance", "content_type_conformance")
"""Status-code conformance is left out: FastAPI's OpenAPI lists 200 and 422, not the platform's 400, 401,
403, 404, 409 and 413."""

RETRIEVER_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/collections")
"""Routes that wait for the retriever (a `rag` request, a listing of collections), which these tests do not
run: their documented answer when it is late is a 504, not a server error."""

Bodies = dict[str, type[BaseModel]]
"""The request model of each POST route that reads its body itself, by path."""
Service = Callable[[PlatformSettings, pytest.FixtureRequest], tuple[FastAPI, Bodies]]


def own(cls: type[Any], settings: PlatformSettings, **overrides: object) -> Any:
    """The service's settings on the test's broker and folder."""
    return cls(**{**settings.model_dump(), **overrides})


def prompt_registry(settings: PlatformSettings, _: pytest.FixtureRequest) -> tuple[FastAPI, Bodies]:
    return registry_app(own(RegistrySettings, settings)), {}


def ingestion(settings: PlatformSettings, _: pytest.FixtureRequest) -> tuple[FastAPI, Bodies]:
    app = ingestion_app(own(IngestionSettings, settings, ingest_collections_timeout_seconds=0.1))
    return app, {"/v1/ingest": IngestBatch}


def feedback_collector(settings: PlatformSettings, _: pytest.FixtureRequest) -> tuple[FastAPI, Bodies]:
    # Fuzzed feedback names requests that never happened: each would wait 3 s for their telemetry.
    return feedback_app(own(FeedbackSettings, settings, feedback_unknown_request_wait_seconds=0.05)), {}


def monitor(settings: PlatformSettings, _: pytest.FixtureRequest) -> tuple[FastAPI, Bodies]:
    return monitor_app(own(MonitorSettings, settings)), {}


def model_server(settings: PlatformSettings, request: pytest.FixtureRequest) -> tuple[FastAPI, Bodies]:
    tiny_model: Path = request.getfixturevalue("tiny_model")
    server = own(
        ModelServerSettings,
        settings,
        base_model=str(tiny_model),
        base_model_name=SERVED,
        engine="transformers",
        retriever_timeout_seconds=0.1,
    )
    bodies: Bodies = {"/v1/chat/completions": ChatCompletionRequest, "/v1/completions": CompletionRequest}
    return model_server_app(server), bodies


SERVICES: dict[str, Service] = {
    "prompt_registry": prompt_registry,
    "ingestion": ingestion,
    "feedback_collector": feedback_collector,
    "monitor": monitor,
    "model_server": model_server,
}


@pytest.fixture
async def admin_key(settings: PlatformSettings) -> str:
    return await publish_api_key(settings, f"fuzz-{uuid.uuid4().hex[:10]}", "admin")


@contextmanager
def running(app: FastAPI, api_key: str) -> Iterator[asgi.ASGIClient]:
    """The app with its lifespan started, and a client that sends `api_key`; the lifespan ends with the block."""
    # Entering the client starts the lifespan, which runs until `shutdown_lifespans`.
    with asgi.get_client(app) as client:  # type: ignore[arg-type]  # starlette's ASGI types are wider
        try:
            client.headers["Authorization"] = f"Bearer {api_key}"
            yield client
        finally:
            asgi.shutdown_lifespans()


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES.keys())
def test_no_operation_answers_a_server_error(
    service: Service, settings: PlatformSettings, admin_key: str, request: pytest.FixtureRequest
) -> None:
    app, bodies = service(settings, request)
    with running(app, admin_key) as client:
        spec = client.get("/openapi.json").json()
        for path, model in bodies.items():
            declare_body(spec, path, model)
        pin_served_model(spec)
        problems = fuzz(app, spec, admin_key)

    assert not problems, "\n\n".join(problems)


def declare_body(spec: dict[str, Any], path: str, model: type[BaseModel]) -> None:
    """Declares `model` as the JSON body of `POST path` where the OpenAPI shows none."""
    operation = spec["paths"][path]["post"]
    if "requestBody" in operation:
        return
    body = model.model_json_schema(ref_template="#/components/schemas/{model}")
    spec.setdefault("components", {}).setdefault("schemas", {}).update(body.pop("$defs", {}))
    spec["components"]["schemas"][model.__name__] = body
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": reference}}}


def pin_served_model(spec: dict[str, Any]) -> None:
    """Makes positive completion requests name the served model (negative ones still name others)."""
    for name in (ChatCompletionRequest.__name__, CompletionRequest.__name__):
        if (schema := spec.get("components", {}).get("schemas", {}).get(name)) is not None:
            schema["properties"]["model"] = {"const": SERVED}


def fuzz(app: FastAPI, spec: dict[str, Any], api_key: str) -> list[str]:
    """Runs schemathesis's examples, coverage and fuzzing phases over every operation; the problems found."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {api_key}"},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "operations": [
                {
                    "include-path": path,
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "504"]}},
                }
                for path in RETRIEVER_PATHS
            ],
        }
    )
    schema = schemathesis.openapi.from_dict(spec, config=config)
    schema.app = app
    problems: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status in (Status.FAILURE, Status.ERROR):
            problems.extend(
                f"{event.label}: {check.name}: {check.failure_info.failure.title}\n{check.failure_info.code_sample}"
                for checks in event.recorder.checks.values()
                for check in checks
                if check.status == Status.FAILURE and check.failure_info is not None
            )
        elif isinstance(event, events.NonFatalError):
            problems.append(f"{event.label}: the app raised {event.value!r}")
        elif isinstance(event, events.FatalError):
            problems.append(f"schemathesis failed: {event.exception!r}")
    return sorted(set(problems))


def test_a_version_ref_that_is_not_a_number_is_a_404(settings: PlatformSettings, admin_key: str) -> None:
    """`str.isdigit` holds for '²', which `int` refuses: the diff answered a 500."""
    app = registry_app(own(RegistrySettings, settings))
    version = {"kind": "text", "template": "hi", "variables": [], "commit_message": "one"}
    with running(app, admin_key) as client:
        assert client.post("/v1/prompts/fuzzed/versions", json=version).status_code == 201
        answers = [client.get("/v1/prompts/fuzzed/diff", params={"from": ref, "to": "1"}) for ref in ("²", "9" * 5000)]

    assert [answer.status_code for answer in answers] == [404, 404]
    assert answers[0].json()["error"]["code"] == "not_found"


LONG_PROMPT = "word " * 2000
"""Far more tokens than the tiny model's context of 256."""
REFUSED = {
    "seed_over_64_bits": ({"prompt": "hello", "seed": 2**64}, 422, "seed"),
    "seed_under_64_bits": ({"prompt": "hello", "seed": -(2**63) - 1}, 422, "seed"),
    "prompt_over_the_context": ({"prompt": LONG_PROMPT}, 400, "the model's context holds 256"),
    "an_empty_prompt_in_the_list": ({"prompt": ["", "hello"]}, 400, "prompt is empty"),
    "max_tokens_over_the_cap": ({"prompt": "hello", "max_tokens": 10**30}, 400, "at most 4096"),
}


@pytest.fixture
def served(settings: PlatformSettings, admin_key: str, request: pytest.FixtureRequest) -> Iterator[asgi.ASGIClient]:
    app, _ = model_server(settings, request)
    with running(app, admin_key) as client:
        yield client


@pytest.mark.parametrize(("body", "status", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_a_request_the_engine_cannot_serve_is_a_4xx_that_says_why(
    served: asgi.ASGIClient, body: dict[str, Any], status: int, reason: str
) -> None:
    answer = served.post("/v1/completions", json={"model": SERVED, "max_tokens": 4, **body})

    assert answer.status_code == status
    assert reason in answer.json()["error"]["message"]


def test_a_chat_over_the_context_is_a_400_and_so_is_the_error_ending_its_stream(served: asgi.ASGIClient) -> None:
    body: dict[str, Any] = {"model": SERVED, "messages": [{"role": "user", "content": LONG_PROMPT}], "max_tokens": 4}
    whole = served.post("/v1/chat/completions", json=body)
    stream = served.post("/v1/chat/completions", json={**body, "stream": True})

    assert whole.status_code == 400
    assert whole.json()["error"]["param"] == "messages"
    # A stream's status line is sent before the engine sees the prompt; its last event carries the 400.
    chunks = [json.loads(line[6:]) for line in stream.text.splitlines() if line.startswith("data: {")]
    assert chunks[-1]["error"]["status"] == 400
    assert "the model's context holds 256" in chunks[-1]["error"]["message"]


EDGES = {
    # Each failed the engine's whole batch step, so every request in the batch with it: a 500 for all.
    "temperature_near_zero": {"temperature": 1e-300},
    "top_p_zero_in_float32": {"top_p": 5e-324},
    # A seed per choice, the largest seed plus one, still fits torch's generator.
    "largest_seed_two_choices": {"seed": 2**63 - 1, "n": 2},
    # The cap; the tiny model's context (256) ends the generation first.
    "max_tokens_at_the_cap": {"max_tokens": 4096},
}


@pytest.mark.parametrize("sampling", EDGES.values(), ids=EDGES.keys())
def test_sampling_at_the_edges_still_generates(served: asgi.ASGIClient, sampling: dict[str, Any]) -> None:
    answer = served.post("/v1/completions", json={"model": SERVED, "prompt": "hello", "max_tokens": 4, **sampling})

    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["finish_reason"] in ("stop", "length")
