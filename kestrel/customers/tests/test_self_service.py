"""ARC-12 self-service form (客户资料表): a tokenised link where a customer fills in their own data;
staff review it side by side before it is merged."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from kestrel.core.scope import DataScope
from kestrel.customers import services
from kestrel.customers.models import Contact, Customer, SelfServiceInvitation
from kestrel.customers.validators import credit_code_check_character
from kestrel.notify.models import Notification
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — the api, api_for and org fixtures
from kestrel.org.tests.fixtures import assert_error

STAFF = [
    "customers.view_customer",
    "customers.change_customer",
    "customers.add_customer",
    "customers.add_contact",
]
GOOD_CREDIT_CODE = "91310000MA1FL0002" + credit_code_check_character("91310000MA1FL0002")


@pytest.fixture
def staff(org):
    rep = org.employees["sh_a_rep1"]
    rep.roles.set([RoleFactory(data_scope=DataScope.SELF, permissions=STAFF)])
    customer = services.customer_create(
        actor=None, owner=rep, name="上海华东精密机械有限公司", code="C-SS", phone="021-62345678"
    )
    return {"rep": rep, "customer": customer, "org": org}


def invite(client, **body) -> dict:
    response = client.post("/customers/self-service", body)
    assert response.status_code == 201, response.content
    return response.json()


def form_data(**overrides) -> dict:
    data = {
        "name": "上海华东精密机械有限公司",
        "credit_code": GOOD_CREDIT_CODE,
        "phone": "021-62345679",
        "address": "上海市闵行区莘庄工业区春东路 100 号",
        "postal_code": "201108",
        "email": "info@huadong.example.cn",
        "founded_on": "2008-05-20",
        "registered_capital": "5000000",
        "staff_count": "120",
        "contact0-name": "李娜",
        "contact0-title": "采购经理",
        "contact0-mobile": "13912345678",
    }
    data.update(overrides)
    return data


def test_arc12_customer_fills_in_the_form_without_login_and_staff_merge_it(staff, api_for):
    client = api_for(staff["rep"])
    link = invite(client, customer_id=staff["customer"].pk)
    token = link["token"]
    assert link["url"].endswith(f"/s/{token}/")
    invitation = SelfServiceInvitation.objects.get(pk=link["id"])
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (invitation.expires_at - timezone.now()).days == 13  # 14 days, less the seconds passed
    assert not SelfServiceInvitation.objects.filter(token_hash=token).exists()

    public = Client()
    page = public.get(f"/s/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'value="上海华东精密机械有限公司"' in html  # the archive's own data to start from
    assert "style=" not in html and all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "no-referrer"

    done = public.post(f"/s/{token}/", form_data())
    assert done.status_code == 200, done.content.decode()[:2000]
    assert 'data-testid="self-service-done"' in done.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == SelfServiceInvitation.Status.SUBMITTED
    assert Notification.objects.filter(
        recipient=staff["rep"], kind="customer.self_service_submitted"
    ).exists()
    assert public.get(f"/s/{token}/").status_code == 410  # one use
    # Nothing reached the archive yet.
    assert Customer.objects.get(pk=staff["customer"].pk).address == ""

    detail = client.get(f"/customers/self-service/{invitation.pk}").json()
    rows = {row["field"]: row for row in detail["fields"]}
    assert rows["phone"] == {
        "field": "phone",
        "label": rows["phone"]["label"],
        "current": "021-62345678",
        "submitted": "021-62345679",
        "changed": True,
    }
    assert rows["name"]["changed"] is False
    assert detail["contacts"][0]["name"] == "李娜"

    reviewed = client.post(
        f"/customers/self-service/{invitation.pk}/review",
        {
            "accept_fields": ["address", "postal_code", "credit_code", "founded_on", "registered_capital"],
            "accept_contacts": [0],
        },
    )
    assert reviewed.status_code == 200, reviewed.content
    assert reviewed.json()["status"] == "merged"
    customer = Customer.objects.get(pk=staff["customer"].pk)
    assert customer.address.startswith("上海市闵行区")
    assert customer.phone == "021-62345678"  # not accepted
    assert customer.credit_code == GOOD_CREDIT_CODE and str(customer.founded_on) == "2008-05-20"
    assert Contact.objects.filter(customer=customer, name="李娜", mobile="13912345678").exists()
    assert_error(client.post(f"/customers/self-service/{invitation.pk}/review", {"reject": True}), 409)


def test_arc12_validation_errors_in_chinese(staff, api_for):
    token = invite(api_for(staff["rep"]), customer_id=staff["customer"].pk)["token"]
    public = Client()
    bad = public.post(
        f"/s/{token}/",
        form_data(
            credit_code="91310000MA1FL00020",
            phone="12345",
            postal_code="2011",
            name="",
            **{"contact1-mobile": "139"},
        ),
    )
    assert bad.status_code == 422
    html = bad.content.decode()
    with translation.override("zh-hans"):
        from kestrel.customers.validators import validate_postal_code

        try:
            validate_postal_code("2011")
        except Exception as error:  # the validator's own message, in the page's language
            expected = error.messages[0]
    assert expected in html
    assert html.count("invalid-feedback") >= 5  # name, credit code, phone, postal code, contact 1
    assert (
        SelfServiceInvitation.objects.get(token_hash=hashlib.sha256(token.encode()).hexdigest()).status
        == "sent"
    )


def test_arc12_expired_unknown_and_oversized(staff, api_for):
    token = invite(api_for(staff["rep"]), customer_id=staff["customer"].pk)["token"]
    public = Client()
    assert public.get("/s/not-a-token/").status_code == 410
    assert public.post("/s/not-a-token/", form_data()).status_code == 410
    assert public.get(f"/s/{'x' * 300}/").status_code == 410
    huge = public.post(f"/s/{token}/", form_data(address="地" * 70_000))
    assert huge.status_code == 413
    SelfServiceInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = public.get(f"/s/{token}/")
    assert expired.status_code == 410
    assert 'data-reason="expired"' in expired.content.decode()
    assert public.post(f"/s/{token}/", form_data()).status_code == 410
    assert public.put(f"/s/{token}/").status_code == 405


def test_arc12_prospect_form_creates_a_customer_on_review(staff, api_for):
    client = api_for(staff["rep"])
    link = invite(client, days=3)
    assert Client().post(f"/s/{link['token']}/", form_data(name="苏州新客户科技有限公司")).status_code == 200
    assert_error(
        client.post(f"/customers/self-service/{link['id']}/review", {"accept_fields": ["address"]}), 422
    )
    assert_error(
        client.post(f"/customers/self-service/{link['id']}/review", {"accept_fields": ["owner"]}), 422
    )
    assert_error(
        client.post(
            f"/customers/self-service/{link['id']}/review",
            {"accept_contacts": [5], "accept_fields": ["name"]},
        ),
        422,
    )
    reviewed = client.post(
        f"/customers/self-service/{link['id']}/review", {"accept_fields": ["name", "phone", "address"]}
    )
    assert reviewed.status_code == 200, reviewed.content
    customer = Customer.objects.get(pk=reviewed.json()["customer_id"])
    assert (customer.name, customer.owner_id, customer.source) == (
        "苏州新客户科技有限公司",
        staff["rep"].pk,
        Customer.Source.SELF_SERVICE,
    )


def test_arc12_reject_and_scope(staff, api_for):
    client = api_for(staff["rep"])
    link = invite(client, customer_id=staff["customer"].pk)
    Client().post(f"/s/{link['token']}/", form_data())
    outsider = staff["org"].employees["bj_a_rep1"]
    outsider.roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT, permissions=STAFF)])
    assert_error(api_for(outsider).get(f"/customers/self-service/{link['id']}"), 404)
    assert_error(
        api_for(outsider).post("/customers/self-service", {"customer_id": staff["customer"].pk}), 404
    )
    assert_error(client.post("/customers/self-service", {"days": 91}), 422)
    assert client.get("/customers/self-service", {"status": "submitted"}).json()["count"] == 1
    rejected = client.post(f"/customers/self-service/{link['id']}/review", {"reject": True})
    assert rejected.json()["status"] == "rejected"
    assert Customer.objects.get(pk=staff["customer"].pk).phone == "021-62345678"
