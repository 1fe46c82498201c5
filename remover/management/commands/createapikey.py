"""``manage.py createapikey USERNAME [--name N] [--tier free|pro]``: an API key for scripted
set-ups. The key goes to stdout alone, once (``KEY=$(manage.py createapikey alice)``); it is
stored as a hash, as keys made on the account page are. Everything else goes to stderr."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError

from remover.devapi import conf
from remover.devapi.keys import create_key
from remover.devapi.models import ApiKey
from remover.web.limits import tier_for

PRO_PERMISSION = "full_resolution"  # remover.full_resolution: what makes a user Pro


class Command(BaseCommand):
    help = "Create an API key for an existing user and print it (shown this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="API key", help="the key's label on the account page")
        parser.add_argument("--tier", choices=[choice for choice, _ in ApiKey.Tier.choices],
                            help="the key's tier and default limits (default: the user's tier); pro also makes "
                                 "the user Pro (the remover.full_resolution permission) if they are not")

    def handle(self, *args, username: str, name: str, tier: str | None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}. Create one first (createsuperuser, or the admin).")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is inactive; their keys would be refused.")
        limit = conf.get("CLEARCUT_API_MAX_KEYS_PER_USER")
        if ApiKey.objects.filter(user=user, revoked_at=None).count() >= limit:
            raise CommandError(f"{username!r} has {limit} active keys, the most allowed. Revoke one first.")
        if tier == ApiKey.Tier.PRO and tier_for(user).name != "pro":
            user.user_permissions.add(Permission.objects.get(codename=PRO_PERMISSION, content_type__app_label="remover"))
            self.stderr.write(f"{username!r} is now Pro (permission remover.{PRO_PERMISSION}).")
        made = create_key(user, name, tier)
        self.stderr.write(f"Key “{made.key.name}” for {username!r}: tier {made.key.tier}, "
                          f"{made.key.daily_credits} credits a day, {made.key.rate_per_minute} requests a minute. "
                          "It is shown this once:")
        self.stdout.write(made.full_key)
