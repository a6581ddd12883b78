"""The artifact store on a local folder and on S3 (a moto server): same contract, same tests."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmops_common.errors import NotFoundError
from llmops_common.events.base import ArtifactRef
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import ArtifactStore, blob_key, open_artifact_store
from llmops_common.storage.errors import ArtifactIntegrityError, StoreUnavailableError


@dataclass
class ArtifactTarget:
    """A store under test, plus a look behind it: the keys stored and a way to overwrite one."""

    store: ArtifactStore
    stored_keys: Callable[[], list[str]]
    overwrite: Callable[[str, bytes], None]


def local_target(settings: PlatformSettings) -> ArtifactTarget:
    store = open_artifact_store(settings)
    root = settings.data_dir / "artifacts"

    def stored_keys() -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def overwrite(key: str, data: bytes) -> None:
        (root / key).chmod(0o644)
        (root / key).write_bytes(data)

    return ArtifactTarget(store, stored_keys, overwrite)


def s3_target(settings: PlatformSettings, endpoint: str, bucket: str, client: Any) -> ArtifactTarget:
    store = open_artifact_store(
        settings.model_copy(update={"artifact_url": f"s3://{bucket}/team-a/", "s3_endpoint_url": endpoint})
    )

    def stored_keys() -> list[str]:
        listing = client.list_objects_v2(Bucket=bucket, Prefix="team-a/")
        return sorted(item["Key"].removeprefix("team-a/") for item in listing.get("Contents", []))

    def overwrite(key: str, data: bytes) -> None:
        client.put_object(Bucket=bucket, Key=f"team-a/{key}", Body=data)

    return ArtifactTarget(store, stored_keys, overwrite)


@pytest.fixture(params=["local", "s3"])
def target(request: pytest.FixtureRequest, store_settings: PlatformSettings) -> Iterator[ArtifactTarget]:
    if request.param == "local":
        yield local_target(store_settings)
    else:
        bucket, client = request.getfixturevalue("s3_bucket")
        yield s3_target(store_settings, request.getfixturevalue("moto_endpoint"), bucket, client)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_bytes_round_trip_under_their_hash(target: ArtifactTarget) -> None:
    data = b"prompt template v3\n"

    ref = target.store.put_bytes(data)

    assert ref.sha256 == sha(data)
    assert ref.size_bytes == len(data)
    assert ref.uri.endswith(f"/sha256/{sha(data)[:2]}/{sha(data)}")
    assert target.store.get_bytes(ref) == data
    assert target.store.exists(ref)
    assert target.stored_keys() == [blob_key(sha(data))]


def test_identical_content_is_stored_once(target: ArtifactTarget, tmp_path: Path) -> None:
    data = os.urandom(4096)
    copy = tmp_path / "copy.bin"
    copy.write_bytes(data)

    refs = {target.store.put_bytes(data), target.store.put_bytes(data), target.store.put_file(copy)}

    assert len(refs) == 1
    assert target.stored_keys() == [blob_key(sha(data))]


def test_a_large_file_round_trips_to_a_path(target: ArtifactTarget, tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # more than one read chunk

    ref = target.store.put_file(source)
    fetched = target.store.fetch_file(ref, tmp_path / "out" / "weights.bin")

    assert ref.size_bytes == source.stat().st_size
    assert fetched.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in fetched.parent.iterdir()) == ["weights.bin"]


def test_a_folder_round_trips_and_the_same_folder_is_the_same_artifact(target: ArtifactTarget, tmp_path: Path) -> None:
    for name in ("first", "second"):
        (tmp_path / name / "tokenizer").mkdir(parents=True)
        (tmp_path / name / "adapter.safetensors").write_bytes(b"\x01" * 1000)
        (tmp_path / name / "tokenizer" / "vocab.json").write_text('{"a": 1}')

    ref = target.store.put_folder(tmp_path / "first")
    assert target.store.put_folder(tmp_path / "second") == ref

    fetched = target.store.fetch_folder(ref, tmp_path / "cache" / ref.sha256)
    assert (fetched / "adapter.safetensors").read_bytes() == b"\x01" * 1000
    assert (fetched / "tokenizer" / "vocab.json").read_text() == '{"a": 1}'
    assert sorted(p.name for p in fetched.parent.iterdir()) == [ref.sha256]
    with pytest.raises(FileExistsError):
        target.store.fetch_folder(ref, fetched)


def test_bytes_that_no_longer_match_their_hash_are_refused(target: ArtifactTarget, tmp_path: Path) -> None:
    ref = target.store.put_bytes(b"the real adapter")
    target.overwrite(blob_key(ref.sha256), b"a tampered adapter")
    destination = tmp_path / "out" / "adapter.bin"

    with pytest.raises(ArtifactIntegrityError, match=f"not the 16 bytes hashing to {ref.sha256}"):
        target.store.get_bytes(ref)
    with pytest.raises(ArtifactIntegrityError):
        target.store.fetch_file(ref, destination)
    assert list(destination.parent.iterdir()) == []  # neither the bad copy nor a temporary file


def test_a_reference_with_the_wrong_size_is_refused(target: ArtifactTarget) -> None:
    ref = target.store.put_bytes(b"twelve bytes")
    with pytest.raises(ArtifactIntegrityError):
        target.store.get_bytes(ref.model_copy(update={"size_bytes": 11}))


def test_a_missing_artifact_is_not_found(target: ArtifactTarget) -> None:
    absent = sha(b"never stored")
    ref = ArtifactRef(uri=target.store.backend.uri_of(blob_key(absent)), sha256=absent, size_bytes=12)

    assert not target.store.exists(ref)
    with pytest.raises(NotFoundError, match="no artifact at"):
        target.store.get_bytes(ref)


def test_a_reference_into_another_store_is_not_found(target: ArtifactTarget) -> None:
    ref = target.store.put_bytes(b"x")
    elsewhere = ref.model_copy(update={"uri": f"s3://other-bucket/{blob_key(ref.sha256)}"})

    with pytest.raises(NotFoundError, match="is not in this artifact store"):
        target.store.get_bytes(elsewhere)


class FailingStream(io.RawIOBase):
    """A source that breaks after handing out some bytes, like a connection dropped mid-upload."""

    def __init__(self) -> None:
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.sent >= 64 * 1024:
            raise OSError("source went away")
        buffer[:1024] = b"x" * 1024
        self.sent += 1024
        return 1024


def test_a_write_that_fails_midway_leaves_no_blob(target: ArtifactTarget) -> None:
    key = blob_key(sha(b"whatever"))
    with pytest.raises((OSError, StoreUnavailableError)):
        target.store.backend.write(key, io.BufferedReader(FailingStream()))

    assert not target.store.backend.exists(key)
    assert target.stored_keys() == []


def test_the_store_answers_its_readiness_check(target: ArtifactTarget) -> None:
    assert target.store.ping() is True


def test_local_artifacts_live_under_the_data_folder_and_are_readable_by_all(
    store_settings: PlatformSettings,
) -> None:
    ref = open_artifact_store(store_settings).put_bytes(b"shared")
    path = (store_settings.data_dir / "artifacts" / blob_key(ref.sha256)).resolve()

    assert ref.uri == path.as_uri()
    assert path.stat().st_mode & 0o777 == 0o644


def test_an_s3_bucket_that_does_not_exist_is_not_ready(
    store_settings: PlatformSettings, s3_bucket: tuple[str, Any], moto_endpoint: str
) -> None:
    store = open_artifact_store(
        store_settings.model_copy(update={"artifact_url": "s3://no-such-bucket", "s3_endpoint_url": moto_endpoint})
    )
    assert store.ping() is False
