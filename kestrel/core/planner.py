"""The query planners' statistics: what makes both databases pick a table's indexes by their real
selectivity (a department's 200,000 customers against one id)."""

from typing import Any

from django.db import connection as default_connection


def planner_statistics_refresh(tables: list[str], *, connection: Any = None, if_kept: bool = False) -> None:
    """Refresh the statistics of ``tables``: after a bulk load, or after a migration added indexes.

    - PostgreSQL also vacuums (when not inside a transaction, where it cannot): until its visibility
      map knows new rows, an index-only scan visits the table for each of them.
    - SQLite keeps statistics per index (``sqlite_stat1``), sampled here. An index added after the
      last ``ANALYZE`` has none, and the planner then takes it for very selective: with the scope
      arms' region indexes new, SQLite checked a search's 3,400 ids by walking a department's
      200,000 customers (40 ms instead of 5). ``if_kept``: only where statistics exist already (a
      database never analysed plans every index alike).
    """
    connection = connection or default_connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            cursor.execute(f"{command} {', '.join(tables)}")
        elif connection.vendor == "sqlite":
            if if_kept:
                cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
                if cursor.fetchone() is None:
                    return
            cursor.execute("PRAGMA analysis_limit = 1000")  # sampled: a second, not a minute, at 1M rows
            for table in tables:
                cursor.execute(f"ANALYZE {table}")


def planner_statistics_nightly(*, connection: Any = None) -> str:
    """Keep SQLite's statistics in step with a growing database (``kestrel.jobs.tasks``): a sampled
    ``ANALYZE`` of every table, a second or two at a million customers. SQLite never re-analyses by
    itself; PostgreSQL's autovacuum does, so there it does nothing. Returns what it did."""
    connection = connection or default_connection
    if connection.vendor != "sqlite":
        return "left to autovacuum"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 1000")
        cursor.execute("ANALYZE")
    return "analysed"
