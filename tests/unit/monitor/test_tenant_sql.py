"""The filters and checks that scope a tenant admin's ops SQL, on trees as ClickHouse prints them.

The whole path, with ClickHouse filtering real rows, is in `tests/security/test_tenant_scoping.py`.
"""

from __future__ import annotations

import pytest

from services.monitor.sql_ast import SqlRefusedError, parse_explain_ast
from services.monitor.tenant_sql import TenantTables

SCOPE = TenantTables(
    tenant="acme",
    database="default",
    tenant_tables=frozenset({"default.inference_completed", "default.feedback"}),
    other_tables=frozenset({"default.model_lifecycle", "default.inference_minute_mv"}),
    other_databases=frozenset({"system", "information_schema"}),
)

QUERY_TREE = """QUERY id: 0
  JOIN TREE
    JOIN id: 14, strictness: ALL, kind: INNER
      LEFT TABLE EXPRESSION
        QUERY id: 15, alias: __table3, is_subquery: 1, is_cte: 1, cte_name: c
          JOIN TREE
            TABLE id: 18, alias: __table4, table_name: default.inference_completed
      RIGHT TABLE EXPRESSION
        TABLE_FUNCTION id: 19, alias: __table5, table_function_name: numbers
  WHERE
    FUNCTION id: 23, function_name: in, function_type: ordinary, result_type: UInt8
      ARGUMENTS
          TABLE id: 29, alias: __table1, table_name: {table}
"""


def test_the_filters_keep_the_tenants_rows_and_empty_every_other_table() -> None:
    assert SCOPE.settings() == (
        "additional_table_filters = {'default.feedback': 'tenant = \\'acme\\'', "
        "'default.inference_completed': 'tenant = \\'acme\\'', "
        "'default.inference_minute_mv': '0', 'default.model_lifecycle': '0'}"
    )


def test_a_quote_in_a_tenant_cannot_end_the_filter() -> None:
    scope = TenantTables("a'b\\", "default", frozenset({"default.feedback"}), frozenset(), frozenset())

    assert scope.settings() == "additional_table_filters = {'default.feedback': 'tenant = \\'a\\\\\\'b\\\\\\\\\\''}"


@pytest.mark.parametrize(
    "tree",
    [
        "SelectWithUnionQuery\n ExpressionList\n  TableExpression\n   TableIdentifier inference_completed\n",
        "SelectWithUnionQuery\n ExpressionList\n  TableExpression\n   TableIdentifier default.feedback (alias f)\n",
        "SelectWithUnionQuery\n ExpressionList\n  TableExpression\n   TableIdentifier system.one\n",
        "SelectWithUnionQuery\n ExpressionList\n  Identifier f.tenant\n",
    ],
)
def test_names_in_the_database_pass(tree: str) -> None:
    SCOPE.check_names(parse_explain_ast(tree))


@pytest.mark.parametrize(
    ("tree", "table"),
    [
        ("SelectWithUnionQuery\n ExpressionList\n  TableIdentifier system.query_log\n", "system.query_log"),
        (
            "SelectWithUnionQuery\n ExpressionList\n  TableIdentifier INFORMATION_SCHEMA.tables\n",
            "INFORMATION_SCHEMA.tables",
        ),
        (
            "SelectWithUnionQuery\n ExpressionList\n  Function in\n   ExpressionList\n    Identifier system.tables\n",
            "system.tables",
        ),
    ],
)
def test_a_table_of_another_database_is_refused_before_anything_runs(tree: str, table: str) -> None:
    with pytest.raises(SqlRefusedError) as raised:
        SCOPE.check_names(parse_explain_ast(tree))

    assert raised.value.detail == {"table": table}


@pytest.mark.parametrize("table", ["default.feedback", "system.one", "system.settings"])
def test_a_query_tree_of_tenant_tables_passes(table: str) -> None:
    SCOPE.check_tree(QUERY_TREE.format(table=table))


@pytest.mark.parametrize(
    ("table", "name"),
    [("default.model_lifecycle", "model_lifecycle"), ("default.inference_minute_mv", "inference_minute_mv")],
)
def test_a_resolved_table_without_a_tenant_column_is_refused(table: str, name: str) -> None:
    with pytest.raises(SqlRefusedError, match="not served to a tenant's key") as raised:
        SCOPE.check_tree(QUERY_TREE.format(table=table))

    assert raised.value.detail == {"table": name}
