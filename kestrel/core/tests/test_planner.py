from datetime import UTC, datetime

import pytest
from django.db import connection

from kestrel.core.planner import planner_statistics_refresh
from kestrel.jobs.tasks import planner_statistics_refresh_nightly


def _sqlite_statistics_kept() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_plt2_planner_statistics_refreshed_after_new_indexes_only_where_kept():
    """The data scope's indexes are chosen by statistics (PLT-2): a migration adding indexes refreshes
    them where the database keeps them, and leaves a never-analysed SQLite database alone."""
    if connection.vendor != "sqlite":
        planner_statistics_refresh(["customers_customer"], if_kept=True)  # ANALYZE in the transaction
        return
    with connection.cursor() as cursor:
        if _sqlite_statistics_kept():
            cursor.execute("DROP TABLE sqlite_stat1")
    planner_statistics_refresh(["customers_customer"], if_kept=True)
    assert not _sqlite_statistics_kept()
    planner_statistics_refresh(["customers_customer"])
    assert _sqlite_statistics_kept()
    planner_statistics_refresh(["customers_customer"], if_kept=True)
    assert _sqlite_statistics_kept()


@pytest.mark.django_db
def test_plt6_planner_statistics_refreshed_nightly():
    """SQLite never re-analyses by itself: a nightly job does (PostgreSQL's autovacuum does it there)."""
    due = planner_statistics_refresh_nightly.kestrel_due
    assert due(datetime(2026, 11, 23, 19, 45, tzinfo=UTC))  # 03:45 in Beijing
    assert not due(datetime(2026, 11, 24, 3, 45, tzinfo=UTC))
    if connection.vendor != "sqlite":
        assert planner_statistics_refresh_nightly.call_local() == "left to autovacuum"
        return
    with connection.cursor() as cursor:
        if _sqlite_statistics_kept():
            cursor.execute("DROP TABLE sqlite_stat1")
    assert planner_statistics_refresh_nightly.call_local() == "analysed"
    assert _sqlite_statistics_kept()
