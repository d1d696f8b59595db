from datetime import timedelta

from django.utils import timezone

from kestrel.core.planner import planner_statistics_nightly
from kestrel.jobs.models import JobRun
from kestrel.jobs.scheduling import job, periodic_job

JOB_RUN_RETENTION_DAYS = 90


@periodic_job(minute="30", hour="3")
def job_runs_prune() -> int:
    """Keep three months of job history (the summary per task stays)."""
    cutoff = timezone.now() - timedelta(days=JOB_RUN_RETENTION_DAYS)
    deleted, _ = JobRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted


@periodic_job(minute="45", hour="3")
def planner_statistics_refresh_nightly() -> str:
    """The query planners' statistics follow the data (kestrel/core/planner.py)."""
    return planner_statistics_nightly()


SELFTEST_RETRIES = 2


@job(retries=SELFTEST_RETRIES, retry_delay=1, context=True)
def jobs_selftest(value: str, fail_first: int = 0, task=None) -> str:
    """Echo ``value`` — a check that workers run jobs. With ``fail_first`` it fails that many attempts
    on purpose, to show retries, backoff and dead jobs on a live installation."""
    attempt = SELFTEST_RETRIES - task.retries + 1 if task is not None else 1
    if attempt <= fail_first:
        raise RuntimeError(f"planned self-test failure on attempt {attempt}")
    return value
