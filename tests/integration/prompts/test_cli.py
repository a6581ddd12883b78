"""`llmops prompts` against a real registry on a real broker: push, show, label, diff and list."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from llmops_common.cli.prompts import prompts_app
from llmops_common.prompts.files import load_prompt_file

FIRST = """\
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
parameters:
  model: support-assistant
  temperature: 0.2
  max_tokens: 256
commit_message: first cut
labels:
  - staging
  - canary
"""

SECOND = (
    FIRST.replace("Be brief.", "Be brief and kind.")
    .replace("temperature: 0.2", "temperature: 0.5")
    .replace("commit_message: first cut\nlabels:\n  - staging\n  - canary\n", "commit_message: kinder\n")
)


def prompts(registry: tuple[str, str], *args: str) -> Result:
    """Runs `llmops prompts ARGS` against the registry, the API key coming from the environment."""
    base_url, api_key = registry
    return CliRunner().invoke(prompts_app, [*args, "--url", base_url], env={"LLMOPS_API_KEY": api_key})


def test_a_pushed_file_comes_back_from_show_and_labels_move(running_registry: tuple[str, str], tmp_path: Path) -> None:
    first, second, shown = tmp_path / "first.yaml", tmp_path / "second.yaml", tmp_path / "shown.yaml"
    first.write_text(FIRST)
    second.write_text(SECOND)

    pushed = prompts(running_registry, "push", str(first), "--expected-version", "0")
    show_yaml = prompts(running_registry, "show", "support-answer", "--yaml")
    shown.write_text(show_yaml.stdout)
    pretty = prompts(running_registry, "show", "support-answer:1")

    assert (pushed.exit_code, pushed.stderr) == (0, "")
    assert pushed.stdout == "support-answer v1\n  staging -> v1 (was unset)\n  canary -> v1 (was unset)\n"
    assert show_yaml.exit_code == 0, show_yaml.stderr
    assert load_prompt_file(shown) == load_prompt_file(first).model_copy(update={"labels": []})
    assert pretty.exit_code == 0, pretty.stderr
    assert pretty.stdout.startswith("support-answer v1 (chat)\nlabels:     canary, staging, latest\n")
    assert "commit:     first cut\n" in pretty.stdout
    assert "parameters: model=support-assistant temperature=0.2 max_tokens=256\n" in pretty.stdout
    assert "variables:  product: string, question: string\n" in pretty.stdout
    assert pretty.stdout.endswith(
        "\n[system]\nYou answer questions about {{ product }}.\nBe brief.\n\n[user]\n{{ question }}\n"
    )

    pushed_again = prompts(running_registry, "push", str(second), "--expected-version", "1")
    stale = prompts(running_registry, "push", str(second), "--expected-version", "1")
    moved = prompts(running_registry, "label", "support-answer", "2", "staging", "--expected-version", "1")
    staging = prompts(running_registry, "show", "support-answer@staging", "--yaml")
    diff = prompts(running_registry, "diff", "support-answer", "canary", "staging")
    listing = prompts(running_registry, "list")
    canary_only = prompts(running_registry, "list", "--label", "canary")

    assert pushed_again.stdout == "support-answer v2\n"
    assert stale.exit_code == 1
    assert stale.stdout == ""
    assert stale.stderr.startswith("error: ")
    assert "  current_version: 2\n" in stale.stderr
    assert moved.stdout == "support-answer: staging -> v2 (was v1)\n"
    shown.write_text(staging.stdout)
    assert load_prompt_file(shown) == load_prompt_file(second)
    assert diff.exit_code == 0, diff.stderr
    assert diff.stdout.startswith("--- support-answer:v1\n+++ support-answer:v2\n")
    assert "\n-temperature: 0.2\n+temperature: 0.5\n" in diff.stdout
    assert "\n-Be brief.\n+Be brief and kind.\n" in diff.stdout
    assert listing.exit_code == 0, listing.stderr
    assert rows_of(listing.stdout) == [
        ["name", "latest", "labels", "updated"],
        ["support-answer", "v2", "canary=v1, staging=v2"],
    ]
    assert rows_of(canary_only.stdout)[1][:3] == ["support-answer", "v2", "canary=v1, staging=v2"]


def test_registry_errors_go_to_stderr_with_exit_1(running_registry: tuple[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: answer\nkind: chat\nmessages:\n  - role: robot\n    content: hi\n")
    text = tmp_path / "text.yaml"
    text.write_text("name: summary\nkind: text\ntemplate: 'Summarise {{ text }}'\nvariables: [{name: text}]\n")

    unknown = prompts(running_registry, "show", "no-such-prompt")
    invalid_file = prompts(running_registry, "push", str(bad))
    prompts(running_registry, "push", str(text))
    protected = prompts(running_registry, "label", "summary", "1", "production")
    empty_list = prompts(running_registry, "list", "--label", "production")
    wrong_key = CliRunner().invoke(prompts_app, ["list", "--url", running_registry[0], "--api-key", "llmops_nope"])

    assert (unknown.exit_code, unknown.stdout) == (1, "")
    assert unknown.stderr.startswith("error: prompt 'no-such-prompt' does not exist\n")
    assert invalid_file.exit_code == 1
    assert invalid_file.stderr == (
        f"error: {bad}: not a valid prompt file (1 problem):\n"
        "  messages[0].role (line 4): Input should be 'system', 'user', 'assistant' or 'tool'\n"
    )
    assert protected.exit_code == 1
    assert protected.stderr.startswith("error: label 'production' is protected")
    assert (empty_list.exit_code, empty_list.stdout) == (0, "no prompts with label 'production'\n")
    assert wrong_key.exit_code == 1
    assert wrong_key.stderr.startswith("error: ")


def rows_of(table: str) -> list[list[str]]:
    """The cells of each row of a rich table, without its borders and without the `updated` time."""
    rows = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃ ").split("│" if "│" in line else "┃")]
        if len(cells) == 4:
            rows.append(cells if cells[0] == "name" else cells[:3])
    return rows
