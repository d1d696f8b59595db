"""ARC-11 exports: data scope, confidentiality, masking (ARC-14), formula neutralisation, logging."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from openpyxl import load_workbook

from kestrel.core.scope import DataScope
from kestrel.customers.exporting import contacts_export, customers_export
from kestrel.customers.models import ArchiveView, Customer
from kestrel.customers.selectors import CustomerFilter
from kestrel.customers.services import contact_create, customer_create
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403
from kestrel.org.tests.fixtures import assert_error

EXPORT_PERMS = ["customers.view_customer", "customers.view_contact", "customers.export_customer"]


@pytest.fixture
def archive(org):
    """Three Shanghai archives (two department-level of sh_a_rep1, one held by sh_a_rep2) and one
    in Beijing; the first has a formula-like name and a contact."""
    make = lambda owner, code, **kw: customer_create(  # noqa: E731
        actor=None, owner=org.employees[owner], code=code, **kw
    )
    customers = {
        "sh1": make(
            "sh_a_rep1",
            "SH1",
            name='=HYPERLINK("http://evil.example","点我")',
            credit_limit=500_000,
            confidentiality=Customer.Confidentiality.DEPARTMENT,
            kind=Customer.Kind.ENTERPRISE,
        ),
        "sh2": make("sh_a_rep1", "SH2", name="+上海乙", confidentiality="department", kind="vip"),
        "sh3": make("sh_a_rep2", "SH3", name="@上海丙", confidentiality="personal"),
        "bj1": make("bj_a_rep1", "BJ1", name="北京甲", confidentiality="company"),
    }
    contact_create(actor=None, customer=customers["sh1"], name="-张伟", mobile="13812345678")
    contact_create(actor=None, customer=customers["bj1"], name="李娜", mobile="13912345678")
    return customers


def exporter(org, key: str, scope: DataScope, *extra: str):
    employee = org.employees[key]
    employee.roles.set([RoleFactory(data_scope=scope, permissions=[*EXPORT_PERMS, *extra])])
    return employee


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # a BOM, so that Excel reads the Chinese text
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def export_csv(user, **filters) -> list[dict[str, str]]:
    buffer = io.BytesIO()
    customers_export(actor=user, target=buffer, format="csv", filters=CustomerFilter(**filters))
    header, *rows = csv_rows(buffer.getvalue())
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_arc11_export_honours_data_scope_and_confidentiality(org, archive):
    director = exporter(org, "sh_gm", DataScope.DEPARTMENT_TREE, "customers.read_all_levels")
    assert {row["客户编码"] for row in export_csv(director.user)} == {"SH1", "SH2", "SH3"}
    rep = exporter(org, "sh_a_rep2", DataScope.DEPARTMENT)
    # Same department, but department-level archives of another holder stay closed to a rep.
    assert {row["客户编码"] for row in export_csv(rep.user)} == {"SH3"}
    assert {row["客户编码"] for row in export_csv(director.user, kind="vip")} == {"SH2"}  # the list's filters


def test_arc11_export_masks_sensitive_fields(org, archive, settings):
    settings.KESTREL_MASKED_AMOUNTS = ["credit_limit"]
    plain = exporter(org, "sh_gm", DataScope.DEPARTMENT_TREE, "customers.read_all_levels")
    rows = {row["客户编码"]: row for row in export_csv(plain.user)}
    assert rows["SH1"]["信用额度"] == "****"
    buffer = io.BytesIO()
    contacts_export(actor=plain.user, target=buffer, format="xlsx")
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    header = [c.value for c in sheet[1]]
    contacts = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [(c["所属客户编码"], c["手机"]) for c in contacts] == [("SH1", "138****5678")]  # not Beijing's
    sensitive = exporter(org, "sh_b_rep1", DataScope.DEPARTMENT_TREE, "customers.read_all_levels")
    sensitive.department = org.departments["sh"]
    sensitive.save()
    sensitive.roles.set(
        [
            RoleFactory(
                data_scope=DataScope.ALL,
                permissions=[*EXPORT_PERMS, "customers.read_all_levels", "customers.view_sensitive"],
            )
        ]
    )
    rows = {row["客户编码"]: row for row in export_csv(sensitive.user)}
    assert rows["SH1"]["信用额度"] == "500000.00"


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_arc11_export_neutralises_formulas(org, archive, format):
    director = exporter(org, "sh_gm", DataScope.DEPARTMENT_TREE, "customers.read_all_levels")
    buffer = io.BytesIO()
    customers_export(actor=director.user, target=buffer, format=format)
    if format == "csv":
        names = {row[1] for row in csv_rows(buffer.getvalue())[1:]}
    else:
        sheet = load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
        names = {row[1].value for row in sheet.iter_rows(min_row=2)}
        assert all(row[1].data_type != "f" for row in sheet.iter_rows(min_row=2))
    assert names == {'\'=HYPERLINK("http://evil.example","点我")', "'+上海乙", "'@上海丙"}
    buffer = io.BytesIO()
    contacts_export(actor=director.user, target=buffer, format="csv")
    assert csv_rows(buffer.getvalue())[1][1] == "'-张伟"


def test_arc11_every_export_is_logged(org, archive):
    director = exporter(org, "sh_gm", DataScope.DEPARTMENT_TREE, "customers.read_all_levels")
    export_csv(director.user, kind="enterprise")
    views = ArchiveView.objects.filter(viewer=director.user, channel="export")
    assert set(views.values_list("customer__code", flat=True)) == {"SH1", "SH3"}
    entry = LogEntry.objects.filter(actor=director.user, action=LogEntry.Action.ACCESS).latest("pk")
    assert entry.additional_data["event"] == "export"
    assert entry.additional_data["rows"] == 2
    assert entry.additional_data["filters"] == {"kind": "enterprise"}


def test_arc11_export_api_file_download_and_permissions(org, archive, api_for):
    director = exporter(org, "sh_gm", DataScope.DEPARTMENT_TREE, "customers.read_all_levels")
    response = api_for(director).get("/customers/export", {"format": "csv", "kind": "vip"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    _header, *rows = csv_rows(b"".join(response.streaming_content))
    assert [row[0] for row in rows] == ["SH2"]
    response = api_for(director).get("/customers/export")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0].max_row == 4
    response = api_for(director).get("/contacts/export", {"format": "csv"})
    assert response.status_code == 200
    assert_error(api_for(director).get("/customers/export", {"format": "pdf"}), 422)
    assert_error(api_for(director).get("/customers/export", {"kind": "alien"}), 422)
    viewer = org.employees["sh_a_rep2"]
    viewer.roles.set([RoleFactory(permissions=["customers.view_customer"])])
    assert_error(api_for(viewer).get("/customers/export"), 403, "permission_denied")
    assert_error(api_for(viewer).get("/contacts/export"), 403, "permission_denied")


def test_arc11_cli_export(org, archive, tmp_path):
    exporter(org, "sh_gm", DataScope.DEPARTMENT_TREE, "customers.read_all_levels")
    out = io.StringIO()
    call_command("export", "customers", str(tmp_path / "out.csv"), "--as", "sh_gm", stdout=out)
    assert "已导出 3 行" in out.getvalue()
    assert len(csv_rows((tmp_path / "out.csv").read_bytes())) == 4
    call_command("export", "contacts", str(tmp_path / "contacts.xlsx"), "--as", "sh_gm", stdout=out)
    assert load_workbook(tmp_path / "contacts.xlsx").worksheets[0].max_row == 2
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export", "customers", str(tmp_path / "out.pdf"), "--as", "sh_gm")
    with pytest.raises(CommandError):
        call_command("export", "customers", str(tmp_path / "missing" / "out.csv"), "--as", "sh_gm")


def test_arc11_exported_file_can_be_imported_back(org, archive, settings, tmp_path):
    """The export's headers are the template's: a round trip in update mode changes nothing."""
    from kestrel.customers.importing import customers_import

    settings.KESTREL_IMPORT_DIR = tmp_path
    director = exporter(
        org, "sh_gm", DataScope.DEPARTMENT_TREE, "customers.read_all_levels", "customers.import_customer"
    )
    buffer = io.BytesIO()
    customers_export(actor=director.user, target=buffer, format="xlsx")
    buffer.seek(0)
    buffer.name = "export.xlsx"
    job = customers_import(
        actor=director.user, path_or_file=buffer, mode="update", match_key="code", dry_run=True
    )
    # The neutralised names are not formulas any more: they come back as text, without errors.
    assert job.error_count == 0, job.report
