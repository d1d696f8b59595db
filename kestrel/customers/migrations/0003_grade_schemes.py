"""Ship the grade schemes of the seed documents (ARC-4, PLT-9): 核心/重要/大客户/一般 (primary),
一级…五级, A/B/C and the futures four classes, from kestrel/presets/grade_schemes.json.

Schemes that already exist (by code) are left as they are; reversing removes the shipped schemes
that nothing refers to."""

import json
from pathlib import Path

from django.db import migrations

PRESET = Path(__file__).resolve().parents[2] / "presets" / "grade_schemes.json"


def grade_schemes_load(apps, schema_editor):
    GradeScheme = apps.get_model("customers", "GradeScheme")
    Grade = apps.get_model("customers", "Grade")
    data = json.loads(PRESET.read_text(encoding="utf-8"))
    has_primary = GradeScheme.objects.filter(is_primary=True).exists()
    for spec in data["schemes"]:
        if GradeScheme.objects.filter(code=spec["code"]).exists():
            continue
        primary = bool(spec.get("is_primary")) and not has_primary
        has_primary = has_primary or primary
        scheme = GradeScheme.objects.create(
            code=spec["code"], name=spec["name"], description=spec.get("description", ""), is_primary=primary
        )
        Grade.objects.bulk_create(
            Grade(
                scheme=scheme,
                code=grade["code"],
                name=grade["name"],
                rank=grade["rank"],
                rules=grade.get("rules", []),
                requires_relationship_manager=grade.get("requires_relationship_manager", False),
                min_holders=grade.get("min_holders", 1),
            )
            for grade in spec["grades"]
        )


def grade_schemes_unload(apps, schema_editor):
    GradeScheme = apps.get_model("customers", "GradeScheme")
    Customer = apps.get_model("customers", "Customer")
    CustomerGrade = apps.get_model("customers", "CustomerGrade")
    GradeChange = apps.get_model("customers", "GradeChange")
    codes = [spec["code"] for spec in json.loads(PRESET.read_text(encoding="utf-8"))["schemes"]]
    used = (
        set(CustomerGrade.objects.values_list("scheme_id", flat=True))
        | set(GradeChange.objects.values_list("scheme_id", flat=True))
        | set(Customer.objects.filter(grade__isnull=False).values_list("grade__scheme_id", flat=True))
    )
    GradeScheme.objects.filter(code__in=codes).exclude(pk__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_imports_self_service_handover_duplicates")]

    operations = [migrations.RunPython(grade_schemes_load, grade_schemes_unload)]
