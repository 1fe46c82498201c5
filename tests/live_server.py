"""daphne serving project.asgi on a free 127.0.0.1 port, with its own database, files and
environment: for what only real sockets show (WebSockets, request bodies, browsers, load).

Every suite and benchmark that needs a real server uses this one class."""

from __future__ import annotations

import os
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The embedded default whatever the calling shell has; a test that wants these passes them in ``env``.
SCALE_OUT_VARIABLES = ("REDIS_URL", "DATABASE_URL", "S3_BUCKET")
LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")


class Daphne:
    """``with Daphne(folder, env) as server:`` migrates, serves until the block ends, then stops."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in SCALE_OUT_VARIABLES},
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

    def __enter__(self) -> "Daphne":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run a management command against this server's database; returns its stdout."""
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**self.env, **(env or {})},
                              check=True, timeout=180, capture_output=True, text=True).stdout

    def start(self, timeout: float = 60) -> None:
        self.manage("migrate", "--noinput", "-v0")
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


def read_json_answer(sock: socket.socket) -> tuple[int, dict]:
    """(status, JSON body) of the HTTP answer arriving on a raw socket (for requests that a
    client library would not send, such as a declared body that never comes)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
        dict(line.split(b": ", 1) for line in data.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]).get(b"Content-Length", 0)
    ):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), json.loads(body)
