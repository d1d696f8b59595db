"""ARC-11: the import API, hostile files, and the CLI."""

import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from kestrel.core.scope import DataScope
from kestrel.customers import import_messages as msg
from kestrel.customers.models import Customer, ImportJob
from kestrel.customers.tests.test_import import (
    HEADER,
    IMPORT_PERMS,
    csv_bytes,
    good_row,
    regions,  # noqa: F401 — fixture
    xlsx_bytes,
)
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403
from kestrel.org.tests.fixtures import assert_error

API = "/api/v1"


@pytest.fixture(autouse=True)
def _upload_dir(settings, tmp_path):
    settings.KESTREL_IMPORT_DIR = tmp_path / "imports"
    return tmp_path / "imports"


@pytest.fixture
def importer(org, regions):  # noqa: F811
    employee = org.employees["sh_gm"]
    employee.roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT_TREE, permissions=IMPORT_PERMS)])
    return employee


def upload(api_client, file: io.BytesIO, **options):
    return api_client.client.post(
        f"{API}/customers/imports", {"file": file, **options}, headers=api_client._headers()
    )


def nothing_saved(upload_dir) -> None:
    assert ImportJob.objects.count() == 0
    assert Customer.objects.count() == 0
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


# --- API -----------------------------------------------------------------------------------------


def test_arc11_api_dry_run_by_default_then_commit(importer, api_for):
    client = api_for(importer)
    bad = good_row(3, 统一社会信用代码="91310000000000003X")
    response = upload(client, xlsx_bytes([HEADER, good_row(1), good_row(2), bad]))
    assert response.status_code == 201, response.content
    job = response.json()
    assert (job["status"], job["dry_run"], job["processed_rows"], job["error_count"]) == (
        "checked",
        True,
        3,
        1,
    )
    assert [(e["row"], e["column"]) for e in job["report"]] == [(4, "统一社会信用代码")]
    assert Customer.objects.count() == 0

    detail = client.get(f"/customers/imports/{job['id']}")
    assert detail.status_code == 200 and detail.json()["report"] == job["report"]

    committed = client.post(f"/customers/imports/{job['id']}/commit")
    assert committed.status_code == 200
    assert committed.json()["status"] == "failed"  # all-or-nothing: the bad row blocks the commit
    assert Customer.objects.count() == 0

    response = upload(client, xlsx_bytes([HEADER, good_row(1), good_row(2), bad]), skip_invalid="true")
    committed = client.post(f"/customers/imports/{response.json()['id']}/commit")
    assert (committed.json()["status"], committed.json()["created_count"]) == ("done", 2)
    assert Customer.objects.count() == 2
    assert_error(client.post(f"/customers/imports/{response.json()['id']}/commit"), 422, "import_not_checked")


def test_arc11_api_permissions_and_other_peoples_imports(importer, org, api_for):
    job = upload(api_for(importer), csv_bytes([HEADER, good_row(1)])).json()
    outsider = org.employees["sh_a_rep1"]
    outsider.roles.set([RoleFactory(permissions=["customers.view_customer"])])
    assert_error(upload(api_for(outsider), csv_bytes([HEADER, good_row(2)])), 403, "permission_denied")
    assert_error(api_for(outsider).get(f"/customers/imports/{job['id']}"), 403)
    assert_error(api_for(outsider).get("/customers/import-template"), 403)
    other_importer = org.employees["hz_gm"]
    other_importer.roles.set([RoleFactory(permissions=IMPORT_PERMS)])
    assert_error(api_for(other_importer).get(f"/customers/imports/{job['id']}"), 404, "not_found")
    assert_error(api_for(other_importer).post(f"/customers/imports/{job['id']}/commit"), 404)


def test_arc11_api_bad_options_and_missing_file_are_4xx(importer, api_for):
    client = api_for(importer)
    assert_error(upload(client, csv_bytes([HEADER]), mode="merge"), 422)
    assert_error(upload(client, csv_bytes([HEADER]), match_key="email"), 422)
    assert_error(upload(client, csv_bytes([HEADER]), kind="contacts", match_key="code"), 422)
    response = client.client.post(f"{API}/customers/imports", {}, headers=client._headers())
    assert_error(response, 422)
    assert ImportJob.objects.count() == 0


def test_arc11_api_template_download(importer, api_for):
    response = api_for(importer).get("/customers/import-template", {"kind": "contacts"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]][:2] == ["所属客户编码", "姓名"]


# --- Hostile files: refused with a clear 4xx, nothing saved -----------------------------------------


def test_arc11_oversized_file_refused(importer, api_for, settings, _upload_dir):
    settings.KESTREL_IMPORT_MAX_BYTES = 2_000
    rows = [HEADER] + [good_row(n) for n in range(1, 50)]
    body = assert_error(upload(api_for(importer), csv_bytes(rows)), 413, "import_file_too_large")
    assert body["details"]["limit"] == 2_000
    nothing_saved(_upload_dir)


@pytest.mark.parametrize("make", [csv_bytes, xlsx_bytes])
def test_arc11_too_many_rows_refused(importer, api_for, settings, _upload_dir, make):
    settings.KESTREL_IMPORT_MAX_ROWS = 5
    rows = [HEADER] + [good_row(n) for n in range(1, 7)]
    assert_error(upload(api_for(importer), make(rows)), 400, "import_too_many_rows")
    nothing_saved(_upload_dir)


def _rezip(source: io.BytesIO, replace: dict[str, bytes], *, name: str = "customers.xlsx") -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in original.infolist():
            target.writestr(item.filename, replace.pop(item.filename, original.read(item.filename)))
        for member, data in replace.items():
            target.writestr(member, data)
    out.seek(0)
    out.name = name
    return out


def test_arc11_row_limit_holds_even_when_the_sheet_lies_about_its_size(importer, settings):
    from kestrel.customers.importing import customers_import

    settings.KESTREL_IMPORT_MAX_ROWS = 5
    honest = xlsx_bytes([HEADER] + [good_row(n) for n in range(1, 9)])
    with zipfile.ZipFile(honest) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    liar = _rezip(honest, {"xl/worksheets/sheet1.xml": sheet.replace(b'ref="A1:H9"', b'ref="A1:H2"')})
    job = customers_import(actor=importer.user, path_or_file=liar, dry_run=False, skip_invalid=True)
    assert job.status == ImportJob.Status.FAILED
    assert job.report[0]["reason"] == "文件行数超过上限（5 行），请拆分后导入"
    assert Customer.objects.count() == 0


def test_arc11_zip_bomb_refused_before_opening(importer, api_for, _upload_dir):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(40):  # 40 MB of zeros compress to ~40 KB
                member.write(block)
    bomb.seek(0)
    bomb.name = "bomb.xlsx"
    assert_error(upload(api_for(importer), bomb), 400, "import_zip_bomb")
    nothing_saved(_upload_dir)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""


def billion_laughs() -> io.BytesIO:
    return _rezip(xlsx_bytes([HEADER, good_row(1)]), {"xl/worksheets/sheet1.xml": BILLION_LAUGHS})


def test_arc11_xml_entity_expansion_refused(importer, api_for, _upload_dir):
    assert_error(upload(api_for(importer), billion_laughs()), 400, "import_xml_refused")
    nothing_saved(_upload_dir)


def test_arc11_openpyxl_parses_through_defusedxml():
    """Behind the DTD scan, openpyxl itself refuses entities (defusedxml is installed and used)."""
    from defusedxml.common import DefusedXmlException

    with pytest.raises((DefusedXmlException, ValueError)) as raised:
        workbook = load_workbook(billion_laughs(), read_only=True)
        list(workbook.worksheets[0].iter_rows())
    error = raised.value
    assert isinstance(error, DefusedXmlException) or isinstance(error.__context__, DefusedXmlException)


def test_arc11_macros_refused(importer, api_for, _upload_dir):
    client = api_for(importer)
    plain = xlsx_bytes([HEADER, good_row(1)])
    xlsm = io.BytesIO(plain.getvalue())
    xlsm.name = "customers.xlsm"
    assert_error(upload(client, xlsm), 400, "import_macros_refused")
    with_vba = _rezip(plain, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really ole"})
    assert_error(upload(client, with_vba), 400, "import_macros_refused")
    nothing_saved(_upload_dir)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("customers.xlsx", b"this is not a zip", "import_file_unreadable"),
        ("customers.exe", b"MZ", "import_unsupported_format"),
        ("customers.csv", b"", "import_file_empty"),
    ],
)
def test_arc11_unreadable_or_unsupported_files_refused(importer, api_for, _upload_dir, name, content, code):
    file = io.BytesIO(content)
    file.name = name
    assert_error(upload(api_for(importer), file), 400, code)
    nothing_saved(_upload_dir)


# --- CLI -----------------------------------------------------------------------------------------


def test_arc11_cli_import_dry_run_then_import(importer, tmp_path, capsys):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes([HEADER, good_row(1), good_row(2)]).getvalue())
    out = io.StringIO()
    call_command(
        "import", "customers", str(path), "--dry-run", "--as", "sh_gm", stdout=out, stderr=io.StringIO()
    )
    assert "试导入完成" in out.getvalue() and Customer.objects.count() == 0
    err = io.StringIO()
    call_command("import", "customers", str(path), "--as", "sh_gm", stdout=out, stderr=err)
    assert Customer.objects.count() == 2
    assert "2/2" in err.getvalue()  # progress output


def test_arc11_cli_errors_exit_non_zero(importer, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes([HEADER, good_row(1, 客户名称="")]).getvalue())
    # kestrel.cli returns a CommandError's returncode as the exit status.
    with pytest.raises(CommandError, match="未导入任何数据") as failed:
        call_command(
            "import", "customers", str(path), "--as", "sh_gm", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert failed.value.returncode == 1
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import", "customers", str(tmp_path / "nope.csv"), "--as", "sh_gm")
    with pytest.raises(CommandError, match="no such active user"):
        call_command("import", "customers", str(path), "--as", "nobody")
    assert Customer.objects.count() == 0
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", "customers", str(path), "--as", "sh_gm", "--dry-run", stdout=out)
    assert msg.REQUIRED in out.getvalue() and "第 2 行" in out.getvalue()
