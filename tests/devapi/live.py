"""daphne serving the whole project on a free 127.0.0.1 port, with a throwaway database and
media folder, the real model in the in-process worker, and one API key made for the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live_server import Daphne

# A user (Pro when PRO is set) and one key without practical limits; prints the key.
MAKE_KEY = (
    "import os\n"
    "from django.contrib.auth.models import Permission, User\n"
    "from remover.devapi.keys import create_key\n"
    "from remover.devapi.models import ApiKey\n"
    "user = User.objects.create_user('live-tests')\n"
    "if os.environ.get('PRO'):\n"
    "    user.user_permissions.add(Permission.objects.get(codename='full_resolution'))\n"
    "    user = User.objects.get(pk=user.pk)\n"
    "made = create_key(user, 'live tests')\n"
    "ApiKey.objects.filter(pk=made.key.pk).update(rate_per_minute=100000, rate_tokens=100000, daily_credits=100000)\n"
    "print(made.full_key)\n"
)


@dataclass(frozen=True)
class LiveServer:
    base: str  # http://127.0.0.1:PORT
    key: str
    webhook_secret: str
    daphne: Daphne


@contextmanager
def live_server(folder: Path, pro: bool = False, **environment: str) -> Iterator[LiveServer]:
    """Serve from ``folder``; ``pro``: the key is on the Pro tier (full resolution)."""
    with Daphne(folder, {"CLEARCUT_WORKER": "thread", **environment}) as daphne:
        key = daphne.manage("shell", "-c", MAKE_KEY, env={"PRO": "1" if pro else ""}).strip().splitlines()[-1]
        secret = daphne.manage(
            "shell", "-c", "from remover.devapi.models import ApiKey; print(ApiKey.objects.get().webhook_secret)",
        ).strip().splitlines()[-1]
        yield LiveServer(base=daphne.url, key=key, webhook_secret=secret, daphne=daphne)
