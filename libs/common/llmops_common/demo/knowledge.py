"""Help-center articles go into a knowledge base, and a RAG answer cites them."""

from __future__ import annotations

import asyncio
import time

from rich.markup import escape
from rich.table import Table

from .scenario import ARTICLES, COLLECTION
from .session import Session, expect
from .tickets import Article, help_center

INDEX_TIMEOUT = 180.0


async def ingest_articles(session: Session) -> list[Article]:
    """Posts the articles to ingestion and waits until the retriever has indexed every one."""
    articles = help_center(ARTICLES)
    records = [
        {
            "record_id": article.doc_id,
            "source": "demo:help-center",
            "kind": "document",
            "text": article.text,
            "metadata": {"title": article.title},
            "collection": COLLECTION,
        }
        for article in articles
    ]
    accepted = expect(await session.http.post(session.url("ingestion", "/v1/ingest"), json={"records": records}), 202)
    session.story.say(f"ingestion accepted {accepted['accepted']} articles onto llmops.data.raw")
    with session.story.progress() as progress:
        task = progress.add_task("cleaned, chunked, embedded, indexed", total=len(articles))
        deadline = time.monotonic() + INDEX_TIMEOUT
        while (indexed := await _indexed(session)) < len(articles):
            progress.update(task, completed=indexed)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{indexed} of {len(articles)} articles indexed after {INDEX_TIMEOUT:.0f} s")
            await asyncio.sleep(0.5)
        progress.update(task, completed=indexed)
    return articles


async def _indexed(session: Session) -> int:
    collections = expect(await session.http.get(session.url("ingestion", "/v1/collections")), 200)
    return sum(int(c["documents"]) for c in collections if c["name"] == COLLECTION)


async def rag_answer(session: Session, base_model: str, articles: list[Article]) -> None:
    """Asks the base model a question with `rag`: the retriever's chunks go into the prompt as numbered
    sources, and the response lists them."""
    article = next(a for a in articles if a.title.startswith("How to"))
    question = article.title.replace("How to", "How do I", 1).replace(" your ", " my ") + "?"
    answer = await session.ask(base_model, question, 48, rag={"collection": COLLECTION, "top_k": 3})
    session.story.say(f"[bold]question:[/] {escape(question)}")
    session.story.say(f"[bold]answer[/] (the tiny model's own words): {escape(answer.text.strip())}")
    table = Table(title="sources the answer was given, numbered [1] to [3] in its prompt", title_justify="left")
    for column in ("n", "document", "title", "score"):
        table.add_column(column)
    sources = answer.body.get("sources", [])
    for number, source in enumerate(sources, start=1):
        title = str(source.get("metadata", {}).get("title", "?"))
        table.add_row(f"[{number}]", str(source["doc_id"])[:12], escape(title), f"{float(source['score']):.3f}")
    session.story.show(table)
    cited = [str(s.get("metadata", {}).get("title")) for s in sources]
    where = f"source [{cited.index(article.title) + 1}]" if article.title in cited else "not among the sources"
    session.story.say(f"the article the question comes from, {escape(repr(article.title))}, is {escape(where)}")
