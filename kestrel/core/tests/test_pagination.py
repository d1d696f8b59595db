"""SPEC §9: lists are paginated ``{items, count}``; ``count`` is exact up to a cap, then flagged."""

import pytest

from kestrel.core import pagination
from kestrel.core.scope import DataScope
from kestrel.org.tests.fixtures import ApiClient, assert_error, token_for

pytestmark = pytest.mark.django_db


def test_plt8_pages_cover_the_list_once(api, org):
    seen = []
    for page in (1, 2, 3):
        body = api.get("/employees", {"page": page, "page_size": 5}).json()
        assert body["count"] == len(org.employees) and body["count_capped"] is False
        seen += [e["id"] for e in body["items"]]
    assert sorted(seen) == sorted(org.ids(*org.employees))
    assert api.get("/employees", {"page": 4, "page_size": 5}).json()["items"] == []


def test_plt8_count_is_capped_for_speed(api, org, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    body = api.get("/employees", {"page_size": 3}).json()
    assert body["count"] == 10 and body["count_capped"] is True
    assert len(body["items"]) == 3
    monkeypatch.setattr(pagination, "COUNT_CAP", 100)
    assert api.get("/employees").json()["count_capped"] is False


@pytest.mark.parametrize("page_size", [0, 501])
def test_plt8_page_size_is_bounded(api, page_size):
    assert_error(api.get("/employees", {"page_size": page_size}), 422, "validation_error")


def test_plt2_count_is_of_the_visible_rows_only(org):
    viewer = org.viewer("sh_a_rep1", DataScope.DEPARTMENT)
    body = ApiClient(token_for(viewer.user)).get("/employees", {"page_size": 2}).json()
    assert body["count"] == 3  # sh_a_lead, sh_a_rep1, sh_a_rep2
    assert len(body["items"]) == 2
