"""A daphne serving project.asgi on a free 127.0.0.1 port, with its own database, files and
environment: for what only real sockets show (request bodies, the load test)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")


class Daphne:
    def __init__(self, folder: Path, env: dict[str, str] | None = None):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "CLEARCUT_VAR_DIR": str(folder),
            "CLEARCUT_SQLITE_PATH": str(folder / "db.sqlite3"),
            "CLEARCUT_MEDIA_ROOT": str(folder / "media"),
            **(env or {}),
        }
        self.log_path = folder / "daphne.log"
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout: float = 60) -> None:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                       cwd=ROOT, env=self.env, check=True, timeout=120)
        with open(self.log_path, "wb") as log:
            # Port 0: the kernel picks a free port (parallel runs never clash); daphne logs it.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", "project.asgi:application"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while self.port is None and time.monotonic() < deadline and self.process.poll() is None:
            match = LISTENING.search(self.log())
            self.port = match and int(match.group(1))
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError(f"daphne did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
