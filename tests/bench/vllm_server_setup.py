"""What the vLLM server benchmark serves: the tiny model, three LoRA adapters, an API key, a registry
prompt, and the adapters deployed as models through `llmops.models.lifecycle` on the real broker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from llmops_common.events import ModelPromotedV1
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from tests.bench.bench_model_server import MODEL_CACHE
from tests.support.prompt_registry import bearer, publish_api_key, registry_client
from tests.support.tiny_models import make_lora_adapter, tiny_model_folder

MODEL_NAME = "bench-tiny"
DEPLOYED_MODELS = ("bench-support", "bench-sales", "bench-billing")
PROMPT_NAME = "bench-question"
# A prompt that renders to exactly the one user message that vLLM's server is sent.
PROMPT = {
    "kind": "chat",
    "messages": [{"role": "user", "content": "{{ question }}"}],
    "variables": [{"name": "question", "type": "string"}],
    "commit_message": "benchmark prompt",
}


@dataclass(frozen=True)
class BenchSetup:
    """The model, the adapters by deployed model name, our server's data folder and an API key."""

    model: Path
    adapters: dict[str, Path]
    data_dir: Path
    key: str


def cached_adapters(model: Path) -> list[Path]:
    """Three different LoRA adapters for `model`, built once beside it."""
    folders = [MODEL_CACHE / f"{model.name}-adapters" / str(seed) for seed in (1, 2, 3)]
    for seed, folder in enumerate(folders, start=1):
        if not (folder / "adapter_config.json").exists():
            make_lora_adapter(model, folder, seed=seed)
    return folders


async def prepare_setup(bootstrap: str, scratch: Path) -> BenchSetup:
    """Builds (or finds) model and adapters, and publishes key, prompt and deployments to `bootstrap`."""
    model = tiny_model_folder(MODEL_CACHE)
    adapters = dict(zip(DEPLOYED_MODELS, cached_adapters(model), strict=True))
    settings = PlatformSettings(kafka_bootstrap=bootstrap, data_dir=scratch / "server")
    key = await publish_api_key(settings, "bench", "inference", "prompts")
    with registry_client(settings, scratch / "registry") as registry:
        created = registry.post(f"/v1/prompts/{PROMPT_NAME}/versions", json=PROMPT, headers=bearer(key))
        created.raise_for_status()
    store = open_artifact_store(settings)
    for name, adapter in adapters.items():
        event = ModelPromotedV1(
            model_name=name,
            base_model=MODEL_NAME,
            adapter_version="v1",
            adapter=store.put_folder(adapter),
            changed_by="bench",
            changed_at=datetime.now(UTC),
        )
        await publish_once(settings, event, source="bench")
    return BenchSetup(model, adapters, settings.data_dir, key)
