"""A search's ids from the indexes alone (issue 4, benchmarks/RESULTS.md).

- The pinyin indexes carry the id, for PostgreSQL's index-only scans (SQLite's indexes hold the rowid
  anyway).
- SQLite: a narrow index by id of what the data scope tests (``readable_by``: department, level, owner,
  relationship manager), so that checking a frequent text's thousand matches against the scope reads
  that index instead of a thousand wide rows from all over the table (SQLite's planner takes it for
  ``id IN (…)`` by itself). PostgreSQL's planner keeps to the primary key and the heap for such a
  lookup, so it does not get the index.

Indexes only: no table rebuild on SQLite, the search triggers stay."""

from django.db import migrations, models

PINYIN_INDEX = "customers_name_pinyin"
SCOPE_INDEX = "customers_scope_by_id"


def _indexes(schema_editor, *, forward: bool):
    """Forward: the pinyin index with the id (PostgreSQL), the scope index (SQLite); backward: as before."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        columns = "name_pinyin, id" if forward else "name_pinyin"
        schema_editor.execute(f"DROP INDEX IF EXISTS {PINYIN_INDEX}")
        schema_editor.execute(f"CREATE INDEX {PINYIN_INDEX} ON customers_customer ({columns})")
    elif vendor == "sqlite" and forward:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {SCOPE_INDEX} ON customers_customer "
            f"(id, department_id, confidentiality, owner_id, relationship_manager_id)"
        )
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SCOPE_INDEX}")


def indexes_add(apps, schema_editor):
    _indexes(schema_editor, forward=True)


def indexes_remove(apps, schema_editor):
    _indexes(schema_editor, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0008_customer_province_status_index'),
        ('org', '0002_positions_from_policy_documents'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='customers_initials',
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['name_initials', 'id'], name='customers_initials_id'),
        ),
        migrations.RunPython(indexes_add, indexes_remove),
    ]
