"""The limits put on ops queries, and the checks on the tree `EXPLAIN AST` prints of them.

The whole path, with ClickHouse parsing real queries, is in `tests/security/test_ops_sql.py`.
"""

from __future__ import annotations

import pytest

from services.monitor.readonly_sql import SqlLimits
from services.monitor.sql_ast import SqlRefusedError, checked_output_format, parse_explain_ast

LIMITS = SqlLimits(
    max_result_rows=100,
    max_execution_seconds=2.5,
    max_memory_bytes=1 << 20,
    max_result_bytes=1 << 10,
    max_rows_to_read=10_000,
    max_bytes_to_read=1 << 30,
    max_threads=2,
)

SELECT_FORMAT_JSON = """SelectWithUnionQuery (children 2)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 1)
    Function count (alias n) (children 1)
     ExpressionList
   TablesInSelectQuery (children 1)
    TablesInSelectQueryElement (children 1)
     TableExpression (children 1)
      Function numbers (children 1)
       ExpressionList (children 1)
        Literal UInt64_3
 Identifier JSON
"""


def test_the_settings_clause_sets_every_limit_and_read_only_mode() -> None:
    assert LIMITS.settings_clause() == (
        "SETTINGS readonly = 1, result_overflow_mode = 'throw', read_overflow_mode = 'throw', "
        "max_result_rows = 100, max_result_bytes = 1024, max_rows_to_read = 10000, "
        "max_bytes_to_read = 1073741824, max_execution_time = 2.5, max_memory_usage = 1048576, max_threads = 2"
    )


def test_a_select_passes_and_its_format_is_read_from_the_tree() -> None:
    nodes = parse_explain_ast(SELECT_FORMAT_JSON)

    assert checked_output_format(nodes) == "JSON"
    assert [(node.kind, node.name) for node in nodes if node.kind == "Function"] == [
        ("Function", "count"),
        ("Function", "numbers"),
    ]
    assert nodes[-1].depth == 1


@pytest.mark.parametrize(
    ("tree", "reason"),
    [
        ("Explain (children 1)\n SelectWithUnionQuery\n", "only SELECT"),
        ("SelectWithUnionQuery (children 2)\n ExpressionList\n Literal '/tmp/f'\n", "INTO OUTFILE"),
        ("SelectWithUnionQuery (children 2)\n ExpressionList\n  SelectQuery\n   Set\n", "SETTINGS"),
        ("SelectWithUnionQuery\n ExpressionList\n  Function FILE (children 1)\n", "function FILE"),
        ("SelectWithUnionQuery\n ExpressionList\n  Function dictGetString\n", "function dictGetString"),
        ("SelectWithUnionQuery\n ExpressionList\n  TableExpression\n   Function someNewSource\n", "someNewSource"),
        ("SelectWithUnionQuery\n ExpressionList\n  TableIdentifier system.named_collections\n", "named_coll"),
    ],
)
def test_a_tree_that_reaches_past_the_store_is_refused_with_the_reason(tree: str, reason: str) -> None:
    with pytest.raises(SqlRefusedError, match=reason) as raised:
        checked_output_format(parse_explain_ast(tree))

    assert raised.value.status_code == 422
