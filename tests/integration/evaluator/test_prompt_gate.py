"""Prompts are gated like models, on the real broker with the tiny model and a real prompt registry.

A version moved to `staging` is scored against the `production` version on the eval set `prompt-<name>`:
the staged version that serves the prompt on a fine-tuned model passes, once, whatever copies of the
move arrive. A prompt without an eval set fails with the reason, one without a production version is
reported alone, and a move made before the evaluator was first deployed is history, not evaluated.

The tiny model follows no instruction, so no wording alone makes its answers better; the staged version
that wins keeps the template and names, in `parameters.model`, a deployed model whose production adapter
learned the task: that is the prompt change whose gain the tiny model can show.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from llmops_common.dataset_rows import read_dataset_rows
from llmops_common.events import DatasetSealedV1, EvalCompletedV1, ModelPromotedV1, PromptLabelMovedV1
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import ArtifactStore, open_artifact_store
from llmops_common.topics import EVAL_COMPLETED, PROMPTS
from services.evaluator.app import Deps, create_app
from services.evaluator.gate import GatePolicy
from services.evaluator.settings import ModelEvalPolicy, Settings
from services.ingestion.datasets import Example
from services.trainer.hyperparameters import LoraHyperparameters
from services.trainer.lora_run import RunSpec, run_lora_training
from tests.support.prompt_registry import bearer, publish_api_key, registry_client
from tests.support.topic_reader import eventually, read_matching
from tests.support.training_data import seal_examples, ticket_examples

QUESTION_PROMPT: dict[str, Any] = {
    "kind": "chat",
    "messages": [{"role": "user", "content": "{{ question }}"}],
    "variables": [{"name": "question"}],
}


@contextmanager
def running_evaluator(
    settings: PlatformSettings, tiny_model: Path, policies: dict[str, ModelEvalPolicy]
) -> Iterator[Deps]:
    """The evaluator app, started and stopped; its deps, to see what its dataset index holds."""
    app_settings = Settings(
        **{**settings.model_dump(), "base_model": str(tiny_model)}, eval_policies=policies, eval_max_new_tokens=24
    )
    with TestClient(create_app(app_settings)) as client:
        yield client.app_state["deps"]


def eval_set(count: int, seed: int) -> list[Example]:
    """Ticket questions whose metadata holds the template's variable, and one row that has none."""
    rows = [dataclasses.replace(e, metadata=(("question", e.prompt),)) for e in ticket_examples(count, seed)]
    unrenderable = Example("no-variables", "tests", "Which ticket is mine?", "I cannot tell without an order.", None)
    return [*rows, unrenderable]


async def publish_eval_set(
    settings: PlatformSettings, deps: Deps, examples: list[Example], tenant: str, name: str
) -> DatasetSealedV1:
    """Seals the eval set, publishes it as ingestion does, and waits until the evaluator has indexed it."""
    sealed = seal_examples(open_artifact_store(settings), examples, tenant=tenant, name=name)
    await publish_once(settings, sealed, source="ingestion")
    await eventually(lambda: deps.datasets.find(tenant, name, "latest") is not None, timeout=60)
    return sealed


async def eval_results(
    settings: PlatformSettings, tenant: str, prompt: str, count: int, timeout: float = 240
) -> list[EvalCompletedV1]:
    """The first `count` prompt evaluations published for this tenant's prompt."""

    def matches(value: bytes) -> bool:
        body = json.loads(value)
        return bool(body["tenant"] == tenant and body.get("prompt_name") == prompt)

    records = await read_matching(
        settings.kafka_bootstrap, EVAL_COMPLETED.name, lambda r: matches(r.value), count, timeout
    )
    return [EvalCompletedV1.model_validate_json(record.value) for record in records]


async def staging_move(settings: PlatformSettings, tenant: str, prompt: str) -> PromptLabelMovedV1:
    """The move of `staging` the registry logged for this prompt."""
    prefix = f"{tenant}/{prompt}/l/staging/".encode()
    [record] = await read_matching(
        settings.kafka_bootstrap, PROMPTS.name, lambda r: (r.key or b"").startswith(prefix), 1, 30
    )
    return PromptLabelMovedV1.model_validate_json(record.value)


def trained_adapter(artifacts: ArtifactStore, tiny_model: Path, work: Path) -> Path:
    """A LoRA adapter that learned the ticket task (the evaluator's own adapter test trains it so)."""
    sealed = seal_examples(artifacts, ticket_examples(120), tenant="trainer", name="tickets")
    rows = read_dataset_rows(artifacts.get_bytes(sealed.artifact))
    spec = RunSpec(
        job_id="ticket",
        base_model=tiny_model,
        train_rows=[row for row in rows if row["split"] == "train"],
        eval_rows=[],
        hyperparameters=LoraHyperparameters(max_steps=60, learning_rate=0.003, batch_size=8, dropout=0.0),
        work_dir=work,
        checkpoint_every_steps=1000,
    )
    return run_lora_training(spec).adapter_dir


@pytest.mark.timeout(900)
async def test_a_staged_version_on_the_fine_tuned_model_passes_against_production_once(
    settings: PlatformSettings, tiny_model: Path, unique: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tenant, model_name, prompt = f"t-{unique}", f"support-{unique}", "support-answer"
    artifacts = open_artifact_store(settings)
    adapter = artifacts.put_folder(trained_adapter(artifacts, tiny_model, tmp_path / "train"))
    promoted = ModelPromotedV1(
        model_name=model_name,
        changed_by="tests",
        changed_at=datetime.now(UTC),
        base_model=tiny_model.name,
        adapter_version="lora-ticket",
        adapter=adapter,
    )
    await publish_once(settings, promoted, source="tests")
    admin = bearer(await publish_api_key(settings, tenant, "admin"))
    policies = {model_name: ModelEvalPolicy(gate=GatePolicy(min_examples=8))}
    with (
        registry_client(settings, tmp_path / "registry") as registry,
        running_evaluator(settings, tiny_model, policies) as deps,
        caplog.at_level(logging.INFO, logger="services.evaluator.prompt_gate"),
    ):
        sealed = await publish_eval_set(settings, deps, eval_set(16, seed=11), tenant, f"prompt-{prompt}")
        for body in (QUESTION_PROMPT, {**QUESTION_PROMPT, "parameters": {"model": model_name}}):
            assert registry.post(f"/v1/prompts/{prompt}/versions", json=body, headers=admin).status_code == 201
        for label, version in (("production", 1), ("staging", 2)):
            moved = registry.put(f"/v1/prompts/{prompt}/labels/{label}", json={"version": version}, headers=admin)
            assert moved.status_code == 200, moved.text

        # A second copy of the move (a producer's retry), logged while the first is scored or after it:
        # one evaluation, whose result is published for each copy.
        move = await staging_move(settings, tenant, prompt)
        await publish_once(settings, move, source="prompt_registry")

        result, again = await eval_results(settings, tenant, prompt, 2)
        assert again == result
        assert result.eval_id == f"eval-prompt-{tenant}-{prompt}-v2-{move.change_id}"
        assert (result.subject, result.prompt_name, result.prompt_version) == ("prompt", prompt, 2)
        assert (result.model_name, result.adapter_version, result.baseline_adapter_version) == (
            model_name,
            "lora-ticket",
            None,
        )
        assert (result.dataset, result.dataset_version, result.examples) == (f"prompt-{prompt}", sealed.version, 16)
        assert result.gate_passed, result.gate_reasons
        assert result.gate_reasons[:3] == [
            f"prompt {prompt} v2 against v1, v2 on model {model_name} (adapter lora-ticket), "
            f"v1 on model {tiny_model.name} (the base model, no adapter), "
            f"over 16 examples of prompt-{prompt}@{sealed.version[:12]}",
            f"1 row of prompt-{prompt} left out, not scorable by every version "
            "(first: no-variables: variables do not fit the prompt: missing question)",
            "16 examples, the gate needs 8: pass",
        ]
        assert result.primary_metric == "token_f1"
        assert result.deltas["token_f1"].low > 0
        assert result.metrics["token_f1"] > result.baseline_metrics["token_f1"]
        assert result.deltas["perplexity"].high < 0
        assert result.report is not None
        assert result.report_chart is not None
        assert artifacts.get_bytes(result.report_chart).startswith(b"\x89PNG")
        report = artifacts.get_bytes(result.report).decode()
        assert f"# Evaluation of prompt {prompt}: {result.eval_id}" in report
        assert "| candidate | `v2` |" in report
        assert "| baseline (production) | `v1` |" in report

    assert [record.message for record in caplog.records].count("prompt evaluated") == 1


@pytest.mark.timeout(600)
async def test_history_is_passed_over_and_a_prompt_without_eval_set_or_production_says_why(
    settings: PlatformSettings, tiny_model: Path, unique: str, tmp_path: Path
) -> None:
    tenant = f"t-{unique}"
    admin = bearer(await publish_api_key(settings, tenant, "admin"))
    with registry_client(settings, tmp_path / "registry") as registry:

        def stage(prompt: str, body: dict[str, Any], labels: tuple[str, ...]) -> None:
            assert registry.post(f"/v1/prompts/{prompt}/versions", json=body, headers=admin).status_code == 201
            for label in labels:
                moved = registry.put(f"/v1/prompts/{prompt}/labels/{label}", json={"version": 1}, headers=admin)
                assert moved.status_code == 200, moved.text

        # Moved before the evaluator's first start: history, though it has no eval set either.
        stage("old-prompt", QUESTION_PROMPT, ("staging",))
        with running_evaluator(settings, tiny_model, {}) as deps:
            await publish_eval_set(settings, deps, eval_set(4, seed=5), tenant, "prompt-faq")
            stage("undocumented", QUESTION_PROMPT, ("production", "staging"))
            stage(
                "faq",
                {"kind": "text", "template": "Q: {{ question }}\nA:", "variables": [{"name": "question"}]},
                ("staging",),
            )

            [undocumented] = await eval_results(settings, tenant, "undocumented", 1)
            [faq] = await eval_results(settings, tenant, "faq", 1)

    move = await staging_move(settings, tenant, "undocumented")
    assert undocumented.model_dump(exclude={"report"}) == EvalCompletedV1(
        eval_id=f"eval-prompt-{tenant}-undocumented-v1-{move.change_id}",
        tenant=tenant,
        model_name=tiny_model.name,
        dataset="prompt-undocumented",
        dataset_version="",
        metrics={},
        gate_passed=False,
        gate_reasons=[f"no eval set: dataset prompt-undocumented of tenant {tenant} has no sealed version"],
        subject="prompt",
        primary_metric="token_f1",
        examples=0,
        prompt_name="undocumented",
        prompt_version=1,
    ).model_dump(exclude={"report"})
    assert undocumented.report is not None

    assert (faq.gate_passed, faq.examples, faq.deltas, faq.baseline_metrics) == (False, 4, {}, {})
    assert faq.gate_reasons[1:] == [
        "1 row of prompt-faq left out, not scorable by every version "
        "(first: no-variables: variables do not fit the prompt: missing question)",
        "no baseline: prompt faq has no version labelled production; v1 is reported alone, "
        "with nothing to gate against: fail",
    ]
    assert set(faq.metrics) >= {"token_f1", "rougeL", "exact_match", "perplexity"}
    # The topic has one partition, read in order: the older move was passed over before these were scored.
    assert await eval_results(settings, tenant, "old-prompt", 1, timeout=3) == []
