"""PLT-7: the in-app inbox and channel preferences through /api/v1/notifications."""

import pytest

from kestrel.notify.services import notify
from kestrel.org.tests.factories import EmployeeFactory, SuperuserFactory
from kestrel.org.tests.fixtures import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhang():
    return EmployeeFactory(name="张伟", email="zw@example.com")


@pytest.fixture
def li():
    return EmployeeFactory(name="李娜")


def test_plt7_inbox_lists_only_my_notifications_with_unread_count(zhang, li, api_for):
    notify(event_key="e:1", kind="task", recipients=[zhang, li], title="新的回访任务")
    notify(event_key="e:2", kind="alert", recipients=[zhang], title="客户预警：华东化工")
    mine = api_for(zhang)
    listed = mine.get("/notifications").json()
    assert listed["count"] == 2
    assert [n["title"] for n in listed["items"]] == ["客户预警：华东化工", "新的回访任务"]
    assert mine.get("/notifications/unread-count").json() == {"unread": 2}
    assert api_for(li).get("/notifications").json()["count"] == 1


def test_plt7_marking_read(zhang, li, api_for):
    notify(event_key="e:1", kind="task", recipients=[zhang, li], title="t1")
    notify(event_key="e:2", kind="task", recipients=[zhang], title="t2")
    mine = api_for(zhang)
    first = mine.get("/notifications").json()["items"][0]["id"]
    assert mine.post(f"/notifications/{first}/read").json() == {"marked": 1}
    assert mine.get("/notifications", {"unread": "true"}).json()["count"] == 1
    assert mine.post("/notifications/read-all").json() == {"marked": 1}
    assert mine.get("/notifications/unread-count").json() == {"unread": 0}


def test_plt7_someone_elses_notification_is_not_found(zhang, li, api_for):
    notify(event_key="e:1", kind="task", recipients=[li], title="t")
    theirs = api_for(li).get("/notifications").json()["items"][0]["id"]
    assert_error(api_for(zhang).post(f"/notifications/{theirs}/read"), 404, "not_found")
    assert_error(api_for(zhang).post("/notifications/999999/read"), 404, "not_found")


def test_plt7_preferences_api(zhang, api_for):
    mine = api_for(zhang)
    assert mine.get("/notifications/preferences").json() == {"in_app": True, "email": True, "sms": False}
    assert mine.put("/notifications/preferences", {"sms": True, "email": False}).json() == {
        "in_app": True,
        "email": False,
        "sms": True,
    }
    assert_error(
        mine.put("/notifications/preferences", {"in_app": False, "sms": False}), 422, "in_app_required"
    )
    # All or nothing: the refused request changed no channel.
    assert mine.get("/notifications/preferences").json()["sms"] is True
    assert_error(mine.put("/notifications/preferences", {"fax": True}), 422, "validation_error")
    assert_error(mine.put("/notifications/preferences", {"sms": "sometimes"}), 422, "validation_error")


def test_plt7_user_without_employee_record_has_an_empty_inbox(api_for):
    admin = api_for(SuperuserFactory())
    assert admin.get("/notifications").json() == {"items": [], "count": 0, "count_capped": False}
    assert admin.get("/notifications/unread-count").json() == {"unread": 0}
    assert_error(admin.get("/notifications/preferences"), 404, "not_found")


def test_plt7_inbox_requires_authentication(client):
    assert_error(client.get("/api/v1/notifications"), 401)
