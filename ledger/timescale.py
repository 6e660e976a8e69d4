"""TimescaleDB support: detect the extension and the SQL that makes a table a hypertable.

A hypertable can only enforce a unique index or primary key that contains its partitioning
column, so Django's `id` primary key is replaced by `(id, <time column>)`; `id` stays an
identity column, so the ORM keeps inserting and addressing rows as before.
"""

from __future__ import annotations

import re
from typing import Any

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _identifier(name: str) -> str:
    # The names come from our own migrations, but they are spliced into SQL, so only plain
    # lower-case identifiers are allowed (which also makes quoting unambiguous).
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def hypertable_sql(table: str, time_column: str) -> list[str]:
    """The statements that turn `table` (with Django's `id` primary key) into a hypertable.

    Assumes the primary key constraint has PostgreSQL's default name `<table>_pkey`, which
    is what Django's CREATE TABLE produces. Existing rows are migrated into chunks.
    """
    table = _identifier(table)
    time_column = _identifier(time_column)
    return [
        f'ALTER TABLE "{table}" DROP CONSTRAINT "{table}_pkey"',
        f'ALTER TABLE "{table}" ADD PRIMARY KEY ("id", "{time_column}")',
        f"SELECT create_hypertable('{table}', '{time_column}', "
        "migrate_data => TRUE, if_not_exists => TRUE)",
    ]


def timescale_available(connection: Any) -> bool:
    """True when `connection` is PostgreSQL with the `timescaledb` extension installed."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
        return cursor.fetchone() is not None
