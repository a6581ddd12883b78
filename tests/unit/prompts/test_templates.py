"""Prompts are checked before they are saved, and render only with variables that fit their declaration."""

from __future__ import annotations

import pytest

from llmops_common.events.data import ChatMessage
from llmops_common.events.prompts import PromptVariable
from llmops_common.prompts.templates import (
    MAX_MESSAGES,
    RenderedPrompt,
    RenderError,
    TemplateError,
    TemplateTooLargeError,
    check_prompt,
    compile_prompt,
)

CHAT = [
    ChatMessage(role="system", content="You answer for {{ company }}."),
    ChatMessage(role="user", content="{% if tone %}Tone: {{ tone }}.\n{% endif %}{{ question }}"),
]
CHAT_VARIABLES = [
    PromptVariable(name="company"),
    PromptVariable(name="question"),
    PromptVariable(name="tone", required=False),
]


def variables(**types: str) -> list[PromptVariable]:
    return [PromptVariable.model_validate({"name": name, "type": kind}) for name, kind in types.items()]


def text_error(template: str, declared: list[PromptVariable] | None = None) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        check_prompt("text", template, None, declared or [], max_chars=10_000)
    return caught.value


def render_error(declared: list[PromptVariable], values: dict[str, object]) -> RenderError:
    prompt = compile_prompt("text", "{{ x }}", None, declared)
    with pytest.raises(RenderError) as caught:
        prompt.render(values)
    return caught.value


def test_a_good_chat_prompt_passes_the_check_and_renders_each_message() -> None:
    check_prompt("chat", None, CHAT, CHAT_VARIABLES, max_chars=10_000)

    rendered = compile_prompt("chat", None, CHAT, CHAT_VARIABLES).render(
        {"company": "Acme", "question": "Where is my parcel?", "tone": "warm"}
    )

    assert rendered == RenderedPrompt(
        kind="chat",
        messages=[
            ChatMessage(role="system", content="You answer for Acme."),
            ChatMessage(role="user", content="Tone: warm.\nWhere is my parcel?"),
        ],
    )


def test_a_good_text_prompt_renders_exactly_as_written() -> None:
    declared = variables(name="string", count="integer")
    check_prompt("text", "Hello {{ name }}, you have {{ count }} messages.\n", None, declared, max_chars=100)

    rendered = compile_prompt("text", "Hello {{ name }}, you have {{ count }} messages.\n", None, declared).render(
        {"name": "Ada", "count": 3}
    )

    assert rendered == RenderedPrompt(kind="text", text="Hello Ada, you have 3 messages.\n")


def test_an_absent_optional_variable_is_false_in_if_and_renders_empty() -> None:
    prompt = compile_prompt("chat", None, CHAT, CHAT_VARIABLES)

    rendered = prompt.render({"company": "Acme", "question": "Hi?"})

    assert rendered.messages is not None
    assert rendered.messages[1].content == "Hi?"


def test_an_absent_optional_variable_takes_its_default_and_renders_empty_alone() -> None:
    declared = [PromptVariable(name="tone", required=False)]
    prompt = compile_prompt("text", "[{{ tone }}] [{{ tone|default('neutral') }}]", None, declared)

    assert prompt.render({}).text == "[] [neutral]"
    assert prompt.render({"tone": None}).text == "[] [neutral]"


def test_an_object_variable_reads_its_keys_with_a_dot_or_brackets() -> None:
    declared = variables(user="object")
    template = "{{ user.name }} ({{ user['plan'] }}, {{ user.items }})"
    check_prompt("text", template, None, declared, max_chars=1000)

    rendered = compile_prompt("text", template, None, declared).render(
        {"user": {"name": "Ada", "plan": "pro", "items": 2}}
    )

    assert rendered.text == "Ada (pro, 2)"


def test_a_loop_over_an_array_renders_each_item_with_its_counter() -> None:
    declared = variables(docs="array")
    template = "{% for doc in docs %}{{ loop.index }}. {{ doc.title }}{% if not loop.last %}\n{% endif %}{% endfor %}"
    check_prompt("text", template, None, declared, max_chars=1000)

    rendered = compile_prompt("text", template, None, declared).render(
        {"docs": [{"title": "Returns"}, {"title": "Shipping"}]}
    )

    assert rendered.text == "1. Returns\n2. Shipping"


def test_a_syntax_error_names_its_line() -> None:
    error = text_error("Hello\n{{ name }\nBye", variables(name="string"))

    assert error.status_code == 422
    assert error.code == "invalid_template"
    assert "line 2" in error.message
    assert error.detail == {"line": 2, "problem": "unexpected '}'"}


def test_a_syntax_error_in_a_chat_names_the_line_and_the_message() -> None:
    messages = [
        ChatMessage(role="system", content="fine"),
        ChatMessage(role="user", content="one\ntwo\n{% if x %}never closed"),
    ]

    with pytest.raises(TemplateError) as caught:
        check_prompt("chat", None, messages, variables(x="string"), max_chars=1000)

    assert caught.value.message.startswith("syntax error on line 3 of message 1")
    assert caught.value.detail == {
        "line": 3,
        "message_index": 1,
        "problem": "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or "
        "'endif'. The innermost block that needs to be closed is 'if'.",
    }


def test_undeclared_variables_are_listed_sorted_while_loop_and_set_names_are_not() -> None:
    template = "{% set hi = 'hi' %}{{ hi }} {{ zeta }}{% for item in items %}{{ item }}{% endfor %}{{ alpha }}"

    error = text_error(template, variables(items="array"))

    assert error.detail == {"undeclared": ["alpha", "zeta"]}


def test_an_unknown_filter_is_refused_at_save_time() -> None:
    error = text_error("{{ name|shout }}", variables(name="string"))

    assert error.detail == {"line": 1, "problem": "No filter named 'shout'."}


def test_a_variable_declared_twice_is_refused() -> None:
    error = text_error("{{ a }}", variables(a="string", b="string") + variables(a="integer"))

    assert error.detail == {"duplicate": ["a"]}


@pytest.mark.parametrize(
    ("kind", "template", "messages"),
    [
        ("chat", "hi", None),
        ("chat", None, None),
        ("chat", None, []),
        ("chat", "hi", CHAT),
        ("text", None, None),
        ("text", "hi", CHAT),
    ],
)
def test_a_template_that_does_not_fit_its_kind_is_refused(
    kind: str, template: str | None, messages: list[ChatMessage] | None
) -> None:
    with pytest.raises(TemplateError) as caught:
        check_prompt(kind, template, messages, CHAT_VARIABLES, max_chars=10_000)  # type: ignore[arg-type]

    assert caught.value.detail == {"kind": kind, "problem": caught.value.message}


def test_templates_past_the_size_limit_are_refused_with_413() -> None:
    messages = [ChatMessage(role="user", content="x" * 60), ChatMessage(role="user", content="y" * 41)]

    with pytest.raises(TemplateTooLargeError) as caught:
        check_prompt("chat", None, messages, [], max_chars=100)

    assert caught.value.status_code == 413
    assert caught.value.detail == {"chars": 101, "max_chars": 100}


def test_more_than_the_most_messages_is_refused_with_413() -> None:
    messages = [ChatMessage(role="user", content="hi")] * (MAX_MESSAGES + 1)

    with pytest.raises(TemplateTooLargeError) as caught:
        check_prompt("chat", None, messages, [], max_chars=10_000)

    assert caught.value.detail == {"messages": MAX_MESSAGES + 1, "max_messages": MAX_MESSAGES}


def test_a_missing_required_variable_is_refused_with_422() -> None:
    error = render_error(variables(x="string", y="integer"), {"x": "hi"})

    assert error.status_code == 422
    assert error.code == "invalid_variables"
    assert error.detail == {"missing": ["y"]}


def test_an_unknown_variable_is_refused() -> None:
    error = render_error(variables(x="string"), {"x": "hi", "zed": 1, "abe": 2})

    assert error.detail == {"unknown": ["abe", "zed"]}


def test_mistyped_variables_are_refused_each_with_what_was_expected() -> None:
    declared = variables(x="string", n="integer", f="number", b="boolean", a="array", o="object")
    values: dict[str, object] = {"x": 1, "n": True, "f": "1.5", "b": 1, "a": (1, 2), "o": [1]}

    error = render_error(declared, values)

    assert error.detail == {
        "mistyped": {
            "x": "expected string, got int",
            "n": "expected integer, got bool",
            "f": "expected number, got str",
            "b": "expected boolean, got int",
            "a": "expected array, got tuple",
            "o": "expected object, got list",
        }
    }


def test_well_typed_values_of_every_type_are_accepted() -> None:
    declared = variables(x="string", n="integer", f="number", g="number", b="boolean", a="array", o="object")
    template = "{{ x }} {{ n }} {{ f }} {{ g }} {{ b }} {{ a|join(',') }} {{ o.k }}"
    prompt = compile_prompt("text", template, None, declared)

    rendered = prompt.render({"x": "s", "n": 1, "f": 1.5, "g": 2, "b": False, "a": [1, 2], "o": {"k": "v"}})

    assert rendered.text == "s 1 1.5 2 False 1,2 v"


def test_every_kind_of_variable_problem_is_reported_at_once() -> None:
    error = render_error(variables(x="string", y="string"), {"x": 1, "z": 2})

    assert error.detail == {"missing": ["y"], "unknown": ["z"], "mistyped": {"x": "expected string, got int"}}


def test_a_filter_failing_on_the_values_is_a_422_not_a_crash() -> None:
    messages = [ChatMessage(role="user", content="{{ n / d }}")]
    prompt = compile_prompt("chat", None, messages, variables(n="integer", d="integer"))

    with pytest.raises(RenderError) as caught:
        prompt.render({"n": 1, "d": 0})

    assert caught.value.detail == {"problem": "division by zero", "message_index": 0}


def test_a_missing_key_of_an_object_is_a_render_error() -> None:
    prompt = compile_prompt("text", "{{ user.name }}", None, variables(user="object"))

    with pytest.raises(RenderError) as caught:
        prompt.render({"user": {}})

    assert caught.value.detail == {"problem": "'dict object' has no attribute 'name'"}
