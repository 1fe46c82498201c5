"""Security suite fixtures: the web tests' isolated settings, test-driven worker and stand-in
model (imported so both suites run the app the same way), and a daphne server factory for
what only real sockets can show."""

from __future__ import annotations

import pytest

from tests.web.conftest import fake_model, web_settings, worker  # noqa: F401  (fixtures)

from .server import Daphne


@pytest.fixture
def daphne(tmp_path):
    """``daphne(**env)`` starts a server with its own database, files and settings; stopped afterwards."""
    servers: list[Daphne] = []

    def start(**env: str) -> Daphne:
        server = Daphne(tmp_path / f"server-{len(servers)}", env)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()
