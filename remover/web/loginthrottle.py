"""Throttling of password guessing on the site's sign-in and the admin's.

Failed sign-ins are counted (Django's ``user_login_failed`` signal, whichever form sent
them) per account from one network, per network, and per account from anywhere. Once a
count passes its limit, every sign-in it covers is answered 429 with ``Retry-After`` until
its window ends, the right password too: otherwise the throttle would tell a guesser when
they had it. The per-account count spans all networks but has a short window, so a
stranger hammering someone's name costs the real owner a minute at most, while their own
network's counts stay clean. A successful sign-in clears its account-and-network count.
Counters live in Django's cache (shared through Redis when configured) as keyed hashes,
like the rate limits'.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.shortcuts import render
from django.urls import reverse

from remover.web.limits import hashed, network

MESSAGE = "Too many failed sign-ins. Please wait {minutes} and try again."


@dataclass(frozen=True)
class Scope:
    name: str
    limit_setting: str
    window_setting: str

    def key(self, account: str, ip: str) -> str | None:
        parts = {"account_ip": (account, ip), "ip": (ip,), "account": (account,)}[self.name]
        if not all(parts):
            return None
        return f"clearcut:login:{self.name}:{hashed('login-' + self.name, '|'.join(parts))}"

    @property
    def limit(self) -> int:
        return getattr(settings, self.limit_setting)

    @property
    def window(self) -> int:
        return getattr(settings, self.window_setting)


SCOPES = (
    Scope("account_ip", "CLEARCUT_LOGIN_FAILURES_PER_ACCOUNT_AND_IP", "CLEARCUT_LOGIN_WINDOW_SECONDS"),
    Scope("ip", "CLEARCUT_LOGIN_FAILURES_PER_IP", "CLEARCUT_LOGIN_WINDOW_SECONDS"),
    Scope("account", "CLEARCUT_LOGIN_FAILURES_PER_ACCOUNT", "CLEARCUT_LOGIN_ACCOUNT_WINDOW_SECONDS"),
)


def _who(request, username: str | None) -> tuple[str, str]:
    # Usernames differing only in case count as one account: varying the case must not
    # buy a guesser fresh attempts.
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return (username or "").strip().casefold(), network(ip) if ip else ""


def seconds_refused(request, username: str | None) -> int:
    """0 when a sign-in may be tried now, else the seconds until it may."""
    account, ip = _who(request, username)
    now = time.time()
    wait = 0.0
    for scope in SCOPES:
        key = scope.key(account, ip)
        if key is None or scope.limit <= 0:
            continue
        count, ends = cache.get(key, (0, 0.0))
        if count >= scope.limit and ends > now:
            wait = max(wait, ends - now)
    return int(wait + 0.999)


def record_failure(request, username: str | None) -> None:
    account, ip = _who(request, username)
    now = time.time()
    for scope in SCOPES:
        key = scope.key(account, ip)
        if key is None or scope.limit <= 0:
            continue
        count, ends = cache.get(key, (0, 0.0))
        if ends <= now:  # a fixed window starts with its first failure
            count, ends = 0, now + scope.window
        cache.set(key, (count + 1, ends), timeout=max(1, int(ends - now + 1)))


@receiver(user_login_failed)
def _failed(sender, credentials, request=None, **kwargs):
    record_failure(request, credentials.get("username"))


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    account, ip = _who(request, user.get_username())
    key = SCOPES[0].key(account, ip)
    if key:
        cache.delete(key)


def _minutes(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


class LoginThrottleMiddleware:
    """Answers a throttled sign-in POST with 429 before any password is checked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path_info in (reverse("login"), reverse("admin:login")):
            wait = seconds_refused(request, request.POST.get("username"))
            if wait:
                response = render(request, "registration/throttled.html",
                                  {"message": MESSAGE.format(minutes=_minutes(wait))}, status=429)
                response["Retry-After"] = str(wait)
                return response
        return self.get_response(request)
