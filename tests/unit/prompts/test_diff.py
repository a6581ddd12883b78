"""The diff of two prompt versions shows what changed in their content, as a unified diff."""

from __future__ import annotations

from datetime import UTC, datetime

from llmops_common.events.data import ChatMessage
from llmops_common.events.prompts import ModelParameters, PromptVariable, PromptVersionCreatedV1
from llmops_common.prompts.diff import diff_versions

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def chat_version(version: int, *messages: ChatMessage, temperature: float = 0.2) -> PromptVersionCreatedV1:
    return PromptVersionCreatedV1(
        tenant="acme",
        name="support-answer",
        version=version,
        kind="chat",
        messages=list(messages),
        variables=[PromptVariable(name="question"), PromptVariable(name="tone", required=False)],
        parameters=ModelParameters(model="small-chat", temperature=temperature, max_tokens=256),
        commit_message=f"version {version}",
        author="key-1",
        created_at=NOW,
    )


SYSTEM = ChatMessage(role="system", content="You are a support agent.\nBe brief.")
USER = ChatMessage(role="user", content="{{ question }}")


def test_identical_content_gives_an_empty_diff() -> None:
    assert diff_versions(chat_version(1, SYSTEM, USER), chat_version(2, SYSTEM, USER)) == ""


def test_a_changed_message_line_and_parameter_show_as_a_unified_diff() -> None:
    changed = ChatMessage(role="system", content="You are a support agent.\nBe kind.")

    diff = diff_versions(chat_version(1, SYSTEM, USER), chat_version(2, changed, USER, temperature=0.7))

    assert diff == (
        "--- support-answer:v1\n"
        "+++ support-answer:v2\n"
        "@@ -1,12 +1,12 @@\n"
        " kind: chat\n"
        " model: small-chat\n"
        "-temperature: 0.2\n"
        "+temperature: 0.7\n"
        " max_tokens: 256\n"
        " variables:\n"
        "   question: string, required\n"
        "   tone: string, optional\n"
        " --- message 0 (system) ---\n"
        " You are a support agent.\n"
        "-Be brief.\n"
        "+Be kind.\n"
        " --- message 1 (user) ---\n"
        " {{ question }}\n"
    )


def test_a_text_version_shows_its_template_and_unset_parameters() -> None:
    old = PromptVersionCreatedV1(
        tenant="acme", name="greet", version=1, kind="text", template="Hi {{ name }}", author="a", created_at=NOW
    )
    new = old.model_copy(
        update={"version": 2, "template": "Hi {{ name }}\n", "parameters": ModelParameters(model="small-chat")}
    )

    diff = diff_versions(old, new)

    # A trailing newline is content: it shows as an added empty last line.
    assert diff == (
        "--- greet:v1\n"
        "+++ greet:v2\n"
        "@@ -1,7 +1,8 @@\n"
        " kind: text\n"
        "-model: (default)\n"
        "+model: small-chat\n"
        " temperature: (default)\n"
        " max_tokens: (default)\n"
        " variables:\n"
        " --- template ---\n"
        " Hi {{ name }}\n"
        "+\n"
    )
