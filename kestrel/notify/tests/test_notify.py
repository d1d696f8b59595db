"""PLT-7: notifications through the outbox — in-app, email, SMS, chat robots, generic webhooks."""

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from kestrel.core.errors import ValidationFailed
from kestrel.notify import services
from kestrel.notify.channels import webhook_request
from kestrel.notify.models import Channel, Notification, OutboxMessage, WebhookEndpoint
from kestrel.notify.services import notify, outbox_deliver_due, webhook_endpoint_create
from kestrel.org.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


# --- A real HTTP receiver on 127.0.0.1 ----------------------------------------------------------


class Receiver:
    """Collects requests; processes each Idempotency-Key once, as a careful receiver would."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.processed: dict[str, int] = {}
        self.status = 200
        self.answer: dict = {"errcode": 0, "errmsg": "ok"}
        self.delay = 0.0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    if receiver.status == 200:
                        receiver.processed[key] = receiver.processed.get(key, 0) + 1
                answer = json.dumps(receiver.answer).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def employee():
    return EmployeeFactory(email="zhang.wei@example.com", mobile="13800138000")


def _endpoint(receiver, kind, secret="", **fields) -> WebhookEndpoint:
    return webhook_endpoint_create(
        actor=None, name=f"{kind}-robot", kind=kind, url=receiver.url, secret=secret, **fields
    )


def _due_now():
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# --- Writing: same transaction, idempotent, validated ---------------------------------------------


def test_plt7_notification_is_committed_with_the_business_change_or_not_at_all(employee):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(
            event_key="complaint:1:breach", kind="complaint.breach", recipients=[employee], title="投诉超时"
        )
        raise RuntimeError("the business change failed")
    assert Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0

    written = notify(
        event_key="complaint:1:breach", kind="complaint.breach", recipients=[employee], title="投诉超时"
    )
    assert written == 1  # email (on by default); SMS is opt-in
    assert Notification.objects.get().recipient == employee


def test_plt7_same_event_twice_notifies_once_per_channel(employee, receiver):
    _endpoint(receiver, WebhookEndpoint.Kind.GENERIC, secret="s3cret")
    for _attempt in range(3):
        notify(event_key="alert:7:open", kind="alert.open", recipients=[employee, employee], title="客户预警")
    assert Notification.objects.count() == 1
    assert sorted(OutboxMessage.objects.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.WEBHOOK]


def test_plt7_unknown_channel_is_a_clear_error_and_writes_nothing(employee):
    with pytest.raises(ValidationFailed) as raised:
        notify(event_key="e:1", kind="k", recipients=[employee], title="t", channels=["fax"])
    assert raised.value.code == "unknown_channel"
    assert raised.value.details["channels"] == ["fax"]
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://example.com/hook", "https://", "javascript:alert(1)", ""]
)
def test_plt7_malformed_webhook_url_is_refused(url):
    with pytest.raises(ValidationFailed) as raised:
        webhook_endpoint_create(actor=None, name="坏地址", kind=WebhookEndpoint.Kind.WECOM, url=url)
    assert raised.value.code == "malformed_webhook_url"
    assert not WebhookEndpoint.objects.exists()


def test_plt7_preferences_choose_channels_and_in_app_stays_on(employee):
    services.channel_preference_set(employee=employee, channel=Channel.EMAIL, enabled=False)
    services.channel_preference_set(employee=employee, channel=Channel.SMS, enabled=True)
    notify(event_key="e:2", kind="k", recipients=[employee], title="t")
    assert list(OutboxMessage.objects.values_list("channel", "address")) == [(Channel.SMS, "13800138000")]
    with pytest.raises(ValidationFailed) as raised:
        services.channel_preference_set(employee=employee, channel=Channel.IN_APP, enabled=False)
    assert raised.value.code == "in_app_required"
    with pytest.raises(ValidationFailed):
        services.channel_preference_set(employee=employee, channel="pigeon", enabled=True)


def test_plt7_outbox_delivery_is_enqueued_after_commit(
    employee, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(event_key="e:3", kind="k", recipients=[employee], title="新任务", body="请处理")
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT
    assert mailoutbox[0].subject == "新任务"


# --- Webhook formats and signatures, against a real server ----------------------------------------


def _last_json(receiver) -> dict:
    return json.loads(receiver.requests[-1]["body"])


def test_plt7_wecom_robot_gets_markdown(employee, receiver):
    _endpoint(receiver, WebhookEndpoint.Kind.WECOM)
    notify(
        event_key="e:w",
        kind="k",
        recipients=[],
        title="大客户预警",
        body="逾期应收 12.5 万元",
        link="http://k/1",
    )
    assert outbox_deliver_due().sent == 1
    body = _last_json(receiver)
    assert body["msgtype"] == "markdown" and "大客户预警" in body["markdown"]["content"]


def test_plt7_dingtalk_robot_is_signed_with_hmac_sha256(employee, receiver):
    secret = "SECd1ngtalk"
    _endpoint(receiver, WebhookEndpoint.Kind.DINGTALK, secret=secret)
    notify(event_key="e:d", kind="k", recipients=[], title="投诉升级", body="已超时")
    assert outbox_deliver_due().sent == 1
    query = urllib.parse.parse_qs(urllib.parse.urlparse(receiver.requests[-1]["path"]).query)
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert sign == expected
    assert abs(int(timestamp) / 1000 - time.time()) < 60
    assert _last_json(receiver)["markdown"]["title"] == "投诉升级"


def test_plt7_feishu_robot_is_signed_in_the_body(employee, receiver):
    secret = "feishu-secret"
    receiver.answer = {"code": 0, "msg": "success"}
    _endpoint(receiver, WebhookEndpoint.Kind.FEISHU, secret=secret)
    notify(event_key="e:f", kind="k", recipients=[], title="拜访逾期", body="3 个计划已逾期")
    assert outbox_deliver_due().sent == 1
    body = _last_json(receiver)
    key = f"{body['timestamp']}\n{secret}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "text" and "拜访逾期" in body["content"]["text"]


def test_plt7_generic_webhook_is_signed_and_carries_the_idempotency_key(employee, receiver):
    secret = "generic-secret"
    _endpoint(receiver, WebhookEndpoint.Kind.GENERIC, secret=secret)
    notify(event_key="e:g", kind="alert.open", recipients=[], title="预警", data={"customer_id": 9})
    assert outbox_deliver_due().sent == 1
    request = receiver.requests[-1]
    headers = request["headers"]
    signed = headers["X-Kestrel-Timestamp"].encode() + b"." + request["body"]
    assert (
        headers["X-Kestrel-Signature"]
        == "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    )
    assert headers["Idempotency-Key"] == f"e:g|webhook|webhook:{WebhookEndpoint.objects.get().pk}"
    assert json.loads(request["body"])["data"] == {"customer_id": 9}


def test_plt7_webhook_only_gets_the_kinds_it_subscribed_to(receiver):
    _endpoint(receiver, WebhookEndpoint.Kind.GENERIC, event_kinds=["alert.breach"])
    notify(event_key="e:k1", kind="alert.approaching", recipients=[], title="t")
    notify(event_key="e:k2", kind="alert.breach", recipients=[], title="t")
    assert list(OutboxMessage.objects.values_list("kind", flat=True)) == ["alert.breach"]


def test_plt7_robot_refusal_in_a_200_answer_counts_as_failure(receiver):
    receiver.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    _endpoint(receiver, WebhookEndpoint.Kind.WECOM)
    notify(event_key="e:r", kind="k", recipients=[], title="t")
    assert outbox_deliver_due().retrying == 1
    assert "93000" in OutboxMessage.objects.get().last_error


# --- Failures: retried with backoff, then dead-lettered; nothing lost ------------------------------


@pytest.mark.parametrize("failure", ["http_500", "timeout", "refused"])
def test_plt7_failing_webhook_is_retried_with_backoff_then_dead_lettered(receiver, settings, failure):
    settings.KESTREL_NOTIFY_MAX_ATTEMPTS = 3
    settings.KESTREL_WEBHOOK_TIMEOUT = 0.5
    endpoint = _endpoint(receiver, WebhookEndpoint.Kind.GENERIC)
    if failure == "http_500":
        receiver.status = 500
    elif failure == "timeout":
        receiver.delay = 1.5
    else:
        receiver.stop()
        endpoint.url = "http://127.0.0.1:9/hook"  # discard port: connection refused
        endpoint.save()
    notify(event_key=f"e:{failure}", kind="k", recipients=[], title="t")

    delays = []
    for attempt in range(1, 4):
        before = timezone.now()
        report = outbox_deliver_due()
        message = OutboxMessage.objects.get()
        assert message.attempts == attempt
        if attempt < 3:
            assert report.retrying == 1 and message.status == OutboxMessage.Status.PENDING
            delays.append((message.next_attempt_at - before).total_seconds())
            # Not due yet: a second pass right away sends nothing.
            assert outbox_deliver_due() == services.DeliveryReport()
            _due_now()
        else:
            assert report.dead == 1 and message.status == OutboxMessage.Status.DEAD
    assert delays[1] >= 2 * delays[0] * 0.9  # exponential backoff
    expected = {"http_500": "HTTP 500", "timeout": "timed out", "refused": "refused"}[failure]
    assert expected in message.last_error.lower() or expected in message.last_error

    # After the cause is fixed, an admin sends the dead letter again.
    if failure != "refused":
        receiver.status, receiver.delay = 200, 0
        assert services.outbox_retry_dead(actor=None) == 1
        assert outbox_deliver_due().sent == 1


def test_plt7_worker_dying_between_send_and_mark_still_delivers_once_per_idempotency_key(receiver, employee):
    _endpoint(receiver, WebhookEndpoint.Kind.GENERIC)
    notify(event_key="e:crash", kind="k", recipients=[], title="t")

    # The worker sends, then dies before it can mark the message sent.
    with (
        mock.patch.object(services, "_mark_sent", side_effect=SystemExit("worker killed")),
        pytest.raises(SystemExit),
    ):
        outbox_deliver_due()
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.SENDING
    assert len(receiver.requests) == 1

    # While the claim holds, no other worker touches it.
    assert outbox_deliver_due() == services.DeliveryReport()
    # When it lapses, the message goes out again with the same key; the receiver drops the repeat.
    OutboxMessage.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert outbox_deliver_due().sent == 1
    assert len(receiver.requests) == 2
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert len(keys) == 1
    assert receiver.processed == {keys.pop(): 2}  # delivered twice, same key: processed once by key
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT
    assert outbox_deliver_due() == services.DeliveryReport()


@pytest.mark.django_db(transaction=True)
def test_plt7_two_workers_never_send_the_same_message(receiver):
    _endpoint(receiver, WebhookEndpoint.Kind.GENERIC)
    # Outside a transaction on_commit fires at once; keep the inline worker out of this race.
    with mock.patch.object(services, "_enqueue_delivery"):
        for number in range(20):
            notify(event_key=f"e:race:{number}", kind="k", recipients=[], title="t")
    receiver.delay = 0.01
    reports = []

    def worker():
        from django.db import OperationalError, connection

        try:
            for _attempt in range(50):
                try:
                    reports.append(outbox_deliver_due())
                    return
                except OperationalError:
                    # The test database is SQLite in shared memory, where a busy table fails at once
                    # instead of waiting (no busy timeout); a real worker would retry on its next run.
                    time.sleep(0.05)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.sent for r in reports) == 20
    assert len(receiver.requests) == 20
    assert set(receiver.processed.values()) == {1}


# --- Email (a real SMTP server on 127.0.0.1) and SMS -----------------------------------------------


def test_plt7_email_goes_through_smtp_with_a_stable_message_id(employee, settings):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
            }
        }
        notify(
            event_key="e:mail", kind="k", recipients=[employee], title="回访提醒", body="明天回访 3 位客户"
        )
        assert outbox_deliver_due().sent == 1
    finally:
        controller.stop()
    (envelope,) = received
    assert envelope.rcpt_tos == ["zhang.wei@example.com"]
    content = envelope.content.decode()
    digest = hashlib.sha256(b"e:mail|email|employee:%d" % employee.pk).hexdigest()[:40]
    assert f"Message-ID: <{digest}@kestrel>" in content


def test_plt7_no_address_means_no_email_or_sms_message():
    nobody = EmployeeFactory(email="", mobile="")
    services.channel_preference_set(employee=nobody, channel=Channel.SMS, enabled=True)
    assert notify(event_key="e:noaddr", kind="k", recipients=[nobody], title="t") == 0
    assert Notification.objects.filter(recipient=nobody).exists()  # the inbox still has it
    assert not OutboxMessage.objects.exists()


def test_plt7_relative_links_become_absolute_in_email_and_robots(employee, receiver, settings, mailoutbox):
    settings.KESTREL_BASE_URL = "https://crm.example.cn/"
    _endpoint(receiver, WebhookEndpoint.Kind.GENERIC)
    notify(event_key="e:link", kind="k", recipients=[employee], title="t", link="/customers/7/")
    assert outbox_deliver_due().sent == 2
    assert "https://crm.example.cn/customers/7/" in mailoutbox[0].body
    assert _last_json(receiver)["link"] == "https://crm.example.cn/customers/7/"


def test_plt7_sms_goes_through_the_file_gateway(employee, settings, tmp_path):
    settings.KESTREL_SMS_FILE = str(tmp_path / "sms.jsonl")
    services.channel_preference_set(employee=employee, channel=Channel.SMS, enabled=True)  # SMS is opt-in
    notify(event_key="e:sms", kind="k", recipients=[employee], title="生日问候", channels=[Channel.SMS])
    assert outbox_deliver_due().sent == 1
    line = json.loads((tmp_path / "sms.jsonl").read_text(encoding="utf-8"))
    assert line["mobile"] == "13800138000" and "生日问候" in line["text"]


def test_plt7_webhook_request_timestamp_is_what_was_signed():
    endpoint = WebhookEndpoint(kind=WebhookEndpoint.Kind.GENERIC, url="http://127.0.0.1/h", secret="k")
    message = OutboxMessage(idempotency_key="x", event_key="x", kind="k", payload={"title": "t"})
    request = webhook_request(endpoint, message, now=1_700_000_000.5)
    assert request.headers["X-Kestrel-Timestamp"] == "1700000000"
