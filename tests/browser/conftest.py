"""Browser test fixtures: a real daphne server (in-process worker, real model) on a free
127.0.0.1 port with its own temporary database and files, Debian's Chromium driven by
Playwright, and a folder for screenshots that the run prints at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from tests.live_server import ROOT, Daphne

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def site_url(tmp_path_factory):
    """Base URL of a daphne serving project.asgi with everything under a temporary folder."""
    # Debug: static files straight from static/, no collectstatic.
    with Daphne(tmp_path_factory.mktemp("server-var"), {"CLEARCUT_DEBUG": "true"}) as server:
        yield server.url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield playwright, chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A Pixel 7 browser context (touch, 412 CSS px wide), closed after the test."""
    playwright, chromium = browser
    context = chromium.new_context(**playwright.devices["Pixel 7"], accept_downloads=True)
    yield context
    context.close()


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
