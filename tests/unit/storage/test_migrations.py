"""Reading migration files: splitting statements, naming, ordering and checksums."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_common.settings import REPO_ROOT
from llmops_common.storage.errors import MigrationError
from llmops_common.storage.migrations import load_migrations, split_statements


def test_statements_split_at_semicolons_without_comments_or_blanks() -> None:
    script = """
    -- a leading comment; with a semicolon
    CREATE TABLE a (x UInt8) ENGINE = Memory;  -- trailing comment

    /* a block comment; still a comment */
    INSERT INTO a VALUES (1);
    ;
    """
    assert split_statements(script) == [
        "CREATE TABLE a (x UInt8) ENGINE = Memory",
        "INSERT INTO a VALUES (1)",
    ]


def test_semicolons_and_comment_markers_inside_quotes_do_not_split() -> None:
    script = "SELECT 'a;b', 'it''s -- not a comment', 'back\\'slash;' AS `odd;name`;SELECT \"col;umn\" /* x */ FROM t"
    assert split_statements(script) == [
        "SELECT 'a;b', 'it''s -- not a comment', 'back\\'slash;' AS `odd;name`",
        'SELECT "col;umn"   FROM t',
    ]


def test_a_script_of_only_comments_has_no_statements() -> None:
    assert split_statements("-- nothing\n/* here */\n  \n") == []


@pytest.mark.parametrize("script", ["SELECT 'open", "SELECT 1 /* open"])
def test_unterminated_quotes_and_comments_are_errors(script: str) -> None:
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements(script)


def write(folder: Path, name: str, sql: str) -> None:
    (folder / name).write_text(sql, encoding="utf-8")


def test_migrations_load_in_version_order_and_ignore_other_files(tmp_path: Path) -> None:
    write(tmp_path, "0010_third.sql", "SELECT 10")
    write(tmp_path, "0002_second.sql", "SELECT 2; SELECT 22")
    write(tmp_path, "0001_first.sql", "SELECT 1")
    (tmp_path / "README.md").write_text("not a migration")

    migrations = load_migrations(tmp_path)

    assert [(m.version, m.name, m.statements) for m in migrations] == [
        (1, "first", ("SELECT 1",)),
        (2, "second", ("SELECT 2", "SELECT 22")),
        (10, "third", ("SELECT 10",)),
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"001_short.sql": "SELECT 1"}, "NNNN_lower_snake_case"),
        ({"0001_Upper.sql": "SELECT 1"}, "NNNN_lower_snake_case"),
        ({"0001_a.sql": "SELECT 1", "0001_b.sql": "SELECT 2"}, "version 1 is taken by a"),
        ({"0001_empty.sql": "-- only a comment\n"}, "holds no statement"),
        ({"0001_broken.sql": "SELECT 'x"}, "0001_broken.sql: unterminated"),
    ],
)
def test_malformed_migration_folders_are_refused(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, sql in files.items():
        write(tmp_path, name, sql)
    with pytest.raises(MigrationError, match=message):
        load_migrations(tmp_path)


def test_checksum_ignores_comments_but_not_sql(tmp_path: Path) -> None:
    write(tmp_path, "0001_x.sql", "CREATE TABLE t (x UInt8) ENGINE = Memory;")
    original = load_migrations(tmp_path)[0].checksum
    write(tmp_path, "0001_x.sql", "-- explains why\nCREATE TABLE t (x UInt8) ENGINE = Memory; -- more\n")
    assert load_migrations(tmp_path)[0].checksum == original
    write(tmp_path, "0001_x.sql", "CREATE TABLE t (x UInt16) ENGINE = Memory;")
    assert load_migrations(tmp_path)[0].checksum != original


def test_the_repository_migrations_load() -> None:
    migrations = load_migrations(REPO_ROOT / "infra" / "clickhouse")
    assert migrations[0].version == 1
    assert migrations[0].statements[0].startswith("CREATE TABLE IF NOT EXISTS inference_completed")
