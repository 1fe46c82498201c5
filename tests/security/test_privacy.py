"""Retention and deletion, checked in storage and not only in the database: files and rows are
purged after the configured time (time is moved forward), "delete now" removes every file at
once, and the usage counters keep no address or session token."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from remover.models import DailyUsage, Job
from tests.web.helpers import image_bytes, upload

SMALL = image_bytes(64, 48)


def files_in(settings) -> list[str]:
    media = Path(settings.MEDIA_ROOT)
    return sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file())


def later(**delta):
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(**delta))


@pytest.mark.django_db
def test_files_and_rows_are_purged_once_the_retention_time_has_passed(client, settings, worker, fake_model):
    settings.CLEARCUT_RETENTION_HOURS = 2
    done = upload(client, data=SMALL).json()
    worker.drain()
    queued = upload(client, data=SMALL).json()  # never processed: its upload must go as well
    assert len(files_in(settings)) == 4 + 1  # input, cut-out, preview, original; the queued input

    with later(hours=1, minutes=59):
        worker.sweep()
    assert Job.objects.count() == 2 and len(files_in(settings)) == 4 + 1

    with later(hours=2, minutes=1):
        worker.sweep()
    assert not Job.objects.exists()
    assert files_in(settings) == []
    for job in (done, queued):
        assert client.get(job["urls"]["self"]).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_worker_thread_purges_by_itself(client, settings, worker, fake_model):
    upload(client, data=SMALL)
    purged = threading.Event()
    worker.publish = lambda job_id, snapshot=None: purged.set() if snapshot is None else None
    worker.sweep_seconds = 0.1
    with later(hours=settings.CLEARCUT_RETENTION_HOURS + 1):
        worker.start()
        try:
            assert purged.wait(30)
        finally:
            worker.stop()
    assert not Job.objects.exists() and files_in(settings) == []


@pytest.mark.django_db
def test_delete_now_removes_every_file_from_storage(client, settings, worker, fake_model):
    done = upload(client, data=SMALL).json()
    worker.drain()
    queued = upload(client, data=SMALL).json()
    keep = upload(Client(), data=SMALL).json()  # someone else's
    assert len(files_in(settings)) == 4 + 1 + 1

    assert client.delete(done["urls"]["self"]).status_code == 204
    assert client.delete(queued["urls"]["self"]).status_code == 204
    assert files_in(settings) == [f"jobs/{keep['id']}-input.png"]
    assert [str(pk) for pk in Job.objects.values_list("pk", flat=True)] == [keep["id"]]
    worker.drain()  # the deleted job's id is still queued: running the queue must not bring files back
    assert all(name.startswith(f"jobs/{keep['id']}-") for name in files_in(settings))


@pytest.mark.django_db
def test_usage_counters_store_no_address_or_session_token(settings):
    visitor = Client(REMOTE_ADDR="203.0.113.77")
    upload(visitor, data=SMALL)
    token = visitor.session["clearcut_owner"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {DailyUsage._meta.db_table}")
        stored = repr(cursor.fetchall())
    assert "203.0.113" not in stored and token not in stored
    with later(days=2):
        from remover.processing.jobs import purge_expired

        purge_expired()
    assert not DailyUsage.objects.exists()  # counters go after a day
