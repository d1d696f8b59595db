import pytest
from django.db import connection

from kestrel.core.planner import planner_statistics_refresh


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
