"""Browser test fixtures: a real daphne server (in-process worker, real model) on a free
127.0.0.1 port with its own temporary database and files, Debian's Chromium driven by
Playwright, and a folder for screenshots that the run prints at the end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def site_url(tmp_path_factory):
    """Base URL of a daphne serving project.asgi with everything under a temporary folder."""
    var = tmp_path_factory.mktemp("server-var")
    env = {
        **os.environ,
        "CLEARCUT_VAR_DIR": str(var),
        "CLEARCUT_MEDIA_ROOT": str(var / "media"),
        "CLEARCUT_SQLITE_PATH": str(var / "db.sqlite3"),
        "CLEARCUT_DEBUG": "true",  # static files straight from static/, no collectstatic
        "DJANGO_SETTINGS_MODULE": "project.settings",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    log_path = var / "daphne.log"
    with open(log_path, "wb") as log:
        # Port 0: the OS picks a free port, so concurrent runs never collide; daphne logs it.
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", "project.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline and server.poll() is None:
            match = re.search(r"Listening on TCP address 127\.0\.0\.1:(\d+)", log_path.read_text(errors="replace"))
            port = match and match.group(1)
            time.sleep(0.1)
        if port is None:
            pytest.fail(f"daphne did not start:\n{log_path.read_text(errors='replace')}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield playwright, chromium
        chromium.close()


SCREENSHOTS_KEY = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def screenshots(request) -> Path:
    """Where the flows save their screenshots; the folder is printed at the end of the run."""
    folder = Path(os.environ.get("CLEARCUT_SCREENSHOT_DIR", ROOT / "test-artifacts" / "browser"))
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[SCREENSHOTS_KEY] = folder
    return folder


def pytest_terminal_summary(terminalreporter, config):
    folder = config.stash.get(SCREENSHOTS_KEY, None)
    if folder is not None:
        terminalreporter.write_line(f"Browser screenshots: {folder}")


@pytest.fixture(scope="session")
def astronaut_file(astronaut, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    Image.fromarray(astronaut).save(path)
    return path
