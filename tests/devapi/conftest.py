"""Developer API fixtures: isolated storage and channel layer, a worker the test drives, the
fast stand-in model, users with keys, and a synchronous endpoint whose wait runs the queue."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Permission, User

from remover.devapi import views
from remover.devapi.keys import create_key
from remover.models import Job
from tests.web.conftest import fake_model, web_settings, worker  # noqa: F401  (shared fixtures)


@pytest.fixture(autouse=True)
def api_settings(web_settings):
    """The web app's test settings, plus the API's background loop and wait kept short."""
    web_settings.CLEARCUT_API_FOLLOWUP = "none"  # tests call followup.run_due() themselves
    web_settings.CLEARCUT_API_SYNC_TIMEOUT = 5  # a test that forgets to run the queue fails fast
    return web_settings


@pytest.fixture
def drained(monkeypatch, worker, fake_model):
    """POST /api/v1/remove with the queue run in place of the wait (no worker thread in
    test-client tests; the real wait is tested in test_waiting.py and against daphne)."""

    async def run_queue_then_load(job_id, timeout, poll=1.0):
        await sync_to_async(worker.drain)()
        return await sync_to_async(Job.objects.filter(pk=job_id).first)()

    monkeypatch.setattr(views, "wait_for_job", run_queue_then_load)
    return worker


@pytest.fixture
def user(db):
    return User.objects.create_user("dev", password="a-long-password-1")


@pytest.fixture
def pro_user(db):
    pro = User.objects.create_user("pro", password="a-long-password-2")
    pro.user_permissions.add(Permission.objects.get(codename="full_resolution"))
    return User.objects.get(pk=pro.pk)  # fresh: permissions are cached per instance


@pytest.fixture
def key(user) -> str:
    return create_key(user, "tests").full_key


@pytest.fixture
def pro_key(pro_user) -> str:
    return create_key(pro_user, "pro tests").full_key
