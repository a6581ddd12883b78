"""The registry's whole HTTP API against the real broker: writes, reads, labels, render, diff and errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from llmops_common.settings import PlatformSettings
from tests.support.prompt_registry import bearer, publish_api_key, registry_client

CHAT = {
    "kind": "chat",
    "messages": [
        {"role": "system", "content": "You answer questions about {{ product }}."},
        {"role": "user", "content": "{{ question }}{% if detail %} ({{ detail }}){% endif %}"},
    ],
    "variables": [
        {"name": "product", "type": "string"},
        {"name": "question", "type": "string"},
        {"name": "detail", "type": "string", "required": False},
    ],
    "parameters": {"model": "support-assistant", "temperature": 0.2, "max_tokens": 256},
    "commit_message": "first cut",
}


def version_body(**changes: Any) -> dict[str, Any]:
    return {**CHAT, **changes}


@pytest.fixture
async def keys(settings: PlatformSettings, unique: str) -> dict[str, str]:
    tenant = f"t-{unique}"
    return {
        "writer": await publish_api_key(settings, tenant, "prompts"),
        "admin": await publish_api_key(settings, tenant, "admin"),
        "other_tenant": await publish_api_key(settings, f"u-{unique}", "prompts"),
    }


@pytest.fixture
def registry(settings: PlatformSettings, tmp_path: Path, keys: dict[str, str]) -> Any:
    with registry_client(settings, tmp_path / "registry") as client:
        yield client


def test_versions_are_saved_read_listed_and_stale_writes_refused(registry: TestClient, keys: dict[str, str]) -> None:
    auth = bearer(keys["writer"])

    first = registry.post("/v1/prompts/support-answer/versions", json=version_body(expected_version=0), headers=auth)
    second = registry.post(
        "/v1/prompts/support-answer/versions",
        json=version_body(commit_message="warmer", expected_version=1, parameters={"temperature": 0.7}),
        headers=auth,
    )
    stale = registry.post("/v1/prompts/support-answer/versions", json=version_body(expected_version=1), headers=auth)

    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    assert first.json()["author"]
    assert second.json()["version"] == 2
    assert second.json()["labels"] == ["latest"]
    assert stale.status_code == 409
    assert stale.json()["error"]["detail"]["current_version"] == 2
    latest = registry.get("/v1/prompts/support-answer", headers=auth).json()
    assert (latest["version"], latest["commit_message"]) == (2, "warmer")
    assert registry.get("/v1/prompts/support-answer?version=1", headers=auth).json()["commit_message"] == "first cut"
    versions = registry.get("/v1/prompts/support-answer/versions", headers=auth).json()
    assert [v["version"] for v in versions["versions"]] == [1, 2]
    listing = registry.get("/v1/prompts", headers=auth).json()
    assert listing == {
        "prompts": [{"name": "support-answer", "latest_version": 2, "labels": {}, "updated_at": latest["created_at"]}],
        "next_cursor": None,
    }


def test_labels_move_and_roll_back_and_production_needs_an_admin(registry: TestClient, keys: dict[str, str]) -> None:
    writer, admin = bearer(keys["writer"]), bearer(keys["admin"])
    for _ in range(2):
        registry.post("/v1/prompts/greeting/versions", json=version_body(), headers=writer)

    staging = registry.put("/v1/prompts/greeting/labels/staging", json={"version": 2}, headers=writer)
    refused = registry.put("/v1/prompts/greeting/labels/production", json={"version": 2}, headers=writer)
    promoted = registry.put("/v1/prompts/greeting/labels/production", json={"version": 2}, headers=admin)
    stale = registry.put(
        "/v1/prompts/greeting/labels/production", json={"version": 1, "expected_version": 1}, headers=admin
    )
    rolled_back = registry.put(
        "/v1/prompts/greeting/labels/production", json={"version": 1, "expected_version": 2}, headers=admin
    )

    assert staging.json() == {"name": "greeting", "label": "staging", "version": 2, "previous_version": None}
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert promoted.status_code == 200
    assert stale.status_code == 409
    assert stale.json()["error"]["detail"]["current_version"] == 2
    assert rolled_back.json()["previous_version"] == 2
    assert registry.get("/v1/prompts/greeting?label=production", headers=writer).json()["version"] == 1
    assert registry.get("/v1/prompts?label=staging", headers=writer).json()["prompts"][0]["labels"] == {
        "production": 1,
        "staging": 2,
    }


def test_render_and_diff(registry: TestClient, keys: dict[str, str]) -> None:
    auth = bearer(keys["writer"])
    registry.post("/v1/prompts/faq/versions", json=version_body(), headers=auth)
    registry.post(
        "/v1/prompts/faq/versions",
        json=version_body(commit_message="shorter", parameters={"max_tokens": 64}),
        headers=auth,
    )

    rendered = registry.post(
        "/v1/prompts/faq/render", json={"variables": {"product": "Kafka", "question": "What is a topic?"}}, headers=auth
    )
    diff = registry.get("/v1/prompts/faq/diff", params={"from": "1", "to": "latest"}, headers=auth)

    assert rendered.status_code == 200, rendered.text
    assert rendered.json()["messages"] == [
        {"role": "system", "content": "You answer questions about Kafka."},
        {"role": "user", "content": "What is a topic?"},
    ]
    assert rendered.json()["version"] == 2
    assert diff.json()["from_version"] == 1
    assert diff.json()["to_version"] == 2
    assert diff.json()["diff"].splitlines()[:2] == ["--- faq:v1", "+++ faq:v2"]
    assert "-max_tokens: 256" in diff.json()["diff"].splitlines()
    assert "+max_tokens: 64" in diff.json()["diff"].splitlines()


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        (version_body(messages=[{"role": "user", "content": "hi\n{{ question }"}]), 422, "invalid_template", "line"),
        (version_body(messages=[{"role": "user", "content": "{{ nope }}"}]), 422, "invalid_template", "nope"),
        (
            version_body(messages=[{"role": "user", "content": "{{ question.__class__ }}"}]),
            422,
            "invalid_template",
            "__class__",
        ),
        (version_body(messages=[{"role": "user", "content": "x" * 40_000}], variables=[]), 413, "too_large", ""),
        (version_body(surprise=True), 422, "invalid_request", "surprise"),
    ],
    ids=["syntax-error", "undeclared-variable", "sandbox-escape", "oversized", "unknown-field"],
)
def test_bad_prompts_are_refused_with_a_json_reason(
    registry: TestClient, keys: dict[str, str], body: dict[str, Any], status: int, code: str, needle: str
) -> None:
    response = registry.post("/v1/prompts/bad/versions", json=body, headers=bearer(keys["writer"]))

    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert needle in response.text


def test_not_found_unauthorized_and_bad_renders(registry: TestClient, keys: dict[str, str]) -> None:
    auth = bearer(keys["writer"])
    registry.post("/v1/prompts/known/versions", json=version_body(), headers=auth)

    assert registry.get("/v1/prompts/unknown", headers=auth).status_code == 404
    assert registry.get("/v1/prompts/known?version=9", headers=auth).status_code == 404
    assert registry.get("/v1/prompts/known?label=staging", headers=auth).status_code == 404
    assert registry.get("/v1/prompts/known", headers=bearer(keys["other_tenant"])).status_code == 404
    assert registry.put("/v1/prompts/known/labels/staging", json={"version": 5}, headers=auth).status_code == 404
    missing = registry.post("/v1/prompts/known/render", json={"variables": {"product": 3}}, headers=auth)
    assert missing.status_code == 422
    assert missing.json()["error"]["detail"]["missing"] == ["question"]
    assert "product" in missing.json()["error"]["detail"]["mistyped"]
    no_key = registry.get("/v1/prompts/known")
    assert no_key.status_code == 401
    assert no_key.json()["error"]["code"] == "unauthorized"
    assert registry.get("/v1/prompts/known", headers=bearer("llmops_nope_nope")).status_code == 401


def test_a_body_over_the_cap_is_refused(settings: PlatformSettings, tmp_path: Path, keys: dict[str, str]) -> None:
    with registry_client(settings, tmp_path / "small", prompt_max_body_bytes=2048) as registry:
        response = registry.post(
            "/v1/prompts/big/versions",
            json=version_body(commit_message="y" * 1900, messages=[{"role": "user", "content": "z" * 2000}]),
            headers=bearer(keys["writer"]),
        )

    assert response.status_code == 413
    assert response.json()["error"]["detail"] == {"limit_bytes": 2048}
