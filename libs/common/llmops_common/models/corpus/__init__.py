"""The text corpus shipped with the platform, which the default base model is pre-trained on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CORPUS_PATH = Path(__file__).with_name("support_corpus.jsonl")


@dataclass(frozen=True)
class CorpusDocument:
    """Prose (`text`) or a conversation (`messages`, chat roles and contents); exactly one is set."""

    text: str | None = None
    messages: tuple[dict[str, str], ...] | None = None


def load_corpus(path: Path = CORPUS_PATH) -> list[CorpusDocument]:
    """Every document of the corpus, in file order."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "messages" in record:
            out.append(CorpusDocument(messages=tuple(record["messages"])))
        else:
            out.append(CorpusDocument(text=record["text"]))
    return out
