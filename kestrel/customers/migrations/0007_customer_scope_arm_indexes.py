"""Indexes for the arms of ``readable_by`` (issue 4, benchmarks/RESULTS.md): a page of a scoped list is
read arm by arm, newest first, and counted arm by arm (kestrel/core/pagination.py), each arm from its
own index, with or without the region filter. The relationship manager's arm gets a partial index
(most customers have none; SQLite's sampled statistics rate the foreign key's full index as matching
most rows and pass it over). The department/confidentiality index of 0006 joins the model's state.

No AlterField on ``customers_customer`` here or later without care: SQLite rebuilds the table for it
and drops its triggers, the search index's among them (a test checks they are there).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_customer_department_level_index"),
        ("org", "0002_positions_from_policy_documents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="customer",
                    index=models.Index(
                        fields=["department", "confidentiality", "id"], name="customers_dept_level_id"
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["department", "province", "-id"], name="customers_dept_province"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["owner", "province", "-id"], name="customers_owner_province"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("relationship_manager__isnull", False)),
                fields=["relationship_manager", "-id"],
                name="customers_rm_recent",
            ),
        ),
    ]
