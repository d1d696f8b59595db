import json
from pathlib import Path

from django.db import migrations

POSITIONS = Path(__file__).resolve().parents[2] / "presets" / "positions.json"


def positions_load(apps, schema_editor):
    Position = apps.get_model("org", "Position")
    for row in json.loads(POSITIONS.read_text(encoding="utf-8")):
        Position.objects.update_or_create(code=row["code"], defaults=row)


def positions_unload(apps, schema_editor):
    Position = apps.get_model("org", "Position")
    codes = [row["code"] for row in json.loads(POSITIONS.read_text(encoding="utf-8"))]
    Position.objects.filter(code__in=codes, employees__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]

    operations = [migrations.RunPython(positions_load, positions_unload)]
