"""API keys: shown once, stored as a hash, created and revoked by their owner on the account
page; the docs page. Pages stay free of inline scripts and styles (a CSP is coming)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from remover.devapi.keys import authenticate, create_key, hash_key
from remover.devapi.models import ApiKey

pytestmark = pytest.mark.django_db
KEYS = "/account/api-keys/"


def no_inline_code(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert " style=" not in html and "<style" not in html, "inline style"


def test_only_a_hash_of_the_key_is_stored(user):
    made = create_key(user, "shop")
    assert re.fullmatch(r"cc_[a-z0-9]{10}_[A-Za-z0-9_-]{43}", made.full_key)
    row = ApiKey.objects.get()
    assert made.full_key not in {row.prefix, row.secret_hash, row.webhook_secret}
    assert row.secret_hash == hash_key(made.full_key)
    assert authenticate({"X-Api-Key": made.full_key}) == row
    assert (row.tier, row.daily_credits, row.rate_per_minute) == ("free", 50, 10)


def test_pro_users_get_pro_keys(pro_user):
    key = create_key(pro_user, "pro").key
    assert (key.tier, key.daily_credits, key.rate_per_minute) == ("pro", 1000, 60)


def test_the_account_page_needs_a_sign_in(client):
    response = client.get(KEYS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_new_key_is_shown_once_then_only_its_prefix(client, user):
    client.force_login(user)
    created = client.post(KEYS, {"name": "shop backend"})
    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"] or "max-age=0" in created["Cache-Control"]
    html = created.content.decode()
    full_key = re.search(r'value="(cc_[a-z0-9]{10}_[A-Za-z0-9_-]{43})"', html).group(1)
    assert authenticate({"X-Api-Key": full_key}).name == "shop backend"
    no_inline_code(html)
    later = client.get(KEYS).content.decode()
    assert full_key not in later and f"cc_{full_key[3:13]}_" in later
    no_inline_code(later)


def test_a_key_needs_a_name_and_the_number_of_keys_is_capped(client, user, settings):
    client.force_login(user)
    assert "Give the key a name" in client.post(KEYS, {"name": "  "}).content.decode()
    settings.CLEARCUT_API_MAX_KEYS_PER_USER = 2
    for n in range(3):
        response = client.post(KEYS, {"name": f"key {n}"})
    assert "Revoke one first" in response.content.decode()
    assert ApiKey.objects.count() == 2


def test_revoking_stops_the_key(client, user):
    made = create_key(user, "old")
    client.force_login(user)
    response = client.post(f"/account/api-keys/{made.key.pk}/revoke", follow=True)
    assert "is revoked" in response.content.decode()
    made.key.refresh_from_db()
    assert made.key.revoked_at is not None
    assert client.post("/api/v1/remove", headers={"X-Api-Key": made.full_key}).status_code == 401


def test_nobody_else_can_revoke_a_key(client, user):
    made = create_key(user, "mine")
    client.force_login(User.objects.create_user("mallory", password="another-password-9"))
    assert client.post(f"/account/api-keys/{made.key.pk}/revoke").status_code == 404
    assert client.get(f"/account/api-keys/{made.key.pk}/revoke").status_code in (404, 405)
    made.key.refresh_from_db()
    assert made.key.revoked_at is None


def test_docs_page_has_curl_and_python_examples_and_every_error(client):
    response = client.get("/developers/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "curl -H" in html and "import os, requests" in html and "hmac.compare_digest" in html
    assert "quota_exceeded" in html and "rate_limited" in html and "/api/v1/openapi.json" in html
    no_inline_code(html)


def test_openapi_document_is_served(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/remove", "/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/jobs/{id}/result"} <= set(document["paths"])


def test_operators_see_keys_in_the_admin_but_never_the_secret(client, user):
    made = create_key(user, "shop")
    client.force_login(User.objects.create_superuser("admin", password="admin-password-1"))
    listing = client.get("/admin/remover/apikey/").content.decode()
    change = client.get(f"/admin/remover/apikey/{made.key.pk}/change/").content.decode()
    assert made.key.prefix in listing
    assert made.full_key not in listing + change and made.key.secret_hash not in change
