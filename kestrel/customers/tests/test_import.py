"""ARC-11: importing customers and contacts from .xlsx and .csv."""

import csv
import functools
import io
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from kestrel.core.scope import DataScope
from kestrel.customers import import_messages as msg
from kestrel.customers.importing import contacts_import, customers_import, import_template
from kestrel.customers.models import Contact, Customer, Grade, GradeScheme, ImportJob, Industry, Region
from kestrel.customers.validators import credit_code_check_character
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403

IMPORT_PERMS = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.import_customer",
    "customers.read_all_levels",
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
    entry = LogEntry.objects.get(additional_data__event="import")  # who imported what, audited
    assert (entry.actor, entry.additional_data["created"]) == (importer, 2)


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


# --- Formats, headers, references ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_arc11_csv_in_utf8_with_or_without_bom_and_gb18030(importer, encoding):
    upload = csv_bytes([HEADER, good_row(1), good_row(2)], encoding=encoding)
    job = customers_import(actor=importer, path_or_file=upload, dry_run=False)
    assert job.status == ImportJob.Status.DONE, job.report
    assert set(Customer.objects.values_list("name", flat=True)) == {"测试客户1有限公司", "测试客户2有限公司"}


def test_arc11_headers_by_field_name_enums_by_value_or_label_and_references(importer, org, regions):
    industry = Industry.objects.create(code="Z99", name="测试行业")
    scheme = GradeScheme.objects.filter(is_primary=True).first() or GradeScheme.objects.create(
        code="test", name="测试", is_primary=True
    )
    grade = Grade.objects.filter(scheme=scheme).first() or Grade.objects.create(
        scheme=scheme, code="a", name="甲", rank=1
    )
    header = [
        "name",
        "credit_code",
        "kind",
        "status",
        "industry",
        "region",
        "owner",
        "grade",
        "tags",
        "邮政编码",
    ]
    rows = [
        header,
        [
            "甲公司",
            credit_code(7),
            "manufacturer",
            "黑名单",
            "测试行业",
            "990101",
            "sh_a_rep1",
            grade.name,
            "a;b",
            "200120",
        ],
        ["乙公司", "", "生产商", "active", "Z99", "测试区", "销售sh_a_rep2", grade.code, "", ""],
    ]
    job = customers_import(actor=importer, path_or_file=csv_bytes(rows), dry_run=False)
    assert job.status == ImportJob.Status.DONE, job.report
    first, second = Customer.objects.get(name="甲公司"), Customer.objects.get(name="乙公司")
    assert (first.kind, first.status, second.kind, second.status) == (
        "manufacturer",
        "blacklisted",
        "manufacturer",
        "active",
    )
    assert first.industry == second.industry == industry
    assert (
        (first.province, first.city, first.district)
        == regions
        == (
            second.province,
            second.city,
            second.district,
        )
    )
    assert (first.owner, second.owner) == (org.employees["sh_a_rep1"], org.employees["sh_a_rep2"])
    assert first.grade == second.grade == grade
    assert sorted(first.tags.values_list("name", flat=True)) == ["a", "b"]
    assert first.code and second.code and first.code != second.code  # numbered like the services do
    assert second.owner == org.employees["sh_a_rep2"] and second.department == org.departments["sh_a"]


def test_arc11_each_rule_gives_its_reason_in_chinese(importer, org):
    cells = {
        "客户名称": "甲",
        "统一社会信用代码": "91310000MA1FL8TQ3X",
        "电话": "12345",
        "邮政编码": "2001",
        "电子邮箱": "not-an-email",
        "成立日期": "2024-13-45",
        "客户类型": "外星人",
        "负责人": "bj_a_rep1",
        "信用额度": "-5",
        "地区": "测试",
    }
    rows = [list(cells), list(cells.values())]
    job = customers_import(actor=importer, path_or_file=csv_bytes(rows), dry_run=True)
    reasons = {entry["column"]: entry["reason"] for entry in job.report}
    assert len(reasons) == 9, job.report
    assert reasons["统一社会信用代码"] in {msg.CREDIT_CODE_CHECK, msg.CREDIT_CODE_FORMAT}
    assert reasons["电话"] == msg.PHONE
    assert reasons["邮政编码"] == msg.POSTAL_CODE
    assert reasons["电子邮箱"] == msg.EMAIL
    assert reasons["成立日期"] == msg.DATE
    assert reasons["客户类型"].startswith("“外星人”不是可选值")
    assert reasons["负责人"].startswith("未找到负责人")  # bj_a_rep1 is outside the importer's data scope
    assert reasons["信用额度"] == msg.NEGATIVE
    assert reasons["地区"].startswith("未找到地区")
    entry = next(e for e in job.report if e["column"] == "电话")
    assert (entry["row"], entry["column_letter"], entry["value"], entry["level"]) == (2, "C", "12345", "错误")


def test_arc11_unknown_header_is_a_warning_and_missing_required_column_a_422(importer):
    job = customers_import(
        actor=importer, path_or_file=csv_bytes([["客户名称", "神秘列"], ["甲", "x"]]), dry_run=True
    )
    assert job.status == ImportJob.Status.CHECKED and job.error_count == 0
    assert [(e["row"], e["column"], e["level"]) for e in job.report] == [(1, "神秘列", msg.WARNING)]
    job = customers_import(actor=importer, path_or_file=csv_bytes([["电话"], ["021-12345678"]]), dry_run=True)
    assert job.status == ImportJob.Status.FAILED
    assert job.report[0]["reason"] == "缺少必需的列：客户名称"


def test_arc11_custom_fields_are_imported_and_validated(importer):
    from kestrel.customers.models import CustomField

    CustomField.objects.create(
        key="level", label="星级", type=CustomField.Type.CHOICE, choices=["一星", "二星"]
    )
    CustomField.objects.create(
        key="visits", label="拜访次数", type=CustomField.Type.NUMBER, validation={"max": 99}
    )
    rows = [["客户名称", "星级", "visits"], ["甲", "一星", "3"], ["乙", "五星", "100"]]
    job = customers_import(actor=importer, path_or_file=csv_bytes(rows), dry_run=False, skip_invalid=True)
    assert report_pairs(job) == {(3, "星级"), (3, "visits")}
    assert Customer.objects.get(name="甲").custom_fields == {"level": "一星", "visits": 3}


# --- Duplicates, modes and keys -----------------------------------------------------------------


def test_arc11_duplicates_against_the_database_and_likely_duplicates(importer, org):
    existing = customers_import(actor=importer, path_or_file=csv_bytes([HEADER, good_row(1)]), dry_run=False)
    assert existing.created_count == 1
    rows = [
        HEADER,
        good_row(1, 客户名称="新名字", 电话="021-11112222"),  # same code and credit code as in the database
        good_row(2, 客户名称="测试客户1有限公司", 电话="021-50000001"),  # same name+phone as row 1 in the DB
        good_row(3, 客户名称="重名", 电话="021-33334444"),
        good_row(4, 客户名称="重名", 电话="021-33334444"),  # same name+phone as the row above
    ]
    job = customers_import(actor=importer, path_or_file=csv_bytes(rows), dry_run=True)
    assert report_pairs(job) == {(2, "客户编码"), (2, "统一社会信用代码")}
    assert report_pairs(job, msg.WARNING) == {(3, "客户名称"), (5, "客户名称")}
    reasons = {(e["row"], e["column"]): e["reason"] for e in job.report}
    assert reasons[2, "客户编码"] == msg.CODE_EXISTS
    assert reasons[2, "统一社会信用代码"] == msg.CREDIT_CODE_EXISTS
    assert reasons[5, "客户名称"] == msg.LIKELY_DUPLICATE_IN_FILE.format(row=4)


def test_arc11_update_mode_on_code_changes_only_given_cells(importer):
    customers_import(
        actor=importer, path_or_file=csv_bytes([HEADER, good_row(1), good_row(2)]), dry_run=False
    )
    rows = [["客户编码", "信用额度", "电话"], ["T000001", "250000", ""], ["T999999", "1", ""]]
    job = customers_import(
        actor=importer, path_or_file=csv_bytes(rows), mode="update", match_key="code", dry_run=False
    )
    assert job.status == ImportJob.Status.FAILED  # T999999 matches nothing: all-or-nothing
    assert report_pairs(job) == {(3, "客户编码")}
    assert Customer.objects.get(code="T000001").credit_limit == Decimal("100000")
    job = customers_import(
        actor=importer,
        path_or_file=csv_bytes(rows[:2]),
        mode="update",
        match_key="code",
        dry_run=False,
    )
    assert (job.status, job.updated_count, job.created_count) == (ImportJob.Status.DONE, 1, 0)
    updated = Customer.objects.get(code="T000001")
    assert updated.credit_limit == Decimal("250000")
    assert updated.phone == "021-50000001"  # an empty cell changes nothing
    assert Customer.objects.count() == 2


def test_arc11_upsert_on_credit_code_and_on_name_phone(importer):
    customers_import(actor=importer, path_or_file=csv_bytes([HEADER, good_row(1)]), dry_run=False)
    rows = [
        ["统一社会信用代码", "客户名称", "信用额度"],
        [credit_code(1), "改名公司", "5"],
        [credit_code(2), "新公司", "6"],
    ]
    job = customers_import(
        actor=importer, path_or_file=csv_bytes(rows), mode="upsert", match_key="credit_code", dry_run=False
    )
    assert (job.status, job.created_count, job.updated_count) == (ImportJob.Status.DONE, 1, 1)
    assert Customer.objects.get(credit_code=credit_code(1)).name == "改名公司"
    assert Customer.objects.get(credit_code=credit_code(2)).credit_limit == Decimal("6")
    rows = [
        ["客户名称", "电话", "信用额度"],
        ["测试客户2有限公司", "021-50000002", "7"],
        ["新公司", "021-99998888", "8"],
    ]
    customers_import(actor=importer, path_or_file=csv_bytes([HEADER, good_row(2, 统一社会信用代码="")]))
    job = customers_import(
        actor=importer, path_or_file=csv_bytes(rows), mode="upsert", match_key="name_phone", dry_run=False
    )
    assert (job.status, job.created_count, job.updated_count) == (ImportJob.Status.DONE, 1, 1), job.report


def test_arc11_update_cannot_reach_customers_outside_the_data_scope(importer, org):
    from kestrel.customers.services import customer_create

    customer_create(actor=None, owner=org.employees["bj_a_rep1"], name="北京客户", code="BJ1")
    rows = [["客户编码", "信用额度"], ["BJ1", "1"]]
    job = customers_import(
        actor=importer, path_or_file=csv_bytes(rows), mode="update", match_key="code", dry_run=False
    )
    assert job.status == ImportJob.Status.FAILED
    assert [e["reason"] for e in job.report] == [msg.MATCH_NOT_READABLE]
    assert Customer.objects.get(code="BJ1").credit_limit == 0


# --- Contacts and the template ------------------------------------------------------------------


def test_arc11_import_contacts_into_readable_customers(importer, org):
    from kestrel.customers.services import customer_create

    customers_import(actor=importer, path_or_file=csv_bytes([HEADER, good_row(1)]), dry_run=False)
    customer_create(actor=None, owner=org.employees["bj_a_rep1"], name="北京客户", code="BJ1")
    rows = [
        ["所属客户编码", "姓名", "手机", "性别", "决策角色", "主要联系人", "生日"],
        ["T000001", "张伟", "13812345678", "男", "决策者", "是", "1985-03-12"],
        [credit_code(1), "李娜", "13912345678", "female", "", "否", ""],
        ["BJ1", "王五", "13700000000", "", "", "", ""],
        ["T000001", "赵六", "123", "", "", "", ""],
    ]
    job = contacts_import(actor=importer, path_or_file=csv_bytes(rows), dry_run=False, skip_invalid=True)
    assert report_pairs(job) == {(4, "所属客户编码"), (5, "手机")}
    assert job.created_count == 2
    zhang = Contact.objects.get(name="张伟")
    assert (zhang.customer.code, zhang.gender, zhang.decision_role, zhang.is_primary) == (
        "T000001",
        "male",
        "decision_maker",
        True,
    )
    assert str(zhang.birthday) == "1985-03-12"


def test_arc11_template_has_chinese_headers_an_example_and_notes(importer):
    buffer = io.BytesIO()
    import_template(kind="customers", target=buffer)
    workbook = load_workbook(io.BytesIO(buffer.getvalue()))
    data, notes = workbook.worksheets
    header = [cell.value for cell in data[1]]
    assert header[:4] == ["客户编码", "客户名称", "简称", "统一社会信用代码"]
    assert data.max_row == 2  # the header and one example row
    example = dict(zip(header, [cell.value for cell in data[2]], strict=True))
    assert example["客户名称"] == "上海示例贸易有限公司"
    allowed = {row[0].value: row[2].value for row in notes.iter_rows(min_row=2)}
    assert "企业" in allowed["客户类型"] and "黑名单" in allowed["状态"]
    assert example["统一社会信用代码"][17] == credit_code_check_character(example["统一社会信用代码"][:17])


def test_arc11_progress_is_visible_in_the_job_while_checking(importer, monkeypatch):
    """processed_rows is written after each batch in autocommit: a poller sees it during the check."""
    from kestrel.customers import importing

    monkeypatch.setattr(importing, "BATCH", 2)
    seen = []

    def poll(done: int, total: int, phase: str) -> None:
        job = ImportJob.objects.get()
        seen.append((phase, done, job.processed_rows, job.status))

    rows = [HEADER] + [good_row(n) for n in range(1, 6)]
    job = customers_import(actor=importer, path_or_file=csv_bytes(rows), dry_run=False, progress=poll)
    assert job.status == ImportJob.Status.DONE
    checks = [entry for entry in seen if entry[0] == "check"]
    assert [(done, stored) for _phase, done, stored, _status in checks] == [(2, 2), (4, 4), (5, 5)]
    assert {status for phase, *_rest, status in seen if phase == "write"} == {ImportJob.Status.IMPORTING}


@pytest.mark.parametrize(
    "name",
    [
        "中国银行",
        "重庆长安汽车",
        "ABC科技有限公司",
        "123号商店",
        "上海·浦东(集团)",
        "长沙银行长春分行",
        "測試",
        "😀公司",
        "",
    ],
)
def test_arc10_search_keys_equal_plain_pypinyin_in_two_passes(name):
    """The keys come from one pass with a syllable cache (importer and services alike); they must
    equal pypinyin's own full pinyin and first letters, phrase readings included."""
    from pypinyin import Style, lazy_pinyin

    from kestrel.customers.pinyin import name_search_keys

    for _twice in range(2):  # the second time from the cache
        assert name_search_keys(name) == (
            "".join(lazy_pinyin(name, errors="ignore")).lower(),
            "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower(),
        )


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | st.sampled_from("AZ09 ·"),
        max_size=30,
    )
)
def test_arc10_search_keys_cache_never_changes_a_reading(name):
    from pypinyin import Style, lazy_pinyin

    from kestrel.customers.pinyin import name_search_keys

    assert name_search_keys(name) == (
        "".join(lazy_pinyin(name, errors="ignore")).lower()[:600],
        "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()[:200],
    )
