"""Search indexes (ARC-10), see kestrel/customers/search.py: on SQLite an FTS5 gram index kept by
triggers, on PostgreSQL a GIN index over the name's one- and two-character grams; on both a b-tree
index on the full pinyin. Hand-written because they are database-specific."""

from django.db import migrations

from kestrel.customers.search import search_index_install, search_index_remove


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_reference_regions_industries")]

    operations = [migrations.RunPython(search_index_install, search_index_remove)]
