"""Import of customers and contacts from .xlsx and .csv (ARC-11).

How an import runs, and why:

1. **Check** (no transaction, nothing written but the job row): the file is streamed in batches of
   ``BATCH`` rows; each row is parsed, resolved (regions, industries, owners, grades — in-memory
   indexes or one ``IN`` query per batch) and validated by the model's own field validators, the
   same ones the services apply (credit-code check character, phones, postal codes, lengths…).
   Duplicates inside the file and against the database are found per batch with one query each.
   After each batch ``processed_rows`` is written in autocommit, so a progress bar polling the job
   sees it at once — there is no open import transaction to hide it.
2. **Write** (only without ``dry_run``, and only if every row is good or ``skip_invalid``): one
   ``transaction.atomic()`` with ``bulk_create`` / ``bulk_update`` in batches. It is short compared
   with the check, and all-or-nothing: any failure (including a conflicting write by someone else
   since the check, caught as an ``IntegrityError``) rolls everything back.

Progress during the write phase cannot be shown through the database without a second connection,
which SQLite (one writer at a time) cannot offer; the job shows status ``importing`` instead, and
the ``progress`` callback (the CLI's progress line) is called after each written batch.

The row-by-row report is in Chinese (``import_messages``): row, column, value, reason, level.
"""

import logging
import re
import shutil
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kestrel.core.errors import KestrelError, ValidationFailed
from kestrel.core.services import sequence_next
from kestrel.customers import import_messages as msg
from kestrel.customers import spreadsheets
from kestrel.customers.custom_fields import custom_value_clean
from kestrel.customers.models import (
    Contact,
    Customer,
    CustomerGrade,
    CustomField,
    Grade,
    GradeChange,
    GradeScheme,
    ImportJob,
    Industry,
    Region,
    Tag,
)
from kestrel.customers.pinyin import name_search_keys
from kestrel.customers.validators import normalise_credit_code, normalise_phone
from kestrel.org.models import Employee

logger = logging.getLogger(__name__)

BATCH = 1000
MAX_CELL_LENGTH = 2000
MAX_REPORT_ENTRIES = 5000
MATCH_KEYS = {"code", "credit_code", "name_phone"}
CONTACT_MATCH_KEYS = {"name_mobile"}
Progress = Callable[[int, int, str], None]

# Model validation codes → the Chinese reason of the report.
REASON_BY_CODE = {
    "credit_code_format": msg.CREDIT_CODE_FORMAT,
    "credit_code_check": msg.CREDIT_CODE_CHECK,
    "phone": msg.PHONE,
    "postal_code": msg.POSTAL_CODE,
    "blank": msg.REQUIRED,
    "null": msg.REQUIRED,
    "required": msg.REQUIRED,
    "max_digits": msg.DECIMAL_TOO_BIG,
    "max_whole_digits": msg.DECIMAL_TOO_BIG,
    "max_decimal_places": msg.DECIMAL_TOO_BIG,
    "min_value": msg.NEGATIVE,
}


CUSTOMER_CHOICES: dict[str, type[models.TextChoices]] = {
    "kind": Customer.Kind,
    "status": Customer.Status,
    "confidentiality": Customer.Confidentiality,
    "lifecycle_stage": Customer.Lifecycle,
    "taxpayer_type": Customer.TaxpayerType,
    "source": Customer.Source,
}


class CellError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Row:
    number: int
    cells: dict[str, spreadsheets.Cell]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    instance: Any = None
    existing_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    created: list[Any] = field(default_factory=list)
    updated: list[Any] = field(default_factory=list)
    update_fields: set[str] = field(default_factory=set)
    tags: dict[int, list[str]] = field(default_factory=dict)  # id(instance) → tag names


# --- Value parsers -------------------------------------------------------------------------------


def parse_date(text: str) -> date:
    cleaned = re.sub(r"[年月/.]", "-", text).replace("日", "").strip()
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in cleaned.split(" ")[0].split("-")))
    except ValueError as error:
        raise CellError(msg.DATE) from error


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").replace("，", "").replace("¥", "").strip())
    except InvalidOperation as error:
        raise CellError(msg.NUMBER) from error
    if not value.is_finite():
        raise CellError(msg.NUMBER)
    if value < 0:
        raise CellError(msg.NEGATIVE)
    return value


def parse_int(text: str) -> int:
    value = parse_decimal(text)
    if value != value.to_integral_value() or value > 2_000_000_000:
        raise CellError(msg.NUMBER)
    return int(value)


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in msg.TRUE_WORDS:
        return True
    if lowered in msg.FALSE_WORDS:
        return False
    raise CellError(msg.UNKNOWN_CHOICE.format(value=text, choices=msg.BOOLEAN_HELP))


def choice_parser(name: str, choices: type[models.TextChoices]) -> Callable[[str], str]:
    labels = msg.CHOICE_LABELS.get(name, {})
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[str(value).lower()] = value
        lookup[str(label).lower()] = value
        with translation.override("zh-hans"):
            lookup[str(label).lower()] = value
    for value, label in labels.items():
        lookup[label.lower()] = value
    shown = "、".join(label for value, label in labels.items() if value) or "、".join(
        str(v) for v in choices.values if v
    )

    def parse(text: str) -> str:
        value = lookup.get(text.strip().lower())
        if value is None:
            raise CellError(msg.UNKNOWN_CHOICE.format(value=text, choices=shown))
        return value

    return parse


def split_list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;；,，、|]", text) if part.strip()]


def assign_normalised(customer: Customer, fields: dict[str, Any]) -> None:
    """``services._assign``: the same normalisation of credit codes, phones and names."""
    for name, value in fields.items():
        if name == "credit_code":
            value = normalise_credit_code(value) or None
        elif name == "phone":
            value = normalise_phone(value)
        elif name in {"name", "short_name"}:
            value = (value or "").strip()
        setattr(customer, name, value)
    customer.name_pinyin, customer.name_initials = name_search_keys(f"{customer.name}")


# --- Reference data, resolved in memory ------------------------------------------------------------


class Regions:
    """The region table as an index: by code, by name, and by "省/市/区" path."""

    def __init__(self) -> None:
        self.loaded = False

    def _load(self) -> None:
        rows = list(Region.objects.values_list("pk", "code", "name", "level", "parent_id"))
        self.by_pk = {pk: (pk, code, name, level, parent) for pk, code, name, level, parent in rows}
        self.by_code = {code: pk for pk, code, *_rest in rows}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for pk, _code, name, *_rest in rows:
            self.by_name[name].append(pk)
        self.loaded = True

    def resolve(self, text: str) -> dict[str, int | None]:
        if not self.loaded:
            self._load()
        text = text.strip()
        if text in self.by_code:
            return self._chain(self.by_code[text])
        parts = [p for p in re.split(r"[/／\\\s>＞-]+", text) if p]
        candidates: list[int] = []
        for depth, part in enumerate(parts):
            named = self.by_name.get(part, [])
            candidates = named if depth == 0 else [pk for pk in named if self._descends(pk, candidates)]
            if not candidates:
                raise CellError(msg.UNKNOWN_REGION.format(value=text))
        # 上海市 is both a province and its city: of a chain, the deepest is meant.
        candidates = [pk for pk in candidates if not any(self._descends(o, [pk]) for o in candidates)]
        if len(candidates) != 1:
            raise CellError(msg.AMBIGUOUS_REGION.format(value=text))
        return self._chain(candidates[0])

    def _descends(self, pk: int, ancestors: list[int]) -> bool:
        parent = self.by_pk[pk][4]
        while parent is not None:
            if parent in ancestors:
                return True
            parent = self.by_pk[parent][4]
        return False

    def _chain(self, pk: int) -> dict[str, int | None]:
        chain: dict[str, int | None] = {"province_id": None, "city_id": None, "district_id": None}
        current: int | None = pk
        while current is not None:
            _pk, _code, _name, level, parent = self.by_pk[current]
            key = {1: "province_id", 2: "city_id", 3: "district_id"}.get(level)
            if key:
                chain[key] = current
            current = parent
        return chain


class Owners:
    """Active employees within the importer's data scope, by employee number, username or name."""

    def __init__(self, actor: AbstractBaseUser) -> None:
        self.actor = actor
        self.index: dict[str, list[tuple[int, int]]] | None = None

    def resolve(self, text: str) -> tuple[int, int]:
        if self.index is None:
            self.index = defaultdict(list)
            visible = Employee.objects.visible_to(self.actor).filter(status=Employee.Status.ACTIVE)
            for pk, number, username, name, department in visible.values_list(
                "pk", "employee_no", "user__username", "name", "department_id"
            ):
                for key in {number, username, name} - {None, ""}:
                    self.index[key.lower()].append((pk, department))
        found = list(dict.fromkeys(self.index.get(text.strip().lower(), [])))
        if not found:
            raise CellError(msg.UNKNOWN_OWNER.format(value=text))
        if len(found) > 1:
            raise CellError(msg.AMBIGUOUS_OWNER.format(value=text))
        return found[0]


def _custom_field_parser(custom: CustomField) -> Callable[[str], Any]:
    """A cell of a custom field, checked and shaped as the form and the API do (custom_fields.py)."""

    def parse(text: str) -> Any:
        try:
            return custom_value_clean(custom, text)
        except DjangoValidationError as error:
            raise CellError("；".join(str(message) for message in error.messages)) from None

    return parse


# --- The importers -------------------------------------------------------------------------------


class Importer:
    """Shared machinery: headers, cells, the report, batches, the two phases."""

    labels: dict[str, str] = {}
    required: set[str] = set()
    model: type[models.Model]

    def __init__(self, *, actor: AbstractBaseUser, mode: str, match_key: str, skip_invalid: bool) -> None:
        self.actor = actor
        self.mode = mode
        self.match_key = match_key
        self.skip_invalid = skip_invalid
        self.employee = Employee.objects.filter(user=actor).first() if actor.is_authenticated else None
        self.parsers: dict[str, Callable[[str], Any]] = {}
        self.columns: dict[str, int] = {}  # field → index in the file
        self.headers: list[str] = []
        self.report: list[dict] = []
        self.report_truncated = False
        self.bad_rows = 0
        self.good_rows: list[Row] = []
        self.processed = 0

    # Headers -------------------------------------------------------------------------------------

    def header_lookup(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for name, label in self.labels.items():
            lookup[_header_key(label)] = name
            lookup[_header_key(name)] = name
            model_field = _model_field(self.model, name)
            if model_field is not None:
                lookup[_header_key(str(model_field.verbose_name))] = name
        return lookup

    def map_headers(self, header: list[spreadsheets.Cell]) -> None:
        lookup = self.header_lookup()
        self.headers = [cell.text for cell in header]
        for index, cell in enumerate(header):
            if not cell.text:
                continue
            name = lookup.get(_header_key(cell.text))
            if name is None or name in self.columns:
                self.note(1, index, cell.text, msg.UNKNOWN_HEADER.format(value=cell.text), warning=True)
                continue
            self.columns[name] = index
        missing = [self.labels[name] for name in self.required_columns() if name not in self.columns]
        if missing:
            raise ValidationFailed(
                _("Required columns are missing: %s") % "、".join(missing),
                code="import_columns_missing",
                details={"missing": missing},
            )

    def required_columns(self) -> set[str]:
        return set(self.required)

    # Report --------------------------------------------------------------------------------------

    def note(self, row: int, column: int | None, value: str, reason: str, *, warning: bool = False) -> None:
        if len(self.report) >= MAX_REPORT_ENTRIES:
            self.report_truncated = True
            return
        header = self.headers[column] if column is not None and column < len(self.headers) else ""
        self.report.append(
            {
                "row": row,
                "column": header,
                "column_letter": _column_letter(column) if column is not None else "",
                "value": value[:100] + ("…" if len(value) > 100 else ""),
                "reason": reason,
                "level": msg.WARNING if warning else msg.ERROR,
            }
        )

    def row_error(self, row: Row, name: str | None, reason: str, *, warning: bool = False) -> None:
        column = self.columns.get(name) if name else None
        value = row.cells[name].text if name and name in row.cells else ""
        (row.warnings if warning else row.errors).append({"field": name, "reason": reason})
        self.note(row.number, column, value, reason, warning=warning)

    # Rows ----------------------------------------------------------------------------------------

    def cells_of(self, number: int, values: list[spreadsheets.Cell]) -> Row:
        cells = {name: values[index] for name, index in self.columns.items() if index < len(values)}
        return Row(number=number, cells=cells)

    def parse_cells(self, row: Row) -> None:
        for name, cell in row.cells.items():
            text = cell.text
            if cell.is_formula:
                self.row_error(row, name, msg.FORMULA)
                continue
            if len(text) > MAX_CELL_LENGTH:
                self.row_error(row, name, msg.TOO_LONG_CELL.format(limit=MAX_CELL_LENGTH))
                continue
            if "\x00" in text:
                self.row_error(row, name, msg.NUL_CHARACTER)
                continue
            if text == "":
                continue
            parser = self.parsers.get(name)
            try:
                row.values[name] = parser(text) if parser else text
            except CellError as error:
                self.row_error(row, name, error.reason)

    def validation_errors(self, row: Row, instance: models.Model, fields: set[str]) -> None:
        # Relations are resolved from in-memory indexes already; Django would check each with a query.
        exclude = [f.name for f in instance._meta.fields if f.name not in fields or f.is_relation]
        try:
            instance.clean_fields(exclude=exclude)
        except DjangoValidationError as error:
            for name, problems in error.error_dict.items():
                for problem in problems:
                    self.row_error(row, self.column_for(name), self.reason_for(name, problem))

    def column_for(self, model_field: str) -> str | None:
        if model_field in self.columns:
            return model_field
        if model_field in {"province", "city", "district"} and "region" in self.columns:
            return "region"
        return None

    def reason_for(self, name: str, problem: DjangoValidationError) -> str:
        code = problem.code or ""
        if code == "max_length":
            return msg.TOO_LONG.format(limit=(problem.params or {}).get("limit_value", ""))
        if code == "invalid" and name == "email":
            return msg.EMAIL
        if code == "invalid" and name == "website":
            return msg.URL
        if code in REASON_BY_CODE:
            return REASON_BY_CODE[code]
        with translation.override("zh-hans"):
            return msg.INVALID.format(detail=" ".join(problem.messages))

    # The run -------------------------------------------------------------------------------------

    def check(self, rows: Iterator[list[spreadsheets.Cell]], on_batch: Callable[[int], None]) -> None:
        try:
            header = next(rows)
        except StopIteration:
            raise ValidationFailed(_("The file has no header row."), code="import_file_empty") from None
        self.map_headers(header)
        batch: list[Row] = []
        for number, values in enumerate(rows, start=2):
            if not any(cell.text for cell in values):
                continue  # blank lines are not rows
            batch.append(self.cells_of(number, values))
            if len(batch) >= BATCH:
                self.check_batch(batch)
                on_batch(self.processed)
                batch = []
        if batch:
            self.check_batch(batch)
        on_batch(self.processed)

    def check_batch(self, batch: list[Row]) -> None:
        for row in batch:
            self.parse_cells(row)
        self.resolve_batch(batch)
        for row in batch:
            if not row.extra.get("unmatched"):
                self.build(row)  # also for rows with bad cells: every problem of a row is reported
            if row.errors:
                self.bad_rows += 1
            else:
                row.cells, row.values = {}, {}  # only the built instance is kept for the write
                self.good_rows.append(row)
        self.processed += len(batch)

    def resolve_batch(self, batch: list[Row]) -> None:
        raise NotImplementedError

    def build(self, row: Row) -> None:
        raise NotImplementedError

    def write(self, rows: list[Row], on_batch: Callable[[int], None]) -> tuple[int, int]:
        raise NotImplementedError


class CustomerImporter(Importer):
    labels = msg.CUSTOMER_LABELS
    model = Customer
    text_fields = {
        "code", "name", "short_name", "address", "postal_code", "phone", "fax", "email", "website",
        "legal_representative", "organisation_form", "currency", "invoice_title", "invoice_address",
        "payment_terms", "discount_terms", "commission_code", "referrer",
    }  # fmt: skip

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.regions = Regions()
        self.owners = Owners(self.actor)
        self.industries = {
            key.lower(): pk
            for pk, code, name in Industry.objects.values_list("pk", "code", "name")
            for key in (code, name)
        }
        self.scheme = GradeScheme.objects.filter(is_primary=True).first()
        self.grades = (
            {
                key.lower(): pk
                for pk, code, name in Grade.objects.filter(scheme=self.scheme).values_list(
                    "pk", "code", "name"
                )
                for key in (code, name)
            }
            if self.scheme
            else {}
        )
        self.custom_fields = {c.key: c for c in CustomField.objects.filter(active=True)}
        self.labels = {**msg.CUSTOMER_LABELS, **{key: c.label for key, c in self.custom_fields.items()}}
        self.parsers = {
            "credit_code": normalise_credit_code,
            "founded_on": parse_date,
            "registered_capital": parse_decimal,
            "annual_sales": parse_decimal,
            "assets": parse_decimal,
            "credit_limit": parse_decimal,
            "sales_limit": parse_decimal,
            "tax_rate": parse_decimal,
            "staff_count": parse_int,
            "region": self.regions.resolve,
            "industry": self._industry,
            "owner": self.owners.resolve,
            "grade": self._grade,
            "tags": split_list,
            "currency": lambda text: text.strip().upper(),
        }
        for name, choices in CUSTOMER_CHOICES.items():
            self.parsers[name] = choice_parser(name, choices)
        for key, custom in self.custom_fields.items():
            self.parsers[key] = _custom_field_parser(custom)
        self.seen_codes: dict[str, int] = {}
        self.seen_credit_codes: dict[str, int] = {}
        self.seen_name_phone: dict[tuple[str, str], int] = {}

    def required_columns(self) -> set[str]:
        if self.match_key == "name_phone":
            return {"name", "phone"}
        if self.mode == ImportJob.Mode.UPDATE:
            return {self.match_key}
        return {"name"} | ({self.match_key} if self.mode == ImportJob.Mode.UPSERT else set())

    def _industry(self, text: str) -> int:
        pk = self.industries.get(text.strip().lower())
        if pk is None:
            raise CellError(msg.UNKNOWN_INDUSTRY.format(value=text))
        return pk

    def _grade(self, text: str) -> int:
        if self.scheme is None:
            raise CellError(msg.NO_GRADE_SCHEME)
        pk = self.grades.get(text.strip().lower())
        if pk is None:
            raise CellError(msg.UNKNOWN_GRADE.format(value=text))
        return pk

    def key_of(self, row: Row) -> Any:
        values = row.values
        if self.match_key == "name_phone":
            name, phone = values.get("name", "").strip(), normalise_phone(values.get("phone", ""))
            return (name, phone) if name and phone else None
        return values.get(self.match_key) or None

    def resolve_batch(self, batch: list[Row]) -> None:
        # In-file duplicates first, in file order.
        for row in batch:
            if row.errors:
                continue
            code, credit = row.values.get("code"), row.values.get("credit_code")
            if code:
                if code in self.seen_codes:
                    self.row_error(row, "code", msg.DUPLICATE_IN_FILE.format(row=self.seen_codes[code]))
                else:
                    self.seen_codes[code] = row.number
            if credit:
                if credit in self.seen_credit_codes:
                    self.row_error(
                        row, "credit_code", msg.DUPLICATE_IN_FILE.format(row=self.seen_credit_codes[credit])
                    )
                else:
                    self.seen_credit_codes[credit] = row.number
            name, phone = row.values.get("name", "").strip(), normalise_phone(row.values.get("phone", ""))
            if name and phone:
                if (name, phone) in self.seen_name_phone:
                    if self.match_key == "name_phone":
                        self.row_error(
                            row, "name", msg.DUPLICATE_IN_FILE.format(row=self.seen_name_phone[(name, phone)])
                        )
                    else:
                        self.row_error(
                            row,
                            "name",
                            msg.LIKELY_DUPLICATE_IN_FILE.format(row=self.seen_name_phone[(name, phone)]),
                            warning=True,
                        )
                else:
                    self.seen_name_phone[(name, phone)] = row.number
        live = [row for row in batch if not row.errors]
        # The database: one query per key kind for the whole batch.
        codes = {row.values["code"] for row in live if row.values.get("code")}
        credits = {row.values["credit_code"] for row in live if row.values.get("credit_code")}
        names = {row.values["name"].strip() for row in live if row.values.get("name")}
        columns = ("pk", "code", "credit_code", "name", "phone")
        by_code = {c[1]: c for c in Customer.objects.filter(code__in=codes).values_list(*columns)}
        by_credit = {c[2]: c for c in Customer.objects.filter(credit_code__in=credits).values_list(*columns)}
        by_name_phone: dict[tuple[str, str], list[tuple]] = defaultdict(list)
        for c in Customer.objects.filter(name__in=names).values_list(*columns):
            if c[4]:
                by_name_phone[(c[3], c[4])].append(c)
        matched: dict[int, Row] = {}
        for row in live:
            key = self.key_of(row)
            existing: tuple | None = None
            if self.mode != ImportJob.Mode.CREATE:
                if key is None:
                    if self.mode == ImportJob.Mode.UPDATE:
                        self.row_error(row, self._key_column(), msg.MATCH_KEY_EMPTY)
                        row.extra["unmatched"] = True
                        continue
                elif self.match_key == "code":
                    existing = by_code.get(key)
                elif self.match_key == "credit_code":
                    existing = by_credit.get(key)
                else:
                    found = by_name_phone.get(key, [])
                    if len(found) > 1:
                        self.row_error(row, "name", msg.MATCH_AMBIGUOUS)
                        row.extra["unmatched"] = True
                        continue
                    existing = found[0] if found else None
                if existing is None and self.mode == ImportJob.Mode.UPDATE:
                    self.row_error(row, self._key_column(), msg.NOT_FOUND_FOR_UPDATE)
                    row.extra["unmatched"] = True
                    continue
            existing_pk = existing[0] if existing else None
            code, credit = row.values.get("code"), row.values.get("credit_code")
            if code and code in by_code and by_code[code][0] != existing_pk:
                self.row_error(row, "code", msg.CODE_EXISTS)
            if credit and credit in by_credit and by_credit[credit][0] != existing_pk:
                self.row_error(row, "credit_code", msg.CREDIT_CODE_EXISTS)
            name, phone = row.values.get("name", "").strip(), normalise_phone(row.values.get("phone", ""))
            if existing is None and name and phone and (name, phone) in by_name_phone:
                self.row_error(
                    row,
                    "name",
                    msg.LIKELY_DUPLICATE_IN_DB.format(value=by_name_phone[(name, phone)][0][1]),
                    warning=True,
                )
            if existing_pk is not None and not row.errors:
                row.existing_id = existing_pk
                matched[existing_pk] = row
        if matched:
            readable = Customer.objects.readable_by(self.actor).filter(pk__in=list(matched))
            instances = {c.pk: c for c in readable}
            for pk, row in matched.items():
                if pk not in instances:
                    self.row_error(row, self._key_column(), msg.MATCH_NOT_READABLE)
                    row.extra["unmatched"] = True
                else:
                    row.instance = instances[pk]

    def _key_column(self) -> str:
        return "name" if self.match_key == "name_phone" else self.match_key

    def build(self, row: Row) -> None:
        values = dict(row.values)
        creating = row.instance is None and self.mode != ImportJob.Mode.UPDATE
        failed = {error["field"] for error in row.errors}
        if creating and not values.get("name") and "name" not in failed:
            self.row_error(row, "name", msg.REQUIRED)
        for key, custom in self.custom_fields.items():
            if creating and custom.required and key not in values and key not in failed:
                self.row_error(row, key, msg.REQUIRED)
        customer: Customer = row.instance or Customer(source=Customer.Source.IMPORT)
        fields: dict[str, Any] = {}
        touched: set[str] = set()
        if "owner" in values:
            customer.owner_id, customer.department_id = values.pop("owner")
            touched |= {"owner", "department"}
        elif creating:
            if self.employee is None:
                self.row_error(row, "owner", msg.NO_OWNER)  # and the other cells are still checked
            else:
                customer.owner_id, customer.department_id = self.employee.pk, self.employee.department_id
        if "region" in values:
            for key, pk in values.pop("region").items():
                setattr(customer, key, pk)
                touched.add(key.removesuffix("_id"))
        for name in ("industry", "grade"):
            if name in values:
                setattr(customer, f"{name}_id", values.pop(name))
                touched.add(name)
        if "tags" in values:
            row.extra["tags"] = values.pop("tags")
        custom = {key: values.pop(key) for key in list(values) if key in self.custom_fields}
        if custom:
            customer.custom_fields = {**(customer.custom_fields or {}), **custom}
            touched.add("custom_fields")
        if "code" in values:
            customer.code = values.pop("code")
            touched.add("code")
        fields.update(values)
        assign_normalised(customer, fields)
        touched |= set(fields) | {"name_pinyin", "name_initials"}
        self.validation_errors(row, customer, touched - {"owner", "department", "grade", "code"} - failed)
        if "code" in touched and len(customer.code) > 40:
            self.row_error(row, "code", msg.TOO_LONG.format(limit=40))
        row.instance = customer
        row.extra["touched"] = touched

    def write(self, rows: list[Row], on_batch: Callable[[int], None]) -> tuple[int, int]:
        now = timezone.now()
        creates = [row for row in rows if row.existing_id is None]
        updates = [row for row in rows if row.existing_id is not None]
        without_code = [row.instance for row in creates if not row.instance.code]
        if without_code:
            year = now.year
            pattern = settings.KESTREL_CUSTOMER_CODE_PATTERN
            key = f"customer_code:{year}" if "{year}" in pattern else "customer_code"
            first = sequence_next(key=key, count=len(without_code))
            for offset, customer in enumerate(without_code):
                customer.code = pattern.format(year=year, seq=first + offset)
        written = 0
        for start in range(0, len(creates), BATCH):
            chunk = [row.instance for row in creates[start : start + BATCH]]
            for customer in chunk:
                customer.archive_updated_at = now
            Customer.objects.bulk_create(chunk)
            written += len(chunk)
            on_batch(written)
        update_fields = set()
        for row in updates:
            row.instance.archive_updated_at = now
            row.instance.updated_at = now
            update_fields |= row.extra["touched"]
        update_fields = {f for f in update_fields if f not in {"tags"}} | {"archive_updated_at", "updated_at"}
        for start in range(0, len(updates), BATCH):
            chunk = [row.instance for row in updates[start : start + BATCH]]
            Customer.objects.bulk_update(chunk, sorted(update_fields))
            written += len(chunk)
            on_batch(written)
        self._write_tags(rows)
        self._write_grades(rows, now)
        return len(creates), len(updates)

    def _write_tags(self, rows: list[Row]) -> None:
        tagged = [row for row in rows if row.extra.get("tags")]
        if not tagged:
            return
        names = sorted({name for row in tagged for name in row.extra["tags"]})
        Tag.objects.bulk_create([Tag(name=name[:50]) for name in names], ignore_conflicts=True)
        ids = dict(Tag.objects.filter(name__in=[n[:50] for n in names]).values_list("name", "pk"))
        through = Customer.tags.through
        through.objects.filter(customer_id__in=[row.instance.pk for row in tagged]).delete()
        through.objects.bulk_create(
            [
                through(customer_id=row.instance.pk, tag_id=ids[name[:50]])
                for row in tagged
                for name in dict.fromkeys(row.extra["tags"])
            ],
            batch_size=BATCH,
            ignore_conflicts=True,
        )

    def _write_grades(self, rows: list[Row], now: datetime) -> None:
        graded = [row for row in rows if "grade" in row.extra.get("touched", ())]
        if not graded or self.scheme is None:
            return
        ids = [row.instance.pk for row in graded]
        before = dict(
            CustomerGrade.objects.filter(customer_id__in=ids, scheme=self.scheme).values_list(
                "customer_id", "grade_id"
            )
        )
        CustomerGrade.objects.filter(customer_id__in=ids, scheme=self.scheme).delete()
        CustomerGrade.objects.bulk_create(
            [
                CustomerGrade(
                    customer_id=row.instance.pk,
                    scheme=self.scheme,
                    grade_id=row.instance.grade_id,
                    source=GradeChange.Source.MANUAL,
                    pinned=True,
                )
                for row in graded
                if row.instance.grade_id
            ],
            batch_size=BATCH,
        )
        actor = self.actor if self.actor.is_authenticated else None
        GradeChange.objects.bulk_create(
            [
                GradeChange(
                    customer_id=row.instance.pk,
                    scheme=self.scheme,
                    from_grade_id=before.get(row.instance.pk),
                    to_grade_id=row.instance.grade_id,
                    source=GradeChange.Source.MANUAL,
                    reason="导入",
                    changed_by=actor,
                )
                for row in graded
                if before.get(row.instance.pk) != row.instance.grade_id
            ],
            batch_size=BATCH,
        )


class ContactImporter(Importer):
    labels = msg.CONTACT_LABELS
    required = {"customer", "name"}
    model = Contact

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.parsers = {
            "birthday": parse_date,
            "is_primary": parse_bool,
            "consent_contact": parse_bool,
            "consent_marketing": parse_bool,
            "mobile": normalise_phone,
            "phone": normalise_phone,
        }
        self.parsers["gender"] = choice_parser("gender", Contact.Gender)
        self.parsers["decision_role"] = choice_parser("decision_role", Contact.DecisionRole)
        self.seen: dict[tuple, int] = {}

    def required_columns(self) -> set[str]:
        return {"customer", "name"} | ({"mobile"} if self.mode != ImportJob.Mode.CREATE else set())

    def resolve_batch(self, batch: list[Row]) -> None:
        live = [row for row in batch if not row.errors]
        keys = {row.values["customer"] for row in live if row.values.get("customer")}
        readable = Customer.objects.readable_by(self.actor).filter(
            models.Q(code__in=keys) | models.Q(credit_code__in={normalise_credit_code(k) for k in keys})
        )
        customers: dict[str, int] = {}
        for pk, code, credit in readable.values_list("pk", "code", "credit_code"):
            customers[code] = pk
            if credit:
                customers[credit] = pk
        for row in live:
            key = row.values.get("customer", "")
            pk = customers.get(key) or customers.get(normalise_credit_code(key))
            if not key:
                self.row_error(row, "customer", msg.REQUIRED)
            elif pk is None:
                self.row_error(row, "customer", msg.UNKNOWN_CUSTOMER.format(value=key))
                row.extra["unmatched"] = True
            else:
                row.extra["customer_id"] = pk
        live = [row for row in live if not row.errors]
        for row in live:
            identity = (row.extra["customer_id"], row.values.get("name", ""), row.values.get("mobile", ""))
            if identity in self.seen and identity[2]:
                self.row_error(row, "name", msg.DUPLICATE_IN_FILE.format(row=self.seen[identity]))
            else:
                self.seen[identity] = row.number
        if self.mode == ImportJob.Mode.CREATE:
            return
        live = [row for row in live if not row.errors]
        existing: dict[tuple, Contact] = {}
        for contact in Contact.objects.filter(
            customer_id__in={row.extra["customer_id"] for row in live},
            mobile__in={row.values.get("mobile") for row in live if row.values.get("mobile")},
        ):
            existing[(contact.customer_id, contact.name, contact.mobile)] = contact
        for row in live:
            identity = (row.extra["customer_id"], row.values.get("name", ""), row.values.get("mobile", ""))
            if identity in existing:
                row.instance = existing[identity]
                row.existing_id = row.instance.pk
            elif self.mode == ImportJob.Mode.UPDATE:
                self.row_error(row, "name", msg.CONTACT_NOT_FOUND_FOR_UPDATE)
                row.extra["unmatched"] = True

    def build(self, row: Row) -> None:
        values = dict(row.values)
        values.pop("customer", None)
        failed = {error["field"] for error in row.errors}
        if row.instance is None and not values.get("name") and "name" not in failed:
            self.row_error(row, "name", msg.REQUIRED)
        contact: Contact = row.instance or Contact(customer_id=row.extra.get("customer_id"))
        for name, value in values.items():
            setattr(contact, name, value)
        if "consent_contact" in values or "consent_marketing" in values:
            contact.consent_recorded_at = timezone.now()
            values["consent_recorded_at"] = True
        self.validation_errors(row, contact, set(values) - failed)
        row.instance = contact
        row.extra["touched"] = set(values)

    def write(self, rows: list[Row], on_batch: Callable[[int], None]) -> tuple[int, int]:
        primary_customers = {row.instance.customer_id for row in rows if row.instance.is_primary}
        if primary_customers:
            Contact.objects.filter(customer_id__in=primary_customers, is_primary=True).update(
                is_primary=False
            )
        creates = [row.instance for row in rows if row.existing_id is None]
        updates = [row.instance for row in rows if row.existing_id is not None]
        written = 0
        for start in range(0, len(creates), BATCH):
            chunk = creates[start : start + BATCH]
            Contact.objects.bulk_create(chunk)
            written += len(chunk)
            on_batch(written)
        fields = sorted(
            set().union(*(row.extra["touched"] for row in rows if row.existing_id is not None))
            | {"updated_at"}
        )
        now = timezone.now()
        for start in range(0, len(updates), BATCH):
            chunk = updates[start : start + BATCH]
            for contact in chunk:
                contact.updated_at = now
            Contact.objects.bulk_update(chunk, fields)
            written += len(chunk)
            on_batch(written)
        return len(creates), len(updates)


def _header_key(text: str) -> str:
    return re.sub(r"[\s*＊:：()（）%]", "", text or "").lower()


def _model_field(model: type[models.Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except Exception:  # not a model field (region, owner…): fine
        return None


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# --- Jobs ----------------------------------------------------------------------------------------


def _upload_dir() -> Path:
    directory = Path(getattr(settings, "KESTREL_IMPORT_DIR", settings.VAR_DIR / "imports"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _check_options(kind: str, mode: str, match_key: str) -> str:
    if kind not in ImportJob.Kind.values:
        raise ValidationFailed(_("Unknown import kind."), details={"kind": [kind]})
    if mode not in ImportJob.Mode.values:
        raise ValidationFailed(_("Unknown import mode."), details={"mode": [mode]})
    if kind == ImportJob.Kind.CONTACTS:
        keys, match_key = CONTACT_MATCH_KEYS, match_key or "name_mobile"
    else:
        keys, match_key = MATCH_KEYS, match_key or "code"
    if match_key not in keys:
        raise ValidationFailed(
            _("Match on one of: %s.") % ", ".join(sorted(keys)), details={"match_key": [match_key]}
        )
    return match_key


def import_job_create(
    *,
    actor: AbstractBaseUser,
    file: str | Path | IO[bytes],
    file_name: str,
    kind: str = ImportJob.Kind.CUSTOMERS,
    mode: str = ImportJob.Mode.CREATE,
    match_key: str = "",
    skip_invalid: bool = False,
    dry_run: bool = True,
) -> ImportJob:
    """Store an upload and its options. Hostile files are refused here, before anything is saved:
    format, size, zip bombs, macros, DTDs, and the declared row count (``spreadsheets.preflight``)."""
    match_key = _check_options(kind, mode, match_key)
    estimate = spreadsheets.preflight(file, file_name=file_name)
    suffix = spreadsheets.suffix_of(file_name)
    stored = _upload_dir() / f"{uuid.uuid4().hex}{suffix}"
    if isinstance(file, str | Path):
        shutil.copyfile(file, stored)
    else:
        file.seek(0)
        with stored.open("wb") as target:
            shutil.copyfileobj(file, target)
    return ImportJob.objects.create(
        kind=kind,
        mode=mode,
        match_key=match_key,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        file_name=Path(file_name).name[:200],
        file_path=str(stored),
        total_rows=estimate or 0,
        requested_by=actor if actor.is_authenticated else None,
    )


def import_run(
    *, job: ImportJob, actor: AbstractBaseUser, dry_run: bool | None = None, progress: Progress | None = None
) -> ImportJob:
    """Check, then (unless a dry run) write — see the module docstring. Returns the job, finished.

    The outcome is on the job: ``status`` (checked / done / failed), counters and the report. An
    exception raised by ``progress`` (or anything else) during the write rolls back every row.
    """
    dry_run = job.dry_run if dry_run is None else dry_run
    importer_class = CustomerImporter if job.kind == ImportJob.Kind.CUSTOMERS else ContactImporter
    importer = importer_class(
        actor=actor, mode=job.mode, match_key=job.match_key, skip_invalid=job.skip_invalid
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.CHECKING,
        dry_run=dry_run,
        processed_rows=0,
        created_count=0,
        updated_count=0,
        error_count=0,
        report=[],
    )
    total = job.total_rows

    def checked(processed: int) -> None:
        # Autocommit: the progress is visible at once to whoever polls the job.
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed, total_rows=max(total, processed))
        if progress is not None:
            progress(processed, max(total, processed), "check")

    try:
        with translation.override("zh-hans"):
            importer.check(spreadsheets.read_rows(job.file_path, file_name=job.file_name), checked)
    except KestrelError as error:
        return _finish(job, importer, ImportJob.Status.FAILED, failure=_chinese(error))
    rows = importer.good_rows
    if dry_run:
        return _finish(job, importer, ImportJob.Status.CHECKED)
    if importer.bad_rows and not importer.skip_invalid:
        # All-or-nothing: one bad row and nothing is written.
        return _finish(job, importer, ImportJob.Status.FAILED)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING)

    def wrote(count: int) -> None:
        if progress is not None:
            progress(count, len(rows), "write")

    try:
        with transaction.atomic():
            created, updated = importer.write(rows, wrote)
    except IntegrityError:
        logger.warning("Import %s: a conflicting write since the check; rolled back", job.pk, exc_info=True)
        return _finish(job, importer, ImportJob.Status.FAILED, failure=msg.WRITE_FAILED)
    # Bulk writes bypass the per-row audit signals: one audit entry says who imported what.
    LogEntry.objects.log_create(
        job,
        action=LogEntry.Action.CREATE,
        changes=None,
        actor=actor if actor.is_authenticated else None,
        additional_data={
            "event": "import",
            "kind": job.kind,
            "mode": job.mode,
            "match_key": job.match_key,
            "file_name": job.file_name,
            "created": created,
            "updated": updated,
            "skipped": importer.bad_rows,
        },
        force_log=True,
    )
    Path(job.file_path).unlink(missing_ok=True)  # imported: the upload is no longer needed
    logger.info(
        "Import %s of %s by %s: %d created, %d updated, %d bad rows skipped",
        job.pk,
        job.kind,
        actor.get_username() if actor.is_authenticated else "-",
        created,
        updated,
        importer.bad_rows,
    )
    return _finish(job, importer, ImportJob.Status.DONE, created=created, updated=updated)


def _chinese(error: KestrelError) -> str:
    """A whole-file refusal, for the Chinese report."""
    template = msg.FILE_REFUSED.get(error.code)
    if template is None:
        return error.message
    details = error.details if isinstance(error.details, dict) else {}
    return template.format(limit=details.get("limit", ""), missing="、".join(details.get("missing", [])))


def _finish(
    job: ImportJob,
    importer: Importer,
    status: str,
    *,
    failure: str = "",
    created: int = 0,
    updated: int = 0,
) -> ImportJob:
    report = sorted(importer.report, key=lambda entry: entry["row"])  # stable: columns stay in order
    if failure:
        report.insert(
            0,
            {"row": 0, "column": "", "column_letter": "", "value": "", "reason": failure, "level": msg.ERROR},
        )
    if importer.report_truncated:
        report.append(
            {
                "row": 0,
                "column": "",
                "column_letter": "",
                "value": "",
                "reason": f"报告仅列出前 {MAX_REPORT_ENTRIES} 条",
                "level": msg.WARNING,
            }
        )
    job.status = status
    job.processed_rows = importer.processed
    job.total_rows = importer.processed
    job.created_count = created
    job.updated_count = updated
    job.error_count = importer.bad_rows
    job.report = report
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "processed_rows",
            "total_rows",
            "created_count",
            "updated_count",
            "error_count",
            "report",
            "finished_at",
            "updated_at",
        ]
    )
    return job


def customers_import(
    *,
    actor: AbstractBaseUser,
    path_or_file: str | Path | IO[bytes],
    mode: str = ImportJob.Mode.CREATE,
    match_key: str = "code",
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    file_name: str | None = None,
    kind: str = ImportJob.Kind.CUSTOMERS,
) -> ImportJob:
    """Import customers (or, with ``kind="contacts"``, contacts) from a file, in one call."""
    if file_name is None:
        if not isinstance(path_or_file, str | Path):
            file_name = getattr(path_or_file, "name", "") or ""
        else:
            file_name = str(path_or_file)
    job = import_job_create(
        actor=actor,
        file=path_or_file,
        file_name=file_name,
        kind=kind,
        mode=mode,
        match_key=match_key if kind == ImportJob.Kind.CUSTOMERS else "",
        skip_invalid=skip_invalid,
        dry_run=dry_run,
    )
    return import_run(job=job, actor=actor, progress=progress)


def contacts_import(**kwargs: Any) -> ImportJob:
    return customers_import(kind=ImportJob.Kind.CONTACTS, **kwargs)


# --- Template ------------------------------------------------------------------------------------


def import_template(*, kind: str, target: Any) -> None:
    """The downloadable template: Chinese headers, an example row, and a notes sheet."""
    if kind == ImportJob.Kind.CONTACTS:
        labels, example = msg.CONTACT_LABELS, msg.CONTACT_EXAMPLE
        required = {"customer", "name"}
        choices = {name: msg.CHOICE_LABELS[name] for name in ("gender", "decision_role")}
        booleans = {"is_primary", "consent_contact", "consent_marketing"}
        custom: list[CustomField] = []
    else:
        labels, example = dict(msg.CUSTOMER_LABELS), msg.CUSTOMER_EXAMPLE
        required = {"name"}
        choices = {
            name: msg.CHOICE_LABELS[name]
            for name in ("kind", "status", "confidentiality", "lifecycle_stage", "taxpayer_type", "source")
        }
        booleans = set()
        custom = list(CustomField.objects.filter(active=True))
        labels.update({c.key: c.label for c in custom})
    names = list(labels)
    notes: list[list[Any]] = [[msg.NOTES_INTRO, "", ""]]
    scheme = GradeScheme.objects.filter(is_primary=True).first()
    for name in names:
        help_text = ""
        if name in choices:
            help_text = "、".join(label for value, label in choices[name].items() if value)
        elif name in booleans:
            help_text = msg.BOOLEAN_HELP
        elif name == "grade" and scheme is not None:
            help_text = "、".join(scheme.grades.values_list("name", flat=True))
        elif name == "industry":
            help_text = "、".join(Industry.objects.values_list("name", flat=True)[:200])
        for c in custom:
            if c.key == name and c.choices:
                help_text = "、".join(map(str, c.choices))
        notes.append([labels[name], msg.YES if name in required else msg.NO, help_text])
    spreadsheets.write_xlsx(
        target,
        [
            (msg.TEMPLATE_SHEET, [labels[n] for n in names], [[example.get(n, "") for n in names]]),
            (msg.NOTES_SHEET, list(msg.NOTES_HEADER), notes),
        ],
    )
