"""Numbered SQL migrations (`infra/clickhouse/NNNN_description.sql`), each applied once, in order.

ClickHouse has no transactional DDL: a migration that fails half-way leaves its earlier statements
applied and is retried whole at the next start. Write every statement so it may run twice
(`CREATE TABLE IF NOT EXISTS`, `ALTER TABLE ... ADD COLUMN IF NOT EXISTS`). That also makes two
processes migrating one server at once harmless: both may run a pending migration, to the same effect.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import MigrationError

if TYPE_CHECKING:
    from .telemetry import TelemetryStore

log = logging.getLogger(__name__)

MIGRATION_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY version
"""
"""Made by the runner itself, since it must exist before the first migration can be recorded."""


@dataclass(frozen=True)
class Migration:
    """One migration file: its number, its name and the statements it runs."""

    version: int
    name: str
    statements: tuple[str, ...]

    @property
    def checksum(self) -> str:
        """The sha256 of the statements without comments: editing a comment does not change it."""
        return hashlib.sha256("\n;\n".join(self.statements).encode()).hexdigest()


def split_statements(sql: str) -> list[str]:
    """The statements of a SQL script, split at `;`, without `--` and `/* */` comments or blanks.

    A `;` or a comment marker inside a '...' string, a "..." or `...` identifier does not count.
    """
    statements: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(sql):
        char = sql[i]
        if char in "'\"`":
            end = _closing_quote(sql, i)
            current.append(sql[i:end])
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise MigrationError("unterminated /* comment")
            current.append(" ")
            i = end + 2
        elif char == ";":
            statements.append("".join(current))
            current = []
            i += 1
        else:
            current.append(char)
            i += 1
    statements.append("".join(current))
    return [statement.strip() for statement in statements if statement.strip()]


def _closing_quote(sql: str, start: int) -> int:
    """The index just past the quote that closes the one at `start`; backslash escapes the next char."""
    quote, i = sql[start], start + 1
    while i < len(sql):
        if sql[i] == "\\":
            i += 2
        elif sql[i] == quote:
            return i + 1
        else:
            i += 1
    raise MigrationError(f"unterminated {quote} quote starting at: {sql[start : start + 40]!r}")


def load_migrations(directory: Path) -> list[Migration]:
    """Every `NNNN_name.sql` in `directory`, in version order. Other `.sql` names are an error, so a
    misnamed migration cannot be skipped in silence."""
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: a migration is named NNNN_lower_snake_case.sql")
        version = int(match["version"])
        if version in migrations:
            raise MigrationError(f"{path.name}: version {version} is taken by {migrations[version].name}")
        try:
            statements = split_statements(path.read_text(encoding="utf-8"))
        except MigrationError as error:
            raise MigrationError(f"{path.name}: {error.message}") from error
        if not statements:
            raise MigrationError(f"{path.name}: holds no statement")
        migrations[version] = Migration(version, match["name"], tuple(statements))
    return [migrations[version] for version in sorted(migrations)]


def applied_checksums(store: TelemetryStore) -> dict[int, str]:
    """The checksum of every applied migration, by version."""
    rows = store.query("SELECT version, checksum FROM schema_migrations FINAL ORDER BY version")
    return {int(row["version"]): str(row["checksum"]) for row in rows}


def apply_migrations(store: TelemetryStore, migrations: list[Migration]) -> list[Migration]:
    """Applies the migrations not yet recorded in `schema_migrations`, in order; returns them.

    Raises `MigrationError` when an applied migration's file has changed since: write a new migration
    instead. Applied versions missing from `migrations` are left alone (newer code may have run).
    """
    store.command(SCHEMA_MIGRATIONS_DDL)
    applied = applied_checksums(store)
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} changed after it was applied "
                f"(applied checksum {recorded}, file now {migration.checksum}); "
                "add a new migration instead of editing an applied one",
                detail={"version": migration.version, "applied": recorded, "file": migration.checksum},
            )
    pending = [migration for migration in migrations if migration.version not in applied]
    for migration in pending:
        log.info("applying ClickHouse migration %04d_%s", migration.version, migration.name)
        for statement in migration.statements:
            store.command(statement)
        store.insert_rows(
            "schema_migrations",
            [
                {
                    "version": migration.version,
                    "name": migration.name,
                    "checksum": migration.checksum,
                    "applied_at": datetime.now(UTC),
                }
            ],
        )
    return pending
