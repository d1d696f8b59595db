"""How Kestrel declares background work (PLT-6). Tasks stay thin: they call a service.

``@job()``: a task enqueued on demand, retried with exponential backoff on failure.
``@periodic_job(hour="2", minute="0")``: a crontab schedule read in Asia/Shanghai time, whatever the
server's clock zone, so "daily at 02:00" means 02:00 in Beijing.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_RETRIES = 5
DEFAULT_RETRY_DELAY = 10  # seconds; doubled after each failure: 10, 20, 40, 80, 160
DEFAULT_BACKOFF = 2

# task name → human-readable schedule, filled by @periodic_job for the admin's job list.
SCHEDULES: dict[str, str] = {}


def job(
    *,
    retries: int = DEFAULT_RETRIES,
    retry_delay: int = DEFAULT_RETRY_DELAY,
    backoff: float = DEFAULT_BACKOFF,
    **options,
) -> Callable:
    return db_task(retries=retries, retry_delay=retry_delay, retry_backoff=backoff, **options)


def periodic_job(
    *,
    minute: str = "*",
    hour: str = "*",
    day: str = "*",
    month: str = "*",
    day_of_week: str = "*",
    retries: int = 2,
    retry_delay: int = 60,
    backoff: float = DEFAULT_BACKOFF,
    **options,
) -> Callable:
    beijing_crontab = crontab(
        minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week, strict=True
    )

    def due(timestamp: datetime) -> bool:
        return beijing_crontab(_to_shanghai(timestamp))

    def decorate(function: Callable) -> Callable:
        task = db_periodic_task(
            due, retries=retries, retry_delay=retry_delay, retry_backoff=backoff, **options
        )(function)
        # The wrapper's own .name is only the optional override; the task class carries the real one.
        SCHEDULES[task.task_class.__name__] = f"{minute} {hour} {day} {month} {day_of_week} (Asia/Shanghai)"
        task.kestrel_due = due
        return task

    return decorate


def next_run(due: Callable[[datetime], bool], *, after: datetime, horizon_days: int = 31) -> datetime | None:
    """The next minute at which a periodic task is due, scanning at most ``horizon_days`` ahead."""
    moment = after.astimezone(UTC).replace(second=0, microsecond=0, tzinfo=None) + timedelta(minutes=1)
    for _ in range(horizon_days * 24 * 60):
        if due(moment):
            return moment.replace(tzinfo=UTC)
        moment += timedelta(minutes=1)
    return None


def _to_shanghai(timestamp: datetime) -> datetime:
    # huey (utc=True) hands periodic checks a naive UTC datetime.
    aware = timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp
    return aware.astimezone(SHANGHAI).replace(tzinfo=None)
