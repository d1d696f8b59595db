"""PLT-8, PLT-3: the API's JSON — written by pydantic's serializer (kestrel/api.py), the values
ninja's encoder wrote: Chinese as UTF-8, aware datetimes in ISO 8601 with their offset (to the
microsecond now, not the millisecond), amounts as decimal strings (never floats), and what pydantic
does not know handed to ninja's encoder."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy

from kestrel.api import ChineseJSONRenderer
from kestrel.customers.models import Customer

pytestmark = pytest.mark.django_db


def rendered(data) -> str:
    return ChineseJSONRenderer().render(None, data, response_status=200).decode()


def test_plt8_json_keeps_chinese_readable_and_amounts_as_decimal_strings():
    text = rendered({"name": "上海华泰机械有限公司", "credit_limit": Decimal("1200000.50"), "tags": ["重点"]})
    assert "上海华泰机械有限公司" in text and "\\u" not in text
    assert json.loads(text) == {
        "name": "上海华泰机械有限公司",
        "credit_limit": "1200000.50",
        "tags": ["重点"],
    }


def test_plt3_json_datetimes_are_iso_with_their_offset():
    utc = datetime.datetime(2026, 11, 24, 6, 30, 5, 123456, tzinfo=datetime.UTC)
    beijing = utc.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    body = json.loads(rendered({"utc": utc, "beijing": beijing, "day": datetime.date(2026, 11, 24)}))
    assert body == {
        "utc": "2026-11-24T06:30:05.123456Z",
        "beijing": "2026-11-24T14:30:05.123456+08:00",
        "day": "2026-11-24",
    }
    assert datetime.datetime.fromisoformat(body["utc"]) == utc


def test_plt8_json_hands_lazy_translations_to_ninjas_encoder():
    assert json.loads(rendered({"message": gettext_lazy("Customer not found.")})) == {
        "message": "未找到该客户。"
    }


def test_plt8_a_customer_list_row_reads_back_as_stored(api, org):
    owner = org.employees["sh_a_rep1"]
    created = api.post(
        "/customers", {"name": "杭州合天精细化工有限公司", "credit_limit": "50000.00", "owner_id": owner.pk}
    )
    assert created.status_code == 201, created.content
    customer = Customer.objects.get(pk=created.json()["id"])
    (row,) = api.get("/customers", {"q": "合天精细"}).json()["items"]
    assert row["name"] == "杭州合天精细化工有限公司" and row["credit_limit"] == "50000.00"
    assert datetime.datetime.fromisoformat(row["created_at"]) == customer.created_at
