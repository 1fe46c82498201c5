"""Prometheus metrics: jobs waiting and running, time spent in each stage, failures.

Counts are kept where every process can add to them: a Redis hash when ``REDIS_URL`` is
set, so the web process's ``/metrics`` shows what all the Celery workers did; otherwise
this process's memory (the embedded worker runs inside the web process). Recording never
fails a job: a metric that cannot be written is logged and dropped.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from functools import cache

import redis
from django.conf import settings
from django.db.models import Count
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import CollectorRegistry

from remover.models import Job
from remover.processing.jobs import FAILED_MESSAGE, GAVE_UP_MESSAGE, Publish

log = logging.getLogger(__name__)

# Seconds. The model alone takes ~0.05 s on a GPU and 1-3 s on a small CPU; a queue can
# hold jobs for minutes.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
REDIS_KEY = "clearcut:metrics"
SEP = "|"  # joins a metric's name and label values into one hash field


class MemoryStore:
    def __init__(self):
        self._values: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def add(self, increments: dict[str, float]) -> None:
        with self._lock:
            for field, amount in increments.items():
                self._values[field] += amount

    def read(self) -> dict[str, float]:
        with self._lock:
            return dict(self._values)


class RedisStore:
    def __init__(self, url: str):
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def add(self, increments: dict[str, float]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for field, amount in increments.items():
            pipe.hincrbyfloat(REDIS_KEY, field, amount)
        pipe.execute()

    def read(self) -> dict[str, float]:
        return {k.decode(): float(v) for k, v in self._client.hgetall(REDIS_KEY).items()}


@cache
def store() -> MemoryStore | RedisStore:
    return RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()


def _add(increments: dict[str, float]) -> None:
    try:
        store().add(increments)
    except Exception:
        log.warning("could not record metrics", exc_info=True)


def observe(stage: str, seconds: float) -> None:
    """One job spent ``seconds`` in ``stage`` (``queued`` and ``total`` count as stages)."""
    increments = {f"sum{SEP}{stage}": seconds, f"count{SEP}{stage}": 1}
    for bound in BUCKETS:
        if seconds <= bound:
            increments[f"bucket{SEP}{stage}{SEP}{bound}"] = 1
    _add(increments)


def count(name: str, label: str) -> None:
    """Add one to a counter: ``finished`` (label: outcome) or ``retries`` (label: task)."""
    _add({f"{name}{SEP}{label}": 1})


def outcome(snapshot: dict) -> str:
    """How a job ended, from its last step: done, bad_image, gave_up or failed."""
    if snapshot.get("status") == Job.Status.DONE:
        return "done"
    return {FAILED_MESSAGE: "failed", GAVE_UP_MESSAGE: "gave_up"}.get(snapshot.get("error"), "bad_image")


class StageTimer:
    """A ``publish`` callable for one job run that also times its stages.

    :func:`remover.processing.jobs.process_job` announces every step; the time between two stage
    changes is the earlier stage's duration. At the end the database's own timestamps
    give the time spent waiting in the queue and in total.
    """

    def __init__(self, publish: Publish):
        self.publish = publish
        self.stage: str | None = None
        self.since = 0.0

    def __call__(self, job_id: uuid.UUID, snapshot: dict | None = None) -> None:
        self.publish(job_id, snapshot)
        if not snapshot or "stage" not in snapshot:
            return
        now = time.monotonic()
        if snapshot["stage"] != self.stage:
            if self.stage is not None:
                observe(self.stage, now - self.since)
            self.stage, self.since = snapshot["stage"], now
        if snapshot.get("status") in (Job.Status.DONE, Job.Status.ERROR):
            self._finished(job_id, snapshot)

    def _finished(self, job_id: uuid.UUID, snapshot: dict) -> None:
        count("finished", outcome(snapshot))
        times = Job.objects.filter(pk=job_id).values_list("created_at", "started_at", "finished_at").first()
        if times and all(times):
            created, started, finished = times
            observe("queued", (started - created).total_seconds())
            observe("total", (finished - created).total_seconds())


# --- Exposition -------------------------------------------------------------------------

class Collector:
    """Reads the counters and the database at scrape time (prometheus_client's custom collector)."""

    def __init__(self, queue_lengths):
        self.queue_lengths = queue_lengths

    def collect(self):
        values = store().read()
        yield from self._histograms(values)
        finished = CounterMetricFamily("clearcut_jobs_finished", "Jobs that ended, by outcome.", labels=["outcome"])
        retries = CounterMetricFamily("clearcut_task_retries", "Celery task retries after an error.", labels=["task"])
        for field, value in values.items():
            name, _, label = field.partition(SEP)
            if name == "finished":
                finished.add_metric([label], value)
            elif name == "retries":
                retries.add_metric([label], value)
        yield finished
        yield retries
        jobs = GaugeMetricFamily("clearcut_jobs", "Jobs in the database, by status.", labels=["status"])
        by_status = dict(Job.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        for status in (Job.Status.QUEUED, Job.Status.RUNNING):
            jobs.add_metric([status], by_status.get(status, 0))
        yield jobs
        queues = GaugeMetricFamily(
            "clearcut_queue_messages", "Messages waiting in each worker queue.", labels=["queue"]
        )
        for queue, length in self.queue_lengths().items():
            queues.add_metric([queue], length)
        yield queues

    def _histograms(self, values: dict[str, float]):
        family = HistogramMetricFamily(
            "clearcut_stage_seconds", "Time jobs spent in each stage (queued, each step, total).", labels=["stage"]
        )
        stages = sorted({f.split(SEP)[1] for f in values if f.startswith(f"count{SEP}")})
        for stage in stages:
            buckets = [(str(b), values.get(f"bucket{SEP}{stage}{SEP}{b}", 0.0)) for b in BUCKETS]
            buckets.append(("+Inf", values[f"count{SEP}{stage}"]))
            family.add_metric([stage], buckets, values.get(f"sum{SEP}{stage}", 0.0))
        yield family


def registry(queue_lengths) -> CollectorRegistry:
    """A registry with Clearcut's collector; ``queue_lengths()`` returns {queue: messages}."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(Collector(queue_lengths))
    return reg
