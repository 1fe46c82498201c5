"""What happens after an API job ends: failed images are refunded, webhooks delivered, and
synchronous jobs nobody waits for any more are deleted.

:func:`run_due` does one round of both and is safe to run in several processes at once
(each delivery attempt is claimed with a conditional update first). By default a thread of
the web process runs it every ``CLEARCUT_API_FOLLOWUP_POLL_SECONDS``, started by the first
API request; with ``CLEARCUT_API_FOLLOWUP=none`` something else calls it (tests, or a
dedicated process in a scaled-out deployment). State lives in the database, so a restart
loses nothing: due deliveries are simply found again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta

from django.db import close_old_connections
from django.utils import timezone

from remover.models import Job

from . import conf
from .models import ApiJob, WebhookDelivery
from .settlement import refund, settle_failed
from .webhooks import attempt

log = logging.getLogger(__name__)
FINISHED = (Job.Status.DONE, Job.Status.ERROR)
# Margin past CLEARCUT_API_SYNC_TIMEOUT before a synchronous job counts as abandoned.
ABANDONED_AFTER_SECONDS = 60


def _claim(delivery: WebhookDelivery, now: datetime) -> bool:
    """Take this attempt for ourselves: the next round anywhere skips it until the lease ends."""
    lease = timedelta(seconds=conf.get("CLEARCUT_API_WEBHOOK_TIMEOUT") * 2 + 5)
    return bool(WebhookDelivery.objects.filter(
        pk=delivery.pk, state=WebhookDelivery.State.PENDING, next_attempt_at=delivery.next_attempt_at,
    ).update(next_attempt_at=now + lease))


def forget_abandoned(now: datetime) -> int:
    """Synchronous jobs older than the longest wait: their request is gone (the client hung up
    while the job was being created, or the web process died while waiting), so nobody will
    collect the image. Delete them now rather than keep the photo for the retention period,
    and give the credit back: no image was delivered."""
    too_old = now - timedelta(seconds=conf.get("CLEARCUT_API_SYNC_TIMEOUT") + ABANDONED_AFTER_SECONDS)
    abandoned = ApiJob.objects.filter(synchronous=True, job__created_at__lt=too_old).select_related("job", "key")
    count = 0
    for api_job in abandoned:
        refund(api_job)
        api_job.job.delete()
        count += 1
    return count


def run_due(now: datetime | None = None) -> int:
    """Refund failed images, drop abandoned synchronous jobs, then make every webhook attempt
    that is due; returns the attempts made."""
    now = now or timezone.now()
    settle_failed()
    forget_abandoned(now)
    due = (WebhookDelivery.objects
           .filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now, api_job__job__status__in=FINISHED)
           .select_related("api_job__job", "api_job__key")
           .order_by("next_attempt_at"))
    made = 0
    for delivery in due:
        if _claim(delivery, now):
            attempt(delivery)
            made += 1
    return made


class FollowUpThread:
    """Runs :func:`run_due` every ``poll_seconds`` for the life of the process (a daemon thread)."""

    def __init__(self, poll_seconds: float):
        self.poll_seconds = poll_seconds
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="clearcut-api-followup", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            close_old_connections()  # a long-lived thread must not keep a broken connection
            try:
                run_due()
            except Exception:  # the database went away, say: try again next round
                log.exception("API follow-up round failed")
            time.sleep(self.poll_seconds)


_thread: FollowUpThread | None = None
_lock = threading.Lock()


def ensure_started() -> None:
    global _thread
    if conf.get("CLEARCUT_API_FOLLOWUP") != "thread":
        return
    with _lock:
        if _thread is None:
            _thread = FollowUpThread(conf.get("CLEARCUT_API_FOLLOWUP_POLL_SECONDS"))
        _thread.start()


def _forget_after_fork() -> None:
    global _thread, _lock  # threads do not survive fork(): a child starts its own
    _thread, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
