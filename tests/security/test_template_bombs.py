"""Templates that are small to save but huge or slow to render are refused at render, with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from llmops_common.events.prompts import PromptVariable
from llmops_common.prompts.templates import RenderError, check_prompt, compile_prompt
from llmops_common.settings import PlatformSettings
from tests.support.prompt_registry import bearer, publish_api_key, registry_client

BOMBS = {
    "percent_width": ("{{ '%50000000d' % 1 }}", "would pass 1000000 characters"),
    "center": ("{{ ''|center(50000000) }}", "would pass 1000000 characters"),
    "indent": ("{{ 'x'|indent(50000000, true) }}", "would pass 1000000 characters"),
    "power": ("{{ ((10**1000)**1000)**10 }}", "integer would pass 65536 bits"),
    "nested_loops": (
        "{% for a in 'x' * 1000 %}{% for b in 'x' * 1000 %}{% endfor %}{% endfor %}",
        "passed 100000 loop iterations",
    ),
    "output": ("{{ 'x' * 100000 }}{{ 'x' * 100000 }}{{ 'x' * 100000 }}", "passed 262144 output characters"),
}


@pytest.mark.parametrize(("template", "reason"), BOMBS.values(), ids=BOMBS.keys())
def test_a_bomb_is_refused_by_the_renderer(template: str, reason: str) -> None:
    check_prompt("text", template, None, [], max_chars=1000)  # each bomb is a valid, small template
    with pytest.raises(RenderError, match=reason) as refused:
        compile_prompt("text", template, None, []).render({})
    assert refused.value.detail == {"problem": str(refused.value)}


def test_a_normal_template_still_renders() -> None:
    template = "{% for i in items %}{{ loop.index }}. {{ i ~ '!' }}\n{% endfor %}{{ '%3d' % 7 }}|{{ 'ok'|center(6) }}"
    rendered = compile_prompt("text", template, None, [PromptVariable(name="items", type="array")]).render(
        {"items": ["a", "b"]}
    )
    assert rendered.text == "1. a!\n2. b!\n  7|  ok  "


@pytest.fixture
async def api_key(settings: PlatformSettings, unique: str) -> str:
    return await publish_api_key(settings, f"bomb-{unique}", "prompts")


@pytest.fixture
def registry(settings: PlatformSettings, tmp_path: Path, api_key: str) -> Iterator[TestClient]:
    with registry_client(settings, tmp_path / "registry") as client:
        yield client


def test_the_registry_preview_refuses_bombs_with_422(registry: TestClient, api_key: str) -> None:
    auth = bearer(api_key)
    for name, (template, reason) in BOMBS.items():
        body = {"kind": "text", "template": template, "variables": [], "commit_message": "bomb"}
        assert registry.post(f"/v1/prompts/{name}/versions", json=body, headers=auth).status_code == 201, name
        response = registry.post(f"/v1/prompts/{name}/render", json={"variables": {}}, headers=auth)
        assert response.status_code == 422, name
        assert reason in response.json()["error"]["message"], name
