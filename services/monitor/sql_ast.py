"""Checks an ops query on the tree ClickHouse's own parser made of it (the text of `EXPLAIN AST`).

A check on the parser's tree cannot be fooled by comments, quoting or case the way a check on the text
can: `#` comments, `FILE(...)` or an `INTO OUTFILE` hidden behind a comment are seen as the engine sees them.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmops_common.errors import PermanentError


class SqlRefusedError(PermanentError):
    """A query the ops endpoint does not run: not one SELECT, not well formed, or reaching past the store."""

    status_code = 422
    code = "sql_refused"


DENIED_FUNCTIONS = frozenset(
    name.lower()
    for name in (
        # Files, the network and processes, as table functions or (`file`) as a scalar that reads any file.
        *("file", "fileCluster", "filesystem", "url", "urlCluster", "remote", "remoteSecure", "cluster"),
        *("clusterAllReplicas", "s3", "s3Cluster", "gcs", "oss", "cosn", "hdfs", "hdfsCluster", "mysql"),
        *("postgresql", "mongodb", "redis", "sqlite", "jdbc", "odbc", "executable", "python", "input"),
        *("azureBlobStorage", "azureBlobStorageCluster", "iceberg", "deltaLake", "hudi", "paimon", "ytsaurus"),
        *("bigquery", "prometheusQuery", "prometheusQueryRange", "arrowstream", "dictionary"),
        # Scalars that load a model file or tell about the host's disks.
        *("catboostEvaluate", "filesystemAvailable", "filesystemCapacity", "filesystemUnreserved"),
    )
)
"""Refused wherever they appear. The table functions below are also refused unless allowed there."""

DENIED_FUNCTION_PREFIXES = ("dict", "iceberg", "deltalake", "hudi", "paimon", "timeseries")
"""`dictGet*`, `dictHas`, ...: a dictionary's source may be an external database or a file."""

ALLOWED_TABLE_FUNCTIONS = frozenset(
    name.lower()
    for name in ("numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateSeries", "values", "view")
)
"""The table functions that only compute rows or read the store's own tables: an allow list, so that a
table function a newer ClickHouse adds is refused until someone has looked at it."""

DENIED_SYSTEM_TABLES = frozenset({"system.named_collections"})
"""System tables that may hold credentials of external sources."""


@dataclass(frozen=True)
class AstNode:
    """One line of `EXPLAIN AST`: its depth, its kind (`Function`, `Literal`, ...) and the word after it."""

    depth: int
    kind: str
    name: str
    parent_kind: str | None


def parse_explain_ast(text: str) -> list[AstNode]:
    """The nodes of an `EXPLAIN AST` text, in order; a node's depth is its indentation (one space a level)."""
    nodes: list[AstNode] = []
    kinds_by_depth: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" "))
        kind, _, rest = line.strip().partition(" ")
        name = "" if rest.startswith("(") else rest.partition(" ")[0]
        del kinds_by_depth[depth:]
        nodes.append(AstNode(depth, kind, name, kinds_by_depth[-1] if kinds_by_depth else None))
        kinds_by_depth.append(kind)
    return nodes


def checked_output_format(nodes: list[AstNode]) -> str | None:
    """The query's `FORMAT` (None if it names none), once the tree is one SELECT that stays in the store.

    Raises `SqlRefusedError` with the reason otherwise.
    """
    roots = [node for node in nodes if node.depth == 0]
    if len(roots) != 1 or roots[0].kind != "SelectWithUnionQuery":
        raise SqlRefusedError("only SELECT queries are served here", detail={"statement": _kinds(roots)})
    output_format: str | None = None
    for node in nodes:
        if node.kind == "Set":
            raise SqlRefusedError("SETTINGS clauses are not served here: the monitor sets the query's limits")
        if node.depth == 1 and node.kind == "Identifier":
            output_format = node.name
        elif node.depth == 1 and node.kind != "ExpressionList":
            # The top query's other children are INTO OUTFILE's file name, its compression and level.
            raise SqlRefusedError("INTO OUTFILE is not served here")
        if node.kind == "Function":
            _check_function(node)
        if node.kind == "TableIdentifier" and node.name.lower() in DENIED_SYSTEM_TABLES:
            raise SqlRefusedError(f"{node.name} is not served here", detail={"table": node.name})
    return output_format


def _check_function(node: AstNode) -> None:
    name = node.name.lower()
    denied = name in DENIED_FUNCTIONS or name.startswith(DENIED_FUNCTION_PREFIXES)
    if node.parent_kind == "TableExpression" and name not in ALLOWED_TABLE_FUNCTIONS:
        denied = True
    if denied:
        raise SqlRefusedError(
            f"function {node.name} is not served here: it reaches files, the network or processes",
            detail={"function": node.name},
        )


def _kinds(nodes: list[AstNode]) -> str:
    return ", ".join(node.kind for node in nodes) or "nothing"
