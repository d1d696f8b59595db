"""ARC-4 grading: shipped schemes, rules over metrics with explanations, pinned grades, the
downgrade event, dry runs, set-based regrading, and the grades API."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kestrel.core import events
from kestrel.core.scope import DataScope
from kestrel.customers import grading, services
from kestrel.customers.models import (
    ArchiveView,
    Customer,
    CustomerGrade,
    CustomField,
    Grade,
    GradeChange,
    GradeScheme,
)
from kestrel.notify.models import Notification
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403
from kestrel.org.tests.fixtures import assert_error

GRADER = ["customers.view_customer", "customers.grade_customer"]


def make_customer(owner, **fields) -> Customer:
    fields.setdefault("name", f"客户{Customer.objects.count() + 1}")
    return services.customer_create(actor=None, owner=owner, **fields)


def grade_of(customer: Customer, scheme_code: str = "importance") -> str | None:
    row = CustomerGrade.objects.filter(customer=customer, scheme__code=scheme_code).select_related("grade")
    row = row.first()
    return row.grade.code if row else None


def importance() -> GradeScheme:
    return GradeScheme.objects.get(code="importance")


@pytest.fixture
def rep(org):
    return org.employees["sh_a_rep1"]


@pytest.fixture
def with_role(org):
    def give(key: str, permissions: list[str], scope: DataScope = DataScope.SELF):
        employee = org.employees[key]
        employee.roles.set([RoleFactory(data_scope=scope, permissions=permissions)])
        return employee

    return give


# --- Shipped schemes ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_arc4_seed_schemes_shipped_as_data():
    schemes = {s.code: s for s in GradeScheme.objects.all()}
    assert set(schemes) >= {"importance", "level", "abc", "futures"}
    assert schemes["importance"].is_primary
    grades = {g.code: g for g in Grade.objects.filter(scheme__code="importance")}
    assert [g.name for g in sorted(grades.values(), key=lambda g: g.rank)] == [
        "核心客户",
        "重要客户",
        "大客户",
        "一般客户",
    ]
    for code in ("core", "important"):
        assert grades[code].requires_relationship_manager and grades[code].min_holders == 2
    assert not grades["general"].requires_relationship_manager
    assert Grade.objects.filter(scheme__code="level").count() == 5
    assert list(Grade.objects.filter(scheme__code="abc").values_list("name", flat=True)) == [
        "A级",
        "B级",
        "C级",
    ]
    futures = {g.name: g.rules for g in Grade.objects.filter(scheme__code="futures")}
    # Seed 003: 小散户 < 2万 and < 10万; 关键客户 2~100万 and 10~1000万; 重点服务客户 > 100万 and > 1000万.
    assert {(r["metric"], r["op"], r["value"]) for r in futures["小散户"]} == {
        ("commission_annual", "<", "20000"),
        ("funds", "<", "100000"),
    }
    assert {(r["metric"], r["op"], r["value"]) for r in futures["关键客户"]} == {
        ("commission_annual", ">=", "20000"),
        ("commission_annual", "<=", "1000000"),
        ("funds", ">=", "100000"),
        ("funds", "<=", "10000000"),
    }
    assert {(r["metric"], r["op"], r["value"]) for r in futures["重点服务客户"]} == {
        ("commission_annual", ">", "1000000"),
        ("funds", ">", "10000000"),
    }
    assert any(r["metric"] == "monthly_trades" for r in futures["炒单客户"])
    for grade in Grade.objects.all():
        grading.rules_parse(grade.rules)


@pytest.mark.django_db
def test_arc4_preset_install_skips_existing_schemes():
    data = {
        "schemes": [
            {"code": "importance", "name": "x", "grades": []},
            {
                "code": "hotel",
                "name": "酒店",
                "is_primary": True,
                "grades": [{"code": "vip", "name": "VIP", "rank": 1}],
            },
        ]
    }
    assert grading.grade_schemes_install(data=data) == ["hotel"]
    hotel = GradeScheme.objects.get(code="hotel")
    assert not hotel.is_primary  # one primary already exists
    assert importance().name != "x"


# --- Rules and explanations -----------------------------------------------------------------------


@pytest.mark.django_db
def test_arc4_rules_grade_customers_with_explanations(rep):
    core = make_customer(rep, annual_sales=Decimal("80000000"))
    important = make_customer(rep, annual_sales=Decimal("6200000"))
    major = make_customer(rep, annual_sales=Decimal("1000000"))
    small = make_customer(rep, annual_sales=Decimal("300000"))
    unknown = make_customer(rep)
    with translation.override("en"):
        report = grading.customers_regrade(actor=None, schemes=[importance()])
    assert report.schemes[0].changed == 5
    assert [grade_of(c) for c in (core, important, major, small, unknown)] == [
        "core",
        "important",
        "major",
        "general",
        "general",
    ]
    important.refresh_from_db()
    assert important.grade.code == "important"  # the primary scheme's grade is the customer's grade
    change = GradeChange.objects.get(customer=important)
    assert change.source == GradeChange.Source.RULE and change.from_grade is None
    assert change.reason == "annual sales 6,200,000 yuan ≥ 5,000,000 yuan → 重要客户"
    why_general = GradeChange.objects.get(customer=small).reason
    assert "300,000 yuan < 1,000,000 yuan" in why_general and why_general.endswith("一般客户")
    assert "not recorded" in GradeChange.objects.get(customer=unknown).reason


@pytest.mark.django_db
def test_arc4_explanation_in_chinese_counts_in_wan(rep):
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    with translation.override("zh-hans"):
        grading.customers_regrade(actor=None, schemes=[importance()])
    reason = GradeChange.objects.get(customer=customer).reason
    assert "620" in reason and "500" in reason and "≥" in reason and reason.endswith("→ 重要客户")


@pytest.mark.django_db
def test_arc4_regrade_is_idempotent_and_ignores_archived(rep):
    make_customer(rep, annual_sales=Decimal("6200000"))
    archived = make_customer(rep, annual_sales=Decimal("6200000"), status=Customer.Status.ARCHIVED)
    grading.customers_regrade(actor=None)
    assert grade_of(archived) is None
    again = grading.customers_regrade(actor=None)
    assert all(s.changed == 0 for s in again.schemes)
    assert GradeChange.objects.count() == 2  # importance and level, once each


@pytest.mark.django_db
def test_arc4_customer_grade_follows_a_new_primary_scheme(rep):
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    grading.customers_regrade(actor=None)
    GradeScheme.objects.filter(code="importance").update(is_primary=False)
    GradeScheme.objects.filter(code="level").update(is_primary=True)
    grading.customers_regrade(actor=None)
    customer.refresh_from_db()
    assert customer.grade.code == "level3"
    GradeScheme.objects.update(is_primary=False)
    assert grading.primary_grade_sync() == 1
    customer.refresh_from_db()
    assert customer.grade is None


@pytest.mark.django_db
def test_arc4_schemes_without_metrics_or_rules_are_skipped(rep):
    make_customer(rep, annual_sales=Decimal("6200000"))
    report = {s.scheme: s for s in grading.customers_regrade(actor=None).schemes}
    assert "commission_annual" in report["futures"].skipped
    assert report["abc"].skipped and report["abc"].changed == 0
    assert report["level"].changed == 1


@pytest.mark.django_db
def test_arc4_metric_registry_and_numeric_custom_fields(rep):
    """Modules register metrics later (commission, funds…); here they come from custom fields."""
    for key in ("commission", "funds", "trades"):
        CustomField.objects.create(key=key, label=key, type=CustomField.Type.DECIMAL)
    registered = {
        "commission_annual": "custom_fields__commission",
        "funds": "custom_fields__funds",
        "monthly_trades": "custom_fields__trades",
    }
    try:
        for key in registered:
            grading.metric_register(
                key=key,
                label=key,
                unit="yuan",
                expression=grading._custom_metric(registered[key].split("__")[1], key).expression,
            )
        big = make_customer(rep, custom_fields={"commission": 2_000_000, "funds": "20000000"})
        key = make_customer(rep, custom_fields={"commission": "50000", "funds": 500000})
        retail = make_customer(rep, custom_fields={"commission": 100, "funds": 5000})
        scalper = make_customer(rep, custom_fields={"commission": 100, "funds": 5000, "trades": 300})
        broken = make_customer(rep, custom_fields={"funds": 5000})
        # Stored before the field was numeric (the services refuse "n/a" now).
        Customer.objects.filter(pk=broken.pk).update(custom_fields={"commission": "n/a", "funds": 5000})
        report = grading.customers_regrade(actor=None, schemes=[GradeScheme.objects.get(code="futures")])
        assert not report.schemes[0].skipped
        assert [grade_of(c, "futures") for c in (big, key, retail, scalper, broken)] == [
            "key_service",
            "key",
            "retail",
            "scalper",
            None,  # a value that is not a number is missing, never an error
        ]
    finally:
        for key in registered:
            grading.metric_unregister(key)


@pytest.mark.django_db
def test_arc4_custom_field_metric_in_rules(rep):
    CustomField.objects.create(key="score", label="评分", type=CustomField.Type.NUMBER)
    scheme = GradeScheme.objects.create(code="score", name="评分")
    Grade.objects.create(
        scheme=scheme,
        code="hi",
        name="高",
        rank=1,
        rules=[{"metric": "custom:score", "op": ">", "value": 80}],
    )
    Grade.objects.create(scheme=scheme, code="lo", name="低", rank=2)
    high, low = (
        make_customer(rep, custom_fields={"score": 90}),
        make_customer(rep, custom_fields={"score": 10}),
    )
    grading.customers_regrade(actor=None, schemes=[scheme])
    assert (grade_of(high, "score"), grade_of(low, "score")) == ("hi", "lo")
    assert "评分 90 > 80 → 高" in GradeChange.objects.get(customer=high).reason


@pytest.mark.django_db
def test_arc4_pinned_grade_survives_regrade(rep):
    customer = make_customer(rep, annual_sales=Decimal("100"))
    grading.customer_grade_set(
        actor=None, customer=customer, scheme=importance(), grade_code="core", reason="战略客户，总经理指定"
    )
    report = grading.customers_regrade(actor=None, schemes=[importance()])
    assert report.schemes[0].changed == 0
    assert grade_of(customer) == "core"
    customer.refresh_from_db()
    assert customer.grade.code == "core"
    grading.customer_grade_unpin(actor=None, customer=customer, scheme=importance())
    assert grade_of(customer) == "general"
    assert not CustomerGrade.objects.get(customer=customer, scheme=importance()).pinned


# --- Downgrades -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_arc4_downgrade_event_fires_once_and_notifies_owner_and_manager(org, rep):
    manager = org.employees["sh_a_lead"]
    customer = make_customer(rep, annual_sales=Decimal("6200000"), relationship_manager=manager)
    grading.customers_regrade(actor=None, schemes=[importance()])
    services.customer_update(actor=None, customer=customer, annual_sales=Decimal("200000"))
    with events.captured() as seen:
        grading.customers_regrade(actor=None, schemes=[importance()])
        grading.customers_regrade(actor=None, schemes=[importance()])
    downgrades = [e for e in seen if isinstance(e, grading.CustomerDowngraded)]
    assert len(downgrades) == 1
    event = downgrades[0]
    assert (event.customer_id, event.scheme, event.from_grade, event.to_grade) == (
        customer.pk,
        "importance",
        "important",
        "general",
    )
    assert event.name == "customer.downgraded" and event.explanation.endswith("→ 一般客户")
    change = GradeChange.objects.get(pk=event.change_id)
    assert (change.customer_id, change.to_grade.code, change.reason) == (
        customer.pk,
        "general",
        event.explanation,
    )
    notes = Notification.objects.filter(kind="customer.downgraded")
    assert set(notes.values_list("recipient_id", flat=True)) == {rep.pk, manager.pk}
    assert all(n.body == event.explanation for n in notes)
    events.publish(event)  # delivered again: still one notification each
    assert Notification.objects.filter(kind="customer.downgraded").count() == 2


@pytest.mark.django_db
def test_arc4_manual_downgrade_publishes_event_and_upgrade_does_not(rep):
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    grading.customers_regrade(actor=None, schemes=[importance()])
    with events.captured() as seen:
        grading.customer_grade_set(
            actor=None, customer=customer, scheme=importance(), grade_code="core", reason="升级"
        )
        grading.customer_grade_set(
            actor=None, customer=customer, scheme=importance(), grade_code="major", reason="回款差"
        )
    assert [(e.from_grade, e.to_grade, e.explanation, e.source) for e in seen] == [
        ("core", "major", "回款差", "manual")
    ]


@pytest.mark.django_db
def test_arc4_subscriber_failure_rolls_back_the_grade_change(rep):
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    grading.customers_regrade(actor=None, schemes=[importance()])

    def broken(event):
        raise RuntimeError("subscriber failed")

    events.subscribe(grading.CustomerDowngraded, broken)
    try:
        with pytest.raises(RuntimeError):
            grading.customer_grade_set(
                actor=None, customer=customer, scheme=importance(), grade_code="general", reason="x"
            )
    finally:
        events.unsubscribe(grading.CustomerDowngraded, broken)
    assert grade_of(customer) == "important"


# --- Dry run and set-based regrading ---------------------------------------------------------------


@pytest.mark.django_db
def test_arc4_dry_run_previews_and_changes_nothing(rep):
    customers = [make_customer(rep, annual_sales=Decimal(v)) for v in ("80000000", "6200000", "10")]
    with events.captured() as seen:
        report = grading.customers_regrade(actor=None, schemes=[importance()], dry_run=True)
    assert report.schemes[0].changed == 3
    assert [c.to_grade for c in report.schemes[0].changes] == ["核心客户", "重要客户", "一般客户"]
    assert not CustomerGrade.objects.exists() and not GradeChange.objects.exists() and not seen
    assert all(c.grade_id is None for c in Customer.objects.filter(pk__in=[c.pk for c in customers]))


@pytest.mark.django_db
def test_arc4_preview_of_proposed_thresholds(rep):
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    grading.customers_regrade(actor=None, schemes=[importance()])
    proposed = {"important": [{"metric": "annual_sales", "op": ">=", "value": "8000000"}]}
    report = grading.customers_regrade(
        actor=None, schemes=[importance()], dry_run=True, rules_override=proposed
    )
    preview = report.schemes[0].changes
    assert [(p.customer_id, p.from_grade, p.to_grade, p.downgrade) for p in preview] == [
        (customer.pk, "重要客户", "大客户", True)
    ]
    assert grade_of(customer) == "important"


@pytest.mark.django_db
def test_arc4_regrade_query_count_is_flat_as_customers_grow(rep):
    def queries_for(count: int, sales: str) -> int:
        for _ in range(count):
            make_customer(rep, annual_sales=Decimal(sales))
        with CaptureQueriesContext(connection) as captured:
            report = grading.customers_regrade(actor=None, schemes=[importance()])
        assert report.schemes[0].changed == count
        return len(captured.captured_queries)

    few = queries_for(5, "6200000")
    many = queries_for(50, "80000000")
    assert many == few
    assert few <= 12


# --- Job, admin, events ---------------------------------------------------------------------------


def test_arc4_nightly_regrade_job_scheduled():
    due = grading.customers_regrade_nightly.kestrel_due
    assert due(datetime(2026, 11, 23, 17, 30, tzinfo=UTC))  # 01:30 in Beijing
    assert not due(datetime(2026, 11, 23, 17, 31, tzinfo=UTC))
    assert not due(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))


@pytest.mark.django_db
def test_arc4_schemes_configured_in_admin(client, superuser, rep):
    for model in (GradeScheme, Grade, GradeChange, ArchiveView):
        assert admin.site.is_registered(model)
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    grading.customers_regrade(actor=None)
    client.force_login(superuser)
    scheme = importance()
    for url in (
        "/admin/customers/gradescheme/",
        f"/admin/customers/gradescheme/{scheme.pk}/change/",
        "/admin/customers/grade/",
        "/admin/customers/gradechange/",
        f"/admin/customers/gradechange/{GradeChange.objects.filter(customer=customer).first().pk}/change/",
        "/admin/customers/archiveview/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/customers/gradechange/add/").status_code == 403
    grade = Grade.objects.get(scheme=scheme, code="core")
    form = grading_admin_form(grade, rules='[{"metric": "annual_sales", "op": "~", "value": 1}]')
    assert not form.is_valid() and "rules" in form.errors
    form = grading_admin_form(grade, rules='[{"metric": "annual_sales", "op": ">=", "value": "60000000"}]')
    assert form.is_valid(), form.errors


def grading_admin_form(grade, *, rules):
    from kestrel.customers.admin import GradeForm

    data = {
        "code": grade.code,
        "name": grade.name,
        "rank": grade.rank,
        "rules": rules,
        "requires_relationship_manager": "on",
        "min_holders": 2,
    }
    return GradeForm(data=data, instance=grade)


@pytest.mark.django_db
def test_arc4_events_are_typed_and_subscribing_twice_is_once():
    calls = []

    def handler(event):
        calls.append(event)

    events.subscribe(grading.CustomerDowngraded, handler)
    events.subscribe(grading.CustomerDowngraded, handler)
    try:
        events.publish(
            grading.CustomerDowngraded(
                customer_id=1, scheme="s", from_grade="a", to_grade="b", explanation="e"
            )
        )
    finally:
        events.unsubscribe(grading.CustomerDowngraded, handler)
    assert len(calls) == 1
    assert grading.downgrade_notify_holders in events.subscribers(grading.CustomerDowngraded)
    with pytest.raises(TypeError):
        events.publish({"name": "customer.downgraded"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        events.subscribe(dict, handler)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "rules",
    [
        "x",
        [{"metric": "annual_sales", "op": "~", "value": 1}],
        [{"metric": "annual_sales", "op": ">", "value": "many"}],
        [{"metric": "Bad Metric", "op": ">", "value": 1}],
        [{"metric": "annual_sales", "op": ">", "value": 1, "extra": 1}],
        [{"metric": "annual_sales", "op": ">", "value": True}],
        ["annual_sales > 1"],
    ],
)
def test_arc4_bad_rules_refused(rules):
    from kestrel.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        grading.rules_parse(rules)
    assert error.value.code == grading.BAD_RULES


# --- API ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_arc4_api_set_grade_by_hand_pins_and_history(rep, with_role, api_for):
    grader = with_role("sh_a_rep1", GRADER)
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    client = api_for(grader)
    response = client.put(
        f"/customers/{customer.pk}/grades/importance", {"grade_code": "core", "reason": "集团战略客户"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    primary = next(g for g in body["grades"] if g["scheme"] == "importance")
    assert primary["grade"] == "core" and primary["pinned"] and primary["source"] == "manual"
    assert body["history"][0]["reason"] == "集团战略客户"
    assert body["history"][0]["changed_by"] == grader.user.get_username()
    grading.customers_regrade(actor=None)
    assert grade_of(customer) == "core"

    response = client.delete(f"/customers/{customer.pk}/grades/importance")
    assert response.status_code == 200, response.content
    primary = next(g for g in response.json()["grades"] if g["scheme"] == "importance")
    assert (primary["grade"], primary["pinned"]) == ("important", False)
    history = client.get(f"/customers/{customer.pk}/grades").json()["history"]
    assert [h["source"] for h in history if h["scheme"] == "importance"] == ["rule", "manual"]
    assert "≥" in history[0]["reason"]


@pytest.mark.django_db
def test_arc4_api_bad_input_is_4xx_json(rep, with_role, api_for):
    client = api_for(with_role("sh_a_rep1", GRADER))
    customer = make_customer(rep)
    url = f"/customers/{customer.pk}/grades"
    assert_error(
        client.put(f"{url}/nope", {"grade_code": "core", "reason": "x"}), 404, grading.UNKNOWN_SCHEME
    )
    assert_error(client.delete(f"{url}/nope"), 404, grading.UNKNOWN_SCHEME)
    assert_error(
        client.put(f"{url}/importance", {"grade_code": "a", "reason": "x"}), 422, grading.UNKNOWN_GRADE
    )
    assert_error(
        client.put(f"{url}/importance", {"grade_code": "core", "reason": "  "}), 422, grading.REASON_REQUIRED
    )
    assert_error(client.put(f"{url}/importance", {"grade_code": "core"}), 422, "validation_error")
    assert_error(client.put(f"{url}/importance", {"grade_code": "core", "reason": "x", "pin": 1}), 422)
    assert_error(client.put(f"{url}/importance", raw="{"), 400)
    assert_error(
        client.put("/customers/999999/grades/importance", {"grade_code": "core", "reason": "x"}), 404
    )
    assert not GradeChange.objects.exists()


@pytest.mark.django_db
def test_arc4_api_permissions_and_data_scope(org, rep, with_role, api_for):
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    viewer = with_role("sh_a_rep1", ["customers.view_customer"])
    body = {"grade_code": "core", "reason": "x"}
    assert_error(api_for(viewer).put(f"/customers/{customer.pk}/grades/importance", body), 403)
    assert api_for(viewer).get(f"/customers/{customer.pk}/grades").status_code == 200
    stranger = with_role("bj_a_rep1", GRADER)  # another branch, self scope: cannot read it
    assert_error(api_for(stranger).put(f"/customers/{customer.pk}/grades/importance", body), 404)
    assert_error(api_for(stranger).get(f"/customers/{customer.pk}/grades"), 404)
    assert_error(api_for(viewer).post("/customers/regrade", {"dry_run": True}), 403)
    assert not GradeChange.objects.exists()


@pytest.mark.django_db
def test_arc4_api_regrade_with_dry_run_preview(api, rep):
    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    response = api.post("/customers/regrade", {"dry_run": True, "scheme": "importance"})
    assert response.status_code == 200, response.content
    scheme = response.json()["schemes"][0]
    assert scheme["changed"] == 1 and scheme["changes"][0]["customer_id"] == customer.pk
    assert (
        scheme["changes"][0]["to_grade"] == "重要客户" and "→ 重要客户" in scheme["changes"][0]["explanation"]
    )
    assert not GradeChange.objects.exists()

    proposed = {"important": [{"metric": "annual_sales", "op": ">=", "value": "9000000"}]}
    response = api.post("/customers/regrade", {"dry_run": True, "scheme": "importance", "rules": proposed})
    assert response.json()["schemes"][0]["changes"][0]["to_grade"] == "大客户"
    bad = {"important": [{"metric": "annual_sales", "op": "~", "value": "1"}]}
    assert_error(api.post("/customers/regrade", {"dry_run": True, "scheme": "importance", "rules": bad}), 422)
    assert_error(
        api.post("/customers/regrade", {"dry_run": True, "scheme": "importance", "rules": {"zz": []}}), 422
    )
    assert_error(api.post("/customers/regrade", {"scheme": "importance", "rules": proposed}), 422)
    assert_error(api.post("/customers/regrade", {"scheme": "nope"}), 404)

    response = api.post("/customers/regrade", {})
    assert response.status_code == 200
    assert {s["scheme"]: s["changed"] for s in response.json()["schemes"]}["importance"] == 1
    assert grade_of(customer) == "important"


@pytest.mark.django_db
def test_arc4_api_grade_schemes_listed(api):
    response = api.get("/customers/grade-schemes")
    assert response.status_code == 200
    schemes = response.json()
    assert schemes[0]["code"] == "importance" and schemes[0]["is_primary"]
    assert [g["code"] for g in schemes[0]["grades"]] == ["core", "important", "major", "general"]
    CustomField.objects.create(key="score", label="评分", type=CustomField.Type.NUMBER)
    CustomField.objects.create(key="note", label="备注", type=CustomField.Type.TEXT)
    metrics = {m["key"]: m for m in api.get("/customers/grade-metrics").json()}
    assert {"annual_sales", "registered_capital", "staff_count", "assets", "credit_limit"} <= set(metrics)
    assert metrics["custom:score"]["label"] == "评分" and "custom:note" not in metrics


@pytest.mark.django_db
def test_arc4_regrade_command(rep):
    from io import StringIO

    from django.core.management import CommandError, call_command

    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    out = StringIO()
    call_command("regrade", "--dry-run", "--scheme", "importance", stdout=out)
    assert "1 would change" in out.getvalue() and f"#{customer.pk}" in out.getvalue()
    assert not GradeChange.objects.exists()
    out = StringIO()
    call_command("regrade", stdout=out)
    assert "importance: 1 changed" in out.getvalue() and "futures: skipped" in out.getvalue()
    assert grade_of(customer) == "important"
    with pytest.raises(CommandError):
        call_command("regrade", "--scheme", "nope", stdout=StringIO())


@pytest.mark.django_db
def test_arc4_admin_rule_change_saved_with_its_preview(client, superuser, rep):
    """PLT-11: the effect on today's data is computed before the rules are saved and kept in the log."""
    import json

    from django.contrib.admin.models import LogEntry

    customer = make_customer(rep, annual_sales=Decimal("6200000"))
    grading.customers_regrade(actor=None, schemes=[importance()])
    grade = Grade.objects.get(scheme=importance(), code="important")
    client.force_login(superuser)
    response = client.post(
        f"/admin/customers/grade/{grade.pk}/change/",
        {
            "scheme": grade.scheme_id,
            "code": "important",
            "name": grade.name,
            "rank": 2,
            "rules": json.dumps([{"metric": "annual_sales", "op": ">=", "value": "8000000"}]),
            "requires_relationship_manager": "on",
            "min_holders": 2,
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "1" in " ".join(str(m) for m in response.context["messages"])
    entry = LogEntry.objects.filter(object_id=str(grade.pk)).latest("action_time")
    preview = next(part["preview"] for part in json.loads(entry.change_message) if "preview" in part)
    assert (preview["changed"], preview["downgraded"]) == (1, 1)
    assert f"#{customer.pk}" in preview["examples"][0]
    grade.refresh_from_db()
    assert grade.rules[0]["value"] == "8000000"
    assert grade_of(customer) == "important"  # saved, applied at the next regrade

    scheme_form = {
        "code": "importance",
        "name": importance().name,
        "description": "",
        "is_primary": "on",
        "grades-TOTAL_FORMS": 4,
        "grades-INITIAL_FORMS": 4,
        "grades-MIN_NUM_FORMS": 0,
        "grades-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(Grade.objects.filter(scheme=importance()).order_by("rank")):
        rules = row.rules
        if row.code == "important":
            rules = [{"metric": "annual_sales", "op": ">=", "value": "1000"}]
        scheme_form |= {
            f"grades-{index}-id": row.pk,
            f"grades-{index}-scheme": row.scheme_id,
            f"grades-{index}-code": row.code,
            f"grades-{index}-name": row.name,
            f"grades-{index}-rank": row.rank,
            f"grades-{index}-rules": json.dumps(rules),
            f"grades-{index}-min_holders": row.min_holders,
        } | (
            {f"grades-{index}-requires_relationship_manager": "on"}
            if row.requires_relationship_manager
            else {}
        )
    response = client.post(f"/admin/customers/gradescheme/{importance().pk}/change/", scheme_form)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    entry = LogEntry.objects.filter(object_id=str(importance().pk)).latest("action_time")
    assert any("preview" in part for part in json.loads(entry.change_message))
