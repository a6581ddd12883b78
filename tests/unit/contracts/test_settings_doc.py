"""`docs/settings.md` is what the generator writes from the settings classes today, and says something of each."""

from __future__ import annotations

from llmops_common.settings import REPO_ROOT
from llmops_common.settings_doc import SETTINGS_DOC, render_settings_doc


def test_the_committed_settings_page_matches_the_code() -> None:
    assert SETTINGS_DOC.read_text() == render_settings_doc(), "docs/settings.md is stale: run `make schemas`"


def test_every_setting_says_what_it_sets() -> None:
    undocumented = [line for line in render_settings_doc().splitlines() if line.endswith("|  |")]

    assert not undocumented, "give these settings a docstring:\n" + "\n".join(undocumented)


def test_defaults_name_repository_folders_not_this_machine() -> None:
    assert str(REPO_ROOT) not in render_settings_doc()
