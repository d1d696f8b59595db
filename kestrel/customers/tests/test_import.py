"""ARC-11: importing customers and contacts from .xlsx and .csv."""

import csv
import functools
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from kestrel.core.scope import DataScope
from kestrel.customers import import_messages as msg
from kestrel.customers.importing import customers_import
from kestrel.customers.models import Customer, ImportJob, Region
from kestrel.customers.validators import credit_code_check_character
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403

IMPORT_PERMS = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.import_customer",
    "customers.view_contact",
    "customers.add_contact",
]


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码 numbered ``n``."""
    first17 = f"91310000{n:09d}"
    return first17 + credit_code_check_character(first17)


def bad_credit_code(n: int) -> str:
    good = credit_code(n)
    return good[:17] + ("0" if good[17] != "0" else "1")


def xlsx_bytes(rows: list[list], *, title: str = "导入数据") -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "customers.xlsx"
    return buffer


def csv_bytes(rows: list[list], *, encoding: str = "utf-8", name: str = "customers.csv") -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    buffer = io.BytesIO(text.getvalue().encode(encoding))
    buffer.name = name
    return buffer


@pytest.fixture
def regions(db):
    province, _ = Region.objects.get_or_create(code="990000", defaults={"name": "测试省", "level": 1})
    city, _ = Region.objects.get_or_create(
        code="990100", defaults={"name": "测试市", "level": 2, "parent": province}
    )
    district, _ = Region.objects.get_or_create(
        code="990101", defaults={"name": "测试区", "level": 3, "parent": city}
    )
    return province, city, district


@pytest.fixture
def importer(org, regions):
    """sh_gm: imports within the Shanghai branch (department tree)."""
    employee = org.employees["sh_gm"]
    employee.roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT_TREE, permissions=IMPORT_PERMS)])
    return employee.user


def report_pairs(job: ImportJob, level: str = msg.ERROR) -> set[tuple[int, str]]:
    return {(entry["row"], entry["column"]) for entry in job.report if entry["level"] == level}


HEADER = ["客户编码", "客户名称", "统一社会信用代码", "地区", "电话", "负责人", "信用额度", "保密级别"]


def good_row(n: int, **overrides) -> list:
    row = {
        "客户编码": f"T{n:06d}",
        "客户名称": f"测试客户{n}有限公司",
        "统一社会信用代码": credit_code(n),
        "地区": "测试省/测试市/测试区",
        "电话": f"021-{50000000 + n}",
        "负责人": "SH_A_REP1",
        "信用额度": "100000",
        "保密级别": "部门级",
    }
    row.update(overrides)
    return [row[h] for h in HEADER]


def test_arc11_import_customers_from_xlsx_creates_them_with_resolved_references(importer, org, regions):
    job = customers_import(
        actor=importer, path_or_file=xlsx_bytes([HEADER, good_row(1), good_row(2)]), dry_run=False
    )
    assert job.status == ImportJob.Status.DONE, job.report
    assert (job.created_count, job.error_count) == (2, 0)
    customer = Customer.objects.get(code="T000001")
    assert customer.name == "测试客户1有限公司"
    assert customer.credit_code == credit_code(1)
    assert (customer.province, customer.city, customer.district) == regions
    assert customer.owner == org.employees["sh_a_rep1"]
    assert customer.department == org.departments["sh_a"]
    assert customer.credit_limit == Decimal("100000")
    assert customer.confidentiality == Customer.Confidentiality.DEPARTMENT
    assert customer.name_initials  # pinyin stored on write, as the services do
    assert customer.source == Customer.Source.IMPORT


@pytest.fixture(autouse=True)
def _upload_dir(settings, tmp_path):
    settings.KESTREL_IMPORT_DIR = tmp_path / "imports"


# --- ARC-11 acceptance: 10,000 rows with 3% bad rows ---------------------------------------------

ROWS = 10_000


@functools.cache
def big_file(size: int = ROWS) -> tuple[bytes, frozenset[tuple[int, str]], frozenset[str]]:
    """10,000 data rows; 300 bad ones (bad credit codes, unknown regions, duplicate codes, empty names,
    a 10,000-character cell, formulas). Returns the file, the expected (row, column) pairs and the
    codes of the good rows."""
    rows, expected, good_codes = [HEADER], set(), set()
    for i in range(size):
        n, file_row = i + 1, i + 2
        row = good_row(n)
        bad = i % 33 == 5 and len(expected) < 300  # 3% of the rows, spread through the file
        if bad:
            match len(expected) % 6:
                case 0:
                    row = good_row(n, 统一社会信用代码=bad_credit_code(n))
                    expected.add((file_row, "统一社会信用代码"))
                case 1:
                    row = good_row(n, 地区="火星省/奥林帕斯市")
                    expected.add((file_row, "地区"))
                case 2:
                    row = good_row(n, 客户编码=f"T{n - 1:06d}")  # the row above's code
                    expected.add((file_row, "客户编码"))
                case 3:
                    row = good_row(n, 客户名称="")
                    expected.add((file_row, "客户名称"))
                case 4:
                    # the first of these is a 10,000-character cell, the rest formulas
                    text = "长" * 10_000 if n == 6 + 33 * 4 else '=HYPERLINK("http://evil.example","点我")'
                    row = good_row(n, 客户名称=text)
                    expected.add((file_row, "客户名称"))
                case 5:
                    row = good_row(n, 电话="=1+1")
                    expected.add((file_row, "电话"))
        if not bad:
            good_codes.add(row[0])
        rows.append(row)
    buffer = xlsx_bytes(rows)
    return buffer.getvalue(), frozenset(expected), frozenset(good_codes)


def big_upload(size: int = ROWS) -> io.BytesIO:
    buffer = io.BytesIO(big_file(size)[0])
    buffer.name = "big.xlsx"
    return buffer


def test_arc11_dry_run_of_10000_rows_reports_exactly_the_bad_cells(importer):
    _data, expected, good_codes = big_file()
    assert len(expected) == 300 and len(good_codes) == ROWS - 300
    seen = []
    job = customers_import(
        actor=importer, path_or_file=big_upload(), dry_run=True, progress=lambda d, t, p: seen.append(d)
    )
    assert job.status == ImportJob.Status.CHECKED
    assert report_pairs(job) == expected
    assert job.error_count == 300 and job.processed_rows == ROWS and job.total_rows == ROWS
    assert Customer.objects.count() == 0
    assert seen[-1] == ROWS and len(seen) >= ROWS // 1000  # progress reported per batch
    reasons = {(e["row"], e["column"]): e["reason"] for e in job.report}
    assert reasons[min(r for r, c in expected if c == "统一社会信用代码"), "统一社会信用代码"] == (
        msg.CREDIT_CODE_CHECK
    )
    assert any(reason == msg.FORMULA for reason in reasons.values())
    assert any(reason.startswith("单元格内容过长") for reason in reasons.values())
    duplicate_row = min(r for r, c in expected if c == "客户编码")
    assert reasons[duplicate_row, "客户编码"] == msg.DUPLICATE_IN_FILE.format(row=duplicate_row - 1)
    assert all(len(entry["value"]) <= 101 for entry in job.report)  # the 10,000 characters are not echoed


def test_arc11_commit_is_all_or_nothing_with_bad_rows(importer):
    _data, expected, _good = big_file(1000)
    job = customers_import(actor=importer, path_or_file=big_upload(1000), dry_run=False)
    assert job.status == ImportJob.Status.FAILED
    assert report_pairs(job) == expected
    assert job.error_count == len(expected) and job.created_count == 0
    assert Customer.objects.count() == 0


def test_arc11_skip_bad_rows_commits_exactly_the_good_rows(importer):
    _data, expected, good_codes = big_file(1000)
    job = customers_import(actor=importer, path_or_file=big_upload(1000), dry_run=False, skip_invalid=True)
    assert job.status == ImportJob.Status.DONE
    assert job.created_count == 1000 - len(expected) == len(good_codes)
    assert set(Customer.objects.values_list("code", flat=True)) == good_codes
    assert report_pairs(job) == expected  # the skipped rows stay in the report


def test_arc11_import_killed_midway_commits_nothing(importer):
    def kill(done: int, total: int, phase: str) -> None:
        if phase == "write" and done >= 6000:
            raise RuntimeError("killed at row 6,000")

    with pytest.raises(RuntimeError, match="killed"):
        customers_import(
            actor=importer, path_or_file=big_upload(), dry_run=False, skip_invalid=True, progress=kill
        )
    assert Customer.objects.count() == 0
