"""Shared fixtures: real photos that ship with scikit-image, and one loaded model per run."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image


def png_bytes(array: np.ndarray, **save_args) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG", **save_args)
    return buf.getvalue()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """(512, 512, 3) uint8: an astronaut in front of a flag and a plain light backdrop."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def segmenter():
    """The process-wide model, loaded once for the whole test run."""
    from remover.engine.pipeline import shared_segmenter

    return shared_segmenter()


@pytest.fixture(autouse=True, scope="session")
def sqlite_readers_do_not_lock():
    """Let readers of the in-memory test database skip table locks.

    Tests run the worker thread against pytest-django's shared-cache in-memory SQLite
    database. There a reader holding a table lock makes a concurrent writer fail at once
    with "database table is locked" (shared-cache locks do not wait for the timeout),
    which turns a progress test into a failed job whenever the socket reads mid-write.
    Production SQLite files use ordinary locking with a busy timeout instead.
    """
    from django.db.backends.signals import connection_created

    def relax(sender, connection, **kwargs):
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA read_uncommitted = 1")

    connection_created.connect(relax, weak=False)
    yield
    connection_created.disconnect(relax)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters (remover/web/ratelimit.py) live in the cache: every test starts with none,
    however many uploads the tests before it made from 127.0.0.1 within the minute."""
    from django.core.cache import cache

    cache.clear()
