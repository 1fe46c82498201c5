"""The server-rendered pages: what they state, who sees which account link, and that their
markup stays CSP-friendly (issue 5 allows only our own scripts and styles)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

pytestmark = pytest.mark.django_db

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"(src|href)=\"(https?:)?//", re.I), "external resource"),
]


def assert_csp_friendly(html: str) -> None:
    for pattern, what in INLINE:
        match = pattern.search(html)
        assert match is None, f"{what}: {match.group(0) if match else ''}"


def test_home_states_limits_and_wires_the_app(client, settings):
    settings.CLEARCUT_BATCH_MAX_FILES = 7
    settings.CLEARCUT_MAX_UPLOAD_MB = 25
    settings.CLEARCUT_RETENTION_HOURS = 24
    html = client.get(reverse("home")).content.decode()
    assert "up to 25 MB and 50 megapixels each" in html
    assert "7 images at a time" in html and "deleted after 24 hours" in html
    assert 'data-max-files="7"' in html and 'data-api-jobs="/api/jobs"' in html
    assert 'type="module" src="/static/js/app.js"' in html
    assert 'accept="image/*" capture="environment"' in html
    assert re.search(r'<meta name="csrf-token" content="\w+">', html)
    assert_csp_friendly(html)


def test_signed_out_visitors_get_a_sign_in_link(client):
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("login")}?next=/"' in html
    assert 'data-authenticated="false"' in html


def test_signed_in_visitors_get_a_sign_out_form(client):
    user = User.objects.create_user("ada", password="pw-for-tests-only")
    user.user_permissions.add(Permission.objects.get(codename="full_resolution"))
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert "Signed in as <strong>ada</strong>" in html
    assert re.search(rf'<form method="post" action="{reverse("logout")}"', html)
    assert 'data-authenticated="true"' in html


def test_sign_in_page_has_labelled_fields(client):
    html = client.get(reverse("login")).content.decode()
    for field in ("username", "password"):
        assert re.search(rf'<label for="id_{field}">', html) and f'id="id_{field}"' in html
    assert_csp_friendly(html)


def test_failed_sign_in_says_so(client):
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    assert response.status_code == 200
    assert "don't match" in response.content.decode()
