"""ARC-1: admin-defined custom fields checked and stored in one shape by the services, whoever writes
them (API, form, import)."""

import contextlib
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kestrel.core.scope import DataScope
from kestrel.customers import services
from kestrel.customers.custom_fields import custom_fields_clean, custom_value_clean
from kestrel.customers.models import Customer, CustomField
from kestrel.org.tests.factories import RoleFactory
from kestrel.org.tests.fixtures import *  # noqa: F403 — the api_for and org fixtures
from kestrel.org.tests.fixtures import assert_error

WRITE = ["customers.view_customer", "customers.add_customer", "customers.change_customer"]


@pytest.fixture
def definitions(db):
    return {
        custom.key: custom
        for custom in [
            CustomField.objects.create(
                key="level",
                label="星级",
                type=CustomField.Type.CHOICE,
                choices=["一星", "二星"],
                required=True,
            ),
            CustomField.objects.create(
                key="visits", label="拜访次数", type=CustomField.Type.NUMBER, validation={"min": 0, "max": 99}
            ),
            CustomField.objects.create(key="deposit", label="保证金", type=CustomField.Type.DECIMAL),
            CustomField.objects.create(key="signed", label="签约日", type=CustomField.Type.DATE),
            CustomField.objects.create(key="vip", label="贵宾", type=CustomField.Type.BOOLEAN),
            CustomField.objects.create(
                key="channels", label="渠道", type=CustomField.Type.MULTI_CHOICE, choices=["电话", "微信"]
            ),
            CustomField.objects.create(
                key="licence",
                label="许可证号",
                type=CustomField.Type.TEXT,
                validation={"pattern": r"[A-Z]\d{4}"},
            ),
        ]
    }


@pytest.fixture
def rep(org):
    employee = org.employees["sh_a_rep1"]
    employee.roles.set([RoleFactory(data_scope=DataScope.SELF, permissions=WRITE)])
    return employee


def test_arc1_custom_values_are_stored_in_one_shape(definitions):
    stored = custom_fields_clean(
        {
            "level": "一星",
            "visits": "12",
            "deposit": "1,200.5",
            "signed": "2026年3月31日",
            "vip": "是",
            "channels": "电话，微信",
            "licence": "A1234",
        },
        current=None,
        creating=True,
    )
    assert stored == {
        "level": "一星",
        "visits": 12,
        "deposit": "1200.5",
        "signed": "2026-03-31",
        "vip": True,
        "channels": ["电话", "微信"],
        "licence": "A1234",
    }
    assert custom_value_clean(definitions["signed"], date(2026, 1, 2)) == "2026-01-02"
    assert custom_value_clean(definitions["deposit"], Decimal("3.10")) == "3.10"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("level", "三星"),
        ("visits", "100"),
        ("visits", "-1"),
        ("visits", True),
        ("visits", "许多"),
        ("visits", "1e400"),
        ("deposit", "1.005"),
        ("signed", "2026-02-30"),
        ("vip", "也许"),
        ("channels", ["电话", "短信"]),
        ("licence", "a1234"),
        ("licence", "A1234\x00"),
        ("licence", {"nested": 1}),
    ],
)
def test_arc1_bad_custom_values_are_refused_with_a_message(definitions, key, value):
    with pytest.raises(ValidationError) as refused:
        custom_fields_clean({"level": "一星", key: value}, current=None, creating=True)
    assert list(refused.value.message_dict) == [key]


def test_arc1_required_unknown_and_merge_rules(definitions):
    with pytest.raises(ValidationError) as refused:
        custom_fields_clean({"visits": 3, "nobody_defined_this": 1}, current=None, creating=True)
    assert set(refused.value.message_dict) == {"level", "nobody_defined_this"}
    current = {"level": "一星", "visits": 3, "merged_into": 42, "retired_field": "旧值"}
    assert custom_fields_clean({"visits": None, "vip": False}, current=current, creating=False) == {
        "level": "一星",
        "merged_into": 42,
        "retired_field": "旧值",
        "vip": False,
    }
    with pytest.raises(ValidationError):
        custom_fields_clean({"level": ""}, current=current, creating=False)  # required: not emptied


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none()))
def test_arc1_any_value_is_stored_or_refused_never_a_crash(value):
    for kind in CustomField.Type.values:
        custom = CustomField(key="x", label="x", type=kind, choices=["甲", "乙"], validation={"max": 5})
        with contextlib.suppress(ValidationError):
            custom_value_clean(custom, value)


def test_arc1_api_checks_custom_fields_and_patch_merges(definitions, rep, api_for):
    client = api_for(rep)
    missing = client.post("/customers", {"name": "宁波甬江贸易有限公司"})
    assert_error(missing, 422, "customer_invalid")
    assert "level" in missing.json()["details"]["custom_fields"]
    bad = client.post("/customers", {"name": "宁波甬江贸易有限公司", "custom_fields": {"level": "五星"}})
    assert_error(bad, 422, "customer_invalid")
    created = client.post(
        "/customers", {"name": "宁波甬江贸易有限公司", "custom_fields": {"level": "二星", "visits": "7"}}
    )
    assert created.status_code == 201, created.content
    customer = Customer.objects.get(pk=created.json()["id"])
    assert customer.custom_fields == {"level": "二星", "visits": 7}
    Customer.objects.filter(pk=customer.pk).update(custom_fields={**customer.custom_fields, "merged_into": 9})
    patched = client.patch(f"/customers/{customer.pk}", {"custom_fields": {"visits": None, "vip": "否"}})
    assert patched.status_code == 200, patched.content
    customer.refresh_from_db()
    assert customer.custom_fields == {"level": "二星", "merged_into": 9, "vip": False}


def test_arc1_a_self_service_prospect_may_wait_for_its_required_fields(definitions, rep):
    customer = services.customer_create(actor=None, owner=rep, name="温州瓯江鞋业有限公司")
    assert customer.custom_fields in ({}, None)


def test_arc1_an_unchanged_value_is_kept_though_its_choice_was_retired(definitions):
    current = {"level": "钻石"}  # a choice the administrator has since removed
    assert custom_fields_clean({"level": "钻石", "visits": 2}, current=current, creating=False) == {
        "level": "钻石",
        "visits": 2,
    }
    with pytest.raises(ValidationError):
        custom_fields_clean({"level": "黄金"}, current=current, creating=False)
