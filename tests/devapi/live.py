"""daphne serving the whole project on a free 127.0.0.1 port, with a throwaway database and
media folder, the real model in the in-process worker, and one API key made for the tests."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
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
    log: list[str]


@contextmanager
def live_server(folder: Path, pro: bool = False, **environment: str) -> Iterator[LiveServer]:
    """Serve from ``folder``; ``pro``: the key is on the Pro tier (full resolution)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "CLEARCUT_VAR_DIR": str(folder),
        "CLEARCUT_SQLITE_PATH": str(folder / "db.sqlite3"),
        "CLEARCUT_MEDIA_ROOT": str(folder / "media"),
        "CLEARCUT_WORKER": "thread",
        **environment,
    }
    for variable in ("REDIS_URL", "DATABASE_URL", "S3_BUCKET"):  # the embedded default, whatever the shell has
        env.pop(variable, None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    key = subprocess.run([*manage, "shell", "-c", MAKE_KEY], cwd=ROOT, env={**env, "PRO": "1" if pro else ""},
                         check=True, timeout=120, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    secret = subprocess.run(
        [*manage, "shell", "-c", "from remover.devapi.models import ApiKey; print(ApiKey.objects.get().webhook_secret)"],
        cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    # Port 0: the kernel picks a free port and daphne logs it; parallel runs never clash.
    process = subprocess.Popen([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", "0", "project.asgi:application"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def pump():  # keep reading, or a chatty server blocks on a full pipe
        for line in process.stdout:
            log.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    port = None
    deadline = time.monotonic() + 60
    while port is None and time.monotonic() < deadline and process.poll() is None:
        try:
            match = re.search(r"Listening on TCP address 127\.0\.0\.1:(\d+)", lines.get(timeout=1))
        except queue.Empty:
            continue
        port = match and int(match.group(1))
    try:
        assert port, "daphne did not start:\n" + "".join(log)
        yield LiveServer(base=f"http://127.0.0.1:{port}", key=key, webhook_secret=secret, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
