"""One stream of inputs per consuming service, and how to read what the service derived from it.

Each `Stream` feeds its service N inputs, says how far the derived state has got (to pick the kill
points) and reads the derived state back as a multiset of input ids with a few totals, to compare with
what was fed: zero lost, zero duplicated.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from abc import ABC, abstractmethod
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import httpx

from llmops_common.events import DocumentIngestedV1, Event, InferenceCompletedV1, RecordSubmittedV1
from llmops_common.topics import DATA_DOCUMENTS, DATA_RAW, INFERENCE_COMPLETED
from tests.reliability.conftest import Platform
from tests.support.consumer_groups import committed_total, rewind_to_zero, wait_caught_up
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.served_requests import served_request
from tests.support.service_process import ServiceLauncher

VOCABULARY = (
    "amber basket cedar dolphin ember falcon garnet harbor island jasmine kettle lantern meadow nickel "
    "orchard pepper quartz raven saddle timber umber velvet walnut yarrow zephyr anchor bramble copper "
    "drizzle engine fennel glacier hollow indigo juniper kelp lumber marble nectar oyster pebble quiver "
    "ribbon spruce thistle tundra violet willow beacon canyon delta forest granite horizon lagoon mesa "
    "prairie ridge summit valley"
)
WORDS = tuple(VOCABULARY.split())
SETTLE_TIMEOUT = 120.0


def sentence(rng: random.Random, words: int) -> str:
    """Words drawn at random: texts that no dedup step takes for duplicates of each other."""
    return " ".join(rng.sample(WORDS, words))


@dataclass(frozen=True)
class Derived:
    """A service's derived state: each input id with how often it is there, and totals to compare."""

    ids: Counter[str]
    totals: dict[str, int] = field(default_factory=dict)


class Stream(ABC):
    """N inputs for one service, and its derived state."""

    service: ClassVar[str]
    settings: ClassVar[dict[str, str]] = {"CONSUMER_BATCH_SIZE": "10"}
    """The service's `LLMOPS_` settings: small batches, so that offsets are committed often."""
    group: ClassVar[str | None] = None
    """The consumer group whose lag says the stream is consumed; None for a service without one."""
    topics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, platform: Platform, unique: str, size: int) -> None:
        self.platform = platform
        self.unique = unique
        self.tenant = f"t-{unique}"
        self.size = size
        self.fed = 0

    async def prepare(self) -> None:
        """Creates the topics (and keys) the stream needs, before the service starts."""
        await self.platform.create_topics()

    @abstractmethod
    async def feed(self, upto: int, url: str) -> None:
        """Makes inputs up to number `upto` available to the service (those fed before are not fed again)."""

    @abstractmethod
    async def progress(self, url: str) -> int:
        """How many inputs the derived state holds now, while the service runs."""

    async def settle(self, url: str) -> None:
        """Waits until every input fed is consumed."""
        assert self.group is not None
        await wait_caught_up(self.platform.bootstrap, self.group, self.topics, SETTLE_TIMEOUT)

    @abstractmethod
    async def derived(self, launcher: ServiceLauncher) -> Derived:
        """The derived state once the stream has settled."""

    @abstractmethod
    def expected(self) -> Derived:
        """What the derived state must be: each input exactly once."""

    async def replay_from_zero(self, launcher: ServiceLauncher) -> None:
        """Stops the service, rewinds its group to offset 0, starts it again and waits until it caught up."""
        assert self.group is not None
        if launcher.started[-1].running:
            launcher.started[-1].stop()
        await rewind_to_zero(self.platform.bootstrap, self.group, self.topics)
        assert await committed_total(self.platform.bootstrap, self.group, self.topics) == 0
        url = (await launcher.start_ready()).url
        await self.settle(url)


class PublishedStream(Stream):
    """A stream of events that another producer publishes to the service's topic."""

    def __init__(self, platform: Platform, unique: str, size: int) -> None:
        super().__init__(platform, unique, size)
        rng = random.Random(unique)  # noqa: S311 - test data
        self.events = [self.event(number, rng) for number in range(size)]

    @abstractmethod
    def event(self, number: int, rng: random.Random) -> Event:
        """Input number `number`."""

    async def feed(self, upto: int, url: str) -> None:
        if upto > self.fed:
            async with self.platform.publisher() as publisher:
                await publisher.publish_many(self.events[self.fed : upto])
            self.fed = upto


class MonitorStream(PublishedStream):
    """Telemetry into the monitor's sink: ClickHouse rows, and the per-minute rollup its view fills."""

    service = "monitor"
    # Inserts of 20 rows: a kill lands between inserts, and between an insert and its commit.
    settings: ClassVar[dict[str, str]] = {
        "SINK_BATCH_ROWS": "20",
        "SINK_FETCH_RECORDS": "20",
        "SINK_BATCH_SECONDS": "0.2",
    }
    group = "monitor.sink"
    topics = (INFERENCE_COMPLETED.name,)

    async def prepare(self) -> None:
        await super().prepare()
        self.token = await publish_api_key(self.platform.settings, self.tenant, "admin")

    def event(self, number: int, rng: random.Random) -> Event:
        return served_request(f"req-{self.unique}-{number}", self.tenant)

    async def progress(self, url: str) -> int:
        return int(await self.sql(url, "SELECT count() FROM inference_completed"))

    async def derived(self, launcher: ServiceLauncher) -> Derived:
        url = launcher.url()
        rows = (await self.sql(url, "SELECT request_id FROM inference_completed")).split()
        minute = int(await self.sql(url, "SELECT sum(requests) FROM inference_minute"))
        daily = int(await self.sql(url, "SELECT sum(requests) FROM cost_daily"))
        return Derived(Counter(rows), {"inference_minute.requests": minute, "cost_daily.requests": daily})

    def expected(self) -> Derived:
        ids = Counter(event.request_id for event in self.events if isinstance(event, InferenceCompletedV1))
        return Derived(ids, {"inference_minute.requests": self.size, "cost_daily.requests": self.size})

    async def sql(self, url: str, query: str) -> str:
        """The tenant's rows of a query, as ClickHouse's TabSeparated text, over the monitor's SQL endpoint."""
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(f"{url}/", content=query, headers=bearer(self.token))
        assert response.status_code == 200, response.text
        return response.text


class FeedbackStream(PublishedStream):
    """Telemetry into the feedback collector: the requests it knows, which feedback may then name."""

    service = "feedback_collector"
    group = "feedback_collector"
    topics = (INFERENCE_COMPLETED.name,)

    def event(self, number: int, rng: random.Random) -> Event:
        return served_request(f"req-{self.unique}-{number}", self.tenant)

    async def progress(self, url: str) -> int:
        return len(self.request_ids())

    async def derived(self, launcher: ServiceLauncher) -> Derived:
        return Derived(Counter(self.request_ids()))

    def expected(self) -> Derived:
        return Derived(Counter(event.request_id for event in self.events if isinstance(event, InferenceCompletedV1)))

    def request_ids(self) -> list[str]:
        """The tenant's requests in the collector's store, read beside the running service."""
        path = self.platform.settings.data_dir / "state" / self.service / "feedback.sqlite"
        return read_column(path, "SELECT request_id FROM requests WHERE tenant = ?", self.tenant)


class IngestionStream(PublishedStream):
    """Raw example records into ingestion: the examples of a dataset, waiting for its next version."""

    service = "ingestion"
    group = "ingestion"
    topics = (DATA_RAW.name,)

    async def prepare(self) -> None:
        await super().prepare()
        self.token = await publish_api_key(self.platform.settings, self.tenant, "data")
        self.dataset = f"ds-{self.unique}"

    def event(self, number: int, rng: random.Random) -> Event:
        return RecordSubmittedV1(
            record_id=f"rec-{number}",
            tenant=self.tenant,
            source="reliability",
            kind="example",
            dataset=f"ds-{self.unique}",
            prompt=f"{sentence(rng, 8)}?",
            completion=f"{sentence(rng, 10)}.",
        )

    async def progress(self, url: str) -> int:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{url}/v1/datasets/{self.dataset}", headers=bearer(self.token))
        if response.status_code == 404:
            return 0
        assert response.status_code == 200, response.text
        examples: int = response.json()["examples"]
        return examples

    async def derived(self, launcher: ServiceLauncher) -> Derived:
        path = self.platform.settings.data_dir / "state" / self.service / "ingestion.sqlite"
        query = "SELECT record_id FROM examples WHERE tenant = ? AND dataset = ?"
        ids = read_column(path, query, self.tenant, self.dataset)
        return Derived(Counter(ids), {"examples": await self.progress(launcher.url())})

    def expected(self) -> Derived:
        ids = Counter(event.record_id for event in self.events if isinstance(event, RecordSubmittedV1))
        return Derived(ids, {"examples": self.size})


class RetrieverStream(PublishedStream):
    """Clean documents into the retriever: the chunks of its vector index (one per short document)."""

    service = "rag_retriever"
    group = "rag_retriever"
    topics = (DATA_DOCUMENTS.name,)

    def event(self, number: int, rng: random.Random) -> Event:
        return DocumentIngestedV1(
            doc_id=f"doc-{number}", version=1, tenant=self.tenant, source="reliability", text=sentence(rng, 20)
        )

    async def progress(self, url: str) -> int:
        # The index cannot be opened beside the running service; every record it committed is indexed.
        return await committed_total(self.platform.bootstrap, self.group or "", self.topics)

    async def derived(self, launcher: ServiceLauncher) -> Derived:
        from services.rag_retriever.retriever import open_retriever
        from services.rag_retriever.settings import Settings

        if launcher.started[-1].running:
            launcher.started[-1].stop()  # one process at a time may hold the index
        settings = Settings(**self.platform.settings.model_dump())
        retriever = await asyncio.to_thread(open_retriever, settings.retriever_config(), settings, settings.state_dir)
        try:
            chunks = Counter(
                {doc: len(retriever.index.document_chunks(self.tenant, doc)) for doc in self.expected().ids}
            )
            return Derived(+chunks, {"points": retriever.index.count(self.tenant)})
        finally:
            retriever.close()

    def expected(self) -> Derived:
        ids = Counter(event.doc_id for event in self.events if isinstance(event, DocumentIngestedV1))
        return Derived(ids, {"points": self.size})


def read_column(path: Path, query: str, *parameters: str) -> list[str]:
    """One column of a service's SQLite store, read-only, beside the process that writes it."""
    if not path.exists():
        return []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        return [str(value) for (value,) in db.execute(query, parameters)]


class PromptRegistryStream(Stream):
    """Versions written to the prompt registry by a client that retries through crashes, as an SDK does:
    the registry's replica of `llmops.prompts`, which it rebuilds from the log at every start."""

    service = "prompt_registry"
    settings: ClassVar[dict[str, str]] = {}

    def __init__(self, platform: Platform, unique: str, size: int) -> None:
        super().__init__(platform, unique, size)
        self.name = f"p-{unique}"
        self.acknowledged = 0
        self.statuses: Counter[int] = Counter()
        self._target = 0
        self._url = ""
        self._writer: asyncio.Task[None] | None = None

    async def prepare(self) -> None:
        await super().prepare()
        self.token = await publish_api_key(self.platform.settings, self.tenant, "prompts")

    def template(self, version: int) -> str:
        """The text of version `version`."""
        return f"Version {version}: answer the customer in {WORDS[version % len(WORDS)]} words."

    async def feed(self, upto: int, url: str) -> None:
        self._target, self._url, self.fed = max(self._target, upto), url, max(self.fed, upto)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())

    async def progress(self, url: str) -> int:
        if self._writer is not None and self._writer.done():
            self._writer.result()  # a writer that failed fails the test here
        return self.acknowledged

    async def settle(self, url: str) -> None:
        assert self._writer is not None
        await asyncio.wait_for(self._writer, SETTLE_TIMEOUT)

    async def derived(self, launcher: ServiceLauncher) -> Derived:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{launcher.url()}/v1/prompts/{self.name}/versions", headers=bearer(self.token))
        assert response.status_code == 200, response.text
        versions = response.json()["versions"]
        return Derived(Counter(f"{v['version']}: {v['template']}" for v in versions), {"versions": len(versions)})

    def expected(self) -> Derived:
        ids = Counter(f"{version}: {self.template(version)}" for version in range(1, self.size + 1))
        return Derived(ids, {"versions": self.size})

    async def replay_from_zero(self, launcher: ServiceLauncher) -> None:
        # The registry keeps no offsets: every start replays `llmops.prompts` from offset 0.
        launcher.started[-1].stop()
        await launcher.start_ready()

    async def _write_all(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while self.acknowledged < self.size:
                if self.acknowledged >= self._target:
                    await asyncio.sleep(0.02)
                    continue
                await self._write(client, self.acknowledged + 1)
                self.acknowledged += 1

    async def _write(self, client: httpx.AsyncClient, version: int) -> None:
        """Creates `version`, expecting `version - 1` before it; tries again until an answer says it is in."""
        body = {"kind": "text", "template": self.template(version), "expected_version": version - 1}
        url = f"{self._url}/v1/prompts/{self.name}"
        while True:
            try:
                response = await client.post(f"{url}/versions", json=body, headers=bearer(self.token))
            except httpx.TransportError:
                await asyncio.sleep(0.1)  # killed, or not listening yet
                continue
            self.statuses[response.status_code] += 1
            if response.status_code == 201:
                return
            if response.status_code == 409 and response.json()["error"]["detail"]["current_version"] == version:
                # The write reached the log before the crash cut its answer off: it must be ours.
                stored = await client.get(url, params={"version": version}, headers=bearer(self.token))
                assert stored.json()["template"] == body["template"], stored.text
                return
            assert response.status_code == 503, response.text  # starting: the replica is not caught up
            await asyncio.sleep(0.1)
