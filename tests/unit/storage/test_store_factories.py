"""Which backend each store factory picks from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.storage.errors import StoreConfigError
from llmops_common.storage.local_blobs import LocalBlobs
from llmops_common.storage.s3_blobs import S3Blobs


def settings_with(tmp_path: Path, **values: object) -> PlatformSettings:
    return PlatformSettings(data_dir=tmp_path / "data", artifact_url=None).model_copy(update=values)


def test_without_an_artifact_url_artifacts_go_under_the_data_folder(tmp_path: Path) -> None:
    store = open_artifact_store(settings_with(tmp_path))
    assert isinstance(store.backend, LocalBlobs)
    assert store.backend.root == (tmp_path / "data" / "artifacts").resolve()


def test_a_file_url_names_the_artifact_folder(tmp_path: Path) -> None:
    folder = tmp_path / "with space"
    store = open_artifact_store(settings_with(tmp_path, artifact_url=folder.as_uri()))
    assert isinstance(store.backend, LocalBlobs)
    assert store.backend.root == folder.resolve()
    assert store.backend.uri_of("k") == (folder / "k").resolve().as_uri()


def test_an_s3_url_names_bucket_and_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = open_artifact_store(
        settings_with(tmp_path, artifact_url="s3://models/team/a/", s3_endpoint_url="http://127.0.0.1:9000")
    )
    assert isinstance(store.backend, S3Blobs)
    assert store.backend.uri_of("sha256/ab/abc") == "s3://models/team/a/sha256/ab/abc"


@pytest.mark.parametrize("url", ["ftp://host/x", "s3:///no-bucket", "file://otherhost/x", "relative/path"])
def test_other_artifact_urls_are_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(StoreConfigError, match="neither s3://bucket/prefix nor file:///path"):
        open_artifact_store(settings_with(tmp_path, artifact_url=url))
