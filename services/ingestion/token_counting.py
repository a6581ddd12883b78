"""The tokenizer that dataset profiles count lengths with: a setting, `LLMOPS_INGEST_PROFILE_TOKENIZER`.

- `words` (the default): words and punctuation marks, the pre-tokenisation BERT-style tokenizers do
  before they cut words into pieces. No file, no download, no extra dependency; subword tokenizers
  give more tokens (about 1.3 per English word for WordPiece).
- a path to a `tokenizer.json` (the Hugging Face `tokenizers` format, as every model on the Hub ships
  one): the model's own token counts, without special tokens. Needs the `tokenizers` package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from llmops_common.errors import PermanentError

WORDS = "words"
_WORD_OR_MARK = re.compile(r"\w+|[^\w\s]")


class TokenCounter(Protocol):
    """Counts the tokens of texts."""

    name: str
    """What the profile names as its tokenizer."""

    def count(self, texts: Sequence[str]) -> list[int]:
        """The number of tokens of each text."""
        ...


class WordTokenCounter:
    """Words and punctuation marks: `"Don't!"` is `Don ' t !`, four tokens."""

    name = WORDS

    def count(self, texts: Sequence[str]) -> list[int]:
        """The number of words and marks in each text."""
        return [len(_WORD_OR_MARK.findall(text)) for text in texts]


class HuggingFaceTokenCounter:
    """A `tokenizers` tokenizer loaded from its `tokenizer.json`."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer  # only this option needs the package

        self._tokenizer = Tokenizer.from_file(str(path))
        self.name = f"tokenizer.json:{path.parent.name or path.name}"

    def count(self, texts: Sequence[str]) -> list[int]:
        """The number of tokens of each text, special tokens left out."""
        return [len(encoding.ids) for encoding in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]


class TokenizerSettingError(PermanentError):
    """The profile tokenizer setting names neither `words` nor a readable `tokenizer.json`."""

    code = "invalid_tokenizer"


def open_token_counter(setting: str) -> TokenCounter:
    """The counter a setting names: `words`, or the path of a `tokenizer.json` (or of its folder)."""
    if setting == WORDS:
        return WordTokenCounter()
    path = Path(setting).expanduser()
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise TokenizerSettingError(f"profile tokenizer {setting!r} is neither {WORDS!r} nor a tokenizer.json file")
    try:
        return HuggingFaceTokenCounter(path)
    except ModuleNotFoundError as error:
        raise TokenizerSettingError(
            "a tokenizer.json needs the `tokenizers` package: pip install tokenizers"
        ) from error
