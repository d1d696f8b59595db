"""Record every task execution for admins (PLT-6): huey signals → JobRun rows and JobState."""

import logging
import traceback

from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone
from huey import signals as huey_signals
from huey.api import PeriodicTask
from huey.contrib.djhuey import HUEY, on_startup, signal

from kestrel.jobs.models import JobRun, JobState, JobStatus
from kestrel.jobs.scheduling import SCHEDULES, next_run

logger = logging.getLogger(__name__)


def _release_connections() -> None:
    # In immediate mode tasks run inside the caller's transaction; closing would break it.
    if not HUEY.immediate:
        close_old_connections()


def _next_run_for(task) -> timezone.datetime | None:
    due = getattr(task, "kestrel_due", None) or getattr(task, "validate_datetime", None)
    if due is None:
        return None
    return next_run(due, after=timezone.now())


def _state(task) -> JobState:
    state, _created = JobState.objects.get_or_create(
        name=task.name,
        defaults={"periodic": isinstance(task, PeriodicTask), "schedule": SCHEDULES.get(task.name, "")},
    )
    return state


@signal(huey_signals.SIGNAL_EXECUTING)
def job_started(signal_name, task, *args, **kwargs) -> None:
    _release_connections()
    now = timezone.now()
    JobRun.objects.create(
        name=task.name, task_id=task.id, status=JobStatus.RUNNING, started_at=now, retries_left=task.retries
    )
    _state(task)
    JobState.objects.filter(name=task.name).update(
        last_started_at=now, last_status=JobStatus.RUNNING, run_count=F("run_count") + 1
    )


@signal(huey_signals.SIGNAL_COMPLETE)
def job_succeeded(signal_name, task, *args, **kwargs) -> None:
    now = timezone.now()
    JobRun.objects.filter(task_id=task.id, status=JobStatus.RUNNING).update(
        status=JobStatus.SUCCEEDED, finished_at=now
    )
    fields = {"last_finished_at": now, "last_status": JobStatus.SUCCEEDED}
    if isinstance(task, PeriodicTask):
        fields["next_run_at"] = _next_run_for(task)
    JobState.objects.filter(name=task.name).update(**fields)
    _release_connections()


@signal(huey_signals.SIGNAL_ERROR, huey_signals.SIGNAL_TIMEOUT)
def job_failed(signal_name, task, exception=None, *args, **kwargs) -> None:
    now = timezone.now()
    if exception is not None:
        error = "".join(traceback.format_exception(exception))[-8000:]
    else:
        error = f"timed out after {task.timeout}s"
    # huey retries while task.retries > 0 (the count is lowered when it re-queues).
    status = JobStatus.RETRYING if task.retries else JobStatus.FAILED
    JobRun.objects.filter(task_id=task.id, status=JobStatus.RUNNING).update(
        status=status, finished_at=now, error=error
    )
    fields = {
        "last_finished_at": now,
        "last_status": status,
        "last_error": error,
        "last_error_at": now,
        "failure_count": F("failure_count") + 1,
    }
    if isinstance(task, PeriodicTask):
        fields["next_run_at"] = _next_run_for(task)
    JobState.objects.filter(name=task.name).update(**fields)
    logger.error(
        "Job %s (%s) failed%s: %s", task.name, task.id, " (will retry)" if task.retries else "", exception
    )
    _release_connections()


@on_startup(name="kestrel_register_periodic_jobs")
def register_periodic_jobs() -> None:
    """List every periodic task with its next run as soon as a worker starts."""
    _release_connections()
    for task_class in HUEY._registry._periodic_tasks:
        task = task_class()
        state = _state(task)
        state.periodic = True
        state.schedule = SCHEDULES.get(task.name, state.schedule)
        state.next_run_at = _next_run_for(task)
        state.save(update_fields=["periodic", "schedule", "next_run_at"])
    _release_connections()
