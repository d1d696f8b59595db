"""PLT-7 in the web UI: the inbox (消息中心), the bell in the top bar and the channel switches on the
profile; PLT-4: the staff banner for years without holiday data."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kestrel.notify.models import Notification
from kestrel.notify.services import channel_preference_set, channel_preferences, notify
from kestrel.org.models import Employee
from kestrel.org.tests.factories import EmployeeFactory, SuperuserFactory, UserFactory
from kestrel.workdays.models import MissingYearWarning
from kestrel.workdays.services import missing_year_acknowledge

pytestmark = pytest.mark.django_db

INBOX = reverse("notify:inbox")
READ_ALL = reverse("notify:read-all")
HOME = reverse("web:home")
PROFILE = reverse("web:profile")
HTMX = {"HX-Request": "true", "HX-Target": "notify-inbox"}
ALERT = "客户预警：华东化工 45 天未回访"
COMPLAINT = "投诉超时升级：TS-0088"
TASK = "回访任务：苏州新锐电子"


def sign_in(client: Client, who) -> Client:
    user = who.user if isinstance(who, Employee) else who
    # force_login: django-axes wants a request in authenticate(); the login form is tested in web.
    client.force_login(user, backend="kestrel.org.backends.RolePermissionBackend")
    return client


def read_url(notification: Notification) -> str:
    return reverse("notify:read", args=[notification.pk])


def titles(response) -> list[str]:
    return [item.notification.title for item in response.context["items"]]


def inbox_of(employee: Employee) -> dict[str, Notification]:
    return {n.title: n for n in Notification.objects.filter(recipient=employee)}


def bell_count(html: str) -> str | None:
    match = re.search(r'data-testid="bell-count">([^<]+)<', html)
    return match.group(1) if match else None


def queries_on(captured: CaptureQueriesContext, table: str) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if table in query["sql"]]


@pytest.fixture
def zhang() -> Employee:
    return EmployeeFactory(name="张伟", username="zhangwei", email="zw@example.com", mobile="13800138000")


@pytest.fixture
def li() -> Employee:
    return EmployeeFactory(name="李娜", username="lina")


@pytest.fixture
def zhang_inbox(zhang, li) -> dict[str, Notification]:
    """Three messages for 张伟 (one read, one with a link), one for 李娜 only."""
    notify(
        event_key="alert:1",
        kind="alert",
        recipients=[zhang],
        title=ALERT,
        body="A 类客户，制度要求每 30 天回访一次。",
        link="/customers/1024/",
    )
    notify(event_key="complaint:88", kind="complaint", recipients=[zhang, li], title=COMPLAINT)
    notify(event_key="task:552", kind="task", recipients=[zhang], title=TASK)
    notify(event_key="secret:1", kind="task", recipients=[li], title="李娜的私人消息")
    moments = {
        "alert:1": datetime(2026, 11, 24, 1, 30, tzinfo=UTC),  # 09:30 in Shanghai
        "complaint:88": datetime(2026, 11, 23, 6, 5, tzinfo=UTC),
        "task:552": datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
    }
    for event_key, moment in moments.items():
        Notification.objects.filter(event_key=event_key).update(created_at=moment)
    Notification.objects.filter(event_key="task:552").update(read_at=timezone.now())
    return inbox_of(zhang)


# --- The inbox ------------------------------------------------------------------------------------


def test_plt7_inbox_requires_login(client: Client) -> None:
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_plt7_inbox_lists_only_my_notifications_newest_first(client: Client, zhang, zhang_inbox) -> None:
    response = sign_in(client, zhang).get(INBOX)
    assert response.status_code == 200
    assert titles(response) == [ALERT, COMPLAINT, TASK]
    html = response.content.decode()
    assert "李娜的私人消息" not in html
    assert "<title>消息中心 · Kestrel 客隼</title>" in html
    assert "2026-11-24 09:30" in html  # YYYY-MM-DD HH:MM in Asia/Shanghai
    assert "A 类客户，制度要求每 30 天回访一次。" in html
    assert "共 3 条消息" in html


def test_plt7_unread_messages_are_highlighted_and_linked_ones_have_a_button(
    client: Client, zhang, zhang_inbox
) -> None:
    html = sign_in(client, zhang).get(INBOX).content.decode()
    unread = re.findall(r'kestrel-notification is-unread" id="notify-item-(\d+)"', html)
    assert set(unread) == {str(zhang_inbox[ALERT].pk), str(zhang_inbox[COMPLAINT].pk)}
    alert = zhang_inbox[ALERT]
    assert html.count('data-testid="open-link"') == 1
    assert reverse("notify:open", args=[alert.pk]) in html
    assert html.count('data-testid="mark-read"') == 2  # only unread ones can be marked


def test_plt7_unread_filter(client: Client, zhang, zhang_inbox) -> None:
    sign_in(client, zhang)
    response = client.get(INBOX, {"unread": "1"})
    assert titles(response) == [ALERT, COMPLAINT]
    html = response.content.decode()
    assert re.search(r'class="nav-link active" href="/notifications/\?unread=1"', html)
    assert 'data-testid="unread-count">2<' in html


def test_plt7_filter_and_pages_answer_an_htmx_fragment(client: Client, zhang) -> None:
    for number in range(23):
        notify(event_key=f"bulk:{number}", kind="task", recipients=[zhang], title=f"批量任务 {number:02d}")
    sign_in(client, zhang)
    first = client.get(INBOX)
    assert len(titles(first)) == 20
    assert "第 1 / 2 页" in first.content.decode()
    response = client.get(INBOX, {"page": "2"}, headers=HTMX)
    html = response.content.decode()
    assert not html.lstrip().startswith("<!doctype")
    assert 'id="notify-inbox"' in html
    assert titles(response) == ["批量任务 02", "批量任务 01", "批量任务 00"]
    assert 'id="kestrel-bell" hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]
    # A bad page number falls back instead of failing.
    assert client.get(INBOX, {"page": "abc"}).status_code == 200


def test_plt7_empty_states(client: Client, zhang) -> None:
    sign_in(client, zhang)
    html = client.get(INBOX).content.decode()
    assert 'data-testid="inbox-empty"' in html and "暂无消息" in html
    assert 'data-testid="mark-all-read"' not in html
    html = client.get(INBOX, {"unread": "1"}).content.decode()
    assert "没有未读消息" in html


def test_plt7_account_without_employee_record_has_no_inbox(client: Client) -> None:
    sign_in(client, SuperuserFactory())
    response = client.get(INBOX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="inbox-unavailable"' in html
    assert 'data-testid="bell"' not in html
    assert client.post(READ_ALL).status_code == 404


# --- Marking read ---------------------------------------------------------------------------------


def test_plt7_mark_one_read_swaps_the_item_the_counts_and_the_bell(
    client: Client, zhang, zhang_inbox
) -> None:
    alert = zhang_inbox[ALERT]
    sign_in(client, zhang)
    response = client.post(f"{read_url(alert)}?unread=1", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="list-group-item kestrel-notification" id="notify-item-')
    assert 'id="notify-inbox-header" hx-swap-oob="true"' in html
    assert 'id="kestrel-bell" hx-swap-oob="true"' in html
    assert bell_count(html) == "1"
    assert 'data-testid="unread-count">1<' in html
    alert.refresh_from_db()
    assert alert.read_at is not None
    assert zhang_inbox[COMPLAINT].read_at is None


def test_plt7_mark_one_read_without_javascript_goes_back_to_the_same_view(
    client: Client, zhang, zhang_inbox
) -> None:
    alert = zhang_inbox[ALERT]
    response = sign_in(client, zhang).post(f"{read_url(alert)}?unread=1&page=1")
    assert response.status_code == 302
    assert response["Location"] == f"{INBOX}?unread=1"
    alert.refresh_from_db()
    assert alert.read_at is not None


def test_plt7_mark_all_read(client: Client, zhang, li, zhang_inbox) -> None:
    sign_in(client, zhang)
    response = client.post(f"{READ_ALL}?unread=1", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="notify-inbox"' in html and "没有未读消息" in html
    assert 'id="kestrel-bell" hx-swap-oob="true"' in html and bell_count(html) is None
    assert not Notification.objects.filter(recipient=zhang, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=li, read_at__isnull=True).count() == 2  # not theirs


def test_plt7_mark_all_read_without_javascript_says_how_many(client: Client, zhang, zhang_inbox) -> None:
    response = sign_in(client, zhang).post(READ_ALL, follow=True)
    assert response.redirect_chain == [(INBOX, 302)]
    assert "已将 2 条消息标为已读。" in response.content.decode()


def test_plt7_another_employees_notification_is_not_found(client: Client, zhang, li, zhang_inbox) -> None:
    theirs = Notification.objects.get(recipient=li, event_key="secret:1")
    sign_in(client, zhang)
    assert client.post(read_url(theirs)).status_code == 404
    assert client.post(read_url(theirs), headers={"HX-Request": "true"}).status_code == 404
    assert client.post(reverse("notify:open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notify:read", args=[999999])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_plt7_marking_read_is_a_post_with_a_csrf_token(zhang, zhang_inbox) -> None:
    alert = zhang_inbox[ALERT]
    client = sign_in(Client(enforce_csrf_checks=True), zhang)
    assert client.get(read_url(alert)).status_code == 405
    assert client.post(read_url(alert)).status_code == 403
    assert client.post(READ_ALL).status_code == 403
    alert.refresh_from_db()
    assert alert.read_at is None
    # The page carries the token for htmx (hx-headers) and in every form.
    html = client.get(INBOX).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert html.count('name="csrfmiddlewaretoken"') >= 3


def test_plt7_open_marks_read_and_follows_only_internal_links(client: Client, zhang) -> None:
    notify(event_key="l:1", kind="task", recipients=[zhang], title="内部", link="/customers/7/")
    notify(event_key="l:2", kind="task", recipients=[zhang], title="外部", link="https://evil.example/")
    notify(event_key="l:3", kind="task", recipients=[zhang], title="协议相对", link="//evil.example/")
    mine = inbox_of(zhang)
    sign_in(client, zhang)
    response = client.post(reverse("notify:open", args=[mine["内部"].pk]))
    assert response["Location"] == "/customers/7/"
    for title in ("外部", "协议相对"):
        response = client.post(reverse("notify:open", args=[mine[title].pk]))
        assert response["Location"] == INBOX
    assert not Notification.objects.filter(recipient=zhang, read_at__isnull=True).exists()
    html = client.get(INBOX).content.decode()
    external = re.search(r'<a href="https://evil.example/"[^>]*>', html)
    assert external and 'target="_blank" rel="noopener noreferrer"' in external.group(0)
    assert 'href="//evil.example/"' not in html


def test_plt7_inbox_query_count_does_not_grow_with_the_messages(
    client: Client, zhang, django_assert_num_queries
) -> None:
    sign_in(client, zhang)

    def add(count: int, start: int) -> None:
        for number in range(start, start + count):
            notify(event_key=f"q:{number}", kind="task", recipients=[zhang], title=f"任务 {number}")

    add(3, 0)
    # session, user, employee, 2 × permissions for the sidebar, page count, page rows, unread count
    with django_assert_num_queries(8):
        assert client.get(INBOX).status_code == 200
    add(30, 3)
    with django_assert_num_queries(8):
        assert client.get(INBOX).status_code == 200
    # The unread view counts once: the paginator's count is the unread count.
    with django_assert_num_queries(7):
        assert client.get(INBOX, {"unread": "1"}).status_code == 200


def test_plt7_inbox_and_profile_have_no_inline_code(client: Client, zhang, zhang_inbox) -> None:
    sign_in(client, zhang)
    for url in (INBOX, PROFILE):
        html = client.get(url).content.decode()
        assert not re.search(r"<[^>]+\sstyle=", html), url
        assert not re.search(r"<[^>]+\son[a-z]+=", html), url
        assert not re.search(r"<script(?![^>]*\ssrc=)", html), url


# --- The bell in the top bar ----------------------------------------------------------------------


def test_plt7_bell_shows_the_unread_count_on_every_page(client: Client, zhang, zhang_inbox) -> None:
    sign_in(client, zhang)
    for url in (HOME, PROFILE, INBOX):
        html = client.get(url).content.decode()
        assert bell_count(html) == "2", url
        assert f'href="{INBOX}" class="nav-link px-2 kestrel-bell"' in html
        assert "消息中心：2 条未读消息" in html  # the label screen readers announce
    # The user menu leads to the inbox as well.
    assert 'data-testid="menu-inbox"' in client.get(HOME).content.decode()


def test_plt7_bell_has_no_badge_at_zero_and_caps_at_99(client: Client, zhang) -> None:
    sign_in(client, zhang)
    html = client.get(HOME).content.decode()
    assert 'data-testid="bell"' in html and bell_count(html) is None
    Notification.objects.bulk_create(
        Notification(recipient=zhang, event_key=f"many:{n}", kind="task", title="t") for n in range(100)
    )
    assert bell_count(client.get(HOME).content.decode()) == "99+"


def test_plt7_users_without_an_employee_record_get_no_bell(client: Client) -> None:
    sign_in(client, UserFactory())
    html = client.get(HOME).content.decode()
    assert 'data-testid="bell"' not in html
    assert 'data-testid="menu-inbox"' not in html


def test_plt7_bell_costs_one_count_and_nothing_in_htmx_fragments(client: Client, zhang, zhang_inbox) -> None:
    sign_in(client, zhang)
    with CaptureQueriesContext(connection) as captured:
        client.get(HOME)
    bell = queries_on(captured, "notify_notification")
    assert len(bell) == 1 and "COUNT(" in bell[0].upper()
    # An htmx fragment of another page never draws the top bar, so it never counts.
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("org:index"), headers={"HX-Request": "true", "HX-Target": "org-results"})
    assert queries_on(captured, "notify_notification") == []


# --- Channel preferences on the profile -----------------------------------------------------------


def channels_post(client: Client, **switches: str) -> object:
    return client.post(PROFILE, {"form": "channels", "in_app": "on", **switches}, follow=True)


def test_plt7_profile_shows_the_channels(client: Client, zhang) -> None:
    html = sign_in(client, zhang).get(PROFILE).content.decode()
    assert "通知方式" in html and "站内消息" in html and "短信" in html
    assert "zw@example.com" in html and "13800138000" in html
    assert re.search(r'id="channel-in_app" checked disabled', html)
    assert re.search(r'name="email"[^>]*data-testid="channel-email" checked>', html)  # default on
    assert re.search(r'name="sms"[^>]*data-testid="channel-sms">', html)  # SMS is opt-in


def test_plt7_channel_preferences_form_saves(client: Client, zhang) -> None:
    response = channels_post(sign_in(client, zhang), sms="on")
    assert response.redirect_chain == [(f"{PROFILE}#channels", 302)]
    assert "通知方式已保存。" in response.content.decode()
    assert channel_preferences(employee=zhang) == {"in_app": True, "email": False, "sms": True}
    html = response.content.decode()
    assert re.search(r'name="sms"[^>]*data-testid="channel-sms" checked>', html)


def test_plt7_channel_preferences_refuse_turning_off_in_app(client: Client, zhang) -> None:
    sign_in(client, zhang)
    # A browser always sends in_app=on (the switch is disabled); a hand-made form without it is refused.
    response = client.post(PROFILE, {"form": "channels", "sms": "on"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "站内消息不能关闭。" in html
    assert 'class="invalid-feedback d-block"' in html
    # All or nothing: the SMS switch in the same post was not saved either.
    assert channel_preferences(employee=zhang) == {"in_app": True, "email": True, "sms": False}


def test_plt7_email_switch_is_disabled_without_an_address(client: Client, li) -> None:
    channel_preference_set(employee=li, channel="email", enabled=True)
    sign_in(client, li)
    html = client.get(PROFILE).content.decode()
    assert "未填写邮箱" in html and "未填写手机号" in html
    assert re.search(r'name="email"[^>]*data-testid="channel-email" disabled>', html)
    assert re.search(r'name="sms"[^>]*data-testid="channel-sms" disabled>', html)
    # A forged switch for a channel without an address changes nothing.
    channels_post(client, sms="on")
    assert channel_preferences(employee=li) == {"in_app": True, "email": True, "sms": False}


def test_plt7_password_form_still_works_beside_the_channels(client: Client, zhang) -> None:
    response = sign_in(client, zhang).post(PROFILE, {"old_password": "wrong"})
    assert response.status_code == 200
    assert "旧密码不正确" in response.content.decode()
    assert channel_preferences(employee=zhang) == {"in_app": True, "email": True, "sms": False}


def test_plt7_account_without_employee_record_has_no_channels_card(client: Client) -> None:
    sign_in(client, SuperuserFactory())
    assert 'data-testid="channels-form"' not in client.get(PROFILE).content.decode()
    assert client.post(PROFILE, {"form": "channels", "in_app": "on"}).status_code == 404


# --- PLT-4: the staff banner for years without holiday data ---------------------------------------


def test_plt4_banner_is_shown_to_staff_only_when_a_year_lacks_holiday_data(client: Client, zhang) -> None:
    staff = EmployeeFactory(name="陶丹", username="it_admin")
    staff.user.is_staff = True
    staff.user.save(update_fields=["is_staff"])
    sign_in(client, staff)
    assert 'data-testid="calendar-warning"' not in client.get(HOME).content.decode()

    MissingYearWarning.objects.create(year=2027)
    html = client.get(HOME).content.decode()
    assert 'data-testid="calendar-warning"' in html
    assert "2027 年尚无法定节假日数据，暂按周一至周五计算工作日。" in html
    assert 'href="/admin/workdays/calendarday/" class="alert-link">系统管理 → 工作日历</a> 中导入。' in html
    assert 'href="/admin/workdays/missingyearwarning/"' in html
    assert 'data-testid="calendar-warning"' in client.get(INBOX).content.decode()  # every page

    MissingYearWarning.objects.create(year=2028)
    assert "2027、2028 年尚无法定节假日数据" in client.get(HOME).content.decode()

    # Not for other users, and never a query for them.
    sign_in(client, zhang)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(HOME).content.decode()
    assert 'data-testid="calendar-warning"' not in html
    assert queries_on(captured, "workdays_missingyearwarning") == []


def test_plt4_banner_goes_once_the_warnings_are_acknowledged(client: Client) -> None:
    admin = SuperuserFactory()
    warning = MissingYearWarning.objects.create(year=2027)
    sign_in(client, admin)
    with CaptureQueriesContext(connection) as captured:
        assert 'data-testid="calendar-warning"' in client.get(HOME).content.decode()
    assert len(queries_on(captured, "workdays_missingyearwarning")) == 1
    missing_year_acknowledge(actor=admin, warning=warning)
    assert 'data-testid="calendar-warning"' not in client.get(HOME).content.decode()
