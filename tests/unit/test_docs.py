"""The README stays a short front door, and no relative link in it or in docs/ points at nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmops_common.settings import REPO_ROOT, SERVICE_NAMES

README = REPO_ROOT / "README.md"
README_MAX_LINES = 200
DOCS = sorted([README, *(REPO_ROOT / "docs").rglob("*.md")])

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`+[^`]*`+")
# [text](target "title") and ![alt](target); the text may hold brackets of its own one level deep.
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def markdown_links(text: str) -> list[str]:
    """The link targets of a Markdown text, outside fenced code blocks and inline code."""
    targets: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        prose = _INLINE_CODE.sub("", line)
        targets += _INLINE_LINK.findall(prose)
        if reference := _REFERENCE_LINK.match(prose):
            targets.append(reference.group(1))
    return targets


def relative_path(target: str) -> str | None:
    """The file part of a relative link; None for a URL, a mail address or an anchor in the same page."""
    if _SCHEME.match(target) or target.startswith(("#", "//")):
        return None
    return target.split("#", 1)[0].split("?", 1)[0] or None


def broken_links(page: Path, root: Path = REPO_ROOT) -> list[str]:
    """The relative links of `page` whose file (or folder) does not exist inside `root`."""
    broken = []
    for target in markdown_links(page.read_text(encoding="utf-8")):
        path = relative_path(target)
        if path is None:
            continue
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(root.resolve()) or not resolved.exists():
            broken.append(target)
    return broken


def test_the_readme_is_a_front_door_of_at_most_200_lines() -> None:
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"


@pytest.mark.parametrize("page", DOCS, ids=[str(page.relative_to(REPO_ROOT)) for page in DOCS])
def test_every_relative_link_points_to_an_existing_file(page: Path) -> None:
    assert broken_links(page) == []


def test_the_readme_links_every_docs_page() -> None:
    targets = {relative_path(target) for target in markdown_links(README.read_text(encoding="utf-8"))}
    pages = {"docs/events.md", "docs/operations.md", "docs/settings.md", "docs/benchmarks.md"}
    services = {f"docs/services/{name}.md" for name in SERVICE_NAMES}
    assert pages | services <= targets


def test_links_are_found_in_prose_and_ignored_in_code() -> None:
    text = "\n".join(
        [
            'See [the runbook](docs/operations.md#runbook), ![a chart](img/chart.png "title") and',
            "[a [nested] label](a/b.md). Not `[code](x.md)`, not [a URL](https://example.com), not [here](#top).",
            "```",
            "[fenced](no.md)",
            "```",
            "[ref]: ../schemas/asyncapi.json",
        ]
    )
    links = markdown_links(text)
    assert links == [
        "docs/operations.md#runbook",
        "img/chart.png",
        "a/b.md",
        "https://example.com",
        "#top",
        "../schemas/asyncapi.json",
    ]
    assert [relative_path(link) for link in links] == [
        "docs/operations.md",
        "img/chart.png",
        "a/b.md",
        None,
        None,
        "../schemas/asyncapi.json",
    ]


def test_a_link_to_a_missing_file_or_out_of_the_repository_is_reported(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "there.md").write_text("# There\n", encoding="utf-8")
    (tmp_path / "outside.md").write_text("# Outside the repository\n", encoding="utf-8")
    page = repo / "docs" / "page.md"
    page.write_text(
        "[ok](there.md#top), [folder](../docs/), [gone](nowhere.md), [outside](../../outside.md)\n", encoding="utf-8"
    )
    assert broken_links(page, root=repo) == ["nowhere.md", "../../outside.md"]
