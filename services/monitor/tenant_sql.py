"""A tenant admin's ops SQL sees its own tenant's rows: ClickHouse filters every table, and the query may
read no table past the telemetry tables.

The rows are filtered by ClickHouse itself, with the `additional_table_filters` setting: the engine adds
`tenant = '<tenant>'` to every read of a table with a `tenant` column, wherever the query names it (a
join, a subquery, a CTE, `IN table`, `view(...)`), and `0` to every other table of the database (the
lifecycle log, the migrations, the materialized views), so those read as empty. The caller cannot lift
the setting: SETTINGS clauses are refused and the query runs with `readonly = 1`.

Two checks refuse, with the reason, what the filters leave out. Before anything is evaluated, the parser's
tree may name no table of another database (`system.query_log` holds every tenant's queries), which the
filters do not cover. Then ClickHouse's analyzer resolves every table the query reads (`EXPLAIN QUERY
TREE`, under the same filters, as the analyzer already runs scalar subqueries); each must be a tenant
table, or one of the few system tables that hold no telemetry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from llmops_common.storage.clickhouse_text import parse_json_each_row

from .sql_ast import AstNode, SqlRefusedError

TENANT_COLUMN = "tenant"

HARMLESS_SYSTEM_TABLES = frozenset(
    {"system.one", "system.numbers", "system.numbers_mt", "system.zeros", "system.zeros_mt", "system.settings"}
)
"""System tables that hold no telemetry: rows computed on the fly (`SELECT 1` reads `system.one`), and the
query's own settings, which clickhouse-connect reads when it connects."""

_SCHEMA_SQL = """
SELECT name, engine LIKE '%View' AS is_view,
    name IN (
        SELECT table FROM system.columns WHERE database = currentDatabase() AND name = {tenant_column:String}
    ) AS has_tenant
FROM system.tables
WHERE database = currentDatabase()
ORDER BY name
"""
_DATABASES_SQL = "SELECT name, name = currentDatabase() AS current FROM system.databases"
_TREE_TABLE = re.compile(r"^\s*TABLE id: \d+,.*\btable_name: ([^,\s]+)")


class SchemaReader(Protocol):
    """What reading the schema takes: one query's output in a format (an ops connection)."""

    def query_bytes(self, sql: str, fmt: str, parameters: dict[str, str] | None = None) -> bytes:
        """Runs one statement and returns its output in `fmt`."""
        ...


@dataclass(frozen=True)
class TenantTables:
    """What one tenant admin's query may read, and the filters ClickHouse applies to it."""

    tenant: str
    database: str
    tenant_tables: frozenset[str]
    """`database.name` of each table (not view) with a `tenant` column."""
    other_tables: frozenset[str]
    """`database.name` of the database's other tables and views, which read as empty."""
    other_databases: frozenset[str]
    """Databases the query may not name (lower case): `system`, `information_schema`, ..."""

    def settings(self) -> str:
        """The `additional_table_filters = {...}` setting that scopes every table of the database."""
        own_rows = f"{TENANT_COLUMN} = {_quoted(self.tenant)}"
        filters = [(table, own_rows) for table in sorted(self.tenant_tables)]
        filters += [(table, "0") for table in sorted(self.other_tables)]
        entries = ", ".join(f"{_quoted(table)}: {_quoted(condition)}" for table, condition in filters)
        return f"additional_table_filters = {{{entries}}}"

    def check_names(self, nodes: Sequence[AstNode]) -> None:
        """Refuses a tree that names a table of another database; the parser's tree runs nothing."""
        for node in nodes:
            if node.kind not in ("TableIdentifier", "Identifier"):
                continue
            database, dot, _ = node.name.partition(".")
            if dot and database.lower() in self.other_databases and node.name not in HARMLESS_SYSTEM_TABLES:
                raise SqlRefusedError(
                    f"{node.name} is not served to a tenant's key: it is outside the telemetry tables",
                    detail={"table": node.name},
                )

    def check_tree(self, query_tree: str) -> None:
        """Refuses a query whose resolved tables (`EXPLAIN QUERY TREE`) are not all this tenant's tables."""
        for line in query_tree.splitlines():
            match = _TREE_TABLE.match(line)
            if not match:
                continue
            table = match[1]
            if table not in self.tenant_tables and table not in HARMLESS_SYSTEM_TABLES:
                name = table.removeprefix(f"{self.database}.")
                raise SqlRefusedError(
                    f"{name} is not served to a tenant's key, which reads the tables with a {TENANT_COLUMN} column",
                    detail={"table": name},
                )


def tenant_tables(reader: SchemaReader, tenant: str) -> TenantTables:
    """The tables `tenant`'s admin may read, from the schema as the store holds it now."""
    databases = parse_json_each_row(reader.query_bytes(_DATABASES_SQL, "JSONEachRow"))
    rows = parse_json_each_row(reader.query_bytes(_SCHEMA_SQL, "JSONEachRow", {"tenant_column": TENANT_COLUMN}))
    database = next(str(row["name"]) for row in databases if row["current"])
    scoped = {f"{database}.{row['name']}" for row in rows if row["has_tenant"] and not row["is_view"]}
    return TenantTables(
        tenant=tenant,
        database=database,
        tenant_tables=frozenset(scoped),
        other_tables=frozenset(f"{database}.{row['name']}" for row in rows) - scoped,
        # Both spellings of information_schema, whichever the engine lists.
        other_databases=frozenset({str(row["name"]).lower() for row in databases} | {"system", "information_schema"})
        - {database.lower()},
    )


def _quoted(text: str) -> str:
    """`text` as a ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
