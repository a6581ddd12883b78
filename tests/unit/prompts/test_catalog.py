"""The catalog's rules decide between concurrent writers the same way on every replica."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llmops_common.errors import NotFoundError
from llmops_common.events import PromptLabelMovedV1, PromptVersionCreatedV1
from llmops_common.prompts.catalog import LATEST, PromptCatalog

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def version(n: int, name: str = "answer", tenant: str = "acme", text: str = "hi") -> PromptVersionCreatedV1:
    return PromptVersionCreatedV1(
        tenant=tenant, name=name, version=n, kind="text", template=text, author="key-1", created_at=NOW
    )


def move(label: str, to: int, previous: int | None, name: str = "answer") -> PromptLabelMovedV1:
    return PromptLabelMovedV1(
        tenant="acme", name=name, label=label, version=to, previous_version=previous, moved_by="key-1", moved_at=NOW
    )


def catalog_of(*events: PromptVersionCreatedV1 | PromptLabelMovedV1) -> PromptCatalog:
    catalog = PromptCatalog()
    for event in events:
        catalog.apply(event)
    return catalog


def test_versions_are_numbered_and_the_latest_is_the_default() -> None:
    catalog = catalog_of(version(1, text="one"), version(2, text="two"))

    assert catalog.get("acme", "answer").template == "two"
    assert catalog.get("acme", "answer", version=1).template == "one"
    assert catalog.get("acme", "answer", label=LATEST).version == 2


def test_of_two_writers_of_one_version_the_first_in_the_log_wins() -> None:
    first, second = version(1, text="first"), version(1, text="second")

    catalog = catalog_of(first, second)

    assert catalog.get("acme", "answer").template == "first"
    assert catalog.outcome(first.change_id) is True
    assert catalog.outcome(second.change_id) is False


def test_a_version_that_skips_a_number_is_rejected() -> None:
    skipped = version(3)

    catalog = catalog_of(version(1), skipped)

    assert catalog.outcome(skipped.change_id) is False
    assert catalog.history("acme", "answer").latest.version == 1


def test_a_label_moves_only_from_where_it_points_now() -> None:
    winner, loser = move("production", 2, None), move("production", 1, None)

    catalog = catalog_of(version(1), version(2), winner, loser)

    assert catalog.get("acme", "answer", label="production").version == 2
    assert catalog.outcome(loser.change_id) is False


def test_moving_a_label_back_is_the_rollback() -> None:
    catalog = catalog_of(version(1), version(2), move("production", 2, None), move("production", 1, 2))

    assert catalog.get("acme", "answer", label="production").version == 1
    assert catalog.history("acme", "answer").labels_of(2) == [LATEST]
    assert catalog.history("acme", "answer").labels_of(1) == ["production"]


def test_a_label_cannot_point_at_a_missing_version_or_be_latest() -> None:
    missing, latest = move("production", 5, None), move(LATEST, 1, None)

    catalog = catalog_of(version(1), missing, latest)

    assert catalog.outcome(missing.change_id) is False
    assert catalog.outcome(latest.change_id) is False


def test_unknown_prompts_versions_and_labels_are_not_found() -> None:
    catalog = catalog_of(version(1))

    with pytest.raises(NotFoundError, match="prompt 'other' does not exist"):
        catalog.get("acme", "other")
    with pytest.raises(NotFoundError, match="has no version 7"):
        catalog.get("acme", "answer", version=7)
    with pytest.raises(NotFoundError, match="has no label 'staging'"):
        catalog.get("acme", "answer", label="staging")


def test_tenants_do_not_see_each_other() -> None:
    catalog = catalog_of(version(1, tenant="acme"), version(1, tenant="globex", text="theirs"))

    assert catalog.get("globex", "answer").template == "theirs"
    assert [s.name for s in catalog.summaries("acme")] == ["answer"]
    with pytest.raises(NotFoundError):
        catalog.get("initech", "answer")


def test_the_listing_filters_by_label() -> None:
    catalog = catalog_of(version(1, name="a"), version(1, name="b"), move("staging", 1, None, name="b"))

    assert [s.name for s in catalog.summaries("acme", label="staging")] == ["b"]
    assert [s.name for s in catalog.summaries("acme")] == ["a", "b"]
