"""Trains the default base model's byte-level BPE tokenizer with the `tokenizers` library."""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from .chat_format import BOS, CHAT_TEMPLATE, END, PAD, SPECIAL_TOKENS


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A BPE tokenizer over `texts`, with the chat template and special tokens set, ready to `save_pretrained`."""
    bpe = Tokenizer(models.BPE(unk_token=None))
    # Byte level: every string has a tokenization, whatever a user types.
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=bpe, bos_token=BOS, eos_token=END, pad_token=PAD, model_max_length=1 << 20
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
