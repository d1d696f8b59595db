"""The workflow pages through Django's test client: handover 交接 (ARC-8), duplicates and merge
(ARC-9), self-service forms 客户资料表 (ARC-12). Each page renders for an authorised user, refuses
users without the permission (403) and those outside the data scope (404), carries its workflow
through the same services as the API, and answers junk input with a form error, never a 500."""

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from kestrel.core.scope import DataScope
from kestrel.customers import services, workflows
from kestrel.customers.models import (
    Contact,
    Customer,
    CustomerMerge,
    DuplicateCandidate,
    Handover,
    SelfServiceInvitation,
)
from kestrel.customers.workflow_forms import DUPLICATE_REASONS
from kestrel.org import services as org_services
from kestrel.org.models import Employee
from kestrel.org.tests.factories import PASSWORD, RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — the org fixture
from kestrel.web.tests.browser import *  # noqa: F403 — the Playwright fixtures
from kestrel.web.tests.browser import screenshot

HANDOVER = ["customers.view_customer", "customers.handover_customer", "org.view_employee"]
MERGER = [
    "customers.view_customer",
    "customers.change_customer",
    "customers.merge_customer",
    "customers.read_all_levels",
]
STAFF = [
    "customers.view_customer",
    "customers.change_customer",
    "customers.add_customer",
    "customers.add_contact",
]
HANDOVERS = reverse("customers:handover_list")
NEW_HANDOVER = reverse("customers:handover_new")
DUPLICATES = reverse("customers:duplicate_list")
SELF_SERVICE = reverse("customers:self_service_list")


def login(employee: Employee) -> Client:
    client = Client()
    client.force_login(employee.user, backend="kestrel.org.backends.RolePermissionBackend")
    return client


def make(owner: Employee, name: str, **fields) -> Customer:
    return services.customer_create(actor=None, owner=owner, name=name, **fields)


def grant(employee: Employee, scope: str, permissions: list[str]) -> Employee:
    employee.roles.set([RoleFactory(data_scope=scope, permissions=permissions)])
    return employee


# --- ARC-8: handover -------------------------------------------------------------------------------


@pytest.fixture
def leaving(org):
    """sh_a_rep1 (manager: sh_a_lead) owns three customers, co-owns one and is relationship manager
    of another; then departs. gm (scope: all) may hand over."""
    rep, lead, other = org.employees["sh_a_rep1"], org.employees["sh_a_lead"], org.employees["hz_a_rep1"]
    org_services.employee_update(actor=None, employee=rep, manager=lead)
    org.owned = [make(rep, f"交接客户{i}有限公司", code=f"C-H{i}") for i in range(3)]
    org.co_owned = make(other, "共同持有客户有限公司", code="C-CO", co_owners=[rep])
    org.managed = make(other, "关系经理客户有限公司", code="C-RM", relationship_manager=rep)
    org_services.employee_update(actor=None, employee=rep, status=Employee.Status.DEPARTED)
    grant(org.employees["gm"], DataScope.ALL, HANDOVER)
    return org


def plan_post(rep: Employee, successor: Employee, **extra) -> dict:
    return {"employee": rep.pk, "successor": successor.pk, "note": "", **extra}


def test_arc8_handover_pages_render_for_an_authorised_user(leaving):
    rep, lead = leaving.employees["sh_a_rep1"], leaving.employees["sh_a_lead"]
    client = login(leaving.employees["gm"])
    listing = client.get(HANDOVERS)
    assert listing.status_code == 200
    assert 'data-testid="handover-empty"' in listing.content.decode()
    assert 'data-nav="customers-handover"' in listing.content.decode()  # the sidebar entry

    start = client.get(NEW_HANDOVER)
    assert start.status_code == 200
    html = start.content.decode()
    assert f'value="{rep.pk}"' in html and rep.name in html
    assert 'data-testid="handover-plan"' not in html  # nothing chosen yet, and no error either
    assert "is-invalid" not in html

    preview = client.get(NEW_HANDOVER, {"employee": rep.pk})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert preview.context["preview"]["counts"]["owned"] == 3
    assert preview.context["default"] == lead  # the manager is suggested
    for name in ("交接客户0有限公司", "共同持有客户有限公司", "关系经理客户有限公司"):
        assert name in html
    assert re.search(rf'<option value="{lead.pk}" selected>', html)


def test_arc8_handover_through_the_pages_leaves_the_departed_employee_owning_nothing(leaving):
    rep, lead, hz = (leaving.employees[k] for k in ("sh_a_rep1", "sh_a_lead", "hz_a_rep1"))
    client = login(leaving.employees["gm"])
    override = leaving.owned[2]

    # Tick one customer and give it to another successor: the page shows the plan, nothing moves.
    assigned = client.post(
        NEW_HANDOVER, plan_post(rep, lead, action="assign", pick=[override.pk], assign_to=hz.pk)
    )
    assert assigned.status_code == 200
    html = assigned.content.decode()
    assert f'name="override" value="{override.pk}:{hz.pk}"' in html
    assert Handover.objects.count() == 0

    submitted = client.post(
        NEW_HANDOVER,
        plan_post(rep, lead, action="submit", override=[f"{override.pk}:{hz.pk}"], note="离职交接"),
    )
    handover = Handover.objects.get()
    assert submitted.status_code == 302
    assert submitted["Location"] == reverse("customers:handover_detail", args=[handover.pk])
    assert handover.plan["overrides"] == {str(override.pk): hz.pk}
    assert Customer.objects.filter(owner=rep).count() == 3  # nothing moves before approval

    draft = client.get(submitted["Location"])
    assert draft.status_code == 200
    assert 'data-testid="handover-approve"' in draft.content.decode()
    assert client.get(HANDOVERS).context["page"].object_list[0] == handover

    approved = client.post(reverse("customers:handover_approve", args=[handover.pk]))
    assert approved.status_code == 302
    done = client.get(approved["Location"])
    html = done.content.decode()
    assert 'data-testid="handover-result"' in html and 'data-testid="handover-nothing-left"' in html
    assert done.context["still_held"] == 0
    assert set(workflows.handover_pending_for(rep).values()) == {0}
    assert not Customer.objects.filter(owner=rep).exists()
    assert Customer.objects.get(pk=override.pk).owner_id == hz.pk
    assert set(Customer.objects.filter(owner=lead).values_list("code", flat=True)) == {"C-H0", "C-H1"}
    assert Customer.objects.get(pk=leaving.managed.pk).relationship_manager_id == lead.pk

    # Approving again is refused with a message, not an error page.
    again = client.post(reverse("customers:handover_approve", args=[handover.pk]), follow=True)
    assert again.status_code == 200
    assert [m.level_tag for m in again.context["messages"]] == ["error"]


def test_arc8_handover_pages_refuse_users_without_permission_or_outside_their_scope(leaving):
    rep = leaving.employees["sh_a_rep1"]
    handover = workflows.handover_prepare(actor=None, departing=rep)
    detail = reverse("customers:handover_detail", args=[handover.pk])
    approve = reverse("customers:handover_approve", args=[handover.pk])

    seller = login(grant(leaving.employees["sh_a_rep2"], DataScope.ALL, ["customers.view_customer"]))
    for url in (HANDOVERS, NEW_HANDOVER, detail):
        assert seller.get(url).status_code == 403, url
    assert seller.post(approve).status_code == 403
    assert 'data-nav="customers-handover"' not in seller.get(SELF_SERVICE).content.decode()

    # Another branch's preparer: the employee is not offered, the handover is "not found".
    bj = login(grant(leaving.employees["bj_gm"], DataScope.DEPARTMENT_TREE, HANDOVER))
    picked = bj.get(NEW_HANDOVER, {"employee": rep.pk})
    assert picked.status_code == 200
    assert "preview" not in picked.context and picked.context["pick"].errors
    assert (
        bj.post(NEW_HANDOVER, plan_post(rep, leaving.employees["bj_gm"], action="submit")).status_code == 200
    )
    assert bj.get(detail).status_code == 404
    assert bj.post(approve).status_code == 404
    assert list(bj.get(HANDOVERS).context["page"].object_list) == []
    handover.refresh_from_db()
    assert handover.status == Handover.Status.DRAFT and Customer.objects.filter(owner=rep).count() == 3


def test_arc8_junk_input_gives_form_errors_not_500(leaving):
    rep, lead = leaving.employees["sh_a_rep1"], leaving.employees["sh_a_lead"]
    client = login(leaving.employees["gm"])
    unrelated = make(leaving.employees["hz_a_rep1"], "无关客户有限公司", code="C-X")
    for employee in ("abc", "99999999999999999999", "-1", ""):
        response = client.get(NEW_HANDOVER, {"employee": employee})
        assert response.status_code == 200 and response.context["pick"].errors, employee
    bad_plans = [
        plan_post(rep, rep, action="submit"),  # the departing employee as their own successor
        {"employee": rep.pk, "successor": "x", "action": "submit"},
        plan_post(rep, lead, action="submit", override=["junk"]),
        plan_post(rep, lead, action="submit", override=[f"{leaving.owned[0].pk}:99999999999999999999"]),
        plan_post(rep, lead, action="submit", override=[f"{unrelated.pk}:{lead.pk}"]),  # not one of theirs
        plan_post(rep, lead, action="assign", pick=["x"], assign_to=lead.pk),
        plan_post(rep, lead, action="submit", note="长" * 2001),
    ]
    for data in bad_plans:
        response = client.post(NEW_HANDOVER, data)
        assert response.status_code == 200, data
        assert response.context["form"].errors, data
        assert 'data-testid="form-errors"' in response.content.decode()
    assert not Handover.objects.exists()
    assert client.get(reverse("customers:handover_approve", args=[1])).status_code == 405
    assert client.get("/customers/handovers/99999999999999999999/").status_code == 404
    assert client.post(reverse("customers:handover_approve", args=[424242])).status_code == 404
    assert client.get(HANDOVERS, {"status": "nonsense", "page": "x"}).status_code == 200


def test_arc8_handover_list_filters_and_counts_queries(leaving, django_assert_max_num_queries):
    rep = leaving.employees["sh_a_rep1"]
    for _ in range(3):
        workflows.handover_prepare(actor=None, departing=rep)  # each replaces the draft before
    client = login(leaving.employees["gm"])
    assert client.get(HANDOVERS, {"status": "cancelled"}).context["page"].paginator.count == 2
    assert client.get(HANDOVERS, {"q": rep.name}).context["page"].paginator.count == 3
    assert client.get(HANDOVERS, {"q": "无此人"}).context["page"].paginator.count == 0
    partial = client.get(HANDOVERS, headers={"HX-Request": "true", "HX-Target": "handover-results"})
    assert (
        "<html" not in partial.content.decode() and 'data-testid="handover-table"' in partial.content.decode()
    )
    with django_assert_max_num_queries(20):
        client.get(HANDOVERS)


# --- ARC-9: duplicates and merge -------------------------------------------------------------------


@pytest.fixture
def twins(org):
    """Two archives of one company under sh_a_rep1 (same phone), scanned; gm may merge everywhere."""
    rep = org.employees["sh_a_rep1"]
    org.kept = make(rep, "上海华东精密机械有限公司", code="M0", phone="021-62345678")
    org.merged = make(
        rep, "上海华东精密机械制造有限公司", code="M1", phone="021-62345678", address="上海市闵行区"
    )
    services.contact_create(actor=None, customer=org.merged, name="李娜", title="采购经理")
    services.major_event_add(actor=None, customer=org.merged, occurred_on=date(2025, 3, 1), title="更名")
    workflows.duplicates_scan()
    org.pair = DuplicateCandidate.objects.get()
    grant(org.employees["gm"], DataScope.ALL, MERGER)
    return org


def test_arc9_duplicate_pages_render_for_an_authorised_user(twins):
    client = login(twins.employees["gm"])
    listing = client.get(DUPLICATES)
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "上海华东精密机械制造有限公司" in html and 'data-testid="duplicate-reason"' in html
    [(candidate, reasons)] = listing.context["rows"]
    assert candidate == twins.pair and str(DUPLICATE_REASONS["same_phone"]) in reasons
    assert 'data-testid="duplicate-scan"' in html

    compare = client.get(reverse("customers:duplicate_compare", args=[twins.pair.pk]))
    assert compare.status_code == 200
    html = compare.content.decode()
    assert "上海市闵行区" in html  # the address only one of them has
    assert 'data-testid="merge-keep-1"' in html and 'data-testid="duplicate-dismiss"' in html
    assert [count for _c, _label, count in compare.context["sides"]] == [0, 1]


def test_arc9_merge_through_the_page_archives_the_merged_archive(twins):
    client = login(twins.employees["gm"])
    response = client.post(
        reverse("customers:duplicate_merge", args=[twins.pair.pk]), {"kept": twins.kept.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[twins.kept.pk])
    merged = Customer.objects.get(pk=twins.merged.pk)
    assert merged.status == Customer.Status.ARCHIVED
    assert merged.custom_fields["merged_into"]["id"] == twins.kept.pk
    assert Contact.objects.get(name="李娜").customer_id == twins.kept.pk
    assert Customer.objects.get(pk=twins.kept.pk).address == "上海市闵行区"  # filled from the merged one
    assert CustomerMerge.objects.get().merged_code == "M1"
    twins.pair.refresh_from_db()
    assert twins.pair.status == DuplicateCandidate.Status.MERGED
    page = client.get(response["Location"])
    assert [m.level_tag for m in page.context["messages"]] == ["success"]

    # The merged pair can be looked at, not merged again.
    compare = client.get(reverse("customers:duplicate_compare", args=[twins.pair.pk]))
    assert compare.status_code == 200 and 'data-testid="merge-keep-1"' not in compare.content.decode()
    again = client.post(reverse("customers:duplicate_merge", args=[twins.pair.pk]), {"kept": twins.kept.pk})
    assert again.status_code == 200 and 'data-testid="form-errors"' in again.content.decode()
    assert CustomerMerge.objects.count() == 1


def test_arc9_not_a_duplicate_and_scan_now(twins):
    client = login(twins.employees["gm"])
    dismiss = reverse("customers:duplicate_dismiss", args=[twins.pair.pk])
    assert client.post(dismiss).status_code == 302
    twins.pair.refresh_from_db()
    assert twins.pair.status == DuplicateCandidate.Status.DISMISSED
    assert list(client.get(DUPLICATES).context["page"].object_list) == []
    assert client.get(DUPLICATES, {"status": "dismissed"}).context["page"].paginator.count == 1
    again = client.post(dismiss, follow=True)
    assert [m.level_tag for m in again.context["messages"]] == ["error"]

    rep = twins.employees["sh_a_rep1"]
    make(rep, "杭州西湖茶叶有限公司", code="T1")
    make(rep, "杭州西湖茶叶有限公司", code="T2")
    scanned = client.post(reverse("customers:duplicate_scan"), follow=True)
    assert scanned.status_code == 200
    assert DuplicateCandidate.objects.count() == 2
    names = client.get(DUPLICATES, {"reason": "same_name"}).content.decode()
    assert "杭州西湖茶叶有限公司" in names and "上海华东精密机械有限公司" not in names


def test_arc9_duplicate_pages_refuse_users_without_permission_or_outside_their_scope(twins):
    pair = twins.pair
    compare = reverse("customers:duplicate_compare", args=[pair.pk])
    merge = reverse("customers:duplicate_merge", args=[pair.pk])
    dismiss = reverse("customers:duplicate_dismiss", args=[pair.pk])

    seller = login(grant(twins.employees["sh_a_rep2"], DataScope.ALL, ["customers.view_customer"]))
    for url in (DUPLICATES, compare):
        assert seller.get(url).status_code == 403
    for url in (merge, dismiss, reverse("customers:duplicate_scan")):
        assert seller.post(url, {"kept": twins.kept.pk}).status_code == 403

    # May review pairs but not change archives: no merge button, and the merge itself is refused.
    clerk = login(
        grant(
            twins.employees["hz_gm"],
            DataScope.ALL,
            ["customers.view_customer", "customers.merge_customer", "customers.read_all_levels"],
        )
    )
    page = clerk.get(compare)
    assert page.status_code == 200 and 'data-testid="merge-keep-1"' not in page.content.decode()
    assert clerk.post(merge, {"kept": twins.kept.pk}).status_code == 403

    # Another branch reads neither archive: the pair does not exist for it.
    bj = login(grant(twins.employees["bj_gm"], DataScope.DEPARTMENT_TREE, MERGER[:3]))
    assert list(bj.get(DUPLICATES).context["page"].object_list) == []
    assert bj.get(compare).status_code == 404
    assert bj.post(merge, {"kept": twins.kept.pk}).status_code == 404
    assert bj.post(dismiss).status_code == 404
    pair.refresh_from_db()
    assert pair.status == DuplicateCandidate.Status.OPEN
    assert Customer.objects.get(pk=twins.merged.pk).status != Customer.Status.ARCHIVED


def test_arc9_junk_merge_input_gives_form_errors_not_500(twins):
    client = login(twins.employees["gm"])
    merge = reverse("customers:duplicate_merge", args=[twins.pair.pk])
    third = make(twins.employees["sh_a_rep1"], "无关客户有限公司", code="X1")
    for data in ({}, {"kept": "abc"}, {"kept": third.pk}, {"kept": "99999999999999999999"}, {"kept": ""}):
        response = client.post(merge, data)
        assert response.status_code == 200, data
        assert 'data-testid="form-errors"' in response.content.decode(), data
    assert not CustomerMerge.objects.exists()
    assert client.get(merge).status_code == 405
    assert client.get("/customers/duplicates/99999999999999999999/").status_code == 404
    assert client.get(DUPLICATES, {"status": "nonsense", "reason": "x", "page": "-3"}).status_code == 200


# --- ARC-12: self-service forms ---------------------------------------------------------------------


@pytest.fixture
def staff(org):
    rep = grant(org.employees["sh_a_rep1"], DataScope.SELF, STAFF)
    org.customer = make(rep, "上海华东精密机械有限公司", code="C-SS", phone="021-62345678")
    return org


def submitted(org, **customer_data) -> SelfServiceInvitation:
    invitation, token = workflows.self_service_invite(
        actor=org.employees["sh_a_rep1"].user, customer=org.customer
    )
    data = {
        "name": "上海华东精密机械有限公司",
        "phone": "021-62345679",
        "address": "上海市闵行区春东路 100 号",
    }
    workflows.self_service_submit(
        token=token,
        customer_data={**data, **customer_data},
        contacts=[{"name": "李娜", "title": "采购经理", "mobile": "13912345678"}],
    )
    invitation.refresh_from_db()
    return invitation


def test_arc12_invite_from_the_detail_page_shows_the_link_once(staff):
    client = login(staff.employees["sh_a_rep1"])
    invite = reverse("customers:self_service_invite", args=[staff.customer.pk])
    detail = client.get(reverse("customers:detail", args=[staff.customer.pk])).content.decode()
    assert f'href="{invite}"' in detail

    page = client.get(invite)
    assert page.status_code == 200 and 'data-testid="self-service-link"' not in page.content.decode()
    created = client.post(invite, {"days": "7"})
    assert created.status_code == 200
    html = created.content.decode()
    link = re.search(r'data-testid="self-service-link"', html) and created.context["link"]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert link == f"http://testserver/s/{token}/" and f'value="{link}"' in html
    invitation = SelfServiceInvitation.objects.get()
    assert invitation.customer == staff.customer
    assert (invitation.expires_at.date() - invitation.created_at.date()).days == 7
    assert Client().get(f"/s/{token}/").status_code == 200  # the customer's form opens
    assert client.get(invite).context["earlier"][0] == invitation
    assert client.get(invite).context.get("link") is None  # shown once

    listing = client.get(SELF_SERVICE)
    assert listing.status_code == 200 and list(listing.context["page"].object_list) == [invitation]
    assert 'data-nav="customers-self-service"' in listing.content.decode()


def test_arc12_review_writes_the_accepted_fields_and_contacts(staff):
    invitation = submitted(staff)
    client = login(staff.employees["sh_a_rep1"])
    review = reverse("customers:self_service_review", args=[invitation.pk])
    page = client.get(review)
    assert page.status_code == 200
    html = page.content.decode()
    assert "021-62345679" in html and "李娜" in html and "139****5678" in html  # mobile masked (ARC-14)
    assert page.context["accepted"] == {"phone", "address"}  # the changed fields, ticked

    response = client.post(
        review, {"decision": "accept", "accept_fields": ["address"], "accept_contacts": ["0"]}
    )
    assert response.status_code == 302 and response["Location"] == review
    customer = Customer.objects.get(pk=staff.customer.pk)
    assert customer.address == "上海市闵行区春东路 100 号"
    assert customer.phone == "021-62345678"  # not accepted
    assert Contact.objects.filter(customer=customer, name="李娜", mobile="13912345678").exists()
    invitation.refresh_from_db()
    assert invitation.status == SelfServiceInvitation.Status.MERGED
    done = client.get(review).content.decode()
    assert 'data-testid="self-service-merged"' in done and 'data-testid="self-service-accept"' not in done

    again = client.post(review, {"decision": "reject"})
    assert again.status_code == 200 and 'data-testid="form-errors"' in again.content.decode()


def test_arc12_reject_and_a_prospect_becomes_a_customer(staff):
    client = login(staff.employees["sh_a_rep1"])
    invitation = submitted(staff)
    review = reverse("customers:self_service_review", args=[invitation.pk])
    assert client.post(review, {"decision": "reject", "accept_fields": ["phone"]}).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == SelfServiceInvitation.Status.REJECTED
    assert Customer.objects.get(pk=staff.customer.pk).phone == "021-62345678"

    created = client.post(reverse("customers:self_service_new"), {"days": ""})
    assert created.status_code == 200 and created.context["link"]
    prospect = SelfServiceInvitation.objects.get(customer__isnull=True)
    token = created.context["link"].rstrip("/").rsplit("/", 1)[1]
    workflows.self_service_submit(token=token, customer_data={"name": "宁波甬江建材有限公司"}, contacts=[])
    review = reverse("customers:self_service_review", args=[prospect.pk])
    without_name = client.post(review, {"decision": "accept"})
    assert without_name.status_code == 200 and 'data-testid="form-errors"' in without_name.content.decode()
    assert client.post(review, {"decision": "accept", "accept_fields": ["name"]}).status_code == 302
    prospect.refresh_from_db()
    assert prospect.customer.name == "宁波甬江建材有限公司"
    assert prospect.customer.owner == staff.employees["sh_a_rep1"]


def test_arc12_self_service_pages_refuse_users_without_permission_or_outside_their_scope(staff):
    invitation = submitted(staff)
    review = reverse("customers:self_service_review", args=[invitation.pk])
    invite = reverse("customers:self_service_invite", args=[staff.customer.pk])

    viewer = login(
        grant(
            staff.employees["sh_gm"], DataScope.ALL, ["customers.view_customer", "customers.read_all_levels"]
        )
    )
    assert viewer.get(SELF_SERVICE).status_code == 200
    page = viewer.get(review)
    assert page.status_code == 200 and 'data-testid="self-service-accept"' not in page.content.decode()
    assert viewer.post(review, {"decision": "accept", "accept_fields": ["phone"]}).status_code == 403
    assert viewer.get(invite).status_code == 403
    assert viewer.post(reverse("customers:self_service_new")).status_code == 403

    # May change archives but not create them: no invitation for a prospect.
    editor = login(
        grant(
            staff.employees["sh_a_lead"],
            DataScope.ALL,
            ["customers.view_customer", "customers.change_customer"],
        )
    )
    assert editor.get(reverse("customers:self_service_new")).status_code == 403

    # Another rep (scope: self) neither sees the form nor may invite for the customer.
    other = login(grant(staff.employees["sh_a_rep2"], DataScope.SELF, STAFF))
    assert list(other.get(SELF_SERVICE).context["page"].object_list) == []
    assert other.get(review).status_code == 404
    assert other.post(review, {"decision": "reject"}).status_code == 404
    assert other.get(invite).status_code == 404
    assert other.post(invite, {"days": "7"}).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == SelfServiceInvitation.Status.SUBMITTED
    assert SelfServiceInvitation.objects.count() == 1
    assert viewer.get(SELF_SERVICE, {"status": "nonsense"}).status_code == 200


def test_arc12_junk_input_gives_form_errors_not_500(staff):
    client = login(staff.employees["sh_a_rep1"])
    invite = reverse("customers:self_service_invite", args=[staff.customer.pk])
    for days in ("0", "91", "abc", "99999999999999999999"):
        response = client.post(invite, {"days": days})
        assert response.status_code == 200 and response.context["form"].errors, days
    assert not SelfServiceInvitation.objects.exists()

    invitation = submitted(staff)
    review = reverse("customers:self_service_review", args=[invitation.pk])
    for data in (
        {},
        {"decision": "maybe"},
        {"decision": "accept", "accept_fields": ["password"]},
        {"decision": "accept", "accept_contacts": ["9"]},
        {"decision": "accept", "accept_contacts": ["x"]},
    ):
        response = client.post(review, data)
        assert response.status_code == 200, data
        assert 'data-testid="form-errors"' in response.content.decode(), data
    invitation.refresh_from_db()
    assert invitation.status == SelfServiceInvitation.Status.SUBMITTED
    # A submitted value the archive refuses (a bad credit code) is a form error, and nothing is written.
    bad = submitted(staff, credit_code="91310000MA1FL00020")
    response = client.post(
        reverse("customers:self_service_review", args=[bad.pk]),
        {"decision": "accept", "accept_fields": ["credit_code", "address"]},
    )
    assert response.status_code == 200 and 'data-testid="form-errors"' in response.content.decode()
    assert Customer.objects.get(pk=staff.customer.pk).address == ""
    assert client.get("/customers/self-service/99999999999999999999/").status_code == 404
    assert client.get("/customers/99999999999999999999/self-service/").status_code == 404


# --- In the browser ---------------------------------------------------------------------------------


@pytest.mark.ui
@pytest.mark.django_db(transaction=True)
def test_arc8_arc9_hand_over_and_merge_in_the_browser(browser_page, org) -> None:
    """Through the sidebar: prepare a handover with one customer given to someone else, approve it in
    the confirmation dialog; then merge a pair of duplicates, keeping the first archive."""
    rep, lead, hz = (org.employees[k] for k in ("sh_a_rep1", "sh_a_lead", "hz_a_rep1"))
    org_services.employee_update(actor=None, employee=rep, manager=lead)
    owned = [make(rep, name) for name in ("上海申江精密机械有限公司", "杭州西溪茶叶贸易有限公司")]
    org_services.employee_update(actor=None, employee=rep, status=Employee.Status.DEPARTED)
    kept = make(lead, "上海华东精密机械有限公司", phone="021-62345678")
    merged = make(lead, "上海华东精密机械制造有限公司", phone="021-62345678", address="上海市闵行区")
    workflows.duplicates_scan()
    grant(org.employees["gm"], DataScope.ALL, [*HANDOVER, *MERGER])

    page = browser_page
    page.goto("/accounts/login/")
    page.fill("#id_username", "gm")
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/$"))

    page.click("[data-nav=customers-handover]")
    page.click("[data-testid=handover-new]")
    page.select_option("#id_employee", value=str(rep.pk))
    page.click("[data-testid=handover-preview]")
    rows = page.locator("[data-testid=handover-customers] tbody tr")
    expect(rows).to_have_count(2)
    page.locator(f"tr[data-customer='{owned[1].pk}'] [data-testid=handover-pick-customer]").check()
    page.select_option("#id_assign_to", value=str(hz.pk))
    page.click("[data-testid=handover-assign]")
    expect(page.locator(f"tr[data-customer='{owned[1].pk}'] [data-testid=handover-goes-to]")).to_contain_text(
        hz.name
    )
    page.click("[data-testid=handover-submit]")
    page.click("[data-testid=handover-approve]")
    page.click("[data-testid=handover-approve-confirm]")
    expect(page.locator("[data-testid=handover-nothing-left]")).to_be_visible()
    screenshot(page, "customer-handover-done")
    assert not Customer.objects.filter(owner=rep).exists()
    assert Customer.objects.get(pk=owned[1].pk).owner_id == hz.pk

    page.click("[data-nav=customers-duplicates]")
    page.click("[data-testid=duplicate-compare]")
    expect(page.locator("[data-testid=duplicate-comparison]")).to_contain_text("上海市闵行区")
    page.click("[data-testid=merge-keep-1]")
    dialog = page.locator(f"#merge-keep-{kept.pk}")
    expect(dialog).to_be_visible()
    screenshot(page, "customer-merge-dialog")
    dialog.locator("[data-testid=merge-confirm]").click()
    page.wait_for_url(f"**/customers/{kept.pk}/")
    assert Customer.objects.get(pk=merged.pk).status == Customer.Status.ARCHIVED
    assert page.problems.messages == [], "CSP violations, script errors or failed requests"
