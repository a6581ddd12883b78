"""Retrieval quality on the shipped QA set: recall@5 of 0.9 or more with hybrid search, real MiniLM model.

The set (tests/data/rag) is some fifty short documents of a fictional company's product, billing,
security and people docs, and forty-odd questions written apart from them, each with the doc_id
that answers it. A question counts as recalled when a chunk of that document is among the top five.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmops_common.embedding.sentence_embedder import SentenceTransformerEmbedder
from llmops_common.settings import PlatformSettings
from services.rag_retriever.config import RetrieverConfig
from services.rag_retriever.engines.protocol import SearchMode
from services.rag_retriever.retriever import DocumentText, Retriever, open_retriever

QA_DIR = Path(__file__).resolve().parents[2] / "data" / "rag"
TENANT = "qa"
TOP_K = 5
RECALL_GOAL = 0.9


@dataclass(frozen=True)
class Question:
    question: str
    doc_id: str


def load_documents() -> list[DocumentText]:
    lines = (QA_DIR / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    return [DocumentText(TENANT, row["doc_id"], 1, row["text"], row["metadata"]) for row in map(json.loads, lines)]


def load_questions() -> list[Question]:
    lines = (QA_DIR / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [Question(row["question"], row["doc_id"]) for row in map(json.loads, lines)]


@pytest.fixture(scope="module")
def qa_retriever(
    embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Retriever]:
    """The QA documents indexed once into the embedded default store."""
    folder = tmp_path_factory.mktemp("qa")
    settings = PlatformSettings(data_dir=folder / "data", qdrant_url=None)
    retriever = open_retriever(RetrieverConfig(), settings, folder / "state", embedder=embedder)
    retriever.index_documents(load_documents())
    yield retriever
    retriever.close()


def recall_at_k(retriever: Retriever, questions: list[Question], mode: SearchMode) -> tuple[float, list[str]]:
    """The share of questions whose document is in the top k, and the questions missed."""
    missed = [
        q.question
        for q in questions
        if q.doc_id not in {hit.doc_id for hit in retriever.search(TENANT, q.question, TOP_K, mode)}
    ]
    return 1 - len(missed) / len(questions), missed


def test_the_qa_set_is_consistent() -> None:
    documents, questions = load_documents(), load_questions()

    assert 40 <= len(documents) <= 60
    assert 30 <= len(questions) <= 45
    assert len({d.doc_id for d in documents}) == len(documents)
    assert {q.doc_id for q in questions} <= {d.doc_id for d in documents}


def test_hybrid_search_recalls_at_least_nine_in_ten_at_five(qa_retriever: Retriever) -> None:
    questions = load_questions()
    results = {mode: recall_at_k(qa_retriever, questions, mode) for mode in ("dense", "sparse", "hybrid")}

    for mode, (recall, missed) in results.items():
        print(
            f"recall@{TOP_K} {mode}: {recall:.3f} ({len(questions) - len(missed)}/{len(questions)}); missed: {missed}"
        )
    assert results["hybrid"][0] >= RECALL_GOAL
