"""``manage.py createapikey``: a key for scripted set-ups, printed alone on stdout, once."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from remover.devapi.keys import authenticate, hash_key, key_tier
from remover.devapi.models import ApiKey
from remover.web.limits import tier_for

pytestmark = pytest.mark.django_db


def create(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("createapikey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_key_alone_on_stdout_with_the_users_tier(user):
    out, err = create("dev", "--name", "deploy script")
    key = out.strip()
    assert re.fullmatch(r"cc_[a-z0-9]{10}_[A-Za-z0-9_-]{43}", key) and out == key + "\n"
    row = ApiKey.objects.get()
    assert (row.name, row.tier, row.daily_credits, row.rate_per_minute) == ("deploy script", "free", 50, 10)
    assert row.secret_hash == hash_key(key) and key not in err
    assert authenticate({"X-Api-Key": key}) == row
    assert "shown this once" in err


def test_pro_makes_the_user_pro_and_the_key_pro(user):
    assert tier_for(user).name == "free"
    out, err = create("dev", "--tier", "pro")
    key = authenticate({"X-Api-Key": out.strip()})
    assert (key.tier, key.daily_credits, key.rate_per_minute) == ("pro", 1000, 60)
    assert key_tier(key).name == "pro" and "now Pro" in err


def test_a_free_key_for_a_pro_user(pro_user):
    out, _ = create("pro", "--tier", "free")
    assert key_tier(authenticate({"X-Api-Key": out.strip()})).name == "free"


def test_unknown_or_inactive_users_and_too_many_keys(user, settings):
    with pytest.raises(CommandError, match="no user 'nobody'"):
        create("nobody")
    settings.CLEARCUT_API_MAX_KEYS_PER_USER = 1
    create("dev")
    with pytest.raises(CommandError, match="1 active keys"):
        create("dev")
    user.is_active = False
    user.save()
    with pytest.raises(CommandError, match="inactive"):
        create("dev")
    with pytest.raises(CommandError):
        create("dev", "--tier", "gold")
