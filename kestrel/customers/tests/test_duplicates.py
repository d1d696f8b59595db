"""ARC-9 duplicates: the same credit code is refused; likely duplicates (same phone, same or similar
name) are flagged by a set-based scan; a merge keeps every related record and the audit trail."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from kestrel.core.errors import Conflict
from kestrel.core.scope import DataScope
from kestrel.customers import services, workflows
from kestrel.customers.models import (
    AccessRequest,
    ArchiveView,
    Contact,
    ContactMove,
    Customer,
    CustomerCharacteristics,
    CustomerMerge,
    DuplicateCandidate,
    MajorEvent,
)
from kestrel.customers.validators import credit_code_check_character
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — the api, api_for and org fixtures
from kestrel.org.tests.fixtures import assert_error

MERGER = ["customers.view_customer", "customers.change_customer", "customers.merge_customer"]


def credit_code(prefix17: str) -> str:
    return prefix17 + credit_code_check_character(prefix17)


def make(owner, name: str, **fields) -> Customer:
    return services.customer_create(actor=None, owner=owner, name=name, **fields)


def pairs() -> dict[frozenset[str], set[str]]:
    return {
        frozenset((c.customer.code, c.other.code)): set(c.reason.split(","))
        for c in DuplicateCandidate.objects.select_related("customer", "other")
    }


def test_arc9_same_credit_code_is_refused(org, api):
    rep = org.employees["sh_a_rep1"]
    code = credit_code("91310000MA1FL0000")
    make(rep, "上海甲公司", credit_code=code)
    with pytest.raises(Conflict):
        make(rep, "上海乙公司", credit_code=code.lower())
    response = api.post("/customers", {"name": "上海丙公司", "credit_code": code, "owner_id": rep.pk})
    assert_error(response, 409, "duplicate_credit_code")


def test_arc9_scan_flags_same_phone_same_name_and_similar_names(org):
    rep = org.employees["sh_a_rep1"]
    make(rep, "上海华东精密机械有限公司", code="A1", phone="021-62345678")
    make(rep, "上海华东精密机械制造有限公司", code="A2")  # similar name, same initials? no: extra 制造
    make(rep, "北京燕山石化贸易有限公司", code="B1", phone="13812345678")
    make(rep, "天津港务物流有限公司", code="B2", phone="+86 138 1234 5678")  # the same number, normalised
    make(rep, "杭州西湖茶叶有限公司", code="C1")
    make(rep, "杭州西湖茶叶有限公司", code="C2")
    make(rep, "深圳南山科技有限公司", code="D1")
    make(rep, "深圳南山科技有限责任公司", code="D2")
    make(rep, "深圳南三科技有限公司", code="D3")  # same initials as D1, similar name
    make(rep, "广州白云机场有限公司", code="E1")
    found = workflows.duplicates_scan()
    flagged = pairs()
    assert flagged[frozenset(("B1", "B2"))] == {"same_phone"}
    assert flagged[frozenset(("C1", "C2"))] == {"same_name"}
    assert flagged[frozenset(("D1", "D3"))] == {"similar_name"}
    assert not any("E1" in pair for pair in flagged)
    assert found == len(flagged)
    assert workflows.duplicates_scan() == 0  # each pair once
    assert all(c.customer_id < c.other_id for c in DuplicateCandidate.objects.all())


def test_arc9_dismissed_pairs_stay_dismissed_and_on_demand_scan(org, api_for):
    rep = org.employees["sh_a_rep1"]
    rep.roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT, permissions=MERGER)])
    first = make(rep, "杭州西湖茶叶有限公司", code="C1")
    make(rep, "杭州西湖茶叶有限公司", code="C2")
    client = api_for(rep)
    assert client.post("/customers/duplicates/scan").json() == {"found": 1}
    listed = client.get("/customers/duplicates").json()
    assert listed["count"] == 1 and listed["items"][0]["reasons"] == ["same_name"]
    candidate_id = listed["items"][0]["id"]
    assert client.post(f"/customers/duplicates/{candidate_id}/dismiss").json()["status"] == "dismissed"
    assert_error(client.post(f"/customers/duplicates/{candidate_id}/dismiss"), 409)
    assert client.post("/customers/duplicates/scan").json() == {"found": 0}
    assert client.get("/customers/duplicates").json()["count"] == 0
    third = make(rep, "杭州西湖茶叶有限公司", code="C3")
    assert workflows.duplicates_scan(customer_ids=[third.pk]) == 2
    assert DuplicateCandidate.objects.get(customer=first, other__code="C2").status == "dismissed"


def test_arc9_scan_is_set_based(org, django_assert_max_num_queries):
    rep = org.employees["sh_a_rep1"]
    Customer.objects.bulk_create(
        [
            Customer(
                code=f"N{i}",
                name=f"测试公司{i % 50}",
                name_initials=f"csgs{i % 50}",
                phone=f"1380000{i % 40:04d}",
                owner=rep,
                department_id=rep.department_id,
            )
            for i in range(400)
        ]
    )
    with django_assert_max_num_queries(12):
        found = workflows.duplicates_scan()
    assert found > 0


def test_arc9_duplicate_list_respects_data_scope(org, api_for):
    make(org.employees["sh_a_rep1"], "同名公司", code="S1")
    make(org.employees["bj_a_rep1"], "同名公司", code="S2")
    workflows.duplicates_scan()
    rep = org.employees["sh_a_rep1"]
    rep.roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT, permissions=MERGER)])
    assert api_for(rep).get("/customers/duplicates").json()["count"] == 0
    seller = org.employees["bj_a_rep2"]
    seller.roles.set([RoleFactory(data_scope=DataScope.ALL, permissions=["customers.view_customer"])])
    assert_error(api_for(seller).get("/customers/duplicates"), 403)


@pytest.fixture
def twins(org):
    rep, other = org.employees["sh_a_rep1"], org.employees["sh_a_rep2"]
    kept = make(
        rep,
        "上海华东精密机械有限公司",
        code="K1",
        phone="021-62345678",
        tags=["重点"],
        characteristics={"service_area": "华东"},
    )
    services.contact_create(actor=None, customer=kept, name="张伟", is_primary=True)
    merged = make(
        other,
        "上海华东精密机械有限公司 ",
        code="M1",
        credit_code=credit_code("91310000MA1FL0001"),
        address="上海市闵行区莘庄工业区",
        email="info@huadong.example.cn",
        tags=["华东", "重点"],
        characteristics={"service_area": "上海", "frictions": "账期争议"},
    )
    contact = services.contact_create(
        actor=None, customer=merged, name="李娜", title="采购经理", is_primary=True
    )
    services.major_event_add(actor=None, customer=merged, occurred_on=date(2025, 3, 1), title="更名")
    AccessRequest.objects.create(customer=merged, requester=org.employees["bj_a_rep1"], reason="需要")
    ArchiveView.objects.create(customer=merged, viewer=rep.user, channel="api", outcome="read")
    workflows.duplicates_scan()
    third = make(org.employees["hz_a_rep1"], "上海华东精密机械有限公司", code="T1")
    workflows.duplicates_scan()
    org.employees["gm"].roles.set(
        [RoleFactory(data_scope=DataScope.ALL, permissions=[*MERGER, "customers.read_all_levels"])]
    )
    return {"kept": kept, "merged": merged, "contact": contact, "third": third, "org": org}


def test_arc9_merge_keeps_every_related_record_and_the_audit_trail(twins, api_for):
    kept, merged = twins["kept"], twins["merged"]
    org = twins["org"]
    client = api_for(org.employees["gm"])
    response = client.post("/customers/merge", {"kept_id": kept.pk, "merged_id": merged.pk})
    assert response.status_code == 200, response.content
    record = CustomerMerge.objects.get(pk=response.json()["id"])
    assert record.merged_code == "M1" and record.snapshot["address"] == "上海市闵行区莘庄工业区"
    assert record.moved["contacts"] == 1

    kept.refresh_from_db()
    merged.refresh_from_db()
    # The merged customer is archived, marked, and its credit code went to the kept one.
    assert merged.status == Customer.Status.ARCHIVED
    assert merged.custom_fields["merged_into"]["id"] == kept.pk
    assert merged.credit_code is None and kept.credit_code == credit_code("91310000MA1FL0001")
    assert kept.address == "上海市闵行区莘庄工业区" and kept.phone == "021-62345678"
    # Related records moved.
    contact = Contact.objects.get(pk=twins["contact"].pk)
    assert contact.customer_id == kept.pk and not contact.is_primary
    move = ContactMove.objects.get(contact=contact)
    assert (move.from_customer_id, move.to_customer_id, move.from_title) == (merged.pk, kept.pk, "采购经理")
    assert MajorEvent.objects.filter(customer=kept, title="更名").exists()
    assert AccessRequest.objects.filter(customer=kept).count() == 1
    assert ArchiveView.objects.filter(customer=merged).count() == 0
    assert set(kept.tags.values_list("name", flat=True)) == {"华东", "重点"}
    assert org.employees["sh_a_rep2"] in kept.co_owners.all()  # the merged owner keeps holding it
    characteristics = CustomerCharacteristics.objects.get(customer=kept)
    assert (characteristics.service_area, characteristics.frictions) == ("华东", "账期争议")
    # Duplicate pairs: the merged pair is done; the third customer's pair now points at the kept one.
    statuses = {frozenset((c.customer_id, c.other_id)): c.status for c in DuplicateCandidate.objects.all()}
    assert statuses[frozenset((kept.pk, merged.pk))] == "merged"
    assert statuses[frozenset((kept.pk, twins["third"].pk))] == "open"
    assert not any(merged.pk in pair and kept.pk not in pair for pair in statuses)
    # The audit trail: the archiving of the merged customer and the filled-in fields of the kept one.
    customer_type = ContentType.objects.get_for_model(Customer)
    archived = LogEntry.objects.filter(
        content_type=customer_type, object_pk=str(merged.pk), changes__has_key="status"
    )
    assert archived.exists()
    assert LogEntry.objects.filter(
        content_type=customer_type, object_pk=str(kept.pk), changes__has_key="address"
    ).exists()


def test_arc9_merge_refusals(twins, api_for):
    kept, merged = twins["kept"], twins["merged"]
    org = twins["org"]
    client = api_for(org.employees["gm"])
    assert_error(client.post("/customers/merge", {"kept_id": kept.pk, "merged_id": kept.pk}), 422)
    assert_error(client.post("/customers/merge", {"kept_id": kept.pk, "merged_id": 999999}), 404)
    assert_error(client.post("/customers/merge", {"kept_id": kept.pk}), 422)
    assert client.post("/customers/merge", {"kept_id": kept.pk, "merged_id": merged.pk}).status_code == 200
    assert_error(client.post("/customers/merge", {"kept_id": kept.pk, "merged_id": merged.pk}), 409)
    # Without merge permission, or without reading both: refused.
    rep = org.employees["sh_a_rep1"]
    rep.roles.set([RoleFactory(data_scope=DataScope.SELF, permissions=MERGER)])
    assert_error(
        api_for(rep).post("/customers/merge", {"kept_id": kept.pk, "merged_id": twins["third"].pk}), 404
    )


def test_arc9_nightly_job_runs_the_scan(org):
    from kestrel.customers import tasks

    make(org.employees["sh_a_rep1"], "同名公司", code="S1")
    make(org.employees["sh_a_rep2"], "同名公司", code="S2")
    assert tasks.duplicates_scan_nightly.call_local() == 1
