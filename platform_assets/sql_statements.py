"""SQL the catalog carries, an export's or a database source's query: one SELECT statement."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

_SELECT = re.compile(r"(?is)^(select|with)\b")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def single_select(sql: str) -> str:
    """`sql` without its trailing ';', if it is one SELECT (or WITH … SELECT) statement;
    ValueError if not."""
    query = sql.strip().removesuffix(";").strip()
    if ";" in query:
        raise ValueError("one statement only: remove the ';'")
    if not _SELECT.match(query):
        raise ValueError("query must be a SELECT (or WITH … SELECT)")
    return query


_WRITES = (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command", "Copy", "Set",
    "Pragma", "Attach", "Detach", "Use", "Install", "Export", "Transaction", "Commit", "Rollback",
)  # fmt: skip
# functions that reach outside the tables (files, sequences, other databases, settings)
_OUTSIDE = ("read_", "pg_", "lo_", "glob", "nextval", "setval", "currval", "dblink", "query",
            "sniff_csv", "parquet_", "iceberg_", "delta_scan", "sqlite_", "postgres_", "mysql_",
            "duckdb_", "getenv", "current_setting", "set_config", "load_extension",
            "load_file")  # fmt: skip


def confined_select(
    sql: str,
    tables: Collection[str] | None,
    dialects: Sequence[str] = ("duckdb", "redshift"),
    reader: str = "the warehouse",
) -> None:
    """ValueError unless `sql` parses (sqlglot, in one of `dialects`: as DuckDB or Redshift read
    an export's) as one query that writes nothing, calls no function that reaches outside the
    tables (files, sequences, settings, other databases) and reads only `tables` (or its own
    CTEs; None: any table, as a client database's query may). The engine's own guard stands
    behind it: DuckDB runs exports with external access off, a database source reads in a
    read-only transaction."""
    import sqlglot
    from sqlglot import exp

    statements = None
    for dialect in dialects:
        try:
            statements = sqlglot.parse(sql, read=dialect)
            break
        except sqlglot.errors.ParseError as error:
            problem = str(error).splitlines()[0]
    if statements is None:
        raise ValueError(f"not SQL {reader} reads ({problem})")
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ValueError("must be one SELECT statement")
    tree = statements[0]
    writes = tuple(getattr(exp, name) for name in _WRITES)
    if written := next(iter(tree.find_all(*writes)), None):
        raise ValueError(f"must only read, not {written.key.upper()}")
    if tables is not None:
        allowed = {table.lower() for table in tables}
        readable = allowed | {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if not isinstance(table.this, exp.Identifier) or not _TABLE_NAME.match(table.name):
                raise ValueError(f"reads {table.this.sql()}, which is not a warehouse table")
            if table.name.lower() not in readable:
                raise ValueError(
                    f"reads {table.name}, which is not a table of the sources it depends on"
                    f" ({', '.join(sorted(allowed))})"
                )
    for function in tree.find_all(exp.Anonymous):
        if function.name.lower().startswith(_OUTSIDE):
            raise ValueError(f"calls {function.name}(), which reaches outside {reader}")
