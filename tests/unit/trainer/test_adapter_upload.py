"""The distributed job's last step: the card goes into the adapter folder, the folder into the artifact
store, and the result names the artifact; a store that cannot take it fails before training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

import pytest
import yaml

from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import ArtifactStore, open_artifact_store
from llmops_common.storage.errors import StoreUnavailableError
from llmops_common.storage.local_blobs import LocalBlobs
from services.trainer.adapter_upload import finish_run, open_upload_store
from services.trainer.lora_run import RunResult
from services.trainer.run_files import RunSpecDocument, read_result, read_stored_adapter

ADAPTER_FILES = {"adapter_config.json": b'{"r": 4}', "adapter_model.safetensors": b"\x00" * 64}


def trained(tmp_path: Path) -> RunResult:
    """A run's result whose adapter folder holds what PEFT saves (placeholder bytes: nothing loads them)."""
    adapter_dir = tmp_path / "work" / "adapter"
    adapter_dir.mkdir(parents=True)
    for name, data in ADAPTER_FILES.items():
        (adapter_dir / name).write_bytes(data)
    return RunResult(
        adapter_dir=adapter_dir,
        steps=6,
        train_loss=1.5,
        eval_loss=1.25,
        tokens_trained=1200,
        tokens_per_second=300.0,
        duration_seconds=4.0,
        loss_curve=[(step, 2.0 - step / 10) for step in range(1, 7)],
    )


def document(**names: str) -> RunSpecDocument:
    return RunSpecDocument(
        job_id="job-ddp",
        base_model="/models/base",
        train_rows=[],
        hyperparameters={"r": 4, "max_steps": 6},
        work_dir="/job/out/work",
        **names,
    )


def local_store(tmp_path: Path) -> ArtifactStore:
    return open_artifact_store(PlatformSettings(artifact_url=(tmp_path / "store").as_uri()))


def test_the_adapter_is_stored_with_its_card_and_the_result_names_it(tmp_path: Path) -> None:
    result, store = trained(tmp_path), local_store(tmp_path)
    ref = finish_run(
        document(model_name="support-assistant", dataset="support-faq@v3"), result, tmp_path / "result.json", store
    )

    assert ref is not None
    assert read_stored_adapter(tmp_path / "result.json") == ref
    assert read_result(tmp_path / "result.json") == result
    assert ref.uri == (tmp_path / "store" / "sha256" / ref.sha256[:2] / ref.sha256).as_uri()
    unpacked = store.fetch_folder(ref, tmp_path / "unpacked")
    assert sorted(path.name for path in unpacked.iterdir()) == [
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    for name, data in ADAPTER_FILES.items():
        assert (unpacked / name).read_bytes() == data
    card = (unpacked / "README.md").read_text()
    assert card == (result.adapter_dir / "README.md").read_text()
    front = yaml.safe_load(card.removeprefix("---\n").split("\n---\n", 1)[0])
    assert front["base_model"] == "/models/base"
    assert front["datasets"] == ["support-faq@v3"]
    assert (front["llmops"]["job_id"], front["llmops"]["model_name"]) == ("job-ddp", "support-assistant")
    assert front["llmops"]["hyperparameters"]["r"] == 4


def test_without_a_store_the_card_is_written_and_the_result_names_no_artifact(tmp_path: Path) -> None:
    result = trained(tmp_path)
    assert finish_run(document(), result, tmp_path / "result.json", None) is None

    assert read_stored_adapter(tmp_path / "result.json") is None
    assert "adapter" not in json.loads((tmp_path / "result.json").read_text())
    # Without a model name in the spec, the job id names the adapter.
    assert (result.adapter_dir / "README.md").read_text().count("# job-ddp: LoRA adapter from job job-ddp") == 1


class FullDisk(LocalBlobs):
    """A local store whose writes fail as a full disk's would."""

    def write(self, key: str, source: BinaryIO) -> None:
        raise OSError(28, "No space left on device")


def test_a_failed_upload_fails_the_run_but_leaves_the_result_on_disk(tmp_path: Path) -> None:
    result = trained(tmp_path)
    with pytest.raises(OSError, match="No space left"):
        finish_run(document(), result, tmp_path / "result.json", ArtifactStore(FullDisk(tmp_path / "store")))
    assert read_result(tmp_path / "result.json") == result
    assert read_stored_adapter(tmp_path / "result.json") is None


def test_without_an_artifact_url_the_store_is_the_data_folders(tmp_path: Path) -> None:
    store = open_upload_store(PlatformSettings(data_dir=tmp_path / "data", artifact_url=None))
    ref = store.put_bytes(b"adapter")
    assert ref.uri.startswith((tmp_path / "data" / "artifacts").as_uri() + "/")


def test_an_unreachable_store_is_refused_before_training(monkeypatch: pytest.MonkeyPatch) -> None:
    # Credentials so that boto3 gets as far as the network, and one attempt: the port refuses at once.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    settings = PlatformSettings(artifact_url="s3://llmops-artifacts", s3_endpoint_url="http://127.0.0.1:9")
    with pytest.raises(StoreUnavailableError, match=r"s3://llmops-artifacts cannot be reached.*--no-upload"):
        open_upload_store(settings)
