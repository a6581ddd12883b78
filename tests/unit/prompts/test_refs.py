"""Prompt references: `name`, `name@label` and `name:version`, and the ones that are refused."""

from __future__ import annotations

import pytest

from llmops_common.prompts.refs import PromptRef, parse_prompt_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("support-answer", PromptRef("support-answer")),
        ("support-answer@production", PromptRef("support-answer", label="production")),
        ("support_answer.v2:3", PromptRef("support_answer.v2", version=3)),
        ("Summary@latest", PromptRef("Summary", label="latest")),
        ("a:12", PromptRef("a", version=12)),
    ],
)
def test_references_parse_and_print_back(text: str, expected: PromptRef) -> None:
    ref = parse_prompt_ref(text)

    assert ref == expected
    assert str(ref) == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the name is empty"),
        ("@production", "the name is empty"),
        (":3", "the name is empty"),
        ("answer@", "the label after '@' is empty"),
        ("answer:", "the version after ':' must be a whole number"),
        ("answer:three", "the version after ':' must be a whole number"),
        ("answer:+3", "the version after ':' must be a whole number"),
        ("answer:1.5", "the version after ':' must be a whole number"),
        ("answer:0", "versions are whole numbers from 1"),
        ("answer@production:3", "give a label or a version, not both"),
        ("answer:3@production", "give a label or a version, not both"),
        ("answer@Production", "invalid label 'Production'"),
        ("answer@prod@eu", "invalid label 'prod@eu'"),
        ("my answer", "invalid prompt name 'my answer'"),
        ("-answer", "invalid prompt name '-answer'"),
        ("team/answer", "invalid prompt name 'team/answer'"),
        ("a" * 129, "at most 128 characters"),
    ],
)
def test_invalid_references_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="invalid") as raised:
        parse_prompt_ref(text)

    assert problem in str(raised.value)


def test_a_reference_built_directly_is_checked_too() -> None:
    with pytest.raises(ValueError, match="give a label or a version, not both"):
        PromptRef("answer", label="production", version=3)
    with pytest.raises(ValueError, match="versions are whole numbers from 1"):
        PromptRef("answer", version=True)
