"""Drives the closed loop on a running platform, as product apps and the platform itself would: corrections
in, a better model served out. The end-to-end test asserts on what it records; the benchmark times it.

1. A model is deployed (the bare base model) and answers questions through the openai SDK.
2. Corrections for its answers go to the feedback collector; ingestion seals `feedback-<model>`.
3. Auto-retrain asks for a job, the trainer trains, the evaluator gates and starts a canary.
4. Live traffic is split between the arms while the monitor judges the canary, then promotes it.
5. The server serves the new adapter; its answers are compared with those from before.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from aiokafka import ConsumerRecord
from openai import AsyncOpenAI

from llmops_common.events import (
    DatasetSealedV1,
    EvalCompletedV1,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    TrainingCompletedV1,
    TrainingRequestedV1,
)
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.topics import DATA_DATASETS, EVAL_COMPLETED, MODELS_LIFECYCLE, TRAINING_COMPLETED, TRAINING_REQUESTS
from services.evaluator.metrics import token_f1
from services.ingestion.datasets import Example
from tests.support.platform_run import RunningPlatform
from tests.support.topic_reader import read_matching
from tests.support.training_data import ticket_examples

MODEL = "support-assistant"
BASE_MODEL_NAME = "tiny-base"
CORRECTIONS = 100
MAX_TOKENS = 32


def loop_settings() -> dict[str, str]:
    """The settings the loop runs with: a small policy so that 100 corrections make one quick job, and a
    monitor that checks the canary every 2 s once both arms have 10 requests."""
    return {
        "base_model_name": BASE_MODEL_NAME,
        "text_capture": "full",
        "ingest_seal_max_pending_examples": str(CORRECTIONS),
        "ingest_seal_check_seconds": "1",
        "retrain_policies": (
            f'{{"{MODEL}": {{"tenant": "dev", "min_new_examples": {CORRECTIONS}, "hyperparameters": '
            '{"max_steps": 80, "learning_rate": 0.003, "batch_size": 8, "dropout": 0.0}}}'
        ),
        "eval_policies": f'{{"{MODEL}": {{"gate": {{"min_examples": 5}}, "canary_percent": 50}}}}',
        "eval_max_new_tokens": str(MAX_TOKENS),
        "canary_check_seconds": "2",
        "canary_min_requests": "10",
        # The arms share one engine on a busy 2-core machine; latency noise there is no regression.
        "canary_max_latency_ratio": "3",
    }


@dataclass
class Traffic:
    """What live traffic saw while the canary ran and was promoted."""

    statuses: Counter[int] = field(default_factory=Counter)
    arms: Counter[str] = field(default_factory=Counter)
    adapters: Counter[str] = field(default_factory=Counter)
    last_adapter: str | None = None


@dataclass
class LoopRecord:
    """Everything the loop observed, and when (seconds since the first correction)."""

    marks: dict[str, float] = field(default_factory=dict)
    sealed: DatasetSealedV1 | None = None
    request: TrainingRequestedV1 | None = None
    completed: TrainingCompletedV1 | None = None
    evaluation: EvalCompletedV1 | None = None
    canary: ModelCanaryStartedV1 | None = None
    promoted: ModelPromotedV1 | None = None
    traffic: Traffic = field(default_factory=Traffic)
    f1_before: float = 0.0
    f1_after: float = 0.0


class ClosedLoop:
    """One run of the loop against a platform started by `running_platform`."""

    def __init__(self, platform: RunningPlatform) -> None:
        self._platform = platform
        self._token = platform.dev_token()
        self._openai = AsyncOpenAI(base_url=f"{platform.url('model_server')}/v1", api_key=self._token, max_retries=0)
        self._http = httpx.AsyncClient(headers={"Authorization": f"Bearer {self._token}"}, timeout=60)
        self._settings = PlatformSettings(kafka_bootstrap=platform.kafka_bootstrap)
        self.record = LoopRecord()
        self._started = 0.0

    async def run(self, timeout: float = 600.0) -> LoopRecord:
        """Runs every stage; each waits at most until `timeout` seconds after the first correction."""
        try:
            await self._deploy()
            teaching = ticket_examples(CORRECTIONS, seed=7)
            unseen = ticket_examples(12, seed=99)
            before = await self._answers(unseen)
            self._started = time.monotonic()
            await self._correct(teaching)
            await self._await_training(timeout)
            await self._await_promotion(timeout)
            self.record.f1_after = _mean_f1(await self._answers(unseen), unseen)
            self.record.f1_before = _mean_f1(before, unseen)
            return self.record
        finally:
            await self._http.aclose()
            await self._openai.close()

    def _mark(self, stage: str) -> None:
        self.record.marks[stage] = time.monotonic() - self._started

    async def _deploy(self) -> None:
        deployed = ModelPromotedV1(
            model_name=MODEL, changed_by="test", changed_at=datetime.now(UTC), base_model=BASE_MODEL_NAME
        )
        await publish_once(self._settings, deployed, source="test")

        async def listed() -> bool:
            models = await self._http.get(f"{self._platform.url('model_server')}/v1/models")
            return MODEL in {entry["id"] for entry in models.json()["data"]}

        await _until(listed, 60)

    async def _answers(self, examples: list[Example]) -> list[tuple[str, str]]:
        """(answer, request id) per example, greedy, one after another."""
        answered = []
        for index, example in enumerate(examples):
            raw = await self._openai.chat.completions.with_raw_response.create(
                model=MODEL,
                messages=[{"role": "user", "content": example.prompt or ""}],
                max_tokens=MAX_TOKENS,
                temperature=0,
                user=f"asker-{index}",
            )
            answered.append((raw.parse().choices[0].message.content or "", raw.headers["x-request-id"]))
        return answered

    async def _correct(self, examples: list[Example]) -> None:
        answered = await self._answers(examples)
        self._mark("answered")
        for example, (_, request_id) in zip(examples, answered, strict=True):
            feedback = {"request_id": request_id, "score_kind": "thumbs", "score": -1, "correction": example.completion}
            response = await self._http.post(f"{self._platform.url('feedback_collector')}/v1/feedback", json=feedback)
            assert response.status_code == 202, response.text
            assert response.json()["correction_outcome"] == "example_published", response.text
        self._mark("corrected")

    async def _await_training(self, timeout: float) -> None:
        self.record.sealed = DatasetSealedV1.model_validate_json(
            (
                await self._first(
                    DATA_DATASETS.name, lambda r: b"feedback-" + MODEL.encode() in (r.key or b""), timeout
                )
            ).value
        )
        self._mark("sealed")
        self.record.request = TrainingRequestedV1.model_validate_json(
            (await self._first(TRAINING_REQUESTS.name, _about_model, timeout)).value
        )
        self._mark("training_requested")
        self.record.completed = TrainingCompletedV1.model_validate_json(
            (await self._first(TRAINING_COMPLETED.name, _about_model, timeout)).value
        )
        self._mark("trained")
        self.record.evaluation = EvalCompletedV1.model_validate_json(
            (await self._first(EVAL_COMPLETED.name, _about_model, timeout)).value
        )
        self._mark("evaluated")

    async def _await_promotion(self, timeout: float) -> None:
        evaluation = self.record.evaluation
        assert evaluation is not None
        assert evaluation.gate_passed, f"the gate refused the candidate: {evaluation.gate_reasons}"
        stop = asyncio.Event()
        traffic = asyncio.create_task(self._live_traffic(stop))
        try:
            canary = await self._first(MODELS_LIFECYCLE.name, _lifecycle("llmops.model.canary.started.v1"), timeout)
            self.record.canary = ModelCanaryStartedV1.model_validate_json(canary.value)
            self._mark("canary_started")
            promoted = await self._first(MODELS_LIFECYCLE.name, _promoted_by_monitor, timeout)
            self.record.promoted = ModelPromotedV1.model_validate_json(promoted.value)
            self._mark("promoted")
            version = self.record.promoted.adapter_version
            deadline = time.monotonic() + 60
            while self.record.traffic.last_adapter != version:
                assert time.monotonic() < deadline, f"{version} not served 60 s after its promotion"
                await asyncio.sleep(0.2)
            self._mark("serving_promoted")
        finally:
            stop.set()
            await traffic

    async def _live_traffic(self, stop: asyncio.Event) -> None:
        """Users keep asking while the canary runs and is swapped in; every status and arm is counted."""
        url = f"{self._platform.url('model_server')}/v1/chat/completions"
        sent = 0
        while not stop.is_set():
            body = {
                "model": MODEL,
                "messages": [{"role": "user", "content": "Which ticket handles order 5150 for Atlas?"}],
                "max_tokens": 8,
                "temperature": 0,
                "user": f"user-{sent}",
            }
            sent += 1
            response = await self._http.post(url, json=body)
            self.record.traffic.statuses[response.status_code] += 1
            if response.status_code == 200:
                served = response.json()["served"]
                self.record.traffic.arms[served["canary_arm"] or "none"] += 1
                self.record.traffic.adapters[served["adapter_version"] or "base"] += 1
                self.record.traffic.last_adapter = served["adapter_version"]

    async def _first(
        self, topic: str, matches: Callable[[ConsumerRecord[bytes, bytes]], bool], timeout: float
    ) -> ConsumerRecord[bytes, bytes]:
        left = max(timeout - (time.monotonic() - self._started), 1.0)
        found = await read_matching(self._platform.kafka_bootstrap, topic, matches, 1, left)
        assert found, f"nothing on {topic} within the loop's {timeout:.0f} s; marks so far: {self.record.marks}"
        return found[0]


def _about_model(record: ConsumerRecord[bytes, bytes]) -> bool:
    return f'"model_name":"{MODEL}"'.encode() in record.value


def _lifecycle(event_type: str) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    def matches(record: ConsumerRecord[bytes, bytes]) -> bool:
        return ("ce_type", event_type.encode()) in record.headers and _about_model(record)

    return matches


def _promoted_by_monitor(record: ConsumerRecord[bytes, bytes]) -> bool:
    return _lifecycle("llmops.model.promoted.v1")(record) and b'"changed_by":"monitor"' in record.value


def _mean_f1(answered: list[tuple[str, str]], examples: list[Example]) -> float:
    scores = [
        token_f1(answer, example.completion or "") for (answer, _), example in zip(answered, examples, strict=True)
    ]
    return sum(scores) / len(scores)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"condition not met within {timeout:g}s"
        await asyncio.sleep(0.2)
