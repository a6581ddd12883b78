"""Known Jinja escapes are refused when a prompt is saved, and again by the sandbox when one is rendered."""

from __future__ import annotations

import pytest

from llmops_common.events.data import ChatMessage
from llmops_common.events.prompts import PromptVariable
from llmops_common.prompts.sandbox import prompt_environment
from llmops_common.prompts.templates import RenderError, TemplateError, check_prompt, compile_prompt

X = [PromptVariable(name="x")]
USER = [PromptVariable(name="user", type="object")]

ESCAPES = [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "__class__"),
    ("{{ x.__class__ }}", "__class__"),
    ("{{ x['__class__'] }}", "__class__"),
    ("{{ x|attr('__class__') }}", "attr"),
    ("{{ x|map('attr', '__class__')|list }}", "attr"),
    ("{{ [x]|map(attribute='__class__')|list }}", "__class__"),
    ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "__init__"),
    ("{{ lipsum.__globals__['os'] }}", "__globals__"),
    ("{{ self.__init__.__globals__ }}", "__init__"),
    ("{{ self }}", "self"),
    ("{{ namespace.__init__.__globals__ }}", "__init__"),
    ("{{ joiner.__init__.__globals__ }}", "__init__"),
    ("{{ range.__self__ }}", "__self__"),
    ("{{ range(10) }}", "range"),
    ("{{ dict(a=1) }}", "dict"),
    ("{{ '{0.__class__}'.format(x) }}", "format()"),
    ("{{ x.format }}", "format"),
    ("{{ x.upper() }}", "upper()"),
    ("{{ x['upper']() }}", "upper()"),
    ("{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}", "__class__"),
    ("{{ config.items() }}", "items()"),
    ("{% import 'os' as os %}", "{% import %}"),
    ("{% from 'os' import popen %}", "{% from %}"),
    ("{% include '/etc/passwd' %}", "{% include %}"),
    ("{% extends '/etc/passwd' %}", "{% extends %}"),
    ("{{ request.application.__globals__ }}", "__globals__"),
]


@pytest.mark.parametrize(("template", "refused"), ESCAPES)
def test_an_escape_is_refused_when_the_prompt_is_saved(template: str, refused: str) -> None:
    with pytest.raises(TemplateError) as caught:
        check_prompt("text", f"Hi.\n{template}", None, X, max_chars=10_000)

    assert caught.value.status_code == 422
    assert caught.value.detail == {"refused": refused, "line": 2}
    assert f"refused {refused!r} on line 2" in caught.value.message


def test_an_escape_in_a_chat_names_its_message() -> None:
    messages = [ChatMessage(role="system", content="ok"), ChatMessage(role="user", content="{{ x.__class__ }}")]

    with pytest.raises(TemplateError) as caught:
        check_prompt("chat", None, messages, X, max_chars=10_000)

    assert caught.value.detail == {"refused": "__class__", "line": 1, "message_index": 1}


@pytest.mark.parametrize(("template", "refused"), ESCAPES)
@pytest.mark.parametrize(("kind", "value"), [("string", "hi"), ("object", {"a": 1}), ("array", [1])])
def test_an_escape_that_skipped_the_check_is_stopped_at_render_time(
    template: str, refused: str, kind: str, value: object
) -> None:
    prompt = compile_prompt("text", template, None, [PromptVariable.model_validate({"name": "x", "type": kind})])

    with pytest.raises(RenderError) as caught:
        prompt.render({"x": value})

    assert caught.value.status_code == 422
    assert "<" not in caught.value.message  # no repr of a class, function or module leaks out
    assert caught.value.detail == {"problem": caught.value.message.removeprefix("render failed: ")}


@pytest.mark.parametrize(
    "template",
    [
        "{% macro m() %}{% endmacro %}{{ m }}",
        "{% for i in [1] %}{{ loop }}{% endfor %}",
        "{{ x|batch(1) }}",
        "{{ [x, [x|batch(1)]] }}",
    ],
)
def test_only_data_renders_so_no_internal_object_shows_its_repr(template: str) -> None:
    prompt = compile_prompt("text", template, None, X)

    with pytest.raises(RenderError, match=r"^refused to render a \w+ value"):
        prompt.render({"x": "hi"})


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ 'a' * 1000000 }}", "refused to repeat a sequence past 100000 items"),
        ("{{ [x] * 1000000 }}", "refused to repeat a sequence past 100000 items"),
        ("{{ 10 ** 100000 }}", "refused an exponent over 1000"),
    ],
)
def test_operators_cannot_build_huge_values(template: str, problem: str) -> None:
    prompt = compile_prompt("text", template, None, X)

    with pytest.raises(RenderError) as caught:
        prompt.render({"x": "hi"})

    assert caught.value.detail == {"problem": problem}


def test_a_private_key_of_an_object_is_refused_even_though_it_is_data() -> None:
    prompt = compile_prompt("text", "{{ user['_secret'] }}", None, USER)

    with pytest.raises(RenderError, match="names starting with '_' are private"):
        prompt.render({"user": {"_secret": "s"}})


def test_attribute_access_on_a_string_variable_is_refused_when_saved() -> None:
    with pytest.raises(TemplateError, match="'x' is declared string"):
        check_prompt("text", "{{ x.title }}", None, X, max_chars=1000)


def test_a_loop_variable_may_be_read_with_a_dot_and_loop_cycle_may_be_called() -> None:
    declared = [PromptVariable(name="docs", type="array")]
    template = "{% for d in docs %}{{ loop.cycle('odd', 'even') }}:{{ d.title }} {% endfor %}"
    check_prompt("text", template, None, declared, max_chars=1000)

    rendered = compile_prompt("text", template, None, declared).render({"docs": [{"title": "a"}, {"title": "b"}]})

    assert rendered.text == "odd:a even:b "


def test_the_render_environment_has_no_globals_and_no_autoescape() -> None:
    environment = prompt_environment()

    assert environment.globals == {}
    assert environment.autoescape is False
    assert environment.from_string("{{ x }}").render(x="<b>") == "<b>"
