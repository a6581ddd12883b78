"""The prompt file: what a team writes in Git, what `show --yaml` prints, and the errors a writer sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmops_common.errors import PermanentError
from llmops_common.prompts.files import (
    PromptFile,
    PromptFileError,
    dump_prompt_file,
    load_prompt_file,
    parse_prompt_file,
)

CHAT_FILE = """\
name: support-answer
kind: chat
messages:
  - role: system
    content: |
      You answer questions about {{ product }}.
      Be brief.
  - role: user
    content: "{{ question }}"
variables:
  - name: product
  - name: question
    type: string
    required: true
  - name: detail
    required: false
parameters:
  model: support-assistant
  temperature: 0.2
  max_tokens: 256
commit_message: shorter answers
labels:
  - staging
"""

TEXT_FILE = """\
name: summary
kind: text
template: |-
  Summarise in {{ words }} words:

    {{ text }}
variables:
  - name: words
    type: integer
  - name: text
"""

VERSION_OUT: dict[str, Any] = {
    "name": "support-answer",
    "version": 3,
    "kind": "chat",
    "template": None,
    "messages": [{"role": "system", "content": "Hello {{ who }}.\nBye.\n"}],
    "variables": [{"name": "who", "type": "string", "required": True}],
    "parameters": {"model": "m", "temperature": None, "max_tokens": 64},
    "commit_message": "greet",
    "author": "key_123",
    "created_at": "2026-11-22T10:00:00Z",
    "labels": ["production", "latest"],
}


def write(tmp_path: Path, text: str, name: str = "prompt.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_chat_file_loads_with_its_defaults(tmp_path: Path) -> None:
    prompt = load_prompt_file(write(tmp_path, CHAT_FILE))

    assert prompt.kind == "chat"
    assert prompt.template is None
    assert prompt.messages is not None
    assert [(m.role, m.content) for m in prompt.messages] == [
        ("system", "You answer questions about {{ product }}.\nBe brief.\n"),
        ("user", "{{ question }}"),
    ]
    assert [(v.name, v.type, v.required) for v in prompt.variables] == [
        ("product", "string", True),
        ("question", "string", True),
        ("detail", "string", False),
    ]
    assert prompt.parameters.model_dump() == {"model": "support-assistant", "temperature": 0.2, "max_tokens": 256}
    assert prompt.labels == ["staging"]


@pytest.mark.parametrize("text", [CHAT_FILE, TEXT_FILE])
def test_load_dump_load_gives_the_same_prompt(tmp_path: Path, text: str) -> None:
    first = load_prompt_file(write(tmp_path, text, "first.yaml"))

    second = load_prompt_file(write(tmp_path, dump_prompt_file(first), "second.yaml"))

    assert second == first


def test_dump_writes_readable_yaml_in_a_stable_order() -> None:
    prompt = parse_prompt_file(CHAT_FILE)

    assert dump_prompt_file(prompt) == (
        "name: support-answer\n"
        "kind: chat\n"
        "messages:\n"
        "  - role: system\n"
        "    content: |\n"
        "      You answer questions about {{ product }}.\n"
        "      Be brief.\n"
        "  - role: user\n"
        "    content: '{{ question }}'\n"
        "variables:\n"
        "  - name: product\n"
        "    type: string\n"
        "    required: true\n"
        "  - name: question\n"
        "    type: string\n"
        "    required: true\n"
        "  - name: detail\n"
        "    type: string\n"
        "    required: false\n"
        "parameters:\n"
        "  model: support-assistant\n"
        "  temperature: 0.2\n"
        "  max_tokens: 256\n"
        "commit_message: shorter answers\n"
        "labels:\n"
        "  - staging\n"
    )


def test_a_text_prompt_without_parameters_or_labels_leaves_them_out() -> None:
    prompt = PromptFile(name="summary", kind="text", template="Summarise:\n{{ text }}", commit_message="")

    assert dump_prompt_file(prompt) == (
        "name: summary\nkind: text\ntemplate: |-\n  Summarise:\n  {{ text }}\nvariables: []\ncommit_message: ''\n"
    )


@pytest.mark.parametrize(
    "content",
    [
        "no newline at the end",
        "two lines\nand a trailing newline\n",
        "blank lines kept\n\n\n",
        "  indented first line\nthen flush\n",
        "trailing spaces  \non a line",
        "tabs\tand\r\nwindows line ends\n",
        "yes",
        "null",
        "3",
        "- looks like a list",
        "key: looks like a mapping",
        "# looks like a comment",
        "unicode line\u2028separator and next\x85line",
        "émoji 😀 and {{ jinja }} and {% if x %}blocks{% endif %}",
        "",
    ],
)
def test_any_text_survives_the_round_trip(content: str) -> None:
    prompt = PromptFile(
        name="p",
        kind="chat",
        messages=[{"role": "user", "content": content}],  # type: ignore[list-item]
        commit_message=content,
    )

    assert parse_prompt_file(dump_prompt_file(prompt)) == prompt


def test_from_version_leaves_out_labels_unless_asked() -> None:
    prompt = PromptFile.from_version(VERSION_OUT)
    with_labels = PromptFile.from_version(VERSION_OUT, with_labels=True)

    assert prompt.name == "support-answer"
    assert prompt.labels == []
    assert prompt.commit_message == "greet"
    assert prompt.parameters.model_dump() == {"model": "m", "temperature": None, "max_tokens": 64}
    assert with_labels.labels == ["production"]  # `latest` moves by itself and is never copied
    assert parse_prompt_file(dump_prompt_file(prompt)) == prompt


def test_version_request_is_the_registry_body() -> None:
    prompt = parse_prompt_file(TEXT_FILE)

    assert prompt.version_request(expected_version=2) == {
        "kind": "text",
        "template": "Summarise in {{ words }} words:\n\n  {{ text }}",
        "messages": None,
        "variables": [
            {"name": "words", "type": "integer", "required": True},
            {"name": "text", "type": "string", "required": True},
        ],
        "parameters": {"model": None, "temperature": None, "max_tokens": None},
        "commit_message": "",
        "expected_version": 2,
    }
    assert prompt.version_request()["expected_version"] is None


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: answer\nkind: text\ntemplate: 'unclosed\nvariables: []\n")

    with pytest.raises(PromptFileError) as raised:
        load_prompt_file(path)

    assert str(raised.value).startswith(f"{path}, line 5, column 1: not valid YAML: ")
    assert raised.value.detail == {
        "file": str(path),
        "line": 5,
        "column": 1,
        "problem": "found unexpected end of stream",
    }
    assert isinstance(raised.value, PermanentError)


def test_schema_problems_name_their_location_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: answer\n"
        "kind: chat\n"
        "messages:\n"
        "  - role: system\n"
        "    content: hi\n"
        "  - role: robot\n"
        "    content: hi\n"
        "parameters:\n"
        "  temperature: 7\n"
        "colour: blue\n",
    )

    with pytest.raises(PromptFileError) as raised:
        load_prompt_file(path)

    assert raised.value.message == (
        f"{path}: not a valid prompt file (3 problems):\n"
        "  messages[1].role (line 6): Input should be 'system', 'user', 'assistant' or 'tool'\n"
        "  parameters.temperature (line 9): Input should be less than or equal to 2\n"
        "  colour (line 10): Extra inputs are not permitted"
    )
    problems = raised.value.detail["problems"]  # type: ignore[index]
    assert [(p["location"], p["line"]) for p in problems] == [
        ("messages[1].role", 6),
        ("parameters.temperature", 9),
        ("colour", 10),
    ]


def test_a_missing_field_points_at_its_parent(tmp_path: Path) -> None:
    path = write(tmp_path, "name: answer\nkind: chat\nmessages:\n  - role: user\n")

    with pytest.raises(PromptFileError) as raised:
        load_prompt_file(path)

    assert "messages[0].content (line 4): Field required" in raised.value.message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: a\nkind: chat\ntemplate: hi\n", "a chat prompt takes a non-empty `messages` and no `template`"),
        ("name: a\nkind: chat\nmessages: []\n", "a chat prompt takes a non-empty `messages` and no `template`"),
        ("name: a\nkind: text\n", "a text prompt takes a `template` and no `messages`"),
        ("name: a\nkind: text\ntemplate: hi\nlabels: [latest]\n", "`latest` always points at the newest version"),
        ("name: a\nkind: text\ntemplate: hi\nlabels: [Production]\n", "labels[0] (line 4): String should match"),
        ("name: my prompt\nkind: text\ntemplate: hi\n", "name (line 1): String should match pattern"),
        ("kind: poem\ntemplate: hi\n", "kind (line 1): Input should be 'chat' or 'text'"),
        ("kind: text\ntemplate: hi\n", "name: Field required"),
    ],
)
def test_shape_problems_are_reported(text: str, problem: str) -> None:
    with pytest.raises(PromptFileError) as raised:
        parse_prompt_file(text, source="answer.yaml")

    assert raised.value.message.startswith("answer.yaml: not a valid prompt file")
    assert problem in raised.value.message


@pytest.mark.parametrize(("text", "found"), [("", "nothing"), ("- a\n- b\n", "a list"), ("hello\n", "a str")])
def test_a_file_that_is_not_a_mapping_is_refused(text: str, found: str) -> None:
    with pytest.raises(PromptFileError, match=f"answer.yaml: a prompt file is a YAML mapping, found {found}"):
        parse_prompt_file(text, source="answer.yaml")


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"

    with pytest.raises(PromptFileError, match=f"{missing}: cannot read the file"):
        load_prompt_file(missing)
