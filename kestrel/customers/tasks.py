"""Background jobs of the customer archive. Thin: each calls a service."""

from django.contrib.auth import get_user_model

from kestrel.customers.models import ImportJob
from kestrel.jobs.scheduling import job, periodic_job


# No retries: an import is not repeated behind the user's back; a failure is on the job's report.
@job(retries=0)
def import_run_task(job_id: int, user_id: int, dry_run: bool | None = None) -> None:
    """ARC-11: check (and unless a dry run, write) an uploaded import."""
    from kestrel.customers.importing import import_run

    import_job = ImportJob.objects.filter(pk=job_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if import_job is None or user is None:
        return
    import_run(job=import_job, actor=user, dry_run=dry_run)


@periodic_job(minute="15", hour="1")
def duplicates_scan_nightly() -> int:
    """ARC-9: flag likely duplicates every night (01:15 Beijing time)."""
    from kestrel.customers.workflows import duplicates_scan

    return duplicates_scan()


@periodic_job(minute="*/10")
def archive_denied_alerts_sweep() -> int:
    """ARC-6: alert the department manager about repeated refused reads (once per user, customer, day)."""
    from kestrel.customers.workflows import archive_denied_alerts

    return archive_denied_alerts()
