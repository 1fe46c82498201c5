"""Sign-in throttling (remover/web/loginthrottle.py): engages per account and network, lifts when
its window ends, and does not let a stranger lock the real owner out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from remover.web import loginthrottle

pytestmark = pytest.mark.django_db
PASSWORD = "the-right-password-4"


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(loginthrottle.time, "time", fake)
    return fake


@pytest.fixture
def owner():
    return User.objects.create_superuser("owner", password=PASSWORD)


def sign_in(ip: str, password: str, username: str = "owner", path: str = "/accounts/login/"):
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password})


def test_the_throttle_engages_after_five_failures_and_lifts_after_its_window(owner, clock):
    for _ in range(5):
        assert sign_in("203.0.113.5", "wrong").status_code == 200
    refused = sign_in("203.0.113.5", PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 300
    assert "Please wait 5 minutes" in refused.content.decode()
    clock.now += 299
    assert sign_in("203.0.113.5", PASSWORD).status_code == 429
    clock.now += 2
    assert sign_in("203.0.113.5", PASSWORD).status_code == 302  # signed in


def test_the_admin_sign_in_shares_the_count(owner, clock):
    for _ in range(3):
        sign_in("203.0.113.5", "wrong")
    for _ in range(2):
        assert sign_in("203.0.113.5", "wrong", path="/admin/login/").status_code == 200
    assert sign_in("203.0.113.5", PASSWORD, path="/admin/login/").status_code == 429


def test_a_stranger_elsewhere_does_not_lock_out_the_owner(owner, clock):
    for _ in range(10):
        sign_in("198.51.100.9", "guess")
    assert sign_in("198.51.100.9", PASSWORD).status_code == 429  # the guesser's network is held
    assert sign_in("203.0.113.5", PASSWORD).status_code == 302  # the owner's is not


def test_guessing_from_many_networks_holds_the_account_for_a_minute_only(owner, clock):
    for n in range(30):  # under every per-network limit
        sign_in(f"198.51.{n}.1", "guess")
    assert sign_in("203.0.113.5", PASSWORD).status_code == 429
    clock.now += 61
    assert sign_in("203.0.113.5", PASSWORD).status_code == 302


def test_usernames_differing_in_case_share_a_count(owner, clock):
    for name in ("owner", "OWNER", "Owner", "oWnEr", "owneR"):
        sign_in("203.0.113.5", "wrong", username=name)
    assert sign_in("203.0.113.5", PASSWORD).status_code == 429


def test_a_network_guessing_many_accounts_is_held(owner, clock):
    for n in range(20):
        sign_in("198.51.100.9", "guess", username=f"someone{n}")
    assert sign_in("198.51.100.9", PASSWORD).status_code == 429  # the network, whatever the account
    assert sign_in("203.0.113.5", PASSWORD).status_code == 302


def test_signing_in_clears_the_count_of_ones_own_network(owner, clock):
    for _ in range(4):
        sign_in("203.0.113.5", "wrong")
    assert sign_in("203.0.113.5", PASSWORD).status_code == 302
    for _ in range(4):  # a fresh count: four more typos are still allowed
        assert sign_in("203.0.113.5", "wrong").status_code == 200
    assert sign_in("203.0.113.5", PASSWORD).status_code == 302
