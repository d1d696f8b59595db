"""The list filtered by region and status (issue 4, benchmarks/RESULTS.md): its page newest first and its
capped count read from one index; PostgreSQL counted a big province by scanning the table. An index
only: no table rebuild on SQLite, the search triggers stay."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_customer_scope_arm_indexes'),
        ('org', '0002_positions_from_policy_documents'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['province', 'status', '-id'], name='customers_province_status'),
        ),
    ]
