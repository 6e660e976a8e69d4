"""Make fills and equity points TimescaleDB hypertables where TimescaleDB is installed.

Elsewhere (SQLite, PostgreSQL without the extension) nothing changes: the `ts` indexes from
0001 serve time-range queries well enough at a single desk's volumes.
"""

import logging

from django.db import migrations

from ledger.timescale import hypertable_sql, timescale_available

logger = logging.getLogger("SYSTEM")

HYPERTABLES = (("ledger_fill", "ts"), ("ledger_equitypoint", "ts"))


def make_hypertables(apps, schema_editor):
    """Convert the time-series tables when TimescaleDB is there; log the mode either way."""
    connection = schema_editor.connection
    if not timescale_available(connection):
        logger.info(
            "ledger: TimescaleDB not available on %s; fills and equity use plain tables "
            "with a ts index",
            connection.vendor,
        )
        return
    for table, column in HYPERTABLES:
        for statement in hypertable_sql(table, column):
            schema_editor.execute(statement)
    logger.info(
        "ledger: TimescaleDB available; %s are hypertables on ts",
        ", ".join(table for table, _ in HYPERTABLES),
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    # Going back leaves hypertables in place: they behave as ordinary tables for 0001.
    operations = [migrations.RunPython(make_hypertables, migrations.RunPython.noop)]
