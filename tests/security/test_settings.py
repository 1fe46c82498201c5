"""Production settings from the environment, the headers every response carries, a CSP the
pages can live with (no inline script or style anywhere), and ``check --deploy`` clean."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/limits", "/accounts/login/", "/api/no-such-thing"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


# --- The pages obey the CSP -------------------------------------------------------------------

TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
SCRIPTS = sorted((ROOT / "static" / "js").rglob("*.js"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_templates_have_no_inline_script_style_or_handlers(template):
    html = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        assert re.search(r"\ssrc=", tag), f"inline script: {tag}"
    assert not re.search(r"<style\b", html, re.I), "inline <style>"
    assert not re.search(r"\sstyle\s*=", html, re.I), "style attribute"
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "event handler attribute"
    assert "javascript:" not in html.lower()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_use_no_eval_or_html_injection(script):
    """What the CSP forbids (eval) or what would let an upload's name become markup."""
    code = script.read_text()
    for sink in ("eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in code, sink
    assert not re.search(r"setTimeout\(\s*[\"'`]", code)


# --- Production configuration from the environment ----------------------------------------------

def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=180,
        env={**os.environ, "CLEARCUT_VAR_DIR": str(tmp_path), "CLEARCUT_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
             "DJANGO_SETTINGS_MODULE": "project.settings", **env},
    )


PRODUCTION = {
    "CLEARCUT_DEBUG": "0",
    "CLEARCUT_SECRET_KEY": secrets.token_urlsafe(50),
    "CLEARCUT_ALLOWED_HOSTS": "clearcut.example.com",
    "CLEARCUT_CSP_EXTRA_ORIGINS": "https://bucket.example.com",
}

# Run inside `manage.py shell`: the deploy checks, the settings, and what a browser gets over HTTPS.
PROBE = """
import json
from django.core.management import call_command
from django.conf import settings
from django.test import Client
call_command("check", deploy=True, fail_level="WARNING")
browser = Client(HTTP_HOST="clearcut.example.com")
plain = browser.get("/accounts/login/")
secure = browser.get("/accounts/login/", secure=True)
print(json.dumps({
    "debug": settings.DEBUG,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "plain_http": [plain.status_code, plain.get("Location")],
    "hsts": secure.get("Strict-Transport-Security"),
    "csp": secure.get("Content-Security-Policy"),
    "csrf_cookie": {k: str(v) for k, v in secure.cookies["csrftoken"].items() if v},
}))
"""


def test_production_settings_pass_check_deploy_and_are_strict(tmp_path):
    result = manage("shell", "-c", PROBE, env=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["debug"] is False
    assert probe["session_cookie_secure"] and probe["session_cookie_httponly"]
    assert probe["plain_http"] == [301, "https://clearcut.example.com/accounts/login/"]
    assert probe["hsts"] == "max-age=31536000; includeSubDomains"
    assert "img-src 'self' blob: https://bucket.example.com;" in probe["csp"]  # presigned S3 URLs
    assert "connect-src 'self' https://bucket.example.com;" in probe["csp"]
    assert probe["csrf_cookie"]["secure"] == "True" and probe["csrf_cookie"]["samesite"] == "Lax"


def test_without_a_configured_key_one_is_generated_and_kept(tmp_path):
    probe = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = manage("shell", "-c", probe, env={**PRODUCTION, "CLEARCUT_SECRET_KEY": ""}, tmp_path=tmp_path)
    again = manage("shell", "-c", probe, env={**PRODUCTION, "CLEARCUT_SECRET_KEY": ""}, tmp_path=tmp_path)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    key = first.stdout.strip().splitlines()[-1]
    assert key == again.stdout.strip().splitlines()[-1] == (tmp_path / "secret_key").read_text()
    assert len(key) >= 50


def test_default_start_is_debug_off_and_passes_check_deploy(tmp_path):
    """No CLEARCUT_* variable at all: debug off, plain HTTP on loopback only, and the deploy
    checks clean (the HTTPS ones do not apply to a loopback-only site)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARCUT_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE.replace("clearcut.example.com", "127.0.0.1")],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
        env={**env, "CLEARCUT_VAR_DIR": str(tmp_path), "CLEARCUT_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
             "DJANGO_SETTINGS_MODULE": "project.settings"},
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["debug"] is False
    assert probe["plain_http"] == [200, None]  # the local browser is not sent to an HTTPS that cannot exist
