"""A scaled-out Clearcut on loopback, for the scale-out tests and bench/scaleout_load.py.

Real processes: redis-server, moto's S3 server, daphne and Celery workers, each on a free
127.0.0.1 port of its own, with a throwaway SQLite file and a bucket with a unique name,
so parallel runs never meet. The same class also runs the embedded default (one daphne
with its in-process worker, local files) for comparison.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
METRICS_TOKEN = "scaleout-test-token"


def missing_services() -> list[str]:
    """Programs the scaled-out cluster needs that this machine lacks."""
    wanted = {"redis-server": shutil.which("redis-server"), "moto_server": _moto_server()}
    return [name for name, path in wanted.items() if not path]


def _moto_server() -> str | None:
    local = BIN / "moto_server"
    return str(local) if local.exists() else shutil.which("moto_server")


def free_port() -> int:
    # The kernel picks an unused port; the service binds it right after. Another process
    # could take it in between, so starting a service retries with a new port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """A child process in its own process group, its output kept and searchable."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]):
        self.name = name
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # killpg reaches a Celery worker's pool processes too
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:  # keep reading, or a chatty process blocks on a full pipe
        for line in self.popen.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float, start: int = 0) -> re.Match:
        """The first output line from index ``start`` on that matches ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = start
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if match := regex.search(line):
                        return match
                seen = len(self.lines)
                if self.popen.poll() is not None and seen == len(self.lines):
                    raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.log[-4000:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.name}: no line matching {pattern!r}:\n{self.log[-4000:]}")
                self._changed.wait(min(left, 0.5))

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill(self) -> None:
        """SIGKILL to the whole group: no handler runs, nothing is handed back."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


class Cluster:
    """``scaled=True``: Redis + S3 + daphne + ``workers`` Celery workers. ``scaled=False``:
    the embedded default, one daphne with its in-process worker and local files."""

    def __init__(self, tmp: Path, *, scaled: bool = True, workers: int = 2, env: dict[str, str] | None = None):
        self.tmp = Path(tmp)
        self.scaled = scaled
        self.worker_count = workers
        self.extra_env = env or {}
        self.bucket = f"clearcut-test-{uuid.uuid4().hex[:12]}"
        self.redis: Process | None = None
        self.s3: Process | None = None
        self.web: Process | None = None
        self.web_port = 0
        self.workers: dict[str, Process] = {}
        self.redis_url = self.s3_url = ""

    # --- Environment ---------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "CLEARCUT_VAR_DIR": str(self.tmp),
            "CLEARCUT_SQLITE_PATH": str(self.tmp / "db.sqlite3"),
            "CLEARCUT_MEDIA_ROOT": str(self.tmp / "media"),
            "CLEARCUT_METRICS_TOKEN": METRICS_TOKEN,
            "CLEARCUT_WORKER": "thread",
            "PYTHONUNBUFFERED": "1",
            # Every client here is 127.0.0.1: per-network limits would refuse the load itself.
            "CLEARCUT_DAILY_QUOTA": "100000",
            "CLEARCUT_DAILY_QUOTA_PER_IP": "100000",
            "CLEARCUT_UPLOADS_PER_MINUTE": "0",  # 0: that rate limit off
            "CLEARCUT_UPLOADS_PER_MINUTE_PER_IP": "0",
            "CLEARCUT_SOCKETS_PER_MINUTE": "0",
            "CLEARCUT_SOCKETS_PER_MINUTE_PER_IP": "0",
        }
        for name in ("REDIS_URL", "S3_BUCKET", "DATABASE_URL"):  # only what this cluster sets
            env.pop(name, None)
        if self.scaled:
            env.update(
                CLEARCUT_WORKER="celery",
                REDIS_URL=self.redis_url,
                S3_BUCKET=self.bucket,
                S3_ENDPOINT_URL=self.s3_url,
                S3_REGION="us-east-1",
                S3_ACCESS_KEY_ID="test",
                S3_SECRET_ACCESS_KEY="test",
                S3_PATH_STYLE="1",
                # Two model processes share the machine's cores.
                CLEARCUT_THREADS=str(max(1, (os.cpu_count() or 2) // max(1, self.worker_count))),
            )
        env.update(self.extra_env)
        return env

    # --- Services ------------------------------------------------------------------------

    def start(self) -> "Cluster":
        try:
            if self.scaled:
                self._start_redis()
                self._start_s3()
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                cwd=ROOT, env=self.env(), check=True, timeout=300,
            )
            names = [f"w{i + 1}" for i in range(self.worker_count if self.scaled else 0)]
            for name in names:  # all start together; each loads its own model
                self.workers[name] = self._spawn_worker(name)
            self.start_web()
            for name in names:
                self._await_worker(name)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_redis(self) -> None:
        for _ in range(5):
            port = free_port()
            argv = [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(port),
                    "--save", "", "--appendonly", "no"]
            self.redis = Process("redis", argv, os.environ.copy())
            try:
                self.redis.wait_for(r"Ready to accept connections", 20)
            except RuntimeError:  # port taken meanwhile: try another
                continue
            self.redis_url = f"redis://127.0.0.1:{port}/0"
            return
        raise RuntimeError("redis-server did not start")

    def _start_s3(self) -> None:
        for _ in range(5):
            port = free_port()
            self.s3 = Process("moto", [_moto_server(), "-H", "127.0.0.1", "-p", str(port)], os.environ.copy())
            try:
                self.s3.wait_for(rf"Running on http://127\.0\.0\.1:{port}", 30)
            except RuntimeError:
                continue
            self.s3_url = f"http://127.0.0.1:{port}"
            self.s3_client().create_bucket(Bucket=self.bucket)
            return
        raise RuntimeError("moto_server did not start")

    def s3_client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.s3_url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )

    def bucket_keys(self) -> list[str]:
        pages = self.s3_client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    # --- Web -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_web(self) -> None:
        """daphne on a free port, or on the port it had before (a restart behind the same address)."""
        argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.web_port), "project.asgi:application"]
        self.web = Process("daphne", argv, self.env())
        match = self.web.wait_for(r"Listening on TCP address 127\.0\.0\.1:(\d+)", 60)
        self.web_port = int(match.group(1))

    def restart_web(self, down_for: float = 0.0) -> None:
        self.web.stop()
        time.sleep(down_for)
        self.start_web()

    # --- Workers -------------------------------------------------------------------------

    def _spawn_worker(self, name: str) -> Process:
        argv = [
            sys.executable, "-m", "celery", "-A", "project", "worker", "--loglevel=INFO",
            f"--hostname={name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]
        return Process(f"worker {name}", argv, self.env())

    def _await_worker(self, name: str) -> None:
        self.workers[name].wait_for(rf"{name}@\S+ ready\.", 180)

    def start_worker(self, name: str) -> None:
        self.workers[name] = self._spawn_worker(name)
        self._await_worker(name)

    def holder(self, task_id: str) -> str:
        """The worker that received the task with this id (from the workers' logs)."""
        for name, worker in self.workers.items():
            if f"[{task_id}] received" in worker.log:
                return name
        raise LookupError(task_id)

    def finished_by(self, task_id: str, timeout: float = 30) -> list[str]:
        """The workers that logged the task as finished, once per run (the log line comes
        a moment after the job's last progress message)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [name for name, w in self.workers.items() for _ in re.finditer(rf"\[{task_id}\] succeeded", w.log)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def stop(self) -> None:
        for process in [self.web, *self.workers.values(), self.s3, self.redis]:
            if process is not None:
                process.stop()
