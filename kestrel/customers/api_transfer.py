"""/api/v1/customers/imports, …/import-template, …/export and /api/v1/contacts/export (ARC-11)."""

import tempfile
from datetime import datetime
from typing import Literal

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from kestrel.core.errors import NotFound, ValidationFailed
from kestrel.core.permissions import requires
from kestrel.customers import exporting, importing, selectors, tasks
from kestrel.customers.api import ContactQuery, CustomerQuery
from kestrel.customers.models import ImportJob
from kestrel.customers.schemas import Id

router = Router(tags=["customer import/export"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


class ImportOptionsIn(Schema):
    kind: Literal["customers", "contacts"] = "customers"
    mode: Literal["create", "update", "upsert"] = "create"
    match_key: Literal["", "code", "credit_code", "name_phone", "name_mobile"] = ""
    skip_invalid: bool = False
    dry_run: bool = True


class ImportJobOut(Schema):
    id: int
    kind: str
    mode: str
    match_key: str
    skip_invalid: bool
    dry_run: bool
    file_name: str
    status: str
    total_rows: int
    processed_rows: int
    created_count: int
    updated_count: int
    error_count: int
    report: list
    created_at: datetime
    finished_at: datetime | None


class ExportQuery(CustomerQuery):
    format: Literal["xlsx", "csv"] = "xlsx"
    # Bounded ids: an id beyond 64 bits is a 422 here, not a database overflow.
    grade_id: Id | None = None
    industry_id: Id | None = None
    province_id: Id | None = None
    city_id: Id | None = None
    district_id: Id | None = None
    owner_id: Id | None = None
    department_id: Id | None = None


class ContactExportQuery(ContactQuery):
    format: Literal["xlsx", "csv"] = "xlsx"
    customer_id: Id | None = None


class TemplateQuery(Schema):
    kind: Literal["customers", "contacts"] = "customers"


def _job(request, job_id: int) -> ImportJob:
    """One's own import (a superuser sees every import); anyone else's is "not found"."""
    jobs = ImportJob.objects.all()
    if not request.user.is_superuser:
        jobs = jobs.filter(requested_by=request.user)
    job = jobs.filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("Import not found."), details={"id": job_id})
    return job


@router.post("/customers/imports", response={201: ImportJobOut})
@requires("customers.import_customer")
def import_create(request, options: Form[ImportOptionsIn], file: File[UploadedFile]):
    """Upload a file and check it (a dry run by default; ``dry_run=false`` imports at once).
    Hostile or oversized files are refused with a 4xx before anything is saved."""
    job = importing.import_job_create(
        actor=request.user,
        file=file.file,
        file_name=file.name or "",
        kind=options.kind,
        mode=options.mode,
        match_key=options.match_key,
        skip_invalid=options.skip_invalid,
        dry_run=options.dry_run,
    )
    tasks.import_run_task(job.pk, request.user.pk)
    job.refresh_from_db()
    return Status(201, job)


@router.get("/customers/imports/{int:job_id}", response=ImportJobOut)
@requires("customers.import_customer")
def import_detail(request, job_id: int):
    """Status, progress (``processed_rows`` of ``total_rows``) and the row-by-row report."""
    return _job(request, job_id)


@router.post("/customers/imports/{int:job_id}/commit", response=ImportJobOut)
@requires("customers.import_customer")
def import_commit(request, job_id: int):
    """Import a checked file for real: all-or-nothing unless the job skips bad rows."""
    job = _job(request, job_id)
    if job.status != ImportJob.Status.CHECKED:
        raise ValidationFailed(
            _("Only a checked (dry-run) import can be committed."),
            code="import_not_checked",
            details={"status": job.status},
        )
    tasks.import_run_task(job.pk, request.user.pk, dry_run=False)
    job.refresh_from_db()
    return job


@router.get("/customers/import-template")
@requires("customers.import_customer")
def import_template(request, query: Query[TemplateQuery]):
    """The .xlsx template: Chinese headers, an example row and a notes sheet of allowed values."""
    response = HttpResponse(content_type=XLSX)
    importing.import_template(kind=query.kind, target=response)
    response["Content-Disposition"] = f'attachment; filename="{query.kind}-template.xlsx"'
    return response


def _file_response(kind: str, format: str, write) -> FileResponse:
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it
    write(spooled)
    spooled.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return FileResponse(
        spooled,
        as_attachment=True,
        filename=f"{kind}-{stamp}.{format}",
        content_type=XLSX if format == "xlsx" else CSV,
    )


@router.get("/customers/export")
@requires("customers.export_customer")
def customer_export(request, query: Query[ExportQuery]):
    """The customers of the list (same filters), as a file: data scope, confidentiality and masking
    apply as in the list; every export is logged."""
    filters = query.model_dump()
    format = filters.pop("format")
    return _file_response(
        "customers",
        format,
        lambda target: exporting.customers_export(
            actor=request.user, target=target, format=format, filters=selectors.CustomerFilter(**filters)
        ),
    )


@router.get("/contacts/export")
@requires("customers.export_customer", "customers.view_contact")
def contact_export(request, query: Query[ContactExportQuery]):
    return _file_response(
        "contacts",
        query.format,
        lambda target: exporting.contacts_export(
            actor=request.user, target=target, format=query.format, customer_id=query.customer_id, q=query.q
        ),
    )
