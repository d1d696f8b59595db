"""A covering index for ``readable_by``'s department branch (issue 4, benchmarks/RESULTS.md).

``confidentiality IN (personal, department) AND department_id IN (…)`` answered from the index
alone, ids in order: at 1M customers SQLite's page of a branch manager's list (the page's ids,
``kestrel/core/pagination.py``) drops from ≈ 190 ms to ≈ 40 ms; PostgreSQL is unchanged.

Raw SQL, no model state: the model's ``Meta.indexes`` are left as they are.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_search_indexes")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX customers_dept_level_id ON customers_customer (department_id, confidentiality, id)",
            "DROP INDEX customers_dept_level_id",
        )
    ]
