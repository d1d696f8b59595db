"""How a message leaves Kestrel on each channel (PLT-7): email, SMS gateways and chat-robot webhooks.

Each sender raises ``DeliveryFailed`` with a readable reason; the outbox decides whether to retry.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from kestrel.notify.models import Channel, OutboxMessage, WebhookEndpoint

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The channel did not take the message. ``permanent``: retrying cannot help (e.g. no address)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


def deliver(message: OutboxMessage) -> None:
    match message.channel:
        case Channel.EMAIL:
            _send_email(message)
        case Channel.SMS:
            _send_sms(message)
        case Channel.WEBHOOK:
            _post_webhook(message)
        case _:
            raise DeliveryFailed(f"unknown channel {message.channel!r}", permanent=True)


# --- Email ---------------------------------------------------------------------------------------


def _send_email(message: OutboxMessage) -> None:
    if not message.address:
        raise DeliveryFailed("the recipient has no email address", permanent=True)
    payload = message.payload
    body = payload.get("body", "")
    if payload.get("link"):
        body += f"\n\n{absolute_link(payload['link'])}"
    # A Message-ID derived from the idempotency key is the same on every retry, so mail systems
    # can recognise a repeat.
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:40]
    email = EmailMessage(
        subject=payload.get("title", ""),
        body=body,
        to=[message.address],
        headers={"Message-ID": f"<{digest}@kestrel>", "X-Kestrel-Idempotency-Key": message.idempotency_key},
    )
    try:
        email.send(fail_silently=False)
    except (OSError, Exception) as error:  # smtplib errors derive from OSError; backends may raise others
        raise DeliveryFailed(f"email: {type(error).__name__}: {error}") from error


# --- SMS -----------------------------------------------------------------------------------------


class SmsGateway(Protocol):
    def send(self, *, mobile: str, text: str, idempotency_key: str) -> None: ...


class ConsoleSmsGateway:
    """Writes the SMS to the log: the default until a real gateway is configured."""

    def send(self, *, mobile: str, text: str, idempotency_key: str) -> None:
        logger.info("SMS to %s [%s]: %s", mobile, idempotency_key, text)


class FileSmsGateway:
    """Appends each SMS as a JSON line to ``KESTREL_SMS_FILE`` (default var/sms.jsonl)."""

    def send(self, *, mobile: str, text: str, idempotency_key: str) -> None:
        path = Path(settings.KESTREL_SMS_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"mobile": mobile, "text": text, "idempotency_key": idempotency_key}, ensure_ascii=False
        )
        with path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")


def sms_gateway() -> SmsGateway:
    return import_string(settings.KESTREL_SMS_GATEWAY)()


def _send_sms(message: OutboxMessage) -> None:
    if not message.address:
        raise DeliveryFailed("the recipient has no mobile number", permanent=True)
    payload = message.payload
    text = f"【{payload.get('signature') or settings.KESTREL_SMS_SIGNATURE}】{payload.get('title', '')}"
    if payload.get("body"):
        text += f"：{payload['body']}"
    try:
        sms_gateway().send(mobile=message.address, text=text, idempotency_key=message.idempotency_key)
    except DeliveryFailed:
        raise
    except Exception as error:
        raise DeliveryFailed(f"sms: {type(error).__name__}: {error}") from error


# --- Webhooks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def absolute_link(link: str) -> str:
    """Links inside Kestrel are stored as paths; mail and chat robots need the full address."""
    if not link or urllib.parse.urlsplit(link).scheme:
        return link
    return settings.KESTREL_BASE_URL.rstrip("/") + "/" + link.lstrip("/")


def webhook_request(
    endpoint: WebhookEndpoint, message: OutboxMessage, *, now: float | None = None
) -> WebhookRequest:
    """The HTTP request for one message, in the endpoint's own format and signing scheme."""
    payload = message.payload
    title, body = payload.get("title", ""), payload.get("body", "")
    link = absolute_link(payload.get("link", ""))
    text = f"**{title}**\n\n{body}" + (f"\n\n[{link}]({link})" if link else "")
    timestamp_ms = str(int((now if now is not None else time.time()) * 1000))
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.idempotency_key}
    url = endpoint.url
    match endpoint.kind:
        case WebhookEndpoint.Kind.WECOM:
            data = {"msgtype": "markdown", "markdown": {"content": text}}
        case WebhookEndpoint.Kind.DINGTALK:
            data = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
            if endpoint.secret:
                # DingTalk: sign = Base64(HMAC-SHA256(secret, "timestamp\nsecret")), URL-encoded.
                to_sign = f"{timestamp_ms}\n{endpoint.secret}".encode()
                sign = base64.b64encode(hmac.new(endpoint.secret.encode(), to_sign, hashlib.sha256).digest())
                separator = "&" if "?" in url else "?"
                url += f"{separator}timestamp={timestamp_ms}&sign={urllib.parse.quote_plus(sign.decode())}"
        case WebhookEndpoint.Kind.FEISHU:
            plain = f"{title}\n{body}" + (f"\n{link}" if link else "")
            data = {"msg_type": "text", "content": {"text": plain}}
            if endpoint.secret:
                # Feishu: sign = Base64(HMAC-SHA256(key="timestamp\nsecret", message="")), seconds.
                seconds = str(int(timestamp_ms) // 1000)
                key = f"{seconds}\n{endpoint.secret}".encode()
                data["timestamp"] = seconds
                data["sign"] = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        case _:
            data = {
                "event": message.event_key,
                "kind": message.kind,
                "title": title,
                "body": body,
                "link": link,
                "data": payload.get("data", {}),
                "idempotency_key": message.idempotency_key,
            }
    raw = json.dumps(data, ensure_ascii=False).encode()
    if endpoint.kind == WebhookEndpoint.Kind.GENERIC and endpoint.secret:
        seconds = str(int(timestamp_ms) // 1000)
        signature = hmac.new(
            endpoint.secret.encode(), seconds.encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        headers["X-Kestrel-Timestamp"] = seconds
        headers["X-Kestrel-Signature"] = f"sha256={signature}"
    return WebhookRequest(url=url, headers=headers, body=raw)


def _post_webhook(message: OutboxMessage) -> None:
    endpoint = message.endpoint
    if endpoint is None:
        raise DeliveryFailed("the webhook no longer exists", permanent=True)
    if not endpoint.enabled:
        raise DeliveryFailed("the webhook is disabled")
    request = webhook_request(endpoint, message)
    if urllib.parse.urlsplit(request.url).scheme not in {"http", "https"}:
        raise DeliveryFailed("the webhook URL is not http(s)", permanent=True)
    http_request = urllib.request.Request(  # noqa: S310 (scheme checked just above)
        request.url, data=request.body, headers=request.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(http_request, timeout=settings.KESTREL_WEBHOOK_TIMEOUT) as response:  # noqa: S310
            status, content = response.status, response.read(64 * 1024)
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"webhook answered HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryFailed(f"webhook unreachable: {reason}") from error
    if not 200 <= status < 300:
        raise DeliveryFailed(f"webhook answered HTTP {status}")
    _check_robot_answer(endpoint, content)


def _check_robot_answer(endpoint: WebhookEndpoint, content: bytes) -> None:
    """The robots answer HTTP 200 even when they refuse a message; the JSON body says so."""
    if endpoint.kind == WebhookEndpoint.Kind.GENERIC:
        return
    try:
        answer = json.loads(content or b"{}")
    except ValueError as error:
        raise DeliveryFailed("robot answered with something that is not JSON") from error
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code not in (0, "0", None):
        message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        raise DeliveryFailed(f"robot refused the message: {code} {message}".strip())
