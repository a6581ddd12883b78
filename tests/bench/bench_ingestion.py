"""Benchmarks the ingestion pipeline: documents per second with near-dup on, and memory as it runs.

Run it with `python -m tests.bench.bench_ingestion [--documents N] [--cap C] [--rounds R] [--profile]`.

The corpus is generated on the fly and deterministically from a vocabulary built in this module
(pseudo-words after a handful of English function words, drawn with Zipf frequencies): 50-300 words
per document in sentences and paragraphs, an email or phone number in 10% of them, years and prices
in 5%, about 5% near-duplicates of a recent document (one word in a hundred changed), 1% exact
copies and 1% too short to keep. Only the calls into the code under test are timed, not the
generation, and no document is held after it has been processed.

Each measurement runs in a process of its own, one core, so that its peak RSS is its own:
- the baseline: NFC normalisation and sha256 of each text, nothing else;
- the pipeline at its defaults: near-dup on, the dedup index growing with the documents kept;
- the pipeline with the index capped at `--cap` records, which keeps memory flat;
- the same, with the index written through to SQLite (`DedupState`), as the service runs it; after
  the run, the time to rebuild the index from the file, as a restart does.
RSS is sampled before the first document and at 25, 50, 75 and 100% of them; "growth B/doc" is the
RSS gained from 25% to 100%, per document. Keep `--cap` under a quarter of `--documents`, so that
the capped index is full by the first sample.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import multiprocessing
import pstats
import random
import resource
import tempfile
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from llmops_common.events.data import RecordSubmittedV1
from services.ingestion.pipeline import CleanRecord, Duplicate, IngestionPipeline, PipelineSettings
from services.ingestion.pipeline.dedup import Deduplicator
from services.ingestion.pipeline.dedup_state import DedupState
from tests.bench.report import Row, table, verdict

THROUGHPUT_GOAL = 1_000.0
"""Documents per second, on one core."""
FLAT_GOAL = 0.2
"""Once the capped index is full, RSS may grow by at most this share of what the uncapped run grows
over the same documents. Not zero: a dict that churns is reallocated now and then, and glibc may
serve the new table from the heap while the old one returns to the OS, a one-time step of its size."""
SAMPLE_POINTS = (0.25, 0.5, 0.75, 1.0)
FUNCTION_WORDS = ("the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by")
SYLLABLES = ("ka", "lo", "mi", "ne", "ra", "to", "su", "ve", "pi", "do", "ba", "re", "li", "mo", "na", "ze", "tu")

Mode = Literal["baseline", "pipeline", "capped", "persisted"]
MODES: tuple[Mode, ...] = ("baseline", "pipeline", "capped", "persisted")


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures."""

    documents: int = 100_000
    cap: int = 20_000
    seed: int = 7
    vocabulary: int = 6_000


@dataclass(frozen=True)
class Planted:
    """A generated record, and what the generator made it: an original, a copy, a near copy, or junk."""

    record: RecordSubmittedV1
    kind: Literal["original", "exact", "near", "short"]
    jaccard: float = 1.0
    """For a near copy: the true Jaccard similarity of its 5-word shingles to its original's."""


@dataclass
class RunResult:
    """One measurement: seconds inside the code under test, RSS samples in MB, and what the pipeline did."""

    mode: Mode
    documents: int
    seconds: float = 0.0
    rss_mb: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    fates: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per planted kind, how many records were kept, rejected, or dropped as exact or near duplicates."""
    reload_seconds: float | None = None
    """For the persisted run: the time to rebuild the dedup index from its file, as at a restart."""

    @property
    def rate(self) -> float:
        """Documents per second."""
        return self.documents / self.seconds


def vocabulary(size: int, seed: int) -> list[str]:
    """`size` distinct words: English function words first, then pseudo-words of one to four syllables."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible corpus, not a secret
    words = dict.fromkeys(FUNCTION_WORDS)
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))] = None
    return list(words)


class CorpusGenerator:
    """Generates the benchmark's documents one at a time, keeping only the last 1,000 originals."""

    def __init__(self, config: BenchConfig) -> None:
        self._rng = random.Random(config.seed)  # noqa: S311 - a reproducible corpus, not a secret
        self._words = vocabulary(config.vocabulary, config.seed)
        self._cumulative = list(_zipf_cumulative(len(self._words)))
        self._recent: deque[str] = deque(maxlen=1_000)

    def documents(self, count: int) -> Iterator[Planted]:
        """`count` planted records, the same ones for the same config."""
        for n in range(count):
            roll = self._rng.random()
            if roll < 0.01:
                yield Planted(_document(f"short-{n}", "Ok then"), "short")
            elif roll < 0.02 and self._recent:
                yield Planted(_document(f"exact-{n}", self._rng.choice(self._recent) + "\n"), "exact")
            elif roll < 0.07 and self._recent:
                original = self._rng.choice(self._recent)
                text = self._edit(original)
                yield Planted(_document(f"near-{n}", text), "near", _jaccard(original, text))
            else:
                text = self._text()
                self._recent.append(text)
                yield Planted(_document(f"doc-{n}", text), "original")

    def _text(self) -> str:
        words = self._rng.choices(self._words, cum_weights=self._cumulative, k=self._rng.randint(50, 300))
        sentences, start = [], 0
        while start < len(words):
            end = start + self._rng.randint(8, 20)
            sentence = " ".join(words[start:end])
            sentences.append(sentence[:1].upper() + sentence[1:] + ".")
            start = end
        roll = self._rng.random()
        if roll < 0.05:
            sentences.append(f"Write to {self._rng.choice(self._words)}.{self._rng.randint(1, 999)}@example.com.")
        elif roll < 0.10:
            sentences.append(f"Call +44 20 7946 {self._rng.randint(1000, 9999)} after nine.")
        elif roll < 0.15:
            sentences.append(f"In {self._rng.randint(1950, 2030)} it cost ${self._rng.randint(1, 999)}.99.")
        paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
        return "\n\n".join(paragraphs)

    def _edit(self, text: str) -> str:
        # One word in a hundred replaced, as when a page is lightly edited and published again.
        words = text.split(" ")
        for _ in range(max(1, len(words) // 100)):
            words[self._rng.randrange(len(words))] = self._rng.choice(self._words)
        return " ".join(words)


def _zipf_cumulative(size: int) -> Iterator[float]:
    total = 0.0
    for rank in range(1, size + 1):
        total += 1 / rank
        yield total


def _document(record_id: str, text: str) -> RecordSubmittedV1:
    return RecordSubmittedV1(record_id=record_id, tenant="bench", source="generator", kind="document", text=text)


def _jaccard(first: str, second: str, size: int = 5) -> float:
    def shingles(text: str) -> set[tuple[str, ...]]:
        words = text.lower().split()
        return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}

    one, two = shingles(first), shingles(second)
    return len(one & two) / len(one | two)


def rss_mb() -> float:
    """This process's resident set size now, from /proc (Linux); its peak where /proc is missing."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * resource.getpagesize() / 2**20
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """This process's peak resident set size (`ru_maxrss`, which Linux gives in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline_step() -> Callable[[RecordSubmittedV1], object]:
    """What the baseline does with a record: NFC, then sha256."""

    def step(record: RecordSubmittedV1) -> object:
        return hashlib.sha256(unicodedata.normalize("NFC", record.text or "").encode()).digest()

    return step


def measure(config: BenchConfig, mode: Mode) -> RunResult:
    """Runs one measurement in this process and returns its figures."""
    if mode != "persisted":
        return _measure(config, mode, None)
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as folder:
        path = Path(folder) / "dedup.sqlite"
        result = _measure(config, mode, path)
        settings = PipelineSettings(max_indexed_records=config.cap)
        started = time.perf_counter()
        reloaded = Deduplicator(settings, DedupState(path, settings))
        result.reload_seconds = time.perf_counter() - started
        if len(reloaded) != min(config.cap, sum(f.get("kept", 0) for f in result.fates.values())):
            raise RuntimeError(f"the reloaded index holds {len(reloaded)} records, not what the run kept")
        return result


def _measure(config: BenchConfig, mode: Mode, state_path: Path | None) -> RunResult:
    settings = PipelineSettings(max_indexed_records=config.cap if mode in ("capped", "persisted") else None)
    state = DedupState(state_path, settings) if state_path is not None else None
    step = baseline_step() if mode == "baseline" else IngestionPipeline(settings, dedup_state=state).process
    result = RunResult(mode, config.documents, rss_mb=[rss_mb()])
    checkpoints = {round(config.documents * point) for point in SAMPLE_POINTS}
    clock = time.perf_counter
    for n, planted in enumerate(CorpusGenerator(config).documents(config.documents), start=1):
        started = clock()
        outcome = step(planted.record)
        result.seconds += clock() - started
        if mode != "baseline":
            tally(result, planted, outcome)
        if n in checkpoints:
            result.rss_mb.append(rss_mb())
    result.peak_rss_mb = peak_rss_mb()
    if state is not None:
        state.close()
    return result


def tally(result: RunResult, planted: Planted, outcome: object) -> None:
    """Counts the fate of one planted record; near copies under the threshold are counted apart."""
    kind = "near<0.8" if planted.kind == "near" and planted.jaccard < 0.8 else planted.kind
    if isinstance(outcome, Duplicate):
        fate = outcome.kind.value
    else:
        fate = "kept" if isinstance(outcome, CleanRecord) else "rejected"
    fates = result.fates.setdefault(kind, {})
    fates[fate] = fates.get(fate, 0) + 1


def measure_isolated(config: BenchConfig, mode: Mode) -> RunResult:
    """Runs `measure` in a fresh process, so that RSS and its peak belong to this measurement alone."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, config, mode).result()


def run_benchmark(config: BenchConfig, progress: Callable[[str], None] = print, rounds: int = 1) -> list[RunResult]:
    """The baseline, the pipeline, the pipeline with a capped index, and with it persisted.

    With `rounds` > 1 the modes run in turn that many times and each keeps its median-rate run, so
    that a spell of contention from other processes weighs on every mode alike.
    """
    runs: dict[Mode, list[RunResult]] = {mode: [] for mode in MODES}
    for _ in range(rounds):
        for mode in MODES:
            runs[mode].append(measure_isolated(config, mode))
            progress(f"{mode}: {runs[mode][-1].rate:,.0f} docs/s")
    return [sorted(runs[mode], key=lambda run: run.rate)[len(runs[mode]) // 2] for mode in MODES]


def render(results: Sequence[RunResult], config: BenchConfig) -> str:
    """The results as plain-text tables: speed and memory, the goals, and what dedup did with the corpus."""
    rows: list[Row] = [("run", "docs/s", "us/doc", "RSS MB at 0/25/50/75/100%", "peak RSS MB", "growth B/doc")]
    rows += [
        (
            _label(result, config),
            f"{result.rate:,.0f}",
            f"{1e6 / result.rate:,.0f}",
            " / ".join(f"{value:,.0f}" for value in result.rss_mb),
            f"{result.peak_rss_mb:,.0f}",
            f"{_growth_per_document(result):,.0f}",
        )
        for result in results
    ]
    header = (
        f"{config.documents:,} generated documents of 50-300 words, one core per run, median of the rounds "
        f"({multiprocessing.cpu_count()} on this machine); time spent in the code under test only"
    )
    pipelines = [result for result in results if result.mode != "baseline"]
    return "\n\n".join([table(header, rows), render_goals(results), render_dedup(pipelines)])


def render_goals(results: Sequence[RunResult]) -> str:
    """The issue's goals: throughput on one core, and memory that does not track the corpus."""
    by_mode = {result.mode: result for result in results}
    pipeline, capped, persisted = by_mode["pipeline"], by_mode["capped"], by_mode["persisted"]
    share = _growth_per_document(capped) / max(_growth_per_document(pipeline), 1.0)
    rows: list[Row] = [
        ("goal", "measured", "result"),
        (
            f"pipeline >= {THROUGHPUT_GOAL:,.0f} docs/s on one core",
            f"{pipeline.rate:,.0f} docs/s",
            verdict(pipeline.rate >= THROUGHPUT_GOAL),
        ),
        (
            f"as the service runs it (capped, persisted) >= {THROUGHPUT_GOAL:,.0f} docs/s",
            f"{persisted.rate:,.0f} docs/s ({persisted.rate / capped.rate:.2f}x of capped in memory)",
            verdict(persisted.rate >= THROUGHPUT_GOAL),
        ),
        ("(no goal) rebuild of the persisted index at start", f"{persisted.reload_seconds or 0:.2f} s", "-"),
        (
            f"flat memory: capped growth 25->100% <= {FLAT_GOAL:.0%} of uncapped",
            f"{share:.0%}",
            verdict(share <= FLAT_GOAL),
        ),
    ]
    return table("Goals", rows)


def _label(result: RunResult, config: BenchConfig) -> str:
    if result.mode == "baseline":
        return "NFC + sha256 only (baseline)"
    if result.mode == "pipeline":
        return "pipeline, index uncapped"
    if result.mode == "persisted":
        return f"pipeline, index capped at {config.cap:,} and persisted"
    return f"pipeline, index capped at {config.cap:,}"


def _growth_per_document(result: RunResult) -> float:
    return (result.rss_mb[-1] - result.rss_mb[1]) * 2**20 / (result.documents * 0.75)


def render_dedup(results: Sequence[RunResult]) -> str:
    """What each pipeline run did with each kind of planted record."""
    rows: list[Row] = [("run", "planted", "records", "kept", "exact dup", "near dup", "rejected")]
    for result in results:
        for kind in ("original", "exact", "near", "near<0.8", "short"):
            fates = result.fates.get(kind, {})
            counts = [fates.get(fate, 0) for fate in ("kept", "exact", "near", "rejected")]
            rows.append((result.mode, kind, f"{sum(counts):,}", *(f"{count:,}" for count in counts)))
    header = "What each run did with the planted records ('near<0.8': near copies of true Jaccard under 0.8)"
    return table(header, rows)


def profile(config: BenchConfig, top: int = 20) -> None:
    """Profiles the pipeline in this process with cProfile and prints the costliest functions."""
    pipeline = IngestionPipeline()
    records = [planted.record for planted in CorpusGenerator(config).documents(config.documents)]
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [pipeline.process(record) for record in records])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=BenchConfig.documents, help="documents per run")
    parser.add_argument("--cap", type=int, default=BenchConfig.cap, help="dedup index cap of the capped run")
    parser.add_argument("--seed", type=int, default=BenchConfig.seed, help="seed of the generated corpus")
    parser.add_argument("--rounds", type=int, default=3, help="runs per mode, in turn; the median is shown")
    parser.add_argument("--profile", action="store_true", help="profile the pipeline in-process instead")
    args = parser.parse_args(argv)
    config = BenchConfig(documents=args.documents, cap=args.cap, seed=args.seed)
    if args.profile:
        profile(config)
        return
    print(render(run_benchmark(config, rounds=args.rounds), config))


if __name__ == "__main__":
    main()
