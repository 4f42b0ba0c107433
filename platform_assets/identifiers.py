"""The identifier rules, each written once: what a name may be where the platform uses it.

Names are validated before any path, asset key or statement is built from them; SQL then
quotes them (`quote`), and values are always bound, never formatted in.
"""

from __future__ import annotations

import re

from platform_assets.errors import ConfigurationError

# The platform's own names (sources, exports, warehouse tables): they become asset keys, lake
# folders and table names, so lower-case, starting with a letter.
NAME = r"^[a-z][a-z0-9_]{0,62}$"
# Columns the catalog declares: lower-case, as Redshift folds unquoted names; up to Redshift's
# 127-byte identifier limit.
COLUMN = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")
# Names inside a client's database, spelt as it spells them; 63 is PostgreSQL's limit.
_UPSTREAM = r"[A-Za-z_][A-Za-z0-9_]{0,62}"
UPSTREAM_COLUMN = rf"^{_UPSTREAM}$"
UPSTREAM_TABLE = rf"^({_UPSTREAM}\.)?{_UPSTREAM}$"  # optionally schema-qualified
# What the warehouse's SQL quotes: any case (columns inferred from an upstream's header keep
# theirs), up to Redshift's 127-byte limit.
_SQL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,126}$")


def is_sql_identifier(name: str) -> bool:
    """Whether `quote` takes it: what a column inferred from upstream must be."""
    return bool(_SQL.match(name))


def quote(identifier: str) -> str:
    """A validated, double-quoted SQL identifier."""
    if not is_sql_identifier(identifier):
        raise ConfigurationError(f"{identifier!r} is not a valid SQL identifier")
    return f'"{identifier}"'
