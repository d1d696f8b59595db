"""ARC-8 handover (交接): a departing employee's customers move to named successors in one reviewed
operation; nothing stays owned by a departed employee and the audit trail shows the moves."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from kestrel.core.scope import DataScope
from kestrel.customers import services, workflows
from kestrel.customers.models import AccessRequest, Customer, Handover, SelfServiceInvitation
from kestrel.notify.models import Notification
from kestrel.org import services as org_services
from kestrel.org.models import Employee
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — the api, api_for and org fixtures
from kestrel.org.tests.fixtures import assert_error

HANDOVER = ["customers.view_customer", "customers.handover_customer", "org.view_employee"]


def make(owner, name: str, **fields) -> Customer:
    return services.customer_create(actor=None, owner=owner, name=name, **fields)


@pytest.fixture
def leaving(org):
    """sh_a_rep1 (manager: sh_a_lead) owns five customers, co-owns one, is relationship manager of
    another, has a pending access request and an open self-service invitation; then departs."""
    rep, lead, other = org.employees["sh_a_rep1"], org.employees["sh_a_lead"], org.employees["hz_a_rep1"]
    org_services.employee_update(actor=None, employee=rep, manager=lead)
    org.owned = [make(rep, f"交接客户{i}有限公司", code=f"C-H{i}") for i in range(5)]
    org.co_owned = make(other, "共同持有客户有限公司", code="C-CO", co_owners=[rep])
    org.managed = make(other, "关系经理客户有限公司", code="C-RM", relationship_manager=rep)
    org.request = AccessRequest.objects.create(customer=org.co_owned, requester=rep, reason="需要")
    org.invitation, _token = workflows.self_service_invite(actor=rep.user, customer=org.owned[0])
    org_services.employee_update(actor=None, employee=rep, status=Employee.Status.DEPARTED)
    hr = org.employees["gm"]
    hr.roles.set([RoleFactory(data_scope=DataScope.ALL, permissions=HANDOVER)])
    return org


def test_arc8_departed_employee_owns_nothing_after_handover_and_audit_shows_moves(leaving, api_for):
    rep, lead = leaving.employees["sh_a_rep1"], leaving.employees["sh_a_lead"]
    hz = leaving.employees["hz_a_rep1"]
    client = api_for(leaving.employees["gm"])

    preview = client.get("/customers/handovers/preview", {"employee_id": rep.pk})
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["default_successor_id"] == lead.pk
    assert body["counts"] == {
        "owned": 5,
        "co_owned": 1,
        "relationship_manager": 1,
        "access_requests": 1,
        "self_service": 1,
    }
    assert len(body["customers"]) == 7

    override = leaving.owned[4]
    prepared = client.post(
        "/customers/handovers",
        {"employee_id": rep.pk, "overrides": [{"customer_id": override.pk, "successor_id": hz.pk}]},
    )
    assert prepared.status_code == 201, prepared.content
    handover_id = prepared.json()["id"]
    assert Customer.objects.filter(owner=rep).count() == 5  # nothing moves before approval

    approved = client.post(f"/customers/handovers/{handover_id}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["plan"]["result"]["owned"] == 5

    assert workflows.handover_pending_for(rep) == {
        "owned": 0,
        "co_owned": 0,
        "relationship_manager": 0,
        "access_requests": 0,
        "self_service": 0,
    }
    assert not Customer.objects.filter(owner=rep).exists()
    assert set(Customer.objects.filter(owner=lead).values_list("code", flat=True)) == {
        "C-H0",
        "C-H1",
        "C-H2",
        "C-H3",
    }
    moved = Customer.objects.get(pk=override.pk)
    assert (moved.owner_id, moved.department_id) == (hz.pk, hz.department_id)  # department follows
    assert Customer.objects.get(pk=leaving.owned[0].pk).department_id == lead.department_id
    assert list(leaving.co_owned.co_owners.all()) == [lead]
    assert Customer.objects.get(pk=leaving.managed.pk).relationship_manager_id == lead.pk
    assert AccessRequest.objects.get(pk=leaving.request.pk).requester_id == lead.pk
    assert SelfServiceInvitation.objects.get(pk=leaving.invitation.pk).invited_by_id == lead.pk

    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer),
        action=LogEntry.Action.UPDATE,
        changes__has_key="owner",
    )
    owner_moves = {int(e.object_pk): e.changes["owner"] for e in entries}
    assert owner_moves == {
        **{c.pk: [str(rep.pk), str(lead.pk)] for c in leaving.owned[:4]},
        override.pk: [str(rep.pk), str(hz.pk)],
    }
    assert all(e.actor_id == leaving.employees["gm"].user_id for e in entries)
    assert all(e.additional_data == {"handover": handover_id} for e in entries)
    assert entries.get(object_pk=str(override.pk)).changes["department"] == [
        str(rep.department_id),
        str(hz.department_id),
    ]

    notes = Notification.objects.filter(kind="customer.handover")
    assert {n.recipient_id for n in notes} == {lead.pk, hz.pk}
    assert "C-H0" in notes.get(recipient=lead).body

    assert_error(client.post(f"/customers/handovers/{handover_id}/approve"), 409)


def test_arc8_approve_is_set_based(leaving, django_assert_max_num_queries):
    handover = workflows.handover_prepare(actor=None, departing=leaving.employees["sh_a_rep1"])
    with django_assert_max_num_queries(40):
        workflows.handover_approve(actor=None, handover=handover)
    more = [make(leaving.employees["sh_a_lead"], f"批量客户{i}", code=f"C-B{i}") for i in range(30)]
    handover = workflows.handover_prepare(
        actor=None, departing=leaving.employees["sh_a_lead"], successor=leaving.employees["sh_gm"]
    )
    with django_assert_max_num_queries(40):  # the same number of queries for 34 customers
        workflows.handover_approve(actor=None, handover=handover)
    assert not Customer.objects.filter(
        pk__in=[c.pk for c in more], owner=leaving.employees["sh_a_lead"]
    ).exists()


def test_arc8_employee_without_customers(org, api_for):
    quiet = org.employees["bj_a_rep2"]
    org_services.employee_update(actor=None, employee=quiet, status=Employee.Status.DEPARTED)
    org.employees["gm"].roles.set([RoleFactory(data_scope=DataScope.ALL, permissions=HANDOVER)])
    client = api_for(org.employees["gm"])
    preview = client.get("/customers/handovers/preview", {"employee_id": quiet.pk}).json()
    assert preview["customers"] == [] and set(preview["counts"].values()) == {0}
    # bj_a has no manager: the nearest department manager above is the default, or one is named.
    handover = client.post(
        "/customers/handovers", {"employee_id": quiet.pk, "successor_id": org.employees["bj_gm"].pk}
    )
    assert handover.status_code == 201, handover.content
    approved = client.post(f"/customers/handovers/{handover.json()['id']}/approve")
    assert approved.status_code == 200
    assert approved.json()["plan"]["result"]["owned"] == 0


def test_arc8_bad_input_and_permissions(leaving, api_for):
    rep = leaving.employees["sh_a_rep1"]
    client = api_for(leaving.employees["gm"])
    assert_error(client.get("/customers/handovers/preview"), 422)
    assert_error(client.get("/customers/handovers/preview", {"employee_id": 999999}), 404)
    assert_error(client.get("/customers/handovers/preview", {"employee_id": "x"}), 422)
    assert_error(client.post("/customers/handovers", {"employee_id": rep.pk, "successor_id": rep.pk}), 422)
    assert_error(client.post("/customers/handovers", {"employee_id": rep.pk, "successor_id": 999999}), 422)
    other = make(leaving.employees["hz_a_rep1"], "无关客户", code="C-X")
    assert_error(
        client.post(
            "/customers/handovers",
            {
                "employee_id": rep.pk,
                "overrides": [{"customer_id": other.pk, "successor_id": leaving.employees["hz_a_rep1"].pk}],
            },
        ),
        422,
    )
    assert_error(client.post("/customers/handovers/999999/approve"), 404)
    rep2 = leaving.employees["sh_a_rep2"]
    rep2.roles.set([RoleFactory(data_scope=DataScope.ALL, permissions=["customers.view_customer"])])
    assert_error(api_for(rep2).get("/customers/handovers/preview", {"employee_id": rep.pk}), 403)
    # Outside the preparer's data scope the departing employee is "not found".
    bj = leaving.employees["bj_gm"]
    bj.roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT, permissions=HANDOVER)])
    assert_error(api_for(bj).get("/customers/handovers/preview", {"employee_id": rep.pk}), 404)


def test_arc8_preparing_again_replaces_the_draft(leaving):
    rep = leaving.employees["sh_a_rep1"]
    first = workflows.handover_prepare(actor=None, departing=rep)
    second = workflows.handover_prepare(actor=None, departing=rep, successor=leaving.employees["hz_a_rep1"])
    first.refresh_from_db()
    assert first.status == Handover.Status.CANCELLED
    workflows.handover_approve(actor=None, handover=second)
    assert set(
        Customer.objects.filter(pk__in=[c.pk for c in leaving.owned]).values_list("owner", flat=True)
    ) == {leaving.employees["hz_a_rep1"].pk}
