"""The distributed job's last step on rank 0: the adapter's model card, the adapter in the artifact store,
and the result file that names it.

The store is the one `LLMOPS_ARTIFACT_URL` names (`<LLMOPS_DATA_DIR>/artifacts` when unset), as for every
service, so a ref the job writes is one the evaluator and the model servers of the same platform can read.
"""

from __future__ import annotations

from pathlib import Path

from llmops_common.events.base import ArtifactRef
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import ArtifactStore, open_artifact_store
from llmops_common.storage.errors import StoreUnavailableError

from .hyperparameters import parse_hyperparameters
from .lora_run import RunResult
from .model_card import render_model_card
from .run_files import RunSpecDocument, write_result


def open_upload_store(settings: PlatformSettings) -> ArtifactStore:
    """The artifact store the settings name, checked to be reachable and writable now.

    Called before training: a store that cannot take the adapter (a wrong URL, missing credentials)
    then fails the job in seconds rather than after its last step.
    """
    store = open_artifact_store(settings)
    if not store.ping():
        where = settings.artifact_url or str(settings.data_dir / "artifacts")
        raise StoreUnavailableError(
            f"the artifact store {where} cannot be reached or written: fix LLMOPS_ARTIFACT_URL, "
            "LLMOPS_S3_ENDPOINT_URL or the credentials, or pass --no-upload to keep the adapter on disk only"
        )
    return store


def finish_run(
    document: RunSpecDocument, result: RunResult, result_path: Path, store: ArtifactStore | None
) -> ArtifactRef | None:
    """Writes the model card into the adapter folder, stores the folder in `store` (unless None) and
    writes the result, which names the stored artifact; returns that artifact.

    The result file is written even when the upload fails (which then raises, failing the job), so the
    run's numbers still lie beside the adapter on disk.
    """
    if not document.full_fine_tune:  # a full fine-tune (a benchmark's) made a model, not the adapter a card describes
        (result.adapter_dir / "README.md").write_text(model_card(document, result))
    adapter = None
    try:
        if store is not None:
            adapter = store.put_folder(result.adapter_dir)
    finally:
        write_result(result, result_path, adapter)
    return adapter


def model_card(document: RunSpecDocument, result: RunResult) -> str:
    """The card of the adapter a spec's run made; without a model name in the spec, the job id names it."""
    return render_model_card(
        job_id=document.job_id,
        model_name=document.model_name or document.job_id,
        base_model=document.base_model,
        dataset=document.dataset,
        hyperparameters=parse_hyperparameters(document.hyperparameters),
        result=result,
    )
