"""Credits of images that did not make it: a failed image is not charged.

Idempotent and safe to call from anywhere that sees the job end (the synchronous view, the
status endpoint, the follow-up loop): the conditional update lets exactly one caller refund.
"""

from __future__ import annotations

from remover.models import Job

from .models import ApiJob
from .usage import refund_credit


def refund(api_job: ApiJob) -> bool:
    """Give the job's credit back (once); True if this call did."""
    if not ApiJob.objects.filter(pk=api_job.pk, credits__gt=0).update(credits=0):
        return False
    refund_credit(api_job.key, api_job.job.created_at.date())
    api_job.credits = 0
    return True


def settle(api_job: ApiJob) -> None:
    """Refund the job's credit if it ended in error."""
    if api_job.job.status == Job.Status.ERROR and api_job.credits:
        refund(api_job)


def settle_failed() -> int:
    """Refund every failed API job still charged; returns how many."""
    failed = ApiJob.objects.filter(credits__gt=0, job__status=Job.Status.ERROR).select_related("job", "key")
    return sum(refund(api_job) for api_job in failed)
