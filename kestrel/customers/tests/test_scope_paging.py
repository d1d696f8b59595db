"""Scoped customer lists read arm by arm (ARC-6, ARC-10, SPEC §9 pagination): ``page_of`` merges each
arm's newest keys and ``count_of`` sums disjoint arms — both must give exactly what one query over
the whole OR gives, for every viewer, filter, page and page size."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kestrel.core import pagination
from kestrel.core.pagination import count_of, page_of
from kestrel.core.scope import DataScope
from kestrel.customers import selectors
from kestrel.customers.models import AccessRequest, Customer, Region
from kestrel.org.models import Department
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — the org fixture

SALES = ["customers.view_customer"]
LEVELS = [choice for choice, _label in Customer.Confidentiality.choices]


@pytest.fixture
def archive(org):
    """60 customers spread over owners, departments, levels, provinces, relationship managers,
    co-owners and grants, ids interleaved so that every arm holds old and new ones."""
    Department.objects.filter(pk=org.departments["sh_a"].pk).update(manager=org.employees["sh_a_lead"])
    Department.objects.filter(pk=org.departments["sh"].pk).update(manager=org.employees["sh_gm"])
    for key in ("sh_a_lead", "sh_a_rep1", "bj_a_rep1", "sh_gm"):
        org.employees[key].roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT_TREE, permissions=SALES)])
    org.employees["gm"].roles.set(
        [RoleFactory(data_scope=DataScope.DEPARTMENT_TREE, permissions=[*SALES, "customers.read_all_levels"])]
    )
    provinces = list(Region.objects.filter(level=Region.Level.PROVINCE).values_list("pk", flat=True)[:3])
    owners = [org.employees[key] for key in ("sh_a_rep1", "sh_a_rep2", "sh_b_rep1", "bj_a_rep1", "sh_a_lead")]
    rng = random.Random(4)
    customers = []
    for n in range(60):
        owner = rng.choice(owners)
        customers.append(
            Customer(
                code=f"P{n:03d}",
                name=f"测试客户{n}",
                owner=owner,
                department_id=owner.department_id,
                confidentiality=rng.choice(LEVELS),
                province_id=rng.choice(provinces) if provinces else None,
                relationship_manager=org.employees["bj_a_rep1"] if n % 7 == 0 else None,
            )
        )
    Customer.objects.bulk_create(customers)
    created = list(Customer.objects.order_by("pk"))
    for customer in created[::9]:
        customer.co_owners.add(org.employees["bj_a_rep1"])
    for customer in created[3::11]:
        AccessRequest.objects.create(
            customer=customer,
            requester=org.employees["bj_a_rep1"],
            reason="测试",
            status=AccessRequest.Status.APPROVED,
            valid_until=timezone.now() + timedelta(days=1),
        )
    org.provinces = provinces
    return org


VIEWERS = ["sh_a_lead", "sh_a_rep1", "bj_a_rep1", "sh_gm", "gm"]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_arc6_page_read_arm_by_arm_equals_one_query_over_the_or(archive, viewer):
    actor = archive.employees[viewer].user
    for filters in [{}, {"province_id": archive.provinces[0]} if archive.provinces else {}]:
        customers = selectors.customer_list(actor=actor, filters=selectors.CustomerFilter(**filters))
        assert customers.page_branches, "a scoped viewer's list keeps the arms of its OR"
        expected = list(customers.values_list("pk", flat=True))
        assert expected, "every viewer reads something in this archive"
        for size in (1, 4, 7, 50):
            for offset in range(0, len(expected) + size, size):
                page = [customer.pk for customer in page_of(customers, offset, size)]
                assert page == expected[offset : offset + size], (viewer, filters, size, offset)
        assert count_of(customers) == len(expected)


@pytest.mark.parametrize("cap", [1, 5, 17])
def test_arc6_count_over_arms_stops_at_the_cap(archive, monkeypatch, cap):
    monkeypatch.setattr(pagination, "COUNT_CAP", cap)
    customers = selectors.customer_list(actor=archive.employees["bj_a_rep1"].user)
    assert len(customers.page_branches) >= 3  # owner, relationship manager, co-owned and granted
    total = customers.count()
    assert count_of(customers) == min(total, cap + 1)


def test_arc6_arm_leaves_the_or_out_and_keeps_the_filters(archive):
    customers = selectors.customer_list(
        actor=archive.employees["sh_a_lead"].user, filters=selectors.CustomerFilter(status="active")
    )
    for branch in customers.page_branches:
        arm = customers.page_arm(branch)
        assert set(arm.values_list("pk", flat=True)) == set(
            customers.filter(branch).values_list("pk", flat=True)
        )
        where = str(arm.query).split(" WHERE ", 1)[1]
        assert "status" in where
        assert where.count("owner_id") <= 1  # the OR of all arms is gone: at most this arm's own column


def test_arc6_combining_scoped_lists_drops_the_arms(archive):
    one = Customer.objects.readable_by(archive.employees["sh_a_rep1"].user)
    other = Customer.objects.readable_by(archive.employees["bj_a_rep1"].user)
    combined = one | other
    assert combined.page_branches is None
    ids = [customer.pk for customer in page_of(combined.order_by("-pk"), 0, 500)]
    assert ids == list(combined.order_by("-pk").values_list("pk", flat=True))


def test_arc10_page_rows_come_with_their_related_rows_without_a_query_each(archive):
    """PostgreSQL: one plain query per related table instead of an eight-table join (its planner
    spends more on ordering that join than on running it); SQLite: the join. Either way the rows carry
    the same related objects and reading them costs no query per row."""
    customers = selectors.customer_list(actor=archive.employees["sh_gm"].user)
    with CaptureQueriesContext(connection) as queries:
        page = page_of(customers, 0, 20)
        owners = [customer.owner.name for customer in page]
        departments = [customer.department.name for customer in page]
    assert owners and departments
    joined = any(" JOIN " in query["sql"] and '"org_employee"' in query["sql"] for query in queries)
    assert joined is (connection.vendor != "postgresql")
    assert len(queries) <= len(customers.page_branches) + 10  # keys per arm, rows, related tables, tags
    plain = list(customers[:20])
    assert [c.owner_id for c in page] == [c.owner_id for c in plain]


def test_arc10_a_search_reads_its_few_rows_in_one_query(archive, monkeypatch):
    """A search narrows the rows to a handful already: repeating it once per arm would cost more. Its
    three ways give the same page and count: the found ids in hand (a few), the indexed sub-select (more
    than ``SEARCH_CANDIDATES``), and for a common text (here: most of the newest customers have it)
    the arms kept, read newest first row by row."""
    actor = archive.employees["sh_a_lead"].user
    monkeypatch.setattr(selectors, "COMMON_TEXT_SHARE", 1.1)  # never common
    in_hand = selectors.customer_list(actor=actor, filters=selectors.CustomerFilter(q="测试客户1"))
    assert in_hand.page_branches is None
    assert "json_each" in str(in_hand.query) or "ANY((" in str(in_hand.query)
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 1)
    found = selectors.customer_list(actor=actor, filters=selectors.CustomerFilter(q="测试客户1"))
    assert found.page_branches is None
    assert "json_each" not in str(found.query) and "ANY((" not in str(found.query)
    monkeypatch.setattr(selectors, "COMMON_TEXT_SHARE", 0.01)
    walked = selectors.customer_list(actor=actor, filters=selectors.CustomerFilter(q="测试客户1"))
    assert walked.page_branches
    expected = list(found.values_list("pk", flat=True))
    assert len(expected) > 1
    for customers in (in_hand, found, walked):
        assert [customer.pk for customer in page_of(customers, 0, 50)] == expected
        assert count_of(customers) == len(expected)
