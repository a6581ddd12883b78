"""Incremental detokenisation: stop strings across tokens, held-back text, finish reasons."""

from __future__ import annotations

from collections.abc import Sequence

from llmops_common.engines.text_stream import TextStream

PIECES = {1: "Hel", 2: "lo", 3: " wor", 4: "ld", 5: "!", 9: ""}


def decode(ids: Sequence[int]) -> str:
    return "".join(PIECES[i] for i in ids)


def run(stream: TextStream, ids: list[int]) -> list[str]:
    out = []
    for token in ids:
        out.append(stream.push(token))
        if stream.finish_reason:
            break
    return out


def test_text_is_emitted_as_it_comes() -> None:
    stream = TextStream(decode, stop=(), max_tokens=10, eos_token_ids=frozenset({9}))
    assert run(stream, [1, 2, 3, 9]) == ["Hel", "lo", " wor", ""]
    assert stream.finish_reason == "stop"


def test_a_stop_string_across_tokens_is_cut_and_never_shown() -> None:
    stream = TextStream(decode, stop=("o wo",), max_tokens=10, eos_token_ids=frozenset())
    assert run(stream, [1, 2, 3, 4]) == ["Hel", "l", ""]
    assert stream.finish_reason == "stop"


def test_a_held_back_prefix_is_released_when_it_is_no_stop() -> None:
    stream = TextStream(decode, stop=("lox",), max_tokens=10, eos_token_ids=frozenset())
    assert run(stream, [1, 2, 3]) == ["He", "l", "lo wor"]


def test_max_tokens_flushes_and_ends_with_length() -> None:
    stream = TextStream(decode, stop=("ld?",), max_tokens=4, eos_token_ids=frozenset())
    assert "".join(run(stream, [1, 2, 3, 4])) == "Hello world"
    assert stream.finish_reason == "length"
