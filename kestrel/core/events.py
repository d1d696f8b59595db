"""Domain events: a tiny, synchronous, in-process publish/subscribe (ARC-4 and every later module).

A domain event is a frozen dataclass naming what happened, e.g. ``CustomerDowngraded`` with
``name = "customer.downgraded"``. The module where it happens publishes it; modules that care
subscribe in their ``AppConfig.ready``::

    from kestrel.core import events

    events.subscribe(CustomerDowngraded, alert_on_downgrade)   # in ready()
    events.publish(CustomerDowngraded(customer_id=…, scheme=…, …))  # in a service

Why not Django signals: a signal is an untyped bag of keyword arguments sent from a ``sender``,
receivers are found through weak references (a local function silently disappears), and failures
are either swallowed (``send_robust``) or not, depending on the caller. Here the payload is a
typed dataclass, the subscriber list is explicit and inspectable (``subscribers(...)``), handlers
are held strongly, and the semantics are fixed:

- handlers run synchronously, in subscription order, inside the publisher's transaction — so side
  effects written there (``notify()`` outbox rows, alerts) commit or roll back with the change;
- an exception in a handler propagates to the publisher (fail loudly; nothing half-done);
- work that must wait for the commit is the handler's business (``transaction.on_commit``).

Tests use ``captured()`` to see what was published.
"""

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

Handler = Callable[[Any], None]


@dataclass(frozen=True)
class Event:
    """Base of every domain event; subclasses are frozen dataclasses with a dotted ``name``."""

    name: ClassVar[str] = ""


_subscribers: dict[type[Event], list[Handler]] = {}
_captures: list[list[Event]] = []


def subscribe[E: Event](event_type: type[E], handler: Callable[[E], None]) -> Callable[[E], None]:
    """Call ``handler(event)`` for every published ``event_type``. Subscribing twice is a no-op,
    so ``ready()`` running again (tests, reloads) does not double the side effects."""
    if not (isinstance(event_type, type) and issubclass(event_type, Event)) or not event_type.name:
        raise TypeError(f"{event_type!r} is not a named Event subclass")
    handlers = _subscribers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)
    return handler


def subscriber[E: Event](event_type: type[E]) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
    """Decorator form of ``subscribe``; the module must still be imported from ``ready()``."""

    def decorate(handler: Callable[[E], None]) -> Callable[[E], None]:
        return subscribe(event_type, handler)

    return decorate


def unsubscribe(event_type: type[Event], handler: Handler) -> None:
    with contextlib.suppress(KeyError, ValueError):
        _subscribers[event_type].remove(handler)


def subscribers(event_type: type[Event]) -> tuple[Handler, ...]:
    return tuple(_subscribers.get(event_type, ()))


def publish(event: Event) -> None:
    """Deliver ``event`` to its subscribers, now, in this thread and transaction."""
    if not isinstance(event, Event) or not type(event).name:
        raise TypeError(f"{event!r} is not a named Event")
    for capture in _captures:
        capture.append(event)
    for handler in tuple(_subscribers.get(type(event), ())):
        handler(event)


@contextlib.contextmanager
def captured() -> Iterator[list[Event]]:
    """Record the events published inside the block (subscribers still run)."""
    seen: list[Event] = []
    _captures.append(seen)
    try:
        yield seen
    finally:
        _captures.remove(seen)
