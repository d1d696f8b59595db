from kestrel.jobs.scheduling import job, periodic_job
from kestrel.notify.services import outbox_deliver_due


@job(retries=0)
def outbox_deliver() -> dict:
    """Deliver what a just-committed change put in the outbox."""
    return outbox_deliver_due().__dict__


@periodic_job(minute="*")
def outbox_sweep() -> dict:
    """Every minute: retries that have come due, and claims a crashed worker left behind."""
    return outbox_deliver_due(limit=500).__dict__
