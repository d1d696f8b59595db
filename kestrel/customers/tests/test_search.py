"""ARC-10 search: every kind finds the right customers, through the API and the selector, on SQLite
and PostgreSQL; nothing outside the actor's reach is ever found."""

import pytest
from django.db import connection

from kestrel.core.scope import DataScope
from kestrel.customers import search, selectors, services
from kestrel.customers.models import Customer
from kestrel.customers.validators import credit_code_check_character
from kestrel.org.models import Role
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — api, api_for, org, superuser fixtures
from kestrel.org.tests.fixtures import assert_error

READ_CUSTOMERS = ["customers.view_customer"]


def credit_code(prefix17: str) -> str:
    return prefix17 + credit_code_check_character(prefix17)


def make(owner, name: str, **fields) -> Customer:
    return services.customer_create(actor=None, owner=owner, name=name, **fields)


@pytest.fixture
def archive(org):
    rep = org.employees["sh_a_rep1"]
    customers = {
        "cmcc": make(
            rep,
            "中国移动通信集团有限公司",
            short_name="中国移动",
            code="C-CMCC",
            credit_code=credit_code("91110000710000000"),
            phone="010-52686688",
            confidentiality=Customer.Confidentiality.COMPANY,
        ),
        "unicom": make(rep, "中国联合网络通信集团有限公司", short_name="中国联通", code="C-UNICOM"),
        "huawei": make(rep, "华为技术有限公司", short_name="华为", code="C-HW", phone="13800138000"),
        "steel": make(rep, "宝山钢铁股份有限公司", short_name="宝钢", code="C-BG"),
        "abb": make(rep, "ABB（中国）有限公司", code="C-ABB"),
    }
    services.contact_create(actor=None, customer=customers["huawei"], name="任正非", mobile="13912345678")
    services.contact_create(actor=None, customer=customers["steel"], name="王大锤", mobile="13700001111")
    return customers


def found(text: str, actor) -> set[int]:
    return set(
        selectors.customer_list(actor=actor, filters=selectors.CustomerFilter(q=text)).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zgyd", {"cmcc"}),  # pinyin initials
        ("ZGYD", {"cmcc"}),
        ("zg", {"cmcc", "unicom", "abb"}),  # initials prefix (ABB（中国）: latin letters carry no initials)
        ("zhongguoyidong", {"cmcc"}),  # full pinyin
        ("huawei", {"huawei"}),
        ("移动", {"cmcc"}),  # two-character Chinese substring
        ("移动通信", {"cmcc"}),
        ("联通", {"unicom"}),  # short name
        ("有限公司", {"cmcc", "unicom", "huawei", "steel", "abb"}),
        ("钢铁股份", {"steel"}),
        ("铁", {"steel"}),  # one character, in the middle
        ("团", {"cmcc", "unicom"}),
        ("司", {"cmcc", "unicom", "huawei", "steel", "abb"}),  # one character, at the end
        ("abb", {"abb"}),  # latin, any case
        ("中国", {"cmcc", "unicom", "abb"}),
        ("通信集团", {"cmcc", "unicom"}),
        ("移通", set()),  # not a substring, though both characters occur
        ("国移动", {"cmcc"}),
        ("C-HW", {"huawei"}),  # customer code
        ("c-hw", {"huawei"}),
        ("91110000710000000" + credit_code_check_character("91110000710000000"), {"cmcc"}),
        ("010-52686688", {"cmcc"}),  # phone
        ("13800138000", {"huawei"}),
        ("+86 139 1234 5678", {"huawei"}),  # a contact's mobile, written as people write it
        ("王大锤", {"steel"}),  # contact name
        ("无此客户", set()),
        ("%", set()),
        ("_", set()),
        ('"', set()),
        ("移动 集团", {"cmcc"}),  # several words: all must occur
    ],
)
def test_arc10_search_kinds(archive, superuser, text, expected):
    assert found(text, superuser) == {archive[key].pk for key in expected}
    # A common text is tested row by row (search.customer_match_condition): the same customers.
    by_row = Customer.objects.filter(search.customer_match_condition(text)).values_list("pk", flat=True)
    assert set(by_row) == {archive[key].pk for key in expected}


def test_arc10_a_long_segment_must_occur_whole_not_as_grams_apart(archive, superuser):
    """国移动中国 holds both grams of 中国移 (中国, 国移), apart: not a match; its grams alone are."""
    apart = make(archive["cmcc"].owner, "国移动中国")
    assert apart.pk not in found("中国移", superuser)
    assert found("中国移", superuser) == {archive["cmcc"].pk}
    assert apart.pk in found("国移", superuser) and apart.pk in found("移", superuser)


def test_arc10_a_common_text_pages_newest_first_row_by_row(org, archive, api_for, monkeypatch):
    """When a text is common among the newest customers, the list reads them newest first, testing
    each row, instead of listing every match from the indexes: same page, same count, same scope."""
    rep, outsider = org.employees["sh_a_rep1"], org.employees["bj_a_rep1"]
    for employee in (rep, outsider):
        employee.roles.set([RoleFactory(data_scope=DataScope.SELF, permissions=READ_CUSTOMERS)])
    for number in range(6):
        make(rep, f"嘉兴第{number}纺织有限公司")
    assert search.text_is_common("嘉兴", sample=1_000, share=0.5)  # 6 of the 11 customers
    assert not search.text_is_common("嘉兴", sample=1_000, share=0.9)

    def answers(employee) -> list[dict]:
        client = api_for(employee)
        return [
            client.get("/customers", {"q": text, "page_size": 4}).json() for text in ("有限公司", "司", "zg")
        ]

    monkeypatch.setattr(selectors, "COMMON_TEXT_SHARE", 1.1)  # never common
    in_hand, in_hand_outside = answers(rep), answers(outsider)  # a few found: their ids in hand
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 0)  # more found: the sub-select
    assert answers(rep) == in_hand
    assert answers(outsider) == in_hand_outside
    monkeypatch.setattr(selectors, "COMMON_TEXT_SHARE", 0.001)  # common: row by row
    assert answers(rep) == in_hand
    assert answers(outsider) == in_hand_outside == [{"items": [], "count": 0, "count_capped": False}] * 3
    assert in_hand[0]["count"] == 11 and len(in_hand[0]["items"]) == 4


def test_arc10_search_candidates_are_the_found_ids_newest_first_up_to_a_limit(archive):
    """The ids a search finds, read once from the indexes for a list to check by key: the same customers
    as the sub-select, newest first, each once (found by name and by initials alike); ``None`` past
    the limit."""
    expected = sorted(
        Customer.objects.filter(search.customer_search_condition("zg")).values_list("pk", flat=True)
    )
    assert len(expected) == 3
    assert search.customer_search_candidates("zg", limit=3) == expected[::-1]
    assert search.customer_search_candidates("中国", limit=10) == expected[::-1]  # by name
    services.contact_create(actor=None, customer=archive["huawei"], name="华为", mobile="13700002222")
    assert search.customer_search_candidates("华为", limit=2) == [archive["huawei"].pk]  # name, contact: once
    assert search.customer_search_candidates("华为", limit=1) is None  # found twice counts twice
    assert search.customer_search_candidates("zg", limit=2) is None
    assert search.customer_search_candidates("  ", limit=10) == []
    assert not Customer.objects.filter(search.customer_ids_condition([])).exists()
    ids = search.customer_ids_condition([*expected, 10**12])
    assert sorted(Customer.objects.filter(ids).values_list("pk", flat=True)) == expected


def test_arc10_search_follows_renames_and_deletes(archive, superuser):
    huawei = archive["huawei"]
    services.customer_update(actor=None, customer=huawei, name="荣耀终端有限公司", short_name="荣耀")
    assert found("华为", superuser) == set()
    assert found("荣耀终端", superuser) == {huawei.pk}
    assert found("rongyao", superuser) == {huawei.pk}
    archive["steel"].delete()
    assert found("钢铁", superuser) == set()


def test_arc10_search_never_reaches_outside_data_scope(org, archive, api_for):
    """A sales rep of another branch (self scope) finds nothing of these personal archives, whatever
    the search kind; the owner finds them."""
    for customer in archive.values():
        services.customer_update(
            actor=None, customer=customer, confidentiality=Customer.Confidentiality.PERSONAL
        )
    outsider = org.viewer("bj_a_rep1", DataScope.SELF)
    owner = org.viewer("sh_a_rep1", DataScope.SELF)
    branch_manager = org.viewer("bj_gm", DataScope.DEPARTMENT_TREE)
    for role in Role.objects.all():
        role.permissions.add(*_permissions(READ_CUSTOMERS))
    for text in ["zgyd", "移动", "C-HW", "13912345678", "王大锤", "有限公司", "司"]:
        for actor in (outsider, branch_manager):
            assert found(text, actor.user) == set(), text
            body = api_for(actor).get("/customers", {"q": text}).json()
            assert body["items"] == [] and body["count"] == 0, text
        assert found(text, owner.user), text


def test_arc10_search_through_the_api(archive, api):
    response = api.get("/customers", {"q": "zgyd"})
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [archive["cmcc"].pk]
    assert body["count"] == 1
    response = api.get("/customers", {"q": "移动", "status": "active"})
    assert [item["id"] for item in response.json()["items"]] == [archive["cmcc"].pk]


def test_arc10_search_text_too_long_is_a_4xx(api, archive):
    assert_error(api.get("/customers", {"q": "移" * 101}), 422)


def test_arc10_empty_search_finds_nothing():
    assert search.customer_search_sql("   ", vendor="sqlite") == ("", [])


def test_arc10_grams():
    assert search.grams("中国移动") == ["中国", "国移", "移动"]
    assert search.grams("移") == ["移"]
    assert search.grams("") == []


@pytest.mark.django_db
def test_arc10_search_uses_indexes_not_scans(archive):
    """Every branch of the search is an index lookup (no full scan of the customers table)."""
    sql, params = search.customer_search_sql("zgyd 13800138000", vendor=connection.vendor)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " | ".join(row[-1] for row in cursor.fetchall())
            assert "SCAN customers_customer" not in plan, plan
            assert "SCAN customers_contact" not in plan, plan
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " | ".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
            assert "Seq Scan" not in plan, plan


def _permissions(codes):
    from kestrel.org import services as org_services

    return org_services.permissions_from_codes(codes)


@pytest.mark.django_db
def test_arc10_search_triggers_survive_every_migration():
    """SQLite rebuilds a table to alter one of its columns and drops the table's triggers with it: a
    later migration altering a customer field would silently stop the search index from following."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL indexes an expression; there are no triggers to lose")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'customers_customer'"
        )
        triggers = {row[0] for row in cursor.fetchall()}
    assert {"customers_search_ai", "customers_search_ad", "customers_search_au"} <= triggers
