"""ARC-6 confidentiality: access requests (查阅档案审批), time-limited grants, the view log and the
alert on repeated refused reads."""

import importlib.util
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from kestrel.core.scope import DataScope
from kestrel.customers import services, workflows
from kestrel.customers.models import AccessRequest, ArchiveView, Customer
from kestrel.notify.models import Notification
from kestrel.org.models import Department
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — the api, api_for and org fixtures
from kestrel.org.tests.fixtures import assert_error

SALES = ["customers.view_customer", "customers.view_contact", "customers.export_customer"]
DIRECTOR = [*SALES, "customers.approve_access", "customers.read_all_levels"]


def make(owner, name: str, **fields) -> Customer:
    return services.customer_create(actor=None, owner=owner, name=name, **fields)


def give(employee, permissions, scope=DataScope.DEPARTMENT):
    employee.roles.set([RoleFactory(data_scope=scope, permissions=permissions)])
    return employee


@pytest.fixture
def setup(org):
    """sh_a (上海 branch, team A): manager sh_a_lead, rep sh_a_rep1 owns the archives; bj_a_rep1 sells
    for the 北京 branch; gm is the marketing director (approve_access + read_all_levels)."""
    Department.objects.filter(pk=org.departments["sh_a"].pk).update(manager=org.employees["sh_a_lead"])
    Department.objects.filter(pk=org.departments["bj_a"].pk).update(manager=org.employees["bj_gm"])
    for key in ("sh_a_rep1", "bj_a_rep1", "sh_a_lead", "bj_gm"):
        give(org.employees[key], SALES)
    give(org.employees["gm"], DIRECTOR, DataScope.ALL)
    owner = org.employees["sh_a_rep1"]
    org.customers = {
        "dept": make(owner, "上海申江精密机械有限公司", code="C-DEPT", confidentiality="department"),
        "personal": make(owner, "杭州西溪茶叶贸易有限公司", code="C-PERS", confidentiality="personal"),
        "company": make(owner, "中国船舶重工集团有限公司", code="C-COMP", confidentiality="company"),
    }
    return org


def _exported(user, customer) -> bool | None:
    """Is the customer in the user's export? None while the export module does not exist yet."""
    if importlib.util.find_spec("kestrel.customers.exporting") is None:
        return None  # TODO(ARC-11): always checked once kestrel/customers/exporting.py is committed
    from kestrel.customers.exporting import customers_export

    target = io.BytesIO()
    customers_export(actor=user, target=target, format="csv")
    return customer.code in target.getvalue().decode("utf-8-sig")


def _reads(client, user, customer) -> dict[str, bool | None]:
    """Can the client read the customer through each channel?"""
    listed = {row["id"] for row in client.get("/customers", {"page_size": 500}).json()["items"]}
    searched = {row["id"] for row in client.get("/customers", {"q": customer.name[:4]}).json()["items"]}
    return {
        "list": customer.pk in listed,
        "search": customer.pk in searched,
        "detail": client.get(f"/customers/{customer.pk}").status_code == 200,
        "360": client.get(f"/customers/{customer.pk}/360").status_code == 200,
        "export": _exported(user, customer),
    }


def test_arc6_other_branch_reads_department_archive_only_with_unexpired_grant(setup, api_for):
    """Acceptance: a sales rep of another branch cannot read a department-level archive through list,
    detail, search, export, the 360° endpoint or the API; after an approved time-limited access request
    they can, until it expires; every read is in the view log."""
    customer = setup.customers["dept"]
    outsider = setup.employees["bj_a_rep1"]
    rep, manager = api_for(outsider), api_for(setup.employees["sh_a_lead"])
    exports = importlib.util.find_spec("kestrel.customers.exporting") is not None
    nothing = {
        "list": False,
        "search": False,
        "detail": False,
        "360": False,
        "export": False if exports else None,
    }
    everything = {
        "list": True,
        "search": True,
        "detail": True,
        "360": True,
        "export": True if exports else None,
    }

    assert _reads(rep, outsider.user, customer) == nothing
    assert_error(rep.get(f"/customers/{customer.pk}"), 404, "not_found")

    filed = rep.post(
        "/customers/access-requests", {"code": "C-DEPT", "reason": "客户来电询价,需要查看往来记录"}
    )
    assert filed.status_code == 202
    assert filed.json()["status"] == "filed"
    inbox = manager.get("/customers/access-requests/inbox").json()
    assert [row["customer_code"] for row in inbox["items"]] == ["C-DEPT"]
    request_id = inbox["items"][0]["id"]
    assert Notification.objects.filter(
        recipient=setup.employees["sh_a_lead"], kind="customer.access_requested"
    ).exists()

    approved = manager.post(f"/customers/access-requests/{request_id}/approve", {"days": 3})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert Notification.objects.filter(recipient=outsider, kind="customer.access_decided").exists()
    assert _reads(rep, outsider.user, customer) == everything
    mine = rep.get("/customers/access-requests/mine").json()["items"]
    assert mine[0]["customer_code"] == "C-DEPT" and mine[0]["status"] == "approved"

    AccessRequest.objects.filter(pk=request_id).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert _reads(rep, outsider.user, customer) == nothing

    log = list(
        ArchiveView.objects.filter(customer=customer, viewer=outsider.user)
        .exclude(channel="export")
        .order_by("pk")
        .values_list("channel", "outcome")
    )
    assert log == [
        ("api", "denied"),
        ("360", "denied"),
        ("api", "denied"),
        ("list", "read"),
        ("search", "read"),
        ("api", "read"),
        ("360", "read"),
        ("api", "denied"),
        ("360", "denied"),
    ]
    if exports:  # the export while the grant held is logged as a read, and only that one
        assert list(
            ArchiveView.objects.filter(customer=customer, viewer=outsider.user, channel="export").values_list(
                "outcome", flat=True
            )
        ) == ["read"]


def test_arc6_filing_reveals_nothing_about_the_archive(setup, api_for):
    rep = api_for(setup.employees["bj_a_rep1"])
    answers = [
        rep.post("/customers/access-requests", {"code": "C-DEPT", "reason": "需要"}),
        rep.post("/customers/access-requests", {"code": "C-NOPE", "reason": "需要"}),
        rep.post("/customers/access-requests", {"name": "中国船舶重工集团有限公司", "reason": "需要"}),
        rep.post("/customers/access-requests", {"name": "不存在的公司", "reason": "需要"}),
        rep.post("/customers/access-requests", {"code": "C-DEPT", "reason": "再次"}),  # already pending
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    assert AccessRequest.objects.filter(requester=setup.employees["bj_a_rep1"]).count() == 2
    mine = rep.get("/customers/access-requests/mine").json()["items"]
    assert all(row["customer_code"] is None and row["customer_id"] is None for row in mine)


def test_arc6_no_request_for_a_readable_archive(setup, api_for):
    owner = api_for(setup.employees["sh_a_rep1"])
    assert owner.post("/customers/access-requests", {"code": "C-DEPT", "reason": "x"}).status_code == 202
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"code": "C-DEPT"},
        {"code": "C-DEPT", "reason": ""},
        {"reason": "x"},
        {"code": "C-DEPT", "name": "上海申江精密机械有限公司", "reason": "x"},
        {"code": "C-DEPT", "reason": "x", "extra": 1},
        {"code": "x" * 41, "reason": "x"},
    ],
)
def test_arc6_bad_requests_are_422(setup, api_for, body):
    assert_error(api_for(setup.employees["bj_a_rep1"]).post("/customers/access-requests", body), 422)


def test_arc6_approvers_follow_the_level(setup, api_for):
    """company → the marketing director; department → that department's manager (or above);
    personal → the owner's department manager. Others do not see the request and cannot decide it."""
    requester = setup.employees["bj_a_rep1"]
    requests = {
        level: AccessRequest.objects.create(customer=customer, requester=requester, reason="需要")
        for level, customer in setup.customers.items()
    }
    assert {e.pk for e in workflows.access_approvers(customer=setup.customers["company"])} == {
        setup.employees["gm"].pk
    }
    assert [e.pk for e in workflows.access_approvers(customer=setup.customers["dept"])] == [
        setup.employees["sh_a_lead"].pk
    ]
    manager, director, other = (api_for(setup.employees[k]) for k in ("sh_a_lead", "gm", "bj_gm"))

    def inbox(client):
        return {row["id"] for row in client.get("/customers/access-requests/inbox").json()["items"]}

    assert inbox(manager) == {requests["dept"].pk, requests["personal"].pk}
    assert inbox(director) == {r.pk for r in requests.values()}
    assert inbox(other) == set()
    assert_error(manager.post(f"/customers/access-requests/{requests['company'].pk}/approve", {}), 404)
    assert_error(other.post(f"/customers/access-requests/{requests['dept'].pk}/approve", {}), 404)
    assert (
        director.post(f"/customers/access-requests/{requests['company'].pk}/approve", {}).status_code == 200
    )
    granted = AccessRequest.objects.get(pk=requests["company"].pk)
    assert timedelta(days=6, hours=23) < granted.valid_until - timezone.now() <= timedelta(days=7)


def test_arc6_grant_validity_is_capped(setup, api_for, settings):
    settings.KESTREL_ACCESS_GRANT_MAX_DAYS = 10
    request = AccessRequest.objects.create(
        customer=setup.customers["dept"], requester=setup.employees["bj_a_rep1"], reason="需要"
    )
    manager = api_for(setup.employees["sh_a_lead"])
    assert_error(manager.post(f"/customers/access-requests/{request.pk}/approve", {"days": 11}), 422)
    assert_error(manager.post(f"/customers/access-requests/{request.pk}/approve", {"days": 0}), 422)
    assert_error(manager.post(f"/customers/access-requests/{request.pk}/approve", {"days": "x"}), 422)
    assert manager.post(f"/customers/access-requests/{request.pk}/approve", {"days": 10}).status_code == 200
    assert_error(manager.post(f"/customers/access-requests/{request.pk}/approve", {}), 409)


def test_arc6_reject_with_note_and_withdraw(setup, api_for):
    requester = setup.employees["bj_a_rep1"]
    rep, manager = api_for(requester), api_for(setup.employees["sh_a_lead"])
    first = AccessRequest.objects.create(customer=setup.customers["dept"], requester=requester, reason="a")
    second = AccessRequest.objects.create(
        customer=setup.customers["personal"], requester=requester, reason="b"
    )
    assert_error(manager.post(f"/customers/access-requests/{first.pk}/reject", {}), 422)
    rejected = manager.post(f"/customers/access-requests/{first.pk}/reject", {"note": "与你的业务无关"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "与你的业务无关"
    assert Notification.objects.filter(recipient=requester, kind="customer.access_decided").exists()
    assert_error(manager.post(f"/customers/access-requests/{second.pk}/withdraw"), 404)  # not theirs
    assert rep.post(f"/customers/access-requests/{second.pk}/withdraw").json()["status"] == "withdrawn"
    assert_error(rep.post(f"/customers/access-requests/{second.pk}/withdraw"), 409)
    assert_error(manager.post(f"/customers/access-requests/{second.pk}/approve", {}), 409)
    assert_error(rep.post(f"/customers/access-requests/{first.pk}/approve", {}), 404)  # own request


def test_arc6_view_log_for_holders_approvers_and_admins(setup, api_for, api):
    customer = setup.customers["dept"]
    outsider = api_for(setup.employees["bj_a_rep1"])
    outsider.get(f"/customers/{customer.pk}")
    api_for(setup.employees["sh_a_rep1"]).get(f"/customers/{customer.pk}")
    for client in (api_for(setup.employees["sh_a_rep1"]), api_for(setup.employees["sh_a_lead"]), api):
        response = client.get(f"/customers/{customer.pk}/view-log")
        assert response.status_code == 200, response.content
        outcomes = {(row["viewer_name"], row["outcome"]) for row in response.json()["items"]}
        assert ("销售bj_a_rep1", "denied") in outcomes and ("销售sh_a_rep1", "read") in outcomes
    assert_error(outsider.get(f"/customers/{customer.pk}/view-log"), 404)
    assert_error(api_for(setup.employees["bj_gm"]).get(f"/customers/{customer.pk}/view-log"), 404)
    assert_error(api.get("/customers/999999/view-log"), 404)


def test_arc6_repeated_denied_reads_alert_the_department_manager_once_a_day(setup, api_for, settings):
    settings.KESTREL_DENIED_READS_ALERT = 3
    customer = setup.customers["dept"]
    outsider = api_for(setup.employees["bj_a_rep1"])
    for _ in range(2):
        outsider.get(f"/customers/{customer.pk}")
    assert workflows.archive_denied_alerts() == 0
    outsider.get(f"/customers/{customer.pk}")
    outsider.get(f"/customers/{customer.pk}")
    assert workflows.archive_denied_alerts() == 1
    assert workflows.archive_denied_alerts() == 0
    alerts = Notification.objects.filter(kind="customer.access_denied_alert")
    assert [a.recipient_id for a in alerts] == [setup.employees["sh_a_lead"].pk]
    assert "C-DEPT" in alerts[0].title


def test_arc6_denied_reads_sweep_runs_as_a_periodic_job(setup, api_for, settings):
    from kestrel.customers import tasks

    settings.KESTREL_DENIED_READS_ALERT = 2
    outsider = api_for(setup.employees["bj_a_rep1"])
    for _ in range(2):
        outsider.get(f"/customers/{setup.customers['personal'].pk}/360")
    assert tasks.archive_denied_alerts_sweep.call_local() == 1
    assert tasks.archive_denied_alerts_sweep.call_local() == 0  # once a day


def test_arc6_inbox_and_view_log_query_counts_do_not_grow_with_rows(
    setup, api_for, django_assert_max_num_queries
):
    manager = api_for(setup.employees["sh_a_lead"])
    requesters = [setup.employees[k] for k in ("bj_a_rep1", "bj_a_rep2", "hz_a_rep1", "sh_b_rep1")]
    customer = setup.customers["dept"]

    def count(path: str) -> int:
        with django_assert_max_num_queries(30) as captured:
            assert manager.get(path).status_code == 200
        return len(captured.captured_queries)

    AccessRequest.objects.create(customer=customer, requester=requesters[0], reason="x")
    ArchiveView.objects.create(customer=customer, viewer=requesters[0].user, channel="api", outcome="denied")
    count("/customers/access-requests/inbox")  # warm up: the token's first use is recorded once
    one = (count("/customers/access-requests/inbox"), count(f"/customers/{customer.pk}/view-log"))
    for requester in requesters[1:]:
        AccessRequest.objects.create(customer=customer, requester=requester, reason="x")
        ArchiveView.objects.create(customer=customer, viewer=requester.user, channel="api", outcome="denied")
    assert (count("/customers/access-requests/inbox"), count(f"/customers/{customer.pk}/view-log")) == one


def test_arc6_approve_access_holders_decide_lower_levels_within_their_scope(setup, api_for):
    """A branch general manager holding approve_access decides department- and personal-level
    requests of their branch; company-level ones stay with the marketing director."""
    branch_gm = setup.employees["sh_gm"]
    give(branch_gm, [*SALES, "customers.approve_access"], DataScope.DEPARTMENT_TREE)
    requester = setup.employees["bj_a_rep1"]
    requests = {
        level: AccessRequest.objects.create(customer=customer, requester=requester, reason="需要")
        for level, customer in setup.customers.items()
    }
    inbox = api_for(branch_gm).get("/customers/access-requests/inbox").json()["items"]
    assert {row["id"] for row in inbox} == {requests["dept"].pk, requests["personal"].pk}
    bj_gm = setup.employees["bj_gm"]
    give(bj_gm, [*SALES, "customers.approve_access"], DataScope.DEPARTMENT_TREE)
    assert api_for(bj_gm).get("/customers/access-requests/inbox").json()["count"] == 0
