"""Who owns a job: the signed-in user, or the browser session that uploaded it.

The session gets a random owner token instead of relying on the session key, because
Django changes the session key on sign-in and the visitor's jobs must stay theirs.
Signing out flushes the session, so the token goes with it.
"""

from __future__ import annotations

import secrets

from django.db.models import Q, QuerySet

from remover.models import Job

SESSION_KEY = "clearcut_owner"


def owner_key(session, create: bool = False) -> str | None:
    """The session's owner token; with ``create``, make one (the session is then saved by its middleware)."""
    key = session.get(SESSION_KEY)
    if key is None and create:
        key = session[SESSION_KEY] = secrets.token_hex(16)
    return key


def owned_jobs(user, session) -> QuerySet[Job]:
    """Jobs this visitor may see: made in this session, or by this signed-in user anywhere."""
    condition = Q()
    key = owner_key(session)
    if key:
        condition |= Q(owner_key=key)
    if user is not None and user.is_authenticated:
        condition |= Q(user=user)
    return Job.objects.filter(condition) if condition else Job.objects.none()
