"""Helpers for the security tests: visitors with sessions and jobs, for the WebSocket tests."""

from __future__ import annotations

import uuid

from channels.db import database_sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile

from remover.processing import jobs
from remover.web import limits
from remover.web.owners import SESSION_KEY
from tests.web.helpers import image_bytes

ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")  # what a browser sends with that origin


@database_sync_to_async
def session_with_job() -> tuple[str, uuid.UUID]:
    """(session cookie value, job id) of a visitor who has uploaded one image."""
    session = SessionStore()
    session[SESSION_KEY] = uuid.uuid4().hex
    session.create()
    upload = SimpleUploadedFile("photo.png", image_bytes(64, 48), "image/png")
    job = jobs.create_job(upload, limits.inspect_upload(upload), owner_key=session[SESSION_KEY], user=None,
                          ip="127.0.0.1", batch=uuid.uuid4(), options={})
    return session.session_key, job.pk
