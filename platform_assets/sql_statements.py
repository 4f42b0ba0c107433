"""SQL the catalog carries, an export's or a database source's query: one SELECT statement."""

from __future__ import annotations

import re

_SELECT = re.compile(r"(?is)^(select|with)\b")


def single_select(sql: str) -> str:
    """`sql` without its trailing ';', if it is one SELECT (or WITH … SELECT) statement;
    ValueError if not."""
    query = sql.strip().removesuffix(";").strip()
    if ";" in query:
        raise ValueError("one statement only: remove the ';'")
    if not _SELECT.match(query):
        raise ValueError("query must be a SELECT (or WITH … SELECT)")
    return query
