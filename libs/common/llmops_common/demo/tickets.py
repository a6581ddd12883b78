"""The demo's two bodies of text: help-center articles for RAG, and a ticket task for fine-tuning.

Every ticket answer follows one house pattern ("Your ticket for order N is T-N. ..."), which the base
model never produced: a LoRA fine-tune of a few dozen steps learns it, and questions about other order
numbers show the gain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..models.corpus import load_corpus

PRODUCTS = ("Quill Docs", "Ledger", "Beacon", "Harbor", "Atlas")


@dataclass(frozen=True)
class Ticket:
    """A customer's question about an order, and the answer the support team wants given."""

    order: int
    question: str
    answer: str


def tickets(count: int, seed: int = 7) -> list[Ticket]:
    """`count` tickets with distinct order numbers; the same seed gives the same tickets."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    orders = rng.sample(range(1000, 9999), count)
    return [
        Ticket(
            order=order,
            question=f"Which ticket handles order {order} for {PRODUCTS[order % len(PRODUCTS)]}?",
            answer=f"Your ticket for order {order} is T-{order}. We reply within one day.",
        )
        for order in orders
    ]


@dataclass(frozen=True)
class Article:
    """A help-center article: its title is its first line."""

    doc_id: str
    title: str
    text: str


def help_center(count: int) -> list[Article]:
    """The first `count` distinct articles of the corpus the default base model was pre-trained on."""
    articles: dict[str, Article] = {}
    for document in load_corpus():
        if document.text is None:
            continue
        title = document.text.splitlines()[0]
        if title not in articles:
            articles[title] = Article(f"kb-{len(articles):03d}", title, document.text)
        if len(articles) == count:
            break
    return list(articles.values())
