"""Writes to the working-day calendar (PLT-4)."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kestrel.core.errors import ValidationFailed
from kestrel.workdays import error_codes
from kestrel.workdays.models import CalendarDay, MissingYearWarning

CSV_COLUMNS = ["date", "kind", "name"]
MAX_IMPORT_BYTES = 2 * 1024 * 1024
# People type these in Chinese spreadsheets as often as the English kinds.
KIND_ALIASES = {
    "holiday": CalendarDay.Kind.HOLIDAY,
    "假日": CalendarDay.Kind.HOLIDAY,
    "节假日": CalendarDay.Kind.HOLIDAY,
    "休": CalendarDay.Kind.HOLIDAY,
    "workday": CalendarDay.Kind.WORKDAY,
    "调休上班": CalendarDay.Kind.WORKDAY,
    "上班": CalendarDay.Kind.WORKDAY,
    "班": CalendarDay.Kind.WORKDAY,
}


@dataclass(frozen=True)
class CalendarImportResult:
    created: int
    updated: int
    years: list[int]


def calendar_import_csv(*, actor: AbstractBaseUser | None, content: bytes) -> CalendarImportResult:
    """Load ``date,kind,name`` rows (kind = holiday | workday) into the calendar table.

    All or nothing: every bad row is reported with its line number and nothing is loaded. A date
    already in the table is replaced by the file's row. UTF-8 (with or without BOM) and GB18030
    (what Chinese Excel saves) are accepted.
    """
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationFailed(
            _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)},
            code=error_codes.CALENDAR_FILE_INVALID,
        )
    rows = _parse_calendar_csv(_decode(content))
    with transaction.atomic():
        existing = set(
            CalendarDay.objects.filter(date__in=[r[0] for r in rows]).values_list("date", flat=True)
        )
        for day, kind, name in rows:
            CalendarDay.objects.update_or_create(date=day, defaults={"kind": kind, "name": name})
        years = sorted({day.year for day, _kind, _name in rows})
        MissingYearWarning.objects.filter(year__in=years).delete()
    return CalendarImportResult(created=len(rows) - len(existing), updated=len(existing), years=years)


def calendar_day_set(*, actor: AbstractBaseUser | None, day: date, kind: str, name: str = "") -> CalendarDay:
    if kind not in CalendarDay.Kind.values:
        raise ValidationFailed(_("Unknown kind."), details={"kind": [_("Use holiday or workday.")]})
    with transaction.atomic():
        calendar_day, _created = CalendarDay.objects.update_or_create(
            date=day, defaults={"kind": kind, "name": name.strip()}
        )
        MissingYearWarning.objects.filter(year=day.year).delete()
    return calendar_day


def missing_year_acknowledge(*, actor: AbstractBaseUser, warning: MissingYearWarning) -> MissingYearWarning:
    warning.acknowledged_by = actor
    warning.acknowledged_at = timezone.now()
    warning.save(update_fields=["acknowledged_by", "acknowledged_at"])
    return warning


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        _("The file is neither UTF-8 nor GB18030 text."), code=error_codes.CALENDAR_FILE_INVALID
    )


def _parse_calendar_csv(text: str) -> list[tuple[date, str, str]]:
    reader = csv.reader(io.StringIO(text))
    errors: list[dict] = []
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != CSV_COLUMNS:
        raise ValidationFailed(
            _("The first line must be the header: date,kind,name"),
            code=error_codes.CALENDAR_FILE_INVALID,
            details={"errors": [{"line": 1, "reason": _("expected header date,kind,name")}]},
        )
    rows: list[tuple[date, str, str]] = []
    seen: dict[date, int] = {}
    for line_number, fields in enumerate(reader, start=2):
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != 3:
            errors.append({"line": line_number, "reason": _("expected 3 columns, found %d") % len(fields)})
            continue
        raw_date, raw_kind, name = (field.strip() for field in fields)
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            errors.append(
                {
                    "line": line_number,
                    "column": "date",
                    "value": raw_date,
                    "reason": _("not a date (YYYY-MM-DD)"),
                }
            )
            continue
        kind = KIND_ALIASES.get(raw_kind.lower())
        if kind is None:
            errors.append(
                {
                    "line": line_number,
                    "column": "kind",
                    "value": raw_kind,
                    "reason": _("use holiday or workday"),
                }
            )
            continue
        if len(name) > 100:
            errors.append({"line": line_number, "column": "name", "reason": _("longer than 100 characters")})
            continue
        if day in seen:
            errors.append(
                {
                    "line": line_number,
                    "column": "date",
                    "value": raw_date,
                    "reason": _("the same date is already on line %d") % seen[day],
                }
            )
            continue
        seen[day] = line_number
        rows.append((day, kind, name))
    if errors:
        raise ValidationFailed(
            _("%(count)d bad rows; nothing was loaded.") % {"count": len(errors)},
            code=error_codes.CALENDAR_FILE_INVALID,
            details={"errors": errors},
        )
    return rows
