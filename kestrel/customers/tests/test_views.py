"""The customer pages through Django's test client: list, filters and search (ARC-10), the 360° page
and its view log (ARC-13, ARC-6), masking (ARC-14), the master-file form (ARC-1) and the contact and
major-event dialogs (ARC-3, ARC-2)."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kestrel.core.scope import DataScope
from kestrel.customers import selectors, services
from kestrel.customers.models import ArchiveView, BankAccount, Contact, Customer, Grade, GradeScheme, Region
from kestrel.customers.reference import reference_data_load
from kestrel.customers.validators import credit_code_check_character
from kestrel.org.models import Department, Employee
from kestrel.org.tests.factories import DepartmentFactory, EmployeeFactory, RoleFactory, company_root

pytestmark = pytest.mark.django_db

LIST = reverse("customers:index")
NEW = reverse("customers:create")

SELL = [
    "org.view_employee",
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.view_contact",
    "customers.add_contact",
    "customers.change_contact",
]
LEAD = [
    *SELL,
    "customers.read_all_levels",
    "customers.approve_access",
    "customers.view_sensitive",
    "customers.export_customer",
]


def credit_code(body17: str) -> str:
    return body17 + credit_code_check_character(body17)


@dataclass
class Shop:
    shanghai: Department
    hangzhou: Department
    rep: Employee  # 上海 sales rep, owns the archives below; data scope "self"
    branch_gm: Employee  # manages 上海: reads its department- and personal-level archives
    other_rep: Employee  # 杭州: data scope "all" but no read_all_levels and manages nothing
    director: Employee  # 营销总监: every level, sensitive fields unmasked
    viewer: Employee  # 客服: may only view
    dept_archive: Customer
    company_archive: Customer
    personal_archive: Customer


def login(client: Client, employee: Employee) -> Client:
    client.force_login(employee.user, backend="kestrel.org.backends.RolePermissionBackend")
    return client


def make(owner: Employee, name: str, **fields) -> Customer:
    return services.customer_create(actor=None, owner=owner, name=name, **fields)


@pytest.fixture
def shop(db) -> Shop:
    reference_data_load()  # the migration's rows are gone after a live-server test's flush
    root = company_root()
    region = DepartmentFactory(name="华东大区", parent=root, kind=Department.Kind.REGION)
    shanghai = DepartmentFactory(name="上海分公司", parent=region, kind=Department.Kind.BRANCH)
    hangzhou = DepartmentFactory(name="杭州分公司", parent=region, kind=Department.Kind.BRANCH)
    rep_role = RoleFactory(name="销售代表", data_scope=DataScope.SELF, permissions=SELL)
    gm_role = RoleFactory(name="分支机构总经理", data_scope=DataScope.DEPARTMENT_TREE, permissions=SELL)
    wide_role = RoleFactory(name="跨区销售", data_scope=DataScope.ALL, permissions=SELL)
    lead_role = RoleFactory(name="营销总监", data_scope=DataScope.ALL, permissions=LEAD)
    view_role = RoleFactory(
        name="客服",
        data_scope=DataScope.ALL,
        permissions=["customers.view_customer", "customers.view_contact"],
    )
    branch_gm = EmployeeFactory(name="任兰英", username="sh_gm", department=shanghai, roles=[gm_role])
    Department.objects.filter(pk=shanghai.pk).update(manager=branch_gm)
    rep = EmployeeFactory(name="吴雪梅", username="sh_rep1", department=shanghai, roles=[rep_role])
    shanghai_province = Region.objects.get(level=Region.Level.PROVINCE, name="上海市")
    zhejiang = Region.objects.get(level=Region.Level.PROVINCE, name="浙江省")
    hangzhou_city = Region.objects.get(level=Region.Level.CITY, name="杭州市")
    return Shop(
        shanghai=shanghai,
        hangzhou=hangzhou,
        rep=rep,
        branch_gm=branch_gm,
        other_rep=EmployeeFactory(name="周杭生", username="hz_rep1", department=hangzhou, roles=[wide_role]),
        director=EmployeeFactory(name="马总监", username="director", department=root, roles=[lead_role]),
        viewer=EmployeeFactory(name="孙客服", username="service", department=root, roles=[view_role]),
        dept_archive=make(
            rep,
            "上海申江精密机械有限公司",
            short_name="申江精机",
            confidentiality=Customer.Confidentiality.DEPARTMENT,
            province=shanghai_province,
            credit_code=credit_code("91310000MA1FL0000"),
        ),
        company_archive=make(
            rep,
            "杭州西溪茶叶贸易有限公司",
            kind=Customer.Kind.DEALER,
            confidentiality=Customer.Confidentiality.COMPANY,
            province=zhejiang,
            city=hangzhou_city,
            status=Customer.Status.CREDIT_SUSPENDED,
        ),
        personal_archive=make(rep, "王大锤", kind=Customer.Kind.INDIVIDUAL, confidentiality="personal"),
    )


def listed(response) -> set[str]:
    return {customer.name for customer, _freshness in response.context["rows"]}


# --- List, filters, search (ARC-10, ARC-6) ----------------------------------------------------------


def test_arc10_list_honours_data_scope_and_confidentiality(client: Client, shop: Shop) -> None:
    everything = {"上海申江精密机械有限公司", "杭州西溪茶叶贸易有限公司", "王大锤"}
    assert listed(login(client, shop.rep).get(LIST)) == everything  # the owner holds them all
    # Another branch, even with data scope "all": the department- and personal-level archives stay
    # hidden, and so does the company level without read_all_levels.
    response = login(Client(), shop.other_rep).get(LIST)
    assert response.status_code == 200
    assert "上海申江精密机械有限公司" not in response.content.decode()
    assert listed(response) == set()
    # The branch's manager reads its department and personal levels; the director every level.
    assert listed(login(Client(), shop.branch_gm).get(LIST)) == {"上海申江精密机械有限公司", "王大锤"}
    assert listed(login(Client(), shop.director).get(LIST)) == everything


def test_arc10_filters_narrow_the_list(client: Client, shop: Shop) -> None:
    login(client, shop.director)
    zhejiang = Region.objects.get(level=Region.Level.PROVINCE, name="浙江省")
    assert listed(client.get(LIST, {"kind": "dealer"})) == {"杭州西溪茶叶贸易有限公司"}
    assert listed(client.get(LIST, {"status": "credit_suspended"})) == {"杭州西溪茶叶贸易有限公司"}
    assert listed(client.get(LIST, {"confidentiality": "personal"})) == {"王大锤"}
    assert listed(client.get(LIST, {"province": zhejiang.pk})) == {"杭州西溪茶叶贸易有限公司"}
    hangzhou = Region.objects.get(level=Region.Level.CITY, name="杭州市")
    assert listed(client.get(LIST, {"province": zhejiang.pk, "city": hangzhou.pk})) == {
        "杭州西溪茶叶贸易有限公司"
    }
    assert listed(client.get(LIST, {"owner": shop.rep.pk, "lifecycle_stage": "acquisition"})) == {
        "上海申江精密机械有限公司",
        "杭州西溪茶叶贸易有限公司",
        "王大锤",
    }
    assert listed(client.get(LIST, {"owner": shop.director.pk})) == set()
    # A nonsense value is ignored rather than an error page.
    assert client.get(LIST, {"status": "nonsense", "province": "x"}).status_code == 200


def test_arc10_grade_filter_uses_the_primary_scheme(client: Client, shop: Shop) -> None:
    scheme = GradeScheme.objects.filter(is_primary=True).first() or GradeScheme.objects.create(
        code="primary", name="客户等级", is_primary=True
    )
    core = Grade.objects.filter(scheme=scheme).order_by("rank").first() or Grade.objects.create(
        scheme=scheme, code="core", name="核心客户", rank=1
    )
    Customer.objects.filter(pk=shop.dept_archive.pk).update(grade=core)
    response = login(client, shop.director).get(LIST, {"grade": core.pk})
    assert listed(response) == {"上海申江精密机械有限公司"}
    assert core.name in response.content.decode()


def test_arc10_search_box_by_name_pinyin_initials_short_name_and_contact(client: Client, shop: Shop) -> None:
    services.contact_create(actor=None, customer=shop.company_archive, name="陈静", mobile="13912345678")
    login(client, shop.director)
    assert listed(client.get(LIST, {"q": "申江"})) == {"上海申江精密机械有限公司"}
    assert listed(client.get(LIST, {"q": "shsj"})) == {"上海申江精密机械有限公司"}
    assert listed(client.get(LIST, {"q": "陈静"})) == {"杭州西溪茶叶贸易有限公司"}
    assert listed(client.get(LIST, {"q": shop.dept_archive.code})) == {"上海申江精密机械有限公司"}
    # The search never reaches beyond what the user may read.
    assert listed(login(Client(), shop.other_rep).get(LIST, {"q": "申江"})) == set()


def test_arc10_filter_bar_swaps_only_the_results_with_the_city_select(client: Client, shop: Shop) -> None:
    login(client, shop.director)
    zhejiang = Region.objects.get(level=Region.Level.PROVINCE, name="浙江省")
    response = client.get(
        LIST, {"province": zhejiang.pk}, headers={"HX-Request": "true", "HX-Target": "customer-results"}
    )
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="customer-table"' in html
    assert 'id="customer-city-wrap" hx-swap-oob="true"' in html
    assert "杭州市" in html and "宁波市" in html  # the cities of the chosen province
    assert "HX-Request" in response["Vary"]
    page = client.get(LIST).content.decode()
    assert 'hx-push-url="true"' in page and 'id="customer-q"' in page


def test_arc10_count_is_capped_like_the_api(client: Client, shop: Shop, monkeypatch) -> None:
    from kestrel.core import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 2)
    response = login(client, shop.director).get(LIST)
    assert response.context["capped"] is True
    assert "2+" in response.content.decode()


def test_arc10_search_counts_up_to_its_own_cap(client: Client, shop: Shop, monkeypatch) -> None:
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    for number in range(3):
        make(shop.rep, f"计数公司{number}号")
    response = login(client, shop.director).get(LIST, {"q": "计数"})
    assert response.context["capped"] is True
    assert len(response.context["rows"]) == 3  # the page still shows every match it holds
    assert "2+" in response.content.decode()


def test_arc10_a_capped_search_pages_on_past_its_count(client: Client, shop: Shop, monkeypatch) -> None:
    """ "2+" found is not two pages at most: the next page goes on while pages come back full."""
    from kestrel.customers import views

    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 2)
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    names = [make(shop.rep, f"翻页公司{number}号").name for number in range(4)]
    login(client, shop.director)
    seen = []
    for number in (1, 2, 3, 4, 5):
        response = client.get(LIST, {"q": "翻页", "page": number})
        page = response.context["page"]
        assert page.number == number and response.context["capped"] is True
        assert page.has_next() is (number < 5)
        seen += [customer.name for customer, _freshness in response.context["rows"]]
    assert seen == names[::-1]  # newest first, each once, none lost past the count
    assert "第 3 页" in client.get(LIST, {"q": "翻页", "page": 3}).content.decode()
    # Not endlessly: past as many rows as any list counts, the last counted page is served.
    assert client.get(LIST, {"q": "翻页", "page": 10**6}).context["page"].number == 2


def test_arc10_list_query_count_stays_flat(client: Client, shop: Shop) -> None:
    login(client, shop.director)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    few = queries()
    for number in range(15):
        customer = make(shop.rep, f"测试客户{number}号有限公司", tags=["华东"])
        services.contact_create(actor=None, customer=customer, name=f"联系人{number}")
    assert queries() == few


def test_arc10_sidebar_links_the_archive_for_those_who_may_view_it(client: Client, shop: Shop) -> None:
    html = login(client, shop.rep).get(reverse("web:home")).content.decode()
    assert f'href="{LIST}"' in html and "客户档案" in html
    nobody = EmployeeFactory(name="孙无权", username="nobody", department=shop.hangzhou, roles=[])
    html = login(Client(), nobody).get(reverse("web:home")).content.decode()
    assert f'href="{LIST}"' not in html
    assert login(Client(), nobody).get(LIST).status_code == 403


# --- The 360° page (ARC-13, ARC-6, ARC-14) ---------------------------------------------------------


def test_arc13_360_page_shows_the_archive_and_logs_the_read(client: Client, shop: Shop) -> None:
    customer = shop.dept_archive
    services.major_event_add(actor=None, customer=customer, occurred_on="2026-03-01", title="新厂区投产")
    services.contact_create(actor=None, customer=customer, name="陈静", is_primary=True)
    response = login(client, shop.rep).get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("上海申江精密机械有限公司", customer.code, "申江精机", "新厂区投产", "陈静", "吴雪梅"):
        assert text in html, text
    assert [group["key"] for group in response.context["groups"]] == [
        "basic",
        "contact",
        "company",
        "finance",
        "ownership",
    ]
    # Modules that do not exist yet have no section at all.
    for absent in ("opportunit", "complaint", "receivable"):
        assert absent not in html.lower()
    log = ArchiveView.objects.get(customer=customer, viewer=shop.rep.user)
    assert (log.channel, log.outcome) == ("360", ArchiveView.Outcome.READ)


def test_arc13_360_page_is_404_when_unreadable_and_the_attempt_is_logged(client: Client, shop: Shop) -> None:
    customer = shop.dept_archive
    response = login(client, shop.other_rep).get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 404
    assert "申江" not in response.content.decode()
    assert ArchiveView.objects.filter(
        customer=customer, viewer=shop.other_rep.user, outcome=ArchiveView.Outcome.DENIED
    ).exists()
    assert client.get(reverse("customers:detail", args=[999999])).status_code == 404
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 404


def test_arc14_pages_mask_personal_phones_accounts_and_configured_amounts(
    client: Client, shop: Shop, settings
) -> None:
    settings.KESTREL_MASKED_AMOUNTS = ["credit_limit"]
    customer = shop.dept_archive
    services.customer_update(actor=None, customer=customer, credit_limit=Decimal("500000"))
    services.contact_create(
        actor=None, customer=customer, name="陈静", mobile="13912345678", wechat="chenjing88"
    )
    BankAccount.objects.create(
        customer=customer, bank_name="工商银行", account_name=customer.name, account_number="6222020200112233"
    )
    url = reverse("customers:detail", args=[customer.pk])
    html = login(client, shop.rep).get(url).content.decode()
    assert "139****5678" in html and "13912345678" not in html
    assert "chenjing88" not in html
    assert "****2233" in html and "6222020200112233" not in html
    assert "500,000.00" not in html and "kestrel-masked" in html
    # The edit form does not carry the masked amount either.
    form_html = client.get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert 'name="credit_limit"' not in form_html
    html = login(Client(), shop.director).get(url).content.decode()
    assert "13912345678" in html and "6222020200112233" in html and "500,000.00" in html


# --- The master-file form (ARC-1) --------------------------------------------------------------------


def test_arc1_create_goes_through_the_service_and_opens_the_360_page(client: Client, shop: Shop) -> None:
    login(client, shop.rep)
    page = client.get(NEW)
    assert page.status_code == 200
    assert page.context["form"]["owner"].value() == shop.rep.pk
    shanghai = Region.objects.get(level=Region.Level.PROVINCE, name="上海市")
    response = client.post(
        NEW,
        {
            "name": "上海浦江水泥有限公司",
            "short_name": "浦江水泥",
            "kind": "enterprise",
            "province": shanghai.pk,
            "phone": "021-62345678",
            "currency": "CNY",
            "lifecycle_stage": "acquisition",
            "confidentiality": "department",
            "status": "active",
            "owner": shop.rep.pk,
            "tags": "水泥，重点跟进",
            "ch_service_area": "长三角",
        },
    )
    customer = Customer.objects.get(name="上海浦江水泥有限公司")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.owner == shop.rep and customer.department == shop.shanghai
    assert sorted(customer.tags.values_list("name", flat=True)) == ["水泥", "重点跟进"]
    assert customer.characteristics.service_area == "长三角"
    assert customer.code  # assigned by the configured pattern


def test_arc1_form_shows_the_service_errors_on_their_fields(client: Client, shop: Shop) -> None:
    login(client, shop.rep)
    response = client.post(
        NEW,
        {
            "name": "坏数据有限公司",
            "kind": "enterprise",
            "credit_code": "91310000ABCDEFGHJ1",
            "phone": "123",
            "postal_code": "12",
            "currency": "CNY",
            "lifecycle_stage": "acquisition",
            "confidentiality": "company",
            "status": "active",
            "owner": shop.rep.pk,
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"credit_code", "phone", "postal_code"} <= set(errors)
    html = response.content.decode()
    assert 'data-testid="error-credit_code"' in html and "is-invalid" in html
    assert not Customer.objects.filter(name="坏数据有限公司").exists()


def test_arc1_duplicate_credit_code_is_a_field_error_without_naming_the_holder(
    client: Client, shop: Shop
) -> None:
    login(client, shop.other_rep)
    response = client.post(
        NEW,
        {
            "name": "另一家公司",
            "kind": "enterprise",
            "credit_code": shop.dept_archive.credit_code,
            "currency": "CNY",
            "lifecycle_stage": "acquisition",
            "confidentiality": "company",
            "status": "active",
            "owner": shop.other_rep.pk,
        },
    )
    assert response.status_code == 200
    assert "credit_code" in response.context["form"].errors
    assert "申江" not in response.content.decode()


def test_arc1_edit_saves_and_a_city_outside_the_province_is_refused(client: Client, shop: Shop) -> None:
    customer = shop.company_archive
    url = reverse("customers:edit", args=[customer.pk])
    login(client, shop.rep)
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name != "co_owners"}
    data.update({"name": "杭州西溪茶叶贸易有限公司", "owner": shop.rep.pk, "short_name": "西溪茶叶"})
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    customer.refresh_from_db()
    assert customer.short_name == "西溪茶叶"
    shanghai_city = Region.objects.get(level=Region.Level.CITY, name="上海市")
    data["city"] = shanghai_city.pk  # 浙江省 stays the province
    response = client.post(url, data)
    assert response.status_code == 200
    assert "city" in response.context["form"].errors


def test_arc1_region_cascade_lists_children(client: Client, shop: Shop) -> None:
    login(client, shop.rep)
    zhejiang = Region.objects.get(level=Region.Level.PROVINCE, name="浙江省")
    html = client.get(reverse("customers:regions"), {"province": zhejiang.pk}).content.decode()
    assert 'name="city"' in html and "杭州市" in html and 'name="district" id="id_district"' in html
    hangzhou = Region.objects.get(level=Region.Level.CITY, name="杭州市")
    html = client.get(reverse("customers:regions"), {"city": hangzhou.pk}).content.decode()
    assert 'name="district"' in html and "西湖区" in html


def test_arc1_view_only_roles_cannot_open_the_forms(client: Client, shop: Shop) -> None:
    login(client, shop.viewer)
    assert client.get(NEW).status_code == 403
    assert client.get(reverse("customers:edit", args=[shop.company_archive.pk])).status_code == 403
    assert client.get(reverse("customers:contact_create", args=[shop.company_archive.pk])).status_code == 403


# --- Dialogs: contacts (ARC-3) and major events (ARC-2) -------------------------------------------

HTMX = {"HX-Request": "true", "HX-Target": "customer-modal-dialog"}


def test_arc3_contact_dialog_adds_and_swaps_the_contacts(client: Client, shop: Shop) -> None:
    customer = shop.dept_archive
    url = reverse("customers:contact_create", args=[customer.pk])
    login(client, shop.rep)
    dialog = client.get(url, headers=HTMX).content.decode()
    assert "<html" not in dialog and 'class="modal-content"' in dialog
    bad = client.post(url, {"name": "陈静", "mobile": "12345"}, headers=HTMX)
    assert bad.status_code == 200 and "mobile" in bad.context["form"].errors
    assert 'data-testid="error-mobile"' in bad.content.decode()
    response = client.post(url, {"name": "陈静", "mobile": "139 1234 5678", "is_primary": "on"}, headers=HTMX)
    assert response["HX-Trigger"] == "kestrel:dialog-saved" and response["HX-Reswap"] == "none"
    html = response.content.decode()
    assert 'id="customer-contacts" hx-swap-oob="true"' in html
    assert "139****5678" in html  # masked for the rep, in the swapped section too
    contact = Contact.objects.get(customer=customer, name="陈静")
    assert contact.mobile == "13912345678" and contact.is_primary


def test_arc3_contact_edit_keeps_masked_values_left_empty(client: Client, shop: Shop) -> None:
    contact = services.contact_create(
        actor=None, customer=shop.dept_archive, name="陈静", mobile="13912345678", wechat="chenjing88"
    )
    url = reverse("customers:contact_edit", args=[contact.pk])
    login(client, shop.rep)
    dialog = client.get(url, headers=HTMX).content.decode()
    assert "13912345678" not in dialog and "chenjing88" not in dialog
    response = client.post(
        url, {"name": "陈静", "title": "采购经理", "mobile": "", "wechat": ""}, headers=HTMX
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "kestrel:dialog-saved"
    contact.refresh_from_db()
    assert (contact.title, contact.mobile, contact.wechat) == ("采购经理", "13912345678", "chenjing88")
    # Another branch cannot reach the contact at all.
    assert login(Client(), shop.other_rep).get(url).status_code == 404


def test_arc2_major_event_dialog_adds_to_the_timeline(client: Client, shop: Shop) -> None:
    customer = shop.dept_archive
    url = reverse("customers:event_create", args=[customer.pk])
    login(client, shop.rep)
    assert (
        "title"
        in client.post(url, {"occurred_on": "2026-05-01", "title": ""}, headers=HTMX).context["form"].errors
    )
    response = client.post(
        url,
        {"occurred_on": "2026-05-01", "title": "法定代表人变更", "description": "原法人退休"},
        headers=HTMX,
    )
    assert response["HX-Trigger"] == "kestrel:dialog-saved"
    assert 'id="customer-events" hx-swap-oob="true"' in response.content.decode()
    event = customer.major_events.get()
    assert (event.title, event.recorded_by) == ("法定代表人变更", shop.rep)
    # Without JavaScript the same URL is a page and saving goes back to the 360° page.
    plain = client.post(url, {"occurred_on": "2026-06-01", "title": "迁址"})
    assert plain.status_code == 302 and plain["Location"].endswith("#events")


# --- Access requests (ARC-6) ---------------------------------------------------------------------------

INBOX = reverse("customers:access_inbox")


def test_arc6_request_access_inbox_approve_and_read_until_it_expires(client: Client, shop: Shop) -> None:
    customer = shop.dept_archive
    detail = reverse("customers:detail", args=[customer.pk])
    requester = login(Client(), shop.other_rep)
    assert requester.get(detail).status_code == 404
    assert requester.post(reverse("customers:access_request"), {"code": "", "reason": ""}).status_code == 200
    response = requester.post(
        reverse("customers:access_request"), {"code": customer.code, "reason": "下周拜访，需了解合作历史"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?tab=mine")
    mine = requester.get(response["Location"])
    assert "需了解合作历史" in mine.content.decode()
    assert customer.name not in mine.content.decode()  # not named to the requester before approval

    # The branch's manager decides; the rep of the branch does not see the request.
    assert list(login(Client(), shop.rep).get(INBOX, {"tab": "pending"}).context["page"].object_list) == []
    login(client, shop.branch_gm)
    inbox = client.get(INBOX)
    assert inbox.context["tab"] == "pending"
    (access,) = inbox.context["page"].object_list
    assert access.customer == customer and "需了解合作历史" in inbox.content.decode()
    decide = reverse("customers:access_decide", args=[access.pk])
    htmx = {"HX-Request": "true", "HX-Target": "customer-modal-dialog"}
    rejected = client.post(decide, {"decision": "reject", "note": ""}, headers=htmx)
    assert rejected.status_code == 200 and "note" in rejected.context["form"].errors
    approved = client.post(decide, {"decision": "approve", "days": "3", "note": "同意"}, headers=htmx)
    assert approved["HX-Trigger"] == "kestrel:dialog-saved"
    assert f'id="access-request-{access.pk}" hx-swap-oob="true"' in approved.content.decode()
    access.refresh_from_db()
    assert access.status == "approved" and access.valid_until is not None

    # Granted: the 360° page opens (and the read is logged) until the grant expires.
    assert requester.get(detail).status_code == 200
    assert ArchiveView.objects.filter(customer=customer, viewer=shop.other_rep.user, outcome="read").exists()
    type(access).objects.filter(pk=access.pk).update(valid_until=access.created_at)
    assert requester.get(detail).status_code == 404
    # A decided request cannot be decided again.
    again = client.post(decide, {"decision": "reject", "note": "不同意"}, headers=htmx)
    assert again.context["form"].non_field_errors()


def test_arc6_decide_is_404_for_someone_who_may_not_decide(client: Client, shop: Shop) -> None:
    from kestrel.customers import workflows

    (access,) = workflows.access_request_file(
        actor=shop.other_rep.user, reason="了解情况", code=shop.dept_archive.code
    )
    decide = reverse("customers:access_decide", args=[access.pk])
    assert login(client, shop.rep).get(decide).status_code == 404
    assert login(Client(), shop.other_rep).post(decide, {"decision": "approve"}).status_code == 404
    assert login(Client(), shop.other_rep).get(INBOX).context["tab"] == "mine"


# --- Import wizard (ARC-11) -------------------------------------------------------------------------


@pytest.fixture
def importer(shop: Shop, settings, tmp_path) -> Employee:
    settings.KESTREL_IMPORT_DIR = tmp_path
    role = RoleFactory(
        name="信息部", data_scope=DataScope.ALL, permissions=[*SELL, "customers.import_customer"]
    )
    return EmployeeFactory(name="陶丹", username="it", department=shop.shanghai, roles=[role])


def csv_upload(rows: list[list[str]]) -> SimpleUploadedFile:
    text = "\n".join(",".join(row) for row in [["客户名称", "电话", "地区"], *rows])
    return SimpleUploadedFile("客户.csv", text.encode("utf-8-sig"), content_type="text/csv")


def test_arc11_import_wizard_checks_reports_then_commits(client: Client, importer: Employee) -> None:
    login(client, importer)
    assert client.get(reverse("customers:import")).status_code == 200
    template = client.get(reverse("customers:import_template"), {"kind": "customers"})
    assert template.status_code == 200 and template["Content-Disposition"].endswith(
        'customers-template.xlsx"'
    )
    upload = csv_upload([["宁波甬江建材有限公司", "0574-87654321", "浙江省/宁波市"], ["", "12345", "火星省"]])
    response = client.post(
        reverse("customers:import"),
        {"file": upload, "kind": "customers", "mode": "create", "match_key": "code", "skip_invalid": "on"},
    )
    assert response.status_code == 302
    job_url = response["Location"]
    page = client.get(job_url)  # the dry run ran (jobs run inline in tests)
    job = page.context["job"]
    assert job.status == "checked" and job.error_count == 1 and not page.context["running"]
    html = page.content.decode()
    assert 'data-testid="import-report"' in html and "火星省" in html
    assert not Customer.objects.filter(name="宁波甬江建材有限公司").exists()  # nothing written yet
    committed = client.post(reverse("customers:import_commit", args=[job.pk]))
    assert committed.status_code == 302 and committed["Location"].endswith("?commit=1")
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 1
    assert Customer.objects.filter(name="宁波甬江建材有限公司").exists()
    # The polling fragment (htmx) of a finished job stops polling.
    fragment = client.get(job_url, headers={"HX-Request": "true", "HX-Target": "import-job"}).content.decode()
    assert "<html" not in fragment and 'hx-trigger="every 1s"' not in fragment


def test_arc11_import_all_or_nothing_cannot_be_committed_with_bad_rows(
    client: Client, importer: Employee
) -> None:
    login(client, importer)
    response = client.post(
        reverse("customers:import"),
        {"file": csv_upload([["好公司", "", ""], ["", "12345", ""]]), "kind": "customers", "mode": "create"},
    )
    page = client.get(response["Location"])
    assert 'data-testid="import-commit" disabled' in page.content.decode()


def test_arc11_import_pages_need_the_permission_and_jobs_are_private(
    client: Client, shop: Shop, importer: Employee
) -> None:
    assert login(client, shop.rep).get(reverse("customers:import")).status_code == 403
    login(client, importer)
    response = client.post(
        reverse("customers:import"),
        {"file": csv_upload([["好公司", "", ""]]), "kind": "customers", "mode": "create"},
    )
    other = EmployeeFactory(name="另一位", department=shop.shanghai, roles=importer.roles.all())
    assert login(Client(), other).get(response["Location"]).status_code == 404
    refused = client.post(
        reverse("customers:import"),
        {
            "file": SimpleUploadedFile("宏.xlsm", b"PK\x03\x04"),
            "kind": "customers",
            "mode": "create",
        },
    )
    assert refused.status_code == 200 and "file" in refused.context["form"].errors


def test_arc5_360_page_warns_when_an_important_customer_lacks_holders(client: Client, shop: Shop) -> None:
    scheme = GradeScheme.objects.create(code="ui-test", name="测试方案")
    important = Grade.objects.create(
        scheme=scheme,
        code="important",
        name="重要客户",
        rank=1,
        requires_relationship_manager=True,
        min_holders=2,
    )
    Customer.objects.filter(pk=shop.dept_archive.pk).update(grade=important)
    url = reverse("customers:detail", args=[shop.dept_archive.pk])
    warnings = login(client, shop.rep).get(url).context["holder_warnings"]
    assert len(warnings) == 2
    services.customer_update(actor=None, customer=shop.dept_archive, relationship_manager=shop.branch_gm)
    assert client.get(url).context["holder_warnings"] == []


def test_arc6_holders_see_who_read_the_archive_and_others_get_a_way_to_ask(
    client: Client, shop: Shop
) -> None:
    url = reverse("customers:detail", args=[shop.dept_archive.pk])
    login(Client(), shop.other_rep).get(url)  # refused, logged
    page = login(client, shop.rep).get(url)
    assert [entry.outcome for entry in page.context["view_log"]][:2] == ["read", "denied"]
    assert 'data-testid="view-log"' in page.content.decode()
    refused = login(Client(), shop.other_rep).get(url)
    assert refused.status_code == 404
    assert reverse("customers:access_request") in refused.content.decode()
    missing = login(Client(), shop.other_rep).get(reverse("customers:detail", args=[999999]))
    # The same page for a missing and an unreadable archive: nothing disclosed.
    assert missing.status_code == 404
    assert [t.name for t in refused.templates][:1] == [t.name for t in missing.templates][:1]
    assert "申江" not in refused.content.decode()


def test_arc11_export_link_carries_the_filters_for_those_who_may_export(client: Client, shop: Shop) -> None:
    assert 'data-testid="customer-export"' not in login(client, shop.rep).get(LIST).content.decode()
    html = login(Client(), shop.director).get(LIST, {"status": "credit_suspended"}).content.decode()
    assert "/api/v1/customers/export?format=xlsx&amp;status=credit_suspended" in html


def test_arc10_oversized_numbers_in_urls_and_filters_are_not_server_errors(
    client: Client, shop: Shop
) -> None:
    huge = "99999999999999999999999"
    login(client, shop.director)
    for query in ({"province": huge}, {"city": huge, "province": huge}, {"owner": huge, "grade": huge}):
        assert client.get(LIST, query).status_code == 200
    assert client.get(reverse("customers:regions"), {"province": huge}).status_code == 200
    for url in (
        f"/customers/{huge}/",
        f"/customers/{huge}/edit/",
        f"/customers/contacts/{huge}/edit/",
        f"/customers/{huge}/contacts/new/",
        f"/customers/access/{huge}/decide/",
    ):
        assert client.get(url).status_code == 404, url
    login(client, shop.rep)
    response = client.post(
        reverse("customers:edit", args=[shop.company_archive.pk]),
        {"name": "x", "province": huge, "industry": huge, "co_owners": [huge], "owner": huge},
    )
    assert response.status_code == 200
    assert {"province", "industry", "co_owners", "owner"} <= set(response.context["form"].errors)


def test_arc6_list_page_logs_the_archives_it_shows(client: Client, shop: Shop) -> None:
    login(client, shop.branch_gm).get(LIST)
    login(Client(), shop.other_rep).get(LIST)  # shows nothing, logs nothing
    logged = ArchiveView.objects.filter(channel="list", outcome=ArchiveView.Outcome.READ)
    assert set(logged.values_list("viewer", "customer__name")) == {
        (shop.branch_gm.user_id, "上海申江精密机械有限公司"),
        (shop.branch_gm.user_id, "王大锤"),
    }


def test_arc10_arc6_empty_lists_say_so_in_chinese(client: Client, shop: Shop) -> None:
    """The shared "nothing here" row (web/_empty_row.html) shows its title and subtitle where given."""
    page = login(client, shop.director).get(LIST, {"q": "无此客户"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert 'data-testid="customer-empty"' in html and 'colspan="7"' in html
    assert "没有找到客户" in html and "在您的数据权限范围内，没有符合筛选条件的客户。" in html
    inbox = client.get(reverse("customers:access_inbox"), {"tab": "mine"}).content.decode()
    assert 'data-testid="access-empty"' in inbox and 'colspan="6"' in inbox
    assert "empty-subtitle" not in inbox  # only the pending tab explains itself
    pending = client.get(reverse("customers:access_inbox"), {"tab": "pending"}).content.decode()
    assert 'data-testid="access-empty"' in pending and "empty-subtitle" in pending
