"""An `Embedder` that runs the model's transformer with ONNX Runtime, pools as the sentence-transformers
folder says, and normalises.

Why: one short query took about 10 ms through torch on two cores and about 4 ms through ONNX Runtime,
which is most of the retrieval round trip's budget. Vectors agree with sentence-transformers' to 1e-4.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from tokenizers import Encoding, Tokenizer

from .model_files import ModelFiles, load_tokenizer
from .onnx_export import OUTPUT_NAME, exported_model
from .pipeline_config import SentencePipeline, read_pipeline
from .sentence_embedder import CPU_BATCH_SIZE, MAX_CPU_THREADS, Vectors

if TYPE_CHECKING:
    import onnxruntime

Tokens = npt.NDArray[np.int64]


class OnnxEmbedder:
    """A sentence-transformers model's transformer as an ONNX graph on the CPU, with its pooling in numpy."""

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        tokenizer: Tokenizer,
        pipeline: SentencePipeline,
        slug: str,
        batch_size: int = CPU_BATCH_SIZE,
    ) -> None:
        self._session = session
        self._inputs = [graph_input.name for graph_input in session.get_inputs()]
        self._tokenizer = tokenizer
        self._pipeline = pipeline
        self._slug = slug
        self.batch_size = batch_size

    @classmethod
    def load(
        cls, files: ModelFiles, cache_dir: Path, batch_size: int | None = None, threads: int | None = None
    ) -> OnnxEmbedder:
        """Loads the model in `files`, exported to ONNX in `cache_dir` on first use (seconds, with torch).

        The session runs on `threads` threads (None: up to `MAX_CPU_THREADS`), the pool of this session only.
        """
        import onnxruntime

        pipeline = read_pipeline(files)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(MAX_CPU_THREADS, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads would otherwise spin after each run and take the cores from the search that
        # follows: embed + hybrid search at 100k chunks measured p99 14-17 ms without spinning, 30-36 with.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            str(exported_model(files, cache_dir)), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = load_tokenizer(files)
        # sentence-transformers cuts every text to max_seq_length word pieces, [CLS] and [SEP] included.
        tokenizer.enable_truncation(max_length=pipeline.max_seq_length)
        return cls(session, tokenizer, pipeline, files.slug, batch_size or CPU_BATCH_SIZE)

    @property
    def model_slug(self) -> str:
        """The model's short name, which names its collection."""
        return self._slug

    @property
    def dimension(self) -> int:
        """The length of every vector (384 for all-MiniLM-L6-v2)."""
        return self._pipeline.dimension

    @property
    def max_tokens(self) -> int:
        """The most word pieces the model reads (256 for all-MiniLM-L6-v2)."""
        return self._pipeline.max_seq_length

    def embed_query(self, text: str) -> Vectors:
        """One unit vector for a search query."""
        vector: Vectors = self._run([self._tokenizer.encode(text)])[0]
        return vector

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """One unit vector per text, `batch_size` texts of similar length at a time, so little is padding."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda n: len(encodings[n].ids))
        for first in range(0, len(order), self.batch_size):
            rows = order[first : first + self.batch_size]
            vectors[rows] = self._run([encodings[n] for n in rows])
        return vectors

    def _run(self, encodings: Sequence[Encoding]) -> Vectors:
        ids, mask = _padded(encodings)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run([OUTPUT_NAME], {name: feeds[name] for name in self._inputs})
        hidden = np.asarray(hidden, dtype=np.float32)
        if self._pipeline.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        # torch.nn.functional.normalize's epsilon, which sentence-transformers uses.
        unit: Vectors = (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(
            np.float32, copy=False
        )
        return unit


def _padded(encodings: Sequence[Encoding]) -> tuple[Tokens, Tokens]:
    """Token ids and attention mask, padded to the longest; a masked position's id (0) changes nothing."""
    length = max(len(encoding.ids) for encoding in encodings)
    ids = np.zeros((len(encodings), length), dtype=np.int64)
    mask = np.zeros((len(encodings), length), dtype=np.int64)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.ids)] = 1
    return ids, mask
