"""The customer master file and contacts through /api/v1 (ARC-1, ARC-2, ARC-3, ARC-5, ARC-6, ARC-14)."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from kestrel.core.scope import DataScope
from kestrel.customers import services
from kestrel.customers.models import ArchiveView, Contact, ContactMove, Customer, Region
from kestrel.customers.validators import credit_code_check_character
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — the api, api_for and org fixtures
from kestrel.org.tests.fixtures import assert_error

WRITE = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.view_contact",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
]


def credit_code(first17: str = "91310000MA1FL0000") -> str:
    return first17 + credit_code_check_character(first17)


@pytest.fixture
def rep(org):
    employee = org.employees["sh_a_rep1"]
    employee.roles.set([RoleFactory(data_scope=DataScope.SELF, permissions=WRITE)])
    return employee


def test_arc1_create_with_every_kind_of_field_and_generated_code(rep, api_for):
    client = api_for(rep)
    province = Region.objects.filter(level=Region.Level.PROVINCE, name__startswith="上海").first()
    body = {
        "name": "上海申江精密机械有限公司",
        "short_name": "申江精机",
        "credit_code": credit_code(),
        "kind": "manufacturer",
        "phone": "021-58881234",
        "postal_code": "200120",
        "annual_sales": "12500000.50",
        "registered_capital": "5000000",
        "tax_rate": "13.00",
        "taxpayer_type": "general",
        "confidentiality": "department",
        "tags": ["重点", "机械"],
        "characteristics": {"sales_capability": "华东地区三家经销商", "frictions": "2025 年交期纠纷"},
    }
    if province is not None:
        body["province_id"] = province.pk
    response = client.post("/customers", body)
    assert response.status_code == 201, response.content
    customer = response.json()
    assert customer["code"].startswith("C")
    assert customer["owner_id"] == rep.pk and customer["department_id"] == rep.department_id
    assert customer["tags"] == ["机械", "重点"]
    assert Decimal(customer["annual_sales"]) == Decimal("12500000.50")  # decimals, never floats
    stored = Customer.objects.get(pk=customer["id"])
    assert stored.name_initials == "shsjjmjxyxgs" and stored.name_pinyin.startswith("shanghaishenjiang")
    assert stored.characteristics.frictions == "2025 年交期纠纷"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credit_code", "91310000MA1FL00001"),  # wrong check character
        ("credit_code", "ABC"),
        ("phone", "12345"),
        ("postal_code", "20012"),
        ("email", "not-an-email"),
        ("kind", "alien"),
        ("annual_sales", "-1"),
        ("annual_sales", "1.005"),
        ("province_id", 999_999_999),
        ("owner_id", 999_999_999),
    ],
)
def test_arc1_bad_fields_are_4xx_with_the_field_named(rep, api_for, field, value):
    response = api_for(rep).post("/customers", {"name": "测试客户", field: value})
    body = assert_error(response, 422)
    assert field in str(body["details"])
    assert not Customer.objects.exists()


def test_arc9_same_credit_code_is_refused(rep, api_for):
    client = api_for(rep)
    assert client.post("/customers", {"name": "甲", "credit_code": credit_code()}).status_code == 201
    assert_error(
        client.post("/customers", {"name": "乙", "credit_code": credit_code()}), 409, "duplicate_credit_code"
    )
    assert_error(client.post("/customers", {"name": "丙", "code": Customer.objects.get().code}), 409)


def test_arc5_owner_change_moves_the_customer_to_the_new_owners_department(org, api):
    owner, successor = org.employees["sh_a_rep1"], org.employees["bj_a_rep1"]
    customer = services.customer_create(actor=None, owner=owner, name="北方重工有限公司")
    response = api.patch(f"/customers/{customer.pk}", {"owner_id": successor.pk})
    assert response.status_code == 200
    assert response.json()["department_id"] == successor.department_id
    changes = [entry.changes or {} for entry in LogEntry.objects.get_for_object(customer)]
    assert any("owner" in change and "department" in change for change in changes)


def test_arc5_co_owners_and_relationship_manager_read_the_archive(org, api_for):
    owner, helper, manager = (
        org.employees["sh_a_rep1"],
        org.employees["bj_a_rep1"],
        org.employees["hz_a_rep1"],
    )
    for employee in (helper, manager):
        employee.roles.set([RoleFactory(data_scope=DataScope.SELF, permissions=["customers.view_customer"])])
    customer = services.customer_create(
        actor=None, owner=owner, name="南方电网配件公司", confidentiality="personal", co_owners=[helper]
    )
    assert api_for(helper).get(f"/customers/{customer.pk}").status_code == 200
    assert api_for(manager).get(f"/customers/{customer.pk}").status_code == 404
    services.customer_update(actor=None, customer=customer, relationship_manager=manager)
    assert api_for(manager).get(f"/customers/{customer.pk}").status_code == 200


def test_arc6_reads_and_refusals_are_in_the_view_log(org, rep, api_for):
    customer = services.customer_create(
        actor=None, owner=rep, name="华东化工有限公司", confidentiality="department"
    )
    outsider = org.employees["bj_a_rep1"]
    outsider.roles.set(
        [RoleFactory(data_scope=DataScope.DEPARTMENT, permissions=["customers.view_customer"])]
    )
    assert api_for(rep).get(f"/customers/{customer.pk}").status_code == 200
    assert_error(api_for(outsider).get(f"/customers/{customer.pk}"), 404, "not_found")
    assert_error(api_for(outsider).get("/customers/987654"), 404, "not_found")  # same answer, no row
    assert list(ArchiveView.objects.values_list("viewer", "outcome")) == [
        (outsider.user_id, "denied"),
        (rep.user_id, "read"),
    ]


def test_arc14_personal_phones_and_configured_amounts_are_masked(org, rep, api_for, settings):
    settings.KESTREL_MASKED_AMOUNTS = ["annual_sales"]
    customer = services.customer_create(
        actor=None, owner=rep, name="苏州丝绸有限公司", annual_sales=Decimal("800")
    )
    services.contact_create(
        actor=None, customer=customer, name="王芳", mobile="13912345678", wechat="wf_silk"
    )
    masked = api_for(rep)
    assert masked.get(f"/customers/{customer.pk}").json()["annual_sales"] == "****"
    assert masked.get("/customers").json()["items"][0]["annual_sales"] == "****"
    contact = masked.get("/contacts", {"customer_id": customer.pk}).json()["items"][0]
    assert (contact["mobile"], contact["wechat"]) == ("139****5678", "****")
    rep.roles.add(RoleFactory(data_scope=DataScope.SELF, permissions=["customers.view_sensitive"]))
    clear = api_for(rep)
    assert clear.get("/contacts", {"customer_id": customer.pk}).json()["items"][0]["mobile"] == "13912345678"
    assert Decimal(clear.get(f"/customers/{customer.pk}").json()["annual_sales"]) == Decimal("800")
    assert Decimal(clear.get("/customers").json()["items"][0]["annual_sales"]) == Decimal("800")


def test_arc1_a_list_row_shows_what_the_archive_shows(org, rep, api_for):
    """The list's rows are built from values (selectors.customer_rows), the archive from the model:
    the fields they share must read the same."""
    region = Region.objects.filter(level=Region.Level.DISTRICT).select_related("parent__parent").first()
    fields = {"district": region, "city": region.parent, "province": region.parent.parent}
    customer = services.customer_create(
        actor=None,
        owner=rep,
        name="杭州西湖茶叶有限公司",
        tags=["茶叶", "华东"],
        annual_sales=Decimal("1234.50"),
        credit_limit=Decimal("99"),
        **fields,
    )
    client = api_for(rep)
    row = client.get("/customers").json()["items"][0]
    archive = client.get(f"/customers/{customer.pk}").json()
    assert row == {name: archive[name] for name in row}
    assert row["tags"] == ["华东", "茶叶"] and row["owner_name"] == rep.name
    assert row["region"] == region.parent.parent.name + region.parent.name + region.name


def test_arc10_a_search_counts_up_to_its_own_cap(rep, api_for, monkeypatch):
    """A search counts exactly up to SEARCH_COUNT_CAP, then answers "more" (count_capped): each match
    it counts is a row checked against the viewer's scope. The pages go on past the cap."""
    from kestrel.customers import selectors

    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    for number in range(3):
        services.customer_create(actor=None, owner=rep, name=f"嘉兴纺织{number}厂")
    client = api_for(rep)
    body = client.get("/customers", {"q": "嘉兴纺织", "page_size": 2}).json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (2, True, 2)
    assert len(client.get("/customers", {"q": "嘉兴纺织", "page_size": 2, "page": 2}).json()["items"]) == 1
    listed = client.get("/customers").json()
    assert (listed["count"], listed["count_capped"]) == (3, False)


def test_arc3_contacts_crud_primary_flag_and_move_with_history(rep, api_for):
    client = api_for(rep)
    first = services.customer_create(actor=None, owner=rep, name="宁波港务有限公司")
    second = services.customer_create(actor=None, owner=rep, name="舟山船舶有限公司")
    a = client.post(
        "/contacts", {"customer_id": first.pk, "name": "陈刚", "is_primary": True, "title": "采购经理"}
    )
    b = client.post("/contacts", {"customer_id": first.pk, "name": "刘洋", "is_primary": True})
    assert a.status_code == b.status_code == 201
    assert list(Contact.objects.filter(is_primary=True).values_list("name", flat=True)) == ["刘洋"]
    moved = client.post(f"/contacts/{a.json()['id']}/move", {"customer_id": second.pk, "title": "副总经理"})
    assert moved.status_code == 200 and moved.json()["customer_id"] == second.pk
    move = ContactMove.objects.get()
    assert (move.from_customer_id, move.to_customer_id, move.from_title) == (first.pk, second.pk, "采购经理")
    assert_error(client.post(f"/contacts/{a.json()['id']}/move", {"customer_id": second.pk}), 422)
    assert client.delete(f"/contacts/{b.json()['id']}").status_code == 204
    assert Contact.objects.get(pk=b.json()["id"]).active is False  # kept: contacts have history


def test_arc3_bad_contact_input(rep, api_for, org):
    client = api_for(rep)
    customer = services.customer_create(actor=None, owner=rep, name="温州眼镜有限公司")
    assert_error(client.post("/contacts", {"customer_id": customer.pk, "name": "x", "mobile": "123"}), 422)
    assert_error(client.post("/contacts", {"customer_id": customer.pk}), 422)
    assert_error(client.post("/contacts", {"customer_id": 10**20, "name": "x"}), 422)
    hidden = services.customer_create(actor=None, owner=org.employees["bj_a_rep1"], name="保密客户")
    assert_error(client.post("/contacts", {"customer_id": hidden.pk, "name": "x"}), 422, "unknown_customer")


def test_arc13_360_has_profile_contacts_events_and_grade_history(rep, api_for):
    customer = services.customer_create(actor=None, owner=rep, name="杭州西湖电子有限公司")
    services.contact_create(actor=None, customer=customer, name="赵敏")
    services.major_event_add(actor=None, customer=customer, occurred_on="2026-10-01", title="更换法人代表")
    view = api_for(rep).get(f"/customers/{customer.pk}/360").json()
    assert view["profile"]["name"] == "杭州西湖电子有限公司"
    assert [c["name"] for c in view["contacts"]] == ["赵敏"]
    assert view["major_events"][0]["title"] == "更换法人代表"
    assert "grade_history" in view


def test_arc1_function_permissions_are_required(org, api_for):
    nobody = org.employees["sh_a_rep2"]
    nobody.roles.set([RoleFactory(data_scope=DataScope.ALL, permissions=["customers.view_customer"])])
    assert_error(api_for(nobody).post("/customers", {"name": "x"}), 403, "permission_denied")


def test_arc6_list_search_and_contact_pages_log_every_archive_they_show(rep, api_for):
    """ "Every read is in the view log": a list or search answer shows the archive too (one INSERT a page)."""
    shown = services.customer_create(actor=None, owner=rep, name="宁波港口物流有限公司")
    other = services.customer_create(actor=None, owner=rep, name="温州鞋业有限公司")
    services.contact_create(actor=None, customer=shown, name="陈立")
    client = api_for(rep)
    assert client.get("/customers").status_code == 200
    assert client.get("/customers", {"q": "宁波港口"}).json()["count"] == 1
    assert client.get("/contacts").status_code == 200
    log = sorted(ArchiveView.objects.filter(viewer=rep.user).values_list("channel", "customer_id", "outcome"))
    assert log == sorted(
        [
            ("list", shown.pk, "read"),
            ("list", other.pk, "read"),
            ("search", shown.pk, "read"),
            ("contacts", shown.pk, "read"),
        ]
    )
