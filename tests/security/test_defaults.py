"""A default start, as `make run` or a bare `daphne project.asgi:application` gives it (no
CLEARCUT_* variables at all), tried as an attacker would over real sockets: no debug page
anywhere, a generated secret key that survives restarts, every malformed input a 4xx in
its API's JSON shape, no Server banner, closed metrics, strict WebSocket origins and a
sign-in throttle."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.live_server import Daphne, read_json_answer
from tests.web.helpers import image_bytes

DEBUG_MARKERS = ("Traceback", "URLconf", "DisallowedHost", "TooManyFilesSent", "OverflowError", "settings.py",
                 "DEBUG = True", "Request Method")
OVERFLOWING_PRESET = "custom:1" + "0" * 400 + "x100mm"


def default_start(folder) -> Daphne:
    server = Daphne(folder)
    for name in [name for name in server.env if name.startswith("CLEARCUT_")]:
        if name not in ("CLEARCUT_VAR_DIR", "CLEARCUT_SQLITE_PATH", "CLEARCUT_MEDIA_ROOT"):
            del server.env[name]
    server.env.pop("CLEARCUT_WEIGHTS_DIR", None)
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with default_start(tmp_path_factory.mktemp("default-start")) as running:
        yield running


@pytest.fixture
def visitor(server):
    """A browser session: the CSRF cookie from the page API, sent back as its header."""
    session = requests.Session()
    session.get(f"{server.url}/api/limits", timeout=10).raise_for_status()
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def assert_no_debug_page(response: requests.Response) -> None:
    for marker in DEBUG_MARKERS:
        assert marker not in response.text, (response.status_code, marker)


def test_no_debug_page_for_unknown_paths_or_foreign_hosts(server):
    missing = requests.get(f"{server.url}/nonexistent", timeout=10)
    assert missing.status_code == 404
    assert_no_debug_page(missing)
    foreign = requests.get(f"{server.url}/", headers={"Host": "evil.example"}, timeout=10)
    assert foreign.status_code == 400
    assert_no_debug_page(foreign)


def test_pages_and_their_static_files_are_served_with_debug_off(server):
    page = requests.get(f"{server.url}/", timeout=10)
    assert page.status_code == 200
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.text).group(1)
    css = requests.get(f"{server.url}{stylesheet}", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


def test_no_server_banner(server):
    for path in ("/", "/nonexistent", "/api/limits"):
        assert "Server" not in requests.get(f"{server.url}{path}", timeout=10).headers, path


def test_metrics_are_closed_by_default(server):
    assert requests.get(f"{server.url}/metrics", timeout=10).status_code == 404


def test_the_secret_key_is_generated_private_and_kept_across_restarts(tmp_path):
    folder = tmp_path / "restarts"
    user_script = ("from django.contrib.auth.models import User; "
                   "User.objects.create_user('owner', password='a-long-test-password-1')")
    with default_start(folder) as first:
        key_file = folder / "secret_key"
        key = key_file.read_text()
        assert len(key) >= 50 and "insecure" not in key and "dev-only" not in key
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        first.manage("shell", "-c", user_script)
        browser = requests.Session()
        form = browser.get(f"{first.url}/accounts/login/", timeout=10)
        assert form.status_code == 200
        signed_in = browser.post(f"{first.url}/accounts/login/", timeout=10, allow_redirects=False, data={
            "username": "owner", "password": "a-long-test-password-1",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        })
        assert signed_in.status_code == 302
    with default_start(folder) as second:
        assert key_file.read_text() == key
        # The session's auth hash is keyed with SECRET_KEY: still signed in means the same key.
        again = browser.get(f"{second.url}/accounts/login/", timeout=10, allow_redirects=False)
        assert again.status_code == 302


# --- Malformed input: a 4xx in the API's own JSON shape, never a 500 ---------------------------

def test_oversized_custom_preset_on_the_page_api(server, visitor):
    response = visitor.post(f"{server.url}/api/jobs", timeout=30, data={"mode": "idphoto", "preset": OVERFLOWING_PRESET},
                            files={"image": ("face.png", image_bytes(200, 200), "image/png")})
    assert response.status_code == 400
    assert "custom size" in response.json()["error"]


@pytest.mark.parametrize("files, fields", [(150, 0), (1, 1200)])
def test_too_many_files_or_fields_on_the_page_api(server, visitor, files, fields):
    parts = [("image", (f"{i}.png", b"x", "image/png")) for i in range(files)]
    response = visitor.post(f"{server.url}/api/jobs", timeout=30, files=parts,
                            data=[(f"field{i}", "1") for i in range(fields)])
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert "could not be read" in response.json()["error"]


@pytest.fixture(scope="module")
def api_key(server) -> str:
    return server.manage("shell", "-c", (
        "from django.contrib.auth.models import User; from remover.devapi.keys import create_key; "
        "print(create_key(User.objects.create_user('dev', password='x-long-password-2'), 'tests').full_key)"
    )).strip().splitlines()[-1]


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/remove"])
def test_deeply_nested_json_is_an_invalid_request(server, api_key, path):
    response = requests.post(f"{server.url}{path}", timeout=30, data=b"[" * 100_000,
                             headers={"Content-Type": "application/json", "X-Api-Key": api_key})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_oversized_custom_preset_on_the_developer_api(server, api_key):
    response = requests.post(f"{server.url}/api/v1/jobs", timeout=30, headers={"X-Api-Key": api_key},
                             data={"mode": "idphoto", "preset": OVERFLOWING_PRESET},
                             files={"image_file": ("face.png", image_bytes(200, 200), "image/png")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


def test_too_many_files_on_the_developer_api(server, api_key):
    parts = [("image_file", (f"{i}.png", b"x", "image/png")) for i in range(150)]
    response = requests.post(f"{server.url}/api/v1/jobs", timeout=30, headers={"X-Api-Key": api_key}, files=parts)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


# --- WebSocket origins: scheme, host and port -------------------------------------------------

def test_websocket_origins_differing_only_in_port_or_scheme_are_refused(server, visitor):
    created = visitor.post(f"{server.url}/api/jobs", timeout=30,
                           files={"image": ("photo.png", image_bytes(64, 48), "image/png")})
    assert created.status_code == 201, created.text
    url = f"ws://127.0.0.1:{server.port}{created.json()['ws']}"
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())}
    for origin in (f"http://127.0.0.1:{server.port + 1}", "http://127.0.0.1", f"http://localhost:{server.port}",
                   f"https://127.0.0.1:{server.port}"):
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(url, origin=origin, additional_headers=cookie, open_timeout=10)
        assert refused.value.response.status_code == 403, origin
    with ws_connect(url, origin=f"http://127.0.0.1:{server.port}", additional_headers=cookie, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["id"] == created.json()["id"]


# --- Sign-in throttle -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_repeated_wrong_passwords_are_throttled(server, path):
    name = "victim" + path.split("/")[1]
    server.manage("shell", "-c", (
        "from django.contrib.auth.models import User; "
        f"User.objects.create_superuser('{name}', password='the-right-password-3')"
    ))
    browser = requests.Session()
    browser.get(f"{server.url}{path}", timeout=10)

    def attempt(password: str) -> requests.Response:
        return browser.post(f"{server.url}{path}", timeout=10, allow_redirects=False, data={
            "username": name, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        })

    for _ in range(5):
        assert attempt("wrong").status_code == 200  # the form again, with its error
    throttled = attempt("wrong")
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 300
    assert "Too many failed sign-ins" in throttled.text
    assert attempt("the-right-password-3").status_code == 429  # guessing right now tells nothing


@pytest.mark.parametrize("path, shape", [("/api/v1/remove", "ours"), ("/v1.0/removebg", "remove.bg"), ("/api/jobs", "page")])
def test_a_body_over_the_limit_is_refused_in_each_apis_shape(server, path, shape):
    import socket

    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                  f"Content-Length: {500 * 1024 * 1024}\r\n\r\n").encode())
    status, error = read_json_answer(sock)
    sock.close()
    if shape == "remove.bg":
        assert status == 400 and error["errors"][0]["code"] == "file_too_large"
    elif shape == "ours":
        assert status == 413 and error["error"]["code"] == "file_too_large"
    else:
        assert status == 413 and "limit" in error["error"]
