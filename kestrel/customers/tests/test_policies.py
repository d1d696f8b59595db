"""ARC-5 ownership policies and ARC-7 archive freshness, as scoped, set-based reports."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kestrel.core.scope import DataScope
from kestrel.customers import policies, services
from kestrel.customers.models import Customer, Grade
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403
from kestrel.org.tests.fixtures import assert_error

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 24)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Beijing time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def grade(code: str) -> Grade:
    return Grade.objects.get(scheme__code="importance", code=code)


def make_customer(owner, *, grade_code=None, manager=None, co_owners=(), **fields) -> Customer:
    fields.setdefault("name", f"客户{Customer.objects.count() + 1}")
    customer = services.customer_create(
        actor=None, owner=owner, relationship_manager=manager, co_owners=list(co_owners), **fields
    )
    if grade_code:
        Customer.objects.filter(pk=customer.pk).update(grade=grade(grade_code))
    return customer


def stamp(customer: Customer, *, contact: datetime | None, updated: datetime | None) -> None:
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=contact, archive_updated_at=updated)


@pytest.fixture
def people(org):
    e = org.employees
    return e["sh_a_rep1"], e["sh_a_rep2"], e["sh_a_lead"], e["bj_a_rep1"]


@pytest.fixture
def branch_manager(org):
    employee = org.employees["sh_gm"]
    employee.roles.set(
        [
            RoleFactory(
                data_scope=DataScope.DEPARTMENT_TREE,
                permissions=["customers.view_customer", "customers.read_all_levels"],
            )
        ]
    )
    return employee


# --- ARC-5 ----------------------------------------------------------------------------------------


@pytest.fixture
def ownership_cases(people):
    rep, rep2, lead, far = people
    return {
        "core_alone": make_customer(rep, grade_code="core"),
        "important_ok": make_customer(rep, grade_code="important", manager=lead),
        "manager_is_owner": make_customer(rep, grade_code="important", manager=rep),
        "holders_overlap": make_customer(rep2, grade_code="core", manager=lead, co_owners=[rep2, lead]),
        "no_manager_two_holders": make_customer(rep2, grade_code="important", co_owners=[rep]),
        "general": make_customer(rep, grade_code="general"),
        "ungraded": make_customer(rep),
        "other_branch": make_customer(far, grade_code="core"),
    }


@pytest.mark.django_db
def test_arc5_relationship_manager_and_two_holders_report(superuser, ownership_cases, people):
    rep, rep2, _, far = people
    rows = {c.pk: c for c in policies.ownership_violations(actor=superuser)}
    names = {key for key, c in ownership_cases.items() if c.pk in rows}
    assert names == {"core_alone", "manager_is_owner", "no_manager_two_holders", "other_branch"}
    core_alone = rows[ownership_cases["core_alone"].pk]
    assert (core_alone.missing_manager, core_alone.too_few_holders, core_alone.holders) == (1, 1, 1)
    manager_is_owner = rows[ownership_cases["manager_is_owner"].pk]
    assert (manager_is_owner.missing_manager, manager_is_owner.too_few_holders, manager_is_owner.holders) == (
        0,
        1,
        1,
    )
    two = rows[ownership_cases["no_manager_two_holders"].pk]
    assert (two.missing_manager, two.too_few_holders, two.holders) == (1, 0, 2)
    reasons = policies.ownership_reasons(core_alone)
    assert len(reasons) == 2 and all("核心客户" in reason for reason in reasons)
    assert "2" in reasons[1] and "1" in reasons[1]

    summary = {row["owner_id"]: row for row in policies.ownership_summary(actor=superuser)}
    assert (summary[rep.pk]["customers"], summary[rep.pk]["missing_relationship_manager"]) == (2, 1)
    assert summary[rep.pk]["too_few_holders"] == 2
    assert (summary[rep2.pk]["customers"], summary[rep2.pk]["too_few_holders"]) == (1, 0)
    assert summary[far.pk]["customers"] == 1


@pytest.mark.django_db
def test_arc5_report_filters_by_owner_and_department(superuser, ownership_cases, org, people):
    rep = people[0]
    by_owner = policies.ownership_violations(actor=superuser, filters=policies.ReportFilter(owner_id=rep.pk))
    assert {c.owner_id for c in by_owner} == {rep.pk}
    east = policies.ReportFilter(department_id=org.departments["east"].pk)
    assert ownership_cases["other_branch"].pk not in {
        c.pk for c in policies.ownership_violations(actor=superuser, filters=east)
    }
    nowhere = policies.ReportFilter(department_id=999999)
    assert not policies.ownership_violations(actor=superuser, filters=nowhere).exists()


@pytest.mark.django_db
def test_arc5_api_report_scoped_to_readable_customers(api, api_for, branch_manager, ownership_cases, org):
    everything = api.get("/customers/reports/ownership").json()
    assert everything["count"] == 4
    assert {row["owner_id"] for row in everything["summary"]} == {
        org.employees["sh_a_rep1"].pk,
        org.employees["sh_a_rep2"].pk,
        org.employees["bj_a_rep1"].pk,
    }
    scoped = api_for(branch_manager).get("/customers/reports/ownership")
    assert scoped.status_code == 200, scoped.content
    body = scoped.json()
    assert ownership_cases["other_branch"].pk not in {row["customer_id"] for row in body["items"]}
    assert body["count"] == 3 and sum(row["customers"] for row in body["summary"]) == 3
    item = next(row for row in body["items"] if row["customer_id"] == ownership_cases["core_alone"].pk)
    assert item["missing_relationship_manager"] and item["too_few_holders"] and len(item["reasons"]) == 2
    assert item["grade"] == "核心客户" and item["holders"] == 1 and item["min_holders"] == 2
    page = api.get("/customers/reports/ownership", {"page_size": 2, "page": 2}).json()
    assert len(page["items"]) == 2 and page["count"] == 4


@pytest.mark.django_db
def test_arc5_api_report_permission_and_bad_input(api, api_for, org, ownership_cases):
    nobody = org.employees["hz_a_rep1"]
    assert_error(api_for(nobody).get("/customers/reports/ownership"), 403)
    assert_error(api_for(nobody).get("/customers/reports/freshness"), 403)
    for params in ({"page": 0}, {"page_size": 501}, {"owner_id": "x"}, {"department_id": -1}):
        assert_error(api.get("/customers/reports/ownership", params), 422)
    assert_error(api.get("/customers/reports/freshness", {"max_age_days": 0}), 422)
    assert_error(api.get("/customers/reports/freshness", {"max_age_days": "a"}), 422)


@pytest.mark.django_db
def test_arc5_report_query_count_flat(api, people):
    rep = people[0]

    def queries(count: int) -> int:
        for _ in range(count):
            make_customer(rep, grade_code="core")
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/customers/reports/ownership", {"page_size": 100})
        assert response.status_code == 200
        return len(captured.captured_queries)

    api.get("/customers/reports/ownership")  # warm caches (content types, permissions)
    assert queries(5) == queries(45)


# --- ARC-7 ----------------------------------------------------------------------------------------


@pytest.fixture
def freshness_cases(people):
    rep, rep2, _, far = people
    cases = {
        "fresh": (rep, at(23, 10), at(23, 18)),
        "missed": (rep, at(21, 10), at(19, 9)),
        "same_day_earlier_update": (rep, at(22, 15), at(22, 9)),
        "contact_today": (rep, at(24, 9), at(23, 9)),
        "old": (rep2, None, at(24, 9) - timedelta(days=40)),
        "never": (rep2, at(20, 9), None),
        # 00:30 on the 21st in Beijing is still the 20th in UTC, like the update: a miss in Beijing.
        "midnight": (rep2, at(21, 0, 30), at(20, 23, 50)),
        "other_branch": (far, at(21, 10), at(19, 9)),
    }
    made = {}
    for key, (owner, contact, updated) in cases.items():
        made[key] = make_customer(owner)
        stamp(made[key], contact=contact, updated=updated)
    return made


@pytest.mark.django_db
def test_arc7_freshness_same_day_and_monthly(superuser, freshness_cases, people):
    rep, rep2, *_ = people
    rows = {c.pk: c for c in policies.freshness_stale(actor=superuser, today=TODAY, max_age_days=30)}
    stale = {key for key, c in freshness_cases.items() if c.pk in rows}
    assert stale == {"missed", "old", "never", "midnight", "other_branch"}
    flags = {
        key: (rows[c.pk].missed_same_day, rows[c.pk].too_old)
        for key, c in freshness_cases.items()
        if c.pk in rows
    }
    assert flags["missed"] == (1, 0) and flags["old"] == (0, 1) and flags["never"] == (1, 1)
    assert flags["midnight"] == (1, 0)
    reasons = policies.freshness_reasons(rows[freshness_cases["old"].pk], today=TODAY, max_age_days=30)
    assert "40" in reasons[0] and "30" in reasons[0]
    assert (
        "2026-11-21"
        in policies.freshness_reasons(rows[freshness_cases["missed"].pk], today=TODAY, max_age_days=30)[0]
    )

    summary = {
        row["owner_id"]: row
        for row in policies.freshness_summary(actor=superuser, today=TODAY, max_age_days=30)
    }
    assert (summary[rep.pk]["customers"], summary[rep.pk]["missed_same_day"]) == (1, 1)
    assert summary[rep2.pk] == summary[rep2.pk] | {
        "customers": 3,
        "missed_same_day": 2,
        "not_updated_in_time": 2,
    }
    # The interval is configuration: with 45 days, "old" (40 days) is no longer stale.
    longer = {c.pk for c in policies.freshness_stale(actor=superuser, today=TODAY, max_age_days=45)}
    assert freshness_cases["old"].pk not in longer


@pytest.mark.django_db
def test_arc7_interval_from_settings(superuser, settings, people):
    customer = make_customer(people[0])
    stamp(customer, contact=None, updated=timezone.now() - timedelta(days=20))
    assert not policies.freshness_stale(actor=superuser).exists()
    settings.KESTREL_ARCHIVE_FRESHNESS_DAYS = 10
    assert policies.freshness_days() == 10
    assert policies.freshness_stale(actor=superuser).filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_arc7_api_freshness_per_owner_and_scoped(api, api_for, branch_manager, people):
    rep, rep2, _, far = people
    now = timezone.now()
    stale_mine = make_customer(rep)
    stamp(stale_mine, contact=now - timedelta(days=3), updated=now - timedelta(days=5))
    stale_far = make_customer(far)
    stamp(stale_far, contact=None, updated=now - timedelta(days=60))
    make_customer(rep2, annual_sales=Decimal("1"))  # just created: fresh
    body = api.get("/customers/reports/freshness").json()
    assert body["max_age_days"] == 30
    assert {row["customer_id"] for row in body["items"]} == {stale_mine.pk, stale_far.pk}
    assert {row["owner_id"]: row["customers"] for row in body["summary"]} == {rep.pk: 1, far.pk: 1}
    item = next(row for row in body["items"] if row["customer_id"] == stale_mine.pk)
    assert item["missed_same_day"] and not item["not_updated_in_time"] and item["reasons"]

    scoped = api_for(branch_manager).get("/customers/reports/freshness").json()
    assert {row["customer_id"] for row in scoped["items"]} == {stale_mine.pk}
    mine_only = api.get("/customers/reports/freshness", {"owner_id": far.pk}).json()
    assert {row["customer_id"] for row in mine_only["items"]} == {stale_far.pk}
    relaxed = api.get("/customers/reports/freshness", {"max_age_days": 90}).json()
    assert {row["customer_id"] for row in relaxed["items"]} == {stale_mine.pk}


@pytest.mark.django_db
def test_arc7_report_query_count_flat(api, people):
    rep = people[0]
    old = timezone.now() - timedelta(days=45)

    def queries(count: int) -> int:
        for _ in range(count):
            stamp(make_customer(rep), contact=old, updated=old - timedelta(days=1))
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/customers/reports/freshness", {"page_size": 100})
        assert response.status_code == 200 and response.json()["count"] == Customer.objects.count()
        return len(captured.captured_queries)

    api.get("/customers/reports/freshness")  # warm caches (content types, permissions)
    assert queries(5) == queries(45)
