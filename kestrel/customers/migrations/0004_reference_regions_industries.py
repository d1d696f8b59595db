"""Load the shipped reference data (ARC-1): GB/T 2260 regions (province → city → district) from
kestrel/presets/regions.csv and the GB/T 4754-2017 industry sections from industries.csv.
Bulk inserts of the missing codes; reversing removes the shipped rows."""

from django.db import migrations

from kestrel.customers.reference import reference_data_load, reference_data_unload


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_grade_schemes")]

    operations = [migrations.RunPython(reference_data_load, reference_data_unload)]
