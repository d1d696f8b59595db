"""The archive form's admin-defined custom fields (ARC-1, with the characteristics of ARC-2 on the same
form) and the contacts section's move, deactivate / reactivate and move history (ARC-3), through Django's
test client; one walk through both in headless Chromium at the end."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext
from playwright.sync_api import expect

from kestrel.core.errors import ValidationFailed
from kestrel.customers import services
from kestrel.customers.models import ArchiveView, Contact, ContactMove, Customer, CustomField
from kestrel.customers.tests import test_views
from kestrel.customers.tests.test_views import HTMX, NEW, Shop, login, make
from kestrel.org.tests.factories import PASSWORD
from kestrel.org.tests.fixtures import ApiClient, token_for
from kestrel.web.tests.browser import *  # noqa: F403  (the Playwright fixtures)
from kestrel.web.tests.browser import screenshot

shop = test_views.shop  # the fixture: a Shanghai branch, its rep and archives, a Hangzhou rep
CANDIDATES = {"HX-Request": "true", "HX-Target": "contact-move-candidates"}
HUGE = "99999999999999999999999"

# Django's own Chinese messages: the form's errors are in the user's language, not the service's codes.
REQUIRED = "此字段为必填项。"
NOT_A_NUMBER = "输入一个数字。"
NOT_A_DATE = "输入一个有效的日期。"


@pytest.fixture
def custom_fields(db) -> dict[str, CustomField]:
    Type = CustomField.Type
    rows = [
        CustomField(
            key="level", label="客户星级", type=Type.CHOICE, choices=["一星", "二星", "三星"], required=True
        ),
        CustomField(key="visits", label="年拜访次数", type=Type.NUMBER, validation={"min": 0, "max": 365}),
        CustomField(key="deposit", label="保证金", type=Type.DECIMAL, validation={"min": 0}),
        CustomField(key="signed_on", label="签约日期", type=Type.DATE),
        CustomField(key="strategic", label="战略客户", type=Type.BOOLEAN, required=True),
        CustomField(
            key="channels", label="合作渠道", type=Type.MULTI_CHOICE, choices=["直销", "代理", "电商"]
        ),
        CustomField(
            key="contract_no",
            label="合同编号",
            type=Type.TEXT,
            validation={"pattern": r"HT\d{6}", "max_length": 8},
        ),
        CustomField(key="retired", label="旧字段", type=Type.TEXT, active=False),
    ]
    for order, row in enumerate(rows):
        row.sort_order = order
        row.save()
    return {row.key: row for row in rows}


def base_data(owner) -> dict[str, object]:
    """The master file's required inputs."""
    return {
        "kind": "enterprise",
        "currency": "CNY",
        "lifecycle_stage": "acquisition",
        "confidentiality": "company",
        "status": "active",
        "owner": owner.pk,
    }


def edit_data(client: Client, customer: Customer) -> dict[str, object]:
    """What the edit form posts back untouched (the custom fields' values included)."""
    form = client.get(reverse("customers:edit", args=[customer.pk])).context["form"]
    data: dict[str, object] = {}
    for name in form.fields:
        if name == "co_owners":
            continue
        value = form[name].value()
        if value is None:
            continue
        data[name] = value.pk if hasattr(value, "pk") else value
    return data


# --- Custom fields on the archive form (ARC-1) ------------------------------------------------------


def test_arc1_every_active_custom_field_is_an_input_of_its_type(
    client: Client, shop: Shop, custom_fields
) -> None:
    login(client, shop.rep)
    response = client.get(reverse("customers:edit", args=[shop.company_archive.pk]))
    form = response.context["form"]
    assert [name for name in form.fields if name.startswith("cf_")] == [
        "cf_level",
        "cf_visits",
        "cf_deposit",
        "cf_signed_on",
        "cf_strategic",
        "cf_channels",
        "cf_contract_no",
    ]  # in their order; the inactive one is not offered
    html = response.content.decode()
    assert 'id="section-custom"' in html and 'href="#section-custom"' in html
    assert re.search(r'<label class="form-label required" for="id_cf_level">客户星级</label>', html)
    assert re.search(r'<select name="cf_level"[^>]*required', html) and ">三星</option>" in html
    assert re.search(r'<input type="number" name="cf_visits"[^>]*min="0"[^>]*max="365"', html)
    assert re.search(r'<input type="date" name="cf_signed_on"', html)
    assert (
        re.search(r'<select name="cf_strategic"', html) and ">是</option>" in html and ">否</option>" in html
    )
    assert len(re.findall(r'<input type="checkbox" name="cf_channels"', html)) == 3
    assert re.search(r'<input type="text" name="cf_contract_no"[^>]*maxlength="8"', html)
    assert "旧字段" not in html


def test_arc1_custom_fields_are_saved_through_the_service_in_their_types(
    client: Client, shop: Shop, custom_fields, monkeypatch
) -> None:
    calls = []
    create = services.customer_create

    def spy(**kwargs):
        calls.append(kwargs)
        return create(**kwargs)

    monkeypatch.setattr(services, "customer_create", spy)
    login(client, shop.rep)
    response = client.post(
        NEW,
        {
            **base_data(shop.rep),
            "name": "苏州金鸡湖物流有限公司",
            "cf_level": "二星",
            "cf_visits": "12",
            "cf_deposit": "50000.50",
            "cf_signed_on": "2026-03-01",
            "cf_strategic": "true",
            "cf_channels": ["直销", "电商"],
            "cf_contract_no": "HT000123",
            "ch_service_area": "苏南",
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.get(name="苏州金鸡湖物流有限公司")
    assert customer.custom_fields == {
        "level": "二星",
        "visits": 12,
        "deposit": "50000.50",
        "signed_on": "2026-03-01",
        "strategic": True,
        "channels": ["直销", "电商"],
        "contract_no": "HT000123",
    }
    assert len(calls) == 1 and calls[0]["custom_fields"] == customer.custom_fields
    assert customer.characteristics.service_area == "苏南"  # ARC-2 on the same form, still saved
    # The 360° page shows them.
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "客户星级" in page and "直销、电商" in page


def test_arc1_bad_custom_values_are_chinese_field_errors_and_nothing_typed_is_lost(
    client: Client, shop: Shop, custom_fields
) -> None:
    login(client, shop.rep)
    response = client.post(
        NEW,
        {
            **base_data(shop.rep),
            "name": "坏数据物流有限公司",
            "cf_level": "五星",
            "cf_visits": "400",
            "cf_deposit": "五万",
            "cf_signed_on": "2026-02-30",
            "cf_channels": ["直销", "外包"],
            "cf_contract_no": "AB12",
            "ch_service_area": "苏南",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["cf_level"] == ["选择一个有效的选项。 五星 不在可用的选项中。"]
    assert errors["cf_visits"] == ["确保该值小于或等于365。"]
    assert errors["cf_deposit"] == [NOT_A_NUMBER]
    assert errors["cf_signed_on"] == [NOT_A_DATE]
    assert errors["cf_strategic"] == [REQUIRED]  # required: an answer, yes or no
    assert errors["cf_channels"] == ["选择一个有效的选项。 外包 不在可用的选项中。"]
    assert errors["cf_contract_no"] == [gettext("The value is not in the required format.")]
    html = response.content.decode()
    assert 'data-testid="error-cf_visits"' in html and 'data-testid="error-cf_channels"' in html
    # What was typed is still there to correct.
    for typed in ('value="400"', 'value="五万"', 'value="2026-02-30"', 'value="AB12"', "苏南"):
        assert typed in html, typed
    assert re.search(r'value="直销"[^>]*checked', html)
    assert not Customer.objects.filter(name="坏数据物流有限公司").exists()
    # Required and limits.
    response = client.post(NEW, {**base_data(shop.rep), "name": "坏数据物流有限公司", "cf_visits": "-1"})
    errors = response.context["form"].errors
    assert errors["cf_level"] == [REQUIRED] and errors["cf_visits"] == ["确保该值大于或等于0。"]


def test_arc1_edit_keeps_values_of_inactive_fields_and_an_emptied_input_removes_its_value(
    client: Client, shop: Shop, custom_fields
) -> None:
    customer = shop.company_archive
    Customer.objects.filter(pk=customer.pk).update(
        custom_fields={
            "level": "一星",
            "visits": 3,
            "strategic": False,
            "signed_on": "2025-12-31",
            "retired": "旧值",
            "merged_into": {"id": 1},
        }
    )
    login(client, shop.rep)
    data = edit_data(client, customer)
    assert (data["cf_level"], data["cf_visits"], data["cf_strategic"], data["cf_signed_on"]) == (
        "一星",
        3,
        "false",
        "2025-12-31",
    )
    data.update({"cf_visits": "", "cf_level": "三星", "cf_deposit": "1e3"})
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    customer.refresh_from_db()
    assert customer.custom_fields == {
        "level": "三星",
        "deposit": "1E+3",
        "strategic": False,
        "signed_on": "2025-12-31",
        "retired": "旧值",
        "merged_into": {"id": 1},
    }


def test_arc1_a_stored_choice_no_longer_offered_stays_selectable(
    client: Client, shop: Shop, custom_fields
) -> None:
    customer = shop.company_archive
    Customer.objects.filter(pk=customer.pk).update(
        custom_fields={"level": "钻石", "strategic": True, "channels": ["电视购物"]}
    )
    login(client, shop.rep)
    data = edit_data(client, customer)
    assert data["cf_level"] == "钻石" and data["cf_channels"] == ["电视购物"]
    data["short_name"] = "西溪"
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    customer.refresh_from_db()
    assert customer.short_name == "西溪"
    assert customer.custom_fields["level"] == "钻石" and customer.custom_fields["channels"] == ["电视购物"]


def test_arc1_a_service_refusal_of_a_custom_value_lands_on_its_input(
    client: Client, shop: Shop, custom_fields, monkeypatch
) -> None:
    def refuse(**kwargs):
        raise ValidationFailed(
            "客户资料无效。",
            details={"custom_fields": {"level": ["该星级需审批。"]}, "name_pinyin": ["太长。"]},
        )

    monkeypatch.setattr(services, "customer_update", refuse)
    login(client, shop.rep)
    data = edit_data(client, shop.company_archive)
    data.update({"cf_level": "三星", "cf_strategic": "true"})
    response = client.post(reverse("customers:edit", args=[shop.company_archive.pk]), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["cf_level"] == ["该星级需审批。"]
    assert form.non_field_errors() == ["太长。"]  # a field the form does not have: said, not dropped
    assert 'data-testid="error-cf_level"' in response.content.decode()


def test_arc1_junk_in_custom_fields_and_in_their_settings_is_never_a_server_error(
    client: Client, shop: Shop, custom_fields
) -> None:
    # An administrator's typos in the validation settings do not break the form.
    CustomField.objects.create(
        key="odd", label="怪字段", type=CustomField.Type.TEXT, validation={"pattern": "([", "max_length": "x"}
    )
    CustomField.objects.create(
        key="odd_number",
        label="怪数字",
        type=CustomField.Type.NUMBER,
        validation={"min": "abc", "max": "NaN"},
    )
    CustomField.objects.create(
        key="odd_choice", label="怪选项", type=CustomField.Type.CHOICE, choices="不是列表"
    )
    login(client, shop.rep)
    url = reverse("customers:edit", args=[shop.company_archive.pk])
    assert client.get(url).status_code == 200
    base = {
        **base_data(shop.rep),
        "name": "杭州西溪茶叶贸易有限公司",
        "cf_level": "一星",
        "cf_strategic": "false",
    }
    for junk in (
        {"cf_visits": "1e999999", "cf_deposit": "Infinity"},
        {"cf_visits": "NaN", "cf_deposit": "-0", "cf_odd_number": "9" * 40},
        {"cf_signed_on": "99999-01-01", "cf_strategic": "maybe"},
        {"cf_channels": "直销\x00", "cf_odd": "x" * 600, "cf_odd_choice": "不"},
    ):
        response = client.post(url, {**base, **junk})
        assert response.status_code == 200, junk
        assert response.context["form"].errors, junk
    # Repeated single values: the last one counts, as everywhere in Django.
    response = client.post(url, {**base, "cf_level": ["一星", "二星"], "cf_visits": ["1", "2"]})
    assert response.status_code == 302
    response = client.post(url, {**base, "cf_odd": "随便", "cf_odd_number": "7"})
    assert response.status_code == 302, response.context["form"].errors
    shop.company_archive.refresh_from_db()
    assert shop.company_archive.custom_fields["odd_number"] == 7


# --- Contacts: move, deactivate / reactivate, history (ARC-3) ------------------------------------------


@pytest.fixture
def chen(shop: Shop) -> Contact:
    return services.contact_create(
        actor=None,
        customer=shop.dept_archive,
        name="陈静",
        title="采购经理",
        mobile="13912345678",
        is_primary=True,
    )


def test_arc3_move_dialog_finds_readable_customers_and_moves_the_contact(
    client: Client, shop: Shop, chen: Contact
) -> None:
    url = reverse("customers:contact_move", args=[chen.pk])
    login(client, shop.rep)
    dialog = client.get(url, headers=HTMX).content.decode()
    assert "<html" not in dialog and 'data-testid="contact-move-form"' in dialog
    # Matches while typing: by name, pinyin initials or code; the contact's own customer is left out.
    for q in ("西溪", "hzxx", shop.company_archive.code):
        html = client.get(url, {"q": q}, headers=CANDIDATES).content.decode()
        assert "<form" not in html and f'value="{shop.company_archive.pk}"' in html, q
    html = client.get(url, {"q": "申江"}, headers=CANDIDATES).content.decode()
    assert 'data-testid="contact-move-no-match"' in html
    response = client.post(
        url, {"q": "西溪", "to_customer": shop.company_archive.pk, "title": "总经理"}, headers=HTMX
    )
    assert response["HX-Trigger"] == "kestrel:dialog-saved"
    html = response.content.decode()
    assert 'id="customer-contacts" hx-swap-oob="true"' in html
    assert f'data-contact="{chen.pk}"' not in html  # off the contacts, onto those who moved away:
    assert f'data-moved-contact="{chen.pk}"' in html and "杭州西溪茶叶贸易有限公司" in html
    chen.refresh_from_db()
    assert (chen.customer, chen.title, chen.is_primary) == (shop.company_archive, "总经理", False)
    move = ContactMove.objects.get(contact=chen)
    assert (move.from_customer, move.to_customer, move.from_title, move.moved_by) == (
        shop.dept_archive,
        shop.company_archive,
        "采购经理",
        shop.rep.user,
    )
    # The target was read through the selector: the read is in the view log.
    assert ArchiveView.objects.filter(
        customer=shop.company_archive, viewer=shop.rep.user, channel="contact_move"
    ).exists()
    # The new customer's contacts show where they came from, with the history one click away.
    page = client.get(reverse("customers:detail", args=[shop.company_archive.pk])).content.decode()
    assert 'data-testid="contact-moved"' in page
    history = client.get(reverse("customers:contact_history", args=[chen.pk]), headers=HTMX).content.decode()
    assert "上海申江精密机械有限公司" in history and "杭州西溪茶叶贸易有限公司" in history
    assert "采购经理" in history and "吴雪梅" in history


def test_arc3_move_without_javascript_finds_then_moves(client: Client, shop: Shop, chen: Contact) -> None:
    url = reverse("customers:contact_move", args=[chen.pk])
    login(client, shop.rep)
    page = client.post(url, {"q": "西溪", "find": "1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and f'name="to_customer" value="{shop.company_archive.pk}"' in html
    assert not page.context["form"].errors  # finding is not submitting
    response = client.post(url, {"q": "西溪", "to_customer": shop.company_archive.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[shop.dept_archive.pk]) + "#contacts"
    chen.refresh_from_db()
    assert chen.customer == shop.company_archive


def test_arc3_move_needs_the_target_picked_and_another_customer(
    client: Client, shop: Shop, chen: Contact
) -> None:
    url = reverse("customers:contact_move", args=[chen.pk])
    login(client, shop.rep)
    response = client.post(url, {"q": "西溪"}, headers=HTMX)
    assert response.context["form"].errors["to_customer"] == [
        gettext("Pick the customer the contact has moved to.")
    ]
    # Typed search and the candidates are still there.
    html = response.content.decode()
    assert 'value="西溪"' in html and f'value="{shop.company_archive.pk}"' in html
    response = client.post(url, {"to_customer": shop.dept_archive.pk}, headers=HTMX)
    assert response.context["form"].errors["to_customer"] == [gettext("Choose another customer.")]
    assert 'data-testid="error-to_customer"' in response.content.decode()
    chen.refresh_from_db()
    assert chen.customer == shop.dept_archive and not ContactMove.objects.exists()


def test_arc3_another_branch_cannot_move_a_contact_to_or_from_a_customer_it_cannot_read(
    client: Client, shop: Shop, chen: Contact
) -> None:
    own = make(shop.other_rep, "杭州龙井茶业有限公司")
    zhou = services.contact_create(actor=None, customer=own, name="周明")
    login(client, shop.other_rep)
    # From: the Shanghai contact is out of reach, whatever the request.
    for name in ("contact_move", "contact_active", "contact_history"):
        assert client.get(reverse(f"customers:{name}", args=[chen.pk])).status_code == 404, name
    response = client.post(reverse("customers:contact_move", args=[chen.pk]), {"to_customer": own.pk})
    assert response.status_code == 404
    assert (
        client.post(reverse("customers:contact_active", args=[chen.pk]), {"active": "0"}).status_code == 404
    )
    # To: the Shanghai archive is neither offered nor accepted, and the answer does not say it exists.
    url = reverse("customers:contact_move", args=[zhou.pk])
    html = client.get(url, {"q": "申江"}, headers=CANDIDATES).content.decode()
    assert "申江" not in html.replace('value="申江"', "") and 'data-testid="contact-move-no-match"' in html
    unreadable = gettext("No such customer, or you may not read its archive.")
    for target in (shop.dept_archive.pk, 987654321):
        response = client.post(url, {"to_customer": target}, headers=HTMX)
        assert response.status_code == 200
        assert response.context["form"].errors["to_customer"] == [unreadable]
        assert "上海申江精密机械有限公司" not in response.content.decode()
    assert ArchiveView.objects.filter(
        customer=shop.dept_archive, viewer=shop.other_rep.user, outcome=ArchiveView.Outcome.DENIED
    ).exists()
    zhou.refresh_from_db()
    chen.refresh_from_db()
    assert zhou.customer == own and chen.customer == shop.dept_archive and not ContactMove.objects.exists()


def test_arc3_move_history_does_not_name_customers_the_reader_may_not_read(
    client: Client, shop: Shop
) -> None:
    hidden = make(shop.other_rep, "杭州保密客户有限公司", confidentiality=Customer.Confidentiality.PERSONAL)
    li = services.contact_create(actor=None, customer=hidden, name="李明", title="厂长")
    services.contact_move(actor=shop.other_rep.user, contact=li, to_customer=shop.company_archive)
    login(client, shop.rep)
    html = client.get(reverse("customers:contact_history", args=[li.pk]), headers=HTMX).content.decode()
    assert "杭州保密客户有限公司" not in html
    assert gettext("(a customer you may not read)") in html
    assert "杭州西溪茶叶贸易有限公司" in html and "厂长" in html and "周杭生" in html


def test_arc3_the_former_customer_lists_who_moved_away_naming_only_readable_new_customers(
    client: Client, shop: Shop, chen: Contact
) -> None:
    hidden = make(shop.other_rep, "杭州保密客户有限公司", confidentiality=Customer.Confidentiality.PERSONAL)
    services.contact_move(actor=None, contact=chen, to_customer=hidden, title="总经理")
    wang = services.contact_create(actor=None, customer=shop.dept_archive, name="王强", title="财务")
    services.contact_move(actor=None, contact=wang, to_customer=shop.company_archive)
    login(client, shop.rep)
    page = client.get(reverse("customers:detail", args=[shop.dept_archive.pk])).content.decode()
    moved_away = page[page.index('data-testid="contacts-moved-away"') :]
    assert (
        "陈静" in moved_away
        and "采购经理" in moved_away
        and gettext("moved to another customer") in moved_away
    )
    assert "杭州保密客户有限公司" not in page
    assert "王强" in moved_away and reverse("customers:detail", args=[shop.company_archive.pk]) in moved_away
    api = ApiClient(token_for(shop.rep.user))
    view = api.get(f"/customers/{shop.dept_archive.pk}/360").json()
    by_name = {moved["name"]: moved for moved in view["contacts_moved_away"]}
    assert by_name["陈静"]["to_customer"] is None and by_name["陈静"]["title"] == "采购经理"
    assert by_name["王强"]["to_customer"] == {
        "id": shop.company_archive.pk,
        "name": shop.company_archive.name,
    }
    # Back again: among the contacts, no longer among those who moved away.
    services.contact_move(actor=None, contact=wang, to_customer=shop.dept_archive)
    view = api.get(f"/customers/{shop.dept_archive.pk}/360").json()
    assert [moved["name"] for moved in view["contacts_moved_away"]] == ["陈静"]
    assert "王强" in [contact["name"] for contact in view["contacts"]]


def test_arc3_deactivate_and_reactivate_after_confirmation(client: Client, shop: Shop, chen: Contact) -> None:
    url = reverse("customers:contact_active", args=[chen.pk])
    login(client, shop.rep)
    dialog = client.get(url, headers=HTMX).content.decode()
    assert 'data-testid="contact-active-form"' in dialog and 'name="active" value="0"' in dialog
    assert Contact.objects.get(pk=chen.pk).active  # asking is not doing
    response = client.post(url, {"active": "0"}, headers=HTMX)
    assert response["HX-Trigger"] == "kestrel:dialog-saved"
    assert 'data-testid="contact-inactive"' in response.content.decode()
    chen.refresh_from_db()
    assert not chen.active and not chen.is_primary  # a deactivated contact is no longer the primary one
    # The same request again does not flip it back.
    client.post(url, {"active": "0"}, headers=HTMX)
    chen.refresh_from_db()
    assert not chen.active
    dialog = client.get(url, headers=HTMX).content.decode()
    assert 'name="active" value="1"' in dialog
    response = client.post(url, {"active": "1"})
    assert response.status_code == 302
    chen.refresh_from_db()
    assert chen.active and chen.customer == shop.dept_archive


def test_arc3_view_only_roles_cannot_move_or_deactivate(client: Client, shop: Shop, chen: Contact) -> None:
    login(client, shop.viewer)
    for name in ("contact_move", "contact_active"):
        assert client.get(reverse(f"customers:{name}", args=[chen.pk])).status_code == 403
        assert client.post(reverse(f"customers:{name}", args=[chen.pk]), {}).status_code == 403
    # And the buttons are not offered to whom may only read.
    login(client, shop.director)
    html = client.get(reverse("customers:detail", args=[shop.dept_archive.pk])).content.decode()
    assert 'data-testid="contact-move"' in html  # the director has change_contact
    chen.refresh_from_db()
    assert chen.active and chen.customer == shop.dept_archive


def test_arc3_junk_posts_to_the_contact_dialogs_are_never_server_errors(
    client: Client, shop: Shop, chen: Contact
) -> None:
    login(client, shop.rep)
    move = reverse("customers:contact_move", args=[chen.pk])
    active = reverse("customers:contact_active", args=[chen.pk])
    for headers in (HTMX, {}):
        for data in (
            {"to_customer": "abc"},
            {"to_customer": HUGE},
            {"to_customer": "-1"},
            {"to_customer": ["1", "2"], "title": "x" * 51},
            {"to_customer": "\x00", "q": "\x00" * 200},
            {"q": "%_'\"<script>", "find": "1"},
            {"junk": "1"},
        ):
            response = client.post(move, data, headers=headers)
            assert response.status_code == 200, (data, headers)
        for data in ({"active": "maybe"}, {"active": ""}, {"active": "\x00"}, {"junk": "1"}):
            assert client.post(active, data, headers=headers).status_code == 200, (data, headers)
    assert client.get(move, {"q": "x" * 500}, headers=CANDIDATES).status_code == 200
    for name in ("contact_move", "contact_active", "contact_history"):
        assert client.get(f"/customers/contacts/{HUGE}/{name.removeprefix('contact_')}/").status_code == 404
    assert client.get(reverse("customers:contact_history", args=[chen.pk]), headers=HTMX).status_code == 200
    chen.refresh_from_db()
    assert chen.active and chen.customer == shop.dept_archive and not ContactMove.objects.exists()


# --- In the browser ---------------------------------------------------------------------------------


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/$"))


def modal_shown(page) -> None:
    """Wait for the dialog's fade-in to finish, so that a screenshot shows it."""
    page.wait_for_function(
        "() => getComputedStyle(document.getElementById('customer-modal')).opacity === '1'"
    )


@pytest.mark.ui
@pytest.mark.django_db(transaction=True)
def test_arc1_arc3_custom_fields_in_the_form_then_move_and_deactivate_a_contact(
    browser_page,
    shop: Shop,
    custom_fields,
) -> None:
    chen = services.contact_create(actor=None, customer=shop.dept_archive, name="陈静", title="采购经理")
    services.contact_create(actor=None, customer=shop.dept_archive, name="王强", title="技术总监")
    page = browser_page
    sign_in(page, "sh_rep1")

    # The archive form: the custom fields, a required one left empty and a number out of range.
    page.goto(reverse("customers:edit", args=[shop.dept_archive.pk]))
    section = page.locator("[data-testid=custom-fields]")
    expect(section).to_be_visible()
    page.select_option("#id_cf_strategic", "true")
    page.fill("#id_cf_visits", "400")
    page.check("#id_cf_channels_0")
    page.fill("#id_cf_signed_on", "2026-03-01")
    page.click("[data-testid=customer-save]")
    expect(page.locator("[data-testid=error-cf_level]")).to_have_text(REQUIRED)
    expect(page.locator("[data-testid=error-cf_visits]")).to_be_visible()
    expect(page.locator("#id_cf_channels_0")).to_be_checked()
    section.scroll_into_view_if_needed()
    screenshot(page, "customer-form-custom-fields-zh")
    page.select_option("#id_cf_level", "二星")
    page.fill("#id_cf_visits", "12")
    page.click("[data-testid=customer-save]")
    page.wait_for_url(f"**/customers/{shop.dept_archive.pk}/")
    stored = Customer.objects.get(pk=shop.dept_archive.pk).custom_fields
    assert stored == {
        "level": "二星",
        "visits": 12,
        "strategic": True,
        "channels": ["直销"],
        "signed_on": "2026-03-01",
    }

    # Move 陈静 to the Hangzhou customer: found by pinyin initials while typing.
    page.click("[data-testid=tab-contacts]")
    row = page.locator(f"[data-contact='{chen.pk}']")
    row.locator("[data-testid=contact-actions]").click()
    expect(row.locator("[data-testid=contact-move]")).to_be_visible()  # not clipped by the table
    screenshot(page, "customer-contact-actions-zh")
    row.locator("[data-testid=contact-move]").click()
    page.locator("[data-testid=contact-move-form]").wait_for()
    page.fill("#id_q", "hzxx")
    candidate = page.locator("[data-testid=contact-move-candidate]")
    expect(candidate).to_have_count(1)
    expect(candidate).to_contain_text("杭州西溪茶叶贸易有限公司")
    candidate.click()
    page.fill("#id_title", "总经理")
    screenshot(page, "customer-contact-move-dialog-zh")
    page.click("[data-testid=contact-move-save]")
    expect(page.locator("#customer-modal")).to_be_hidden()
    expect(page.locator("[data-testid=contacts] tbody tr")).to_have_count(1)
    expect(page.locator("#contacts-count")).to_have_text("1")

    # Deactivate 王强 after confirming.
    page.locator("[data-testid=contact-actions]").click()
    page.locator("[data-testid=contact-active]").click()
    page.locator("[data-testid=contact-active-form]").wait_for()
    modal_shown(page)
    screenshot(page, "customer-contact-deactivate-dialog-zh")
    page.click("[data-testid=contact-active-confirm]")
    expect(page.locator("#customer-modal")).to_be_hidden()
    expect(page.locator("[data-testid=contact-inactive]")).to_have_count(1)

    # On the new customer's page: where 陈静 came from.
    page.goto(reverse("customers:detail", args=[shop.company_archive.pk]) + "#contacts")
    page.click("[data-testid=contact-moved]")
    expect(page.locator("[data-testid=contact-move-row]")).to_contain_text("上海申江精密机械有限公司")
    modal_shown(page)
    screenshot(page, "customer-contact-history-zh")
    assert Contact.objects.get(pk=chen.pk).customer_id == shop.company_archive.pk
    assert page.problems.messages == [], "CSP violations, script errors or failed requests"
