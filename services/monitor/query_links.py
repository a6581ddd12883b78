"""Links to the query behind an alert, in ClickHouse's HTTP interface form (`?query=...&param_x=...`),
which the monitor's SQL endpoint and a ClickHouse server both read."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from llmops_common.storage.clickhouse_text import parameter_text

from .measurements import Query

SQL_PATH = "/"
"""The monitor's read-only SQL endpoint: the root, as in ClickHouse's own HTTP interface."""


def query_url(base_url: str, query: Query) -> str:
    """A GET URL that runs `query` with its parameters bound."""
    sql = re.sub(r"\s+", " ", query.sql).strip()
    parameters = {f"param_{name}": parameter_text(value) for name, value in query.parameters.items()}
    return f"{base_url.rstrip('/')}{SQL_PATH}?{urlencode({'query': sql, **parameters})}"
