"""The embedding model's tokenizer, read from the packaged model's files (no torch, no network)."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer

from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL, load_tokenizer, locate_model


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    """all-MiniLM-L6-v2's WordPiece tokenizer, with truncation and padding off."""
    return load_tokenizer(locate_model(DEFAULT_EMBEDDING_MODEL))
